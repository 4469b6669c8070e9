"""Realistic retail events, poison records the consumer must dead-letter, and optionally a few
planted fraudulent users (see docs/producer.md): :func:`generate_records` yields
:class:`ProducedRecord`."""

from __future__ import annotations

import itertools
import json
import math
import random
import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, NamedTuple

DEFAULT_USERS: Final = 1_000
DEFAULT_PRODUCTS: Final = 500
EMAIL_DOMAIN: Final = "example.com"
EVENT_MIX: Final = (("view", 70), ("add_to_cart", 20), ("purchase", 10))
CHANNELS: Final = (("web", 55), ("ios", 25), ("android", 20))
MEAN_SESSION_EVENTS: Final = 8
PRODUCT_POPULARITY_EXPONENT: Final = 1.1
USER_ACTIVITY_EXPONENT: Final = 0.8
DEFAULT_MEAN_GAP_MS: Final = 10.0
COUNTRIES: Final = (
    # ISO 3166-1 alpha-2, ISO 4217, weight: where the shop's users live (skewed to a few).
    ("US", "USD", 30),
    ("GB", "GBP", 12),
    ("DE", "EUR", 12),
    ("FR", "EUR", 9),
    ("ES", "EUR", 6),
    ("IT", "EUR", 6),
    ("NL", "EUR", 5),
    ("CA", "CAD", 5),
    ("AU", "AUD", 4),
    ("SE", "SEK", 3),
    ("PL", "PLN", 3),
    ("BR", "BRL", 3),
    ("IN", "INR", 2),
)
CURRENCY_OF: Final = {country: currency for country, currency, _ in COUNTRIES}


class FraudRule(StrEnum):
    """The fraud detector's rules (functions/fraud_detector), each planted once by
    ``plant_fraud``: the manifest's ``planted`` field."""

    PURCHASE_VELOCITY = "purchase-velocity"
    PURCHASE_AMOUNT = "purchase-amount"
    NEW_COUNTRY = "new-country"
    CART_BURST = "cart-burst"


@dataclass(frozen=True, slots=True)
class CleanLimits:
    """What an ordinary user does at most, by event time: half the fraud detector's default
    thresholds or less (modules/fraud-detector), so that no clean user is ever flagged with
    them. Purchases and carts that would go beyond are given to another user."""

    window_ms: int = 10 * 60_000
    """The detector's default velocity window (10 minutes)."""
    purchases: int = 2
    """Purchases per window (the detector flags more than 5)."""
    purchase_cents: int = 50_000
    """Purchase amount per window, cents (the detector flags more than 1,000.00)."""
    cart_window_ms: int = 5 * 60_000
    """The detector's default add-to-cart burst window (5 minutes)."""
    carts: int = 3
    """Add-to-carts per cart window (the detector flags more than 6 in one session)."""


CLEAN_LIMITS: Final = CleanLimits()
PLANT_MIN_COUNT: Final = 200
"""Fewer records than this leave no room for the planted users' events: none are planted."""
PLANTED_AMOUNT_CENTS: Final = 150_000
"""What the planted purchase-amount user spends: 1.5 x the detector's default threshold."""


class RecordKind(StrEnum):
    """What a produced record is, and what the consumer must do with it."""

    VALID = "valid"
    BAD_JSON = "bad-json"
    NOT_UTF8 = "not-utf8"
    WRONG_TYPE = "wrong-type"
    MISSING_FIELD = "missing-field"
    NOT_AN_OBJECT = "not-an-object"

    @property
    def expected(self) -> str:
        """``stored``, or the DLQ error category the stream processor gives such a record."""
        return _EXPECTED[self]


_EXPECTED: Final = {
    RecordKind.VALID: "stored",
    RecordKind.BAD_JSON: "INVALID_JSON",
    RecordKind.NOT_UTF8: "INVALID_ENCODING",
    RecordKind.WRONG_TYPE: "SCHEMA_VIOLATION",
    RecordKind.MISSING_FIELD: "SCHEMA_VIOLATION",
    RecordKind.NOT_AN_OBJECT: "NOT_AN_OBJECT",
}
POISON_KINDS: Final = tuple(kind for kind in RecordKind if kind is not RecordKind.VALID)
REQUIRED_FIELDS: Final = ("userId", "eventType", "productId", "timestamp")


class ProducedRecord(NamedTuple):
    partition_key: str
    data: bytes
    kind: RecordKind
    record_id: str
    """The event's ``eventId``, or ``poison-<uuid>`` for a poison record."""
    planted: FraudRule | None = None
    """The fraud rule this event's (planted, fraudulent) user is meant to trip; None for the
    ordinary users' events."""


# --------------------------------------------------------------------------- event generation


@dataclass(slots=True)
class _Session:
    session_id: str
    remaining: int
    viewed: list[str] = field(default_factory=list)
    cart: list[str] = field(default_factory=list)


def _uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _zipf_cum_weights(size: int, exponent: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank**exponent) for rank in range(1, size + 1)))


class _Activity:
    """One user's recent purchases and carts, by event time: what :data:`CLEAN_LIMITS` caps."""

    __slots__ = ("carts", "purchases")

    def __init__(self) -> None:
        self.purchases: deque[tuple[int, int]] = deque()  # (timestamp ms, cents)
        self.carts: deque[int] = deque()

    def allows(self, event_type: str, now_ms: int, limits: CleanLimits) -> bool:
        while self.purchases and self.purchases[0][0] <= now_ms - limits.window_ms:
            self.purchases.popleft()
        while self.carts and self.carts[0] <= now_ms - limits.cart_window_ms:
            self.carts.popleft()
        if event_type == "purchase":
            return len(self.purchases) < limits.purchases
        if event_type == "add_to_cart":
            return len(self.carts) < limits.carts
        return True

    def spent_cents(self) -> int:
        return sum(cents for _, cents in self.purchases)


USER_REDRAWS: Final = 20
"""How many users a purchase or cart is offered to before it becomes a view (a busy shop has
many users under their limits: this almost never happens)."""


class RetailEventGenerator:
    """A small shop: users browsing in sessions from their home country, products by
    popularity. Deterministic for a given ``random.Random``."""

    def __init__(
        self,
        rng: random.Random,
        *,
        users: int = DEFAULT_USERS,
        products: int = DEFAULT_PRODUCTS,
        start_ms: int,
        mean_gap_ms: float = DEFAULT_MEAN_GAP_MS,
        limits: CleanLimits = CLEAN_LIMITS,
    ) -> None:
        if users < 1 or products < 1:
            msg = "users and products must be at least 1"
            raise ValueError(msg)
        self._rng = rng
        self._users = [f"user-{_uuid4(rng)}" for _ in range(users)]
        self._user_weights = _zipf_cum_weights(users, USER_ACTIVITY_EXPONENT)
        self._products = [f"P{number:05d}" for number in range(1, products + 1)]
        self._product_weights = _zipf_cum_weights(products, PRODUCT_POPULARITY_EXPONENT)
        self._prices = {p: rng.randrange(199, 20_000) for p in self._products}
        self._countries = [country for country, _, _ in COUNTRIES]
        self._country_weights = [weight for _, _, weight in COUNTRIES]
        self._homes: dict[str, str] = {}
        self._sessions: dict[str, _Session] = {}
        self._activity: dict[str, _Activity] = {}
        self._limits = limits
        self._now_ms = float(start_ms)
        self._mean_gap_ms = max(mean_gap_ms, 0.001)
        self._types = [name for name, _ in EVENT_MIX]
        self._type_weights = [weight for _, weight in EVENT_MIX]
        self._channels = [name for name, _ in CHANNELS]
        self._channel_weights = [weight for _, weight in CHANNELS]

    @property
    def prices(self) -> Mapping[str, int]:
        return self._prices

    def new_user(self) -> str:
        """A user outside the pool (the ordinary traffic never picks it)."""
        return f"user-{_uuid4(self._rng)}"

    def new_session(self) -> str:
        return f"session-{_uuid4(self._rng)}"

    def home_country(self, user: str) -> str:
        """The user's home country, drawn once (skewed like :data:`COUNTRIES`)."""
        home = self._homes.get(user)
        if home is None:
            home = self._rng.choices(self._countries, weights=self._country_weights)[0]
            self._homes[user] = home
        return home

    def other_country(self, user: str) -> str:
        home = self.home_country(user)
        return self._rng.choice([c for c in self._countries if c != home])

    def _popular_product(self) -> str:
        return self._rng.choices(self._products, cum_weights=self._product_weights)[0]

    def _session(self, user: str) -> _Session:
        session = self._sessions.get(user)
        if session is None or session.remaining <= 0:
            length = 1 + int(self._rng.expovariate(1 / (MEAN_SESSION_EVENTS - 1)))
            session = _Session(self.new_session(), length)
            self._sessions[user] = session
        session.remaining -= 1
        return session

    def _activity_of(self, user: str) -> _Activity:
        return self._activity.setdefault(user, _Activity())

    def _user_for(self, event_type: str, now_ms: int) -> tuple[str, str]:
        """A user by activity whose limits allow one more ``event_type`` (else a view)."""
        rng = self._rng
        user = rng.choices(self._users, cum_weights=self._user_weights)[0]
        for _ in range(USER_REDRAWS):
            if self._activity_of(user).allows(event_type, now_ms, self._limits):
                return user, event_type
            user = rng.choices(self._users, cum_weights=self._user_weights)[0]
        return user, "view"

    def _tick(self) -> int:
        self._now_ms += self._rng.expovariate(1 / self._mean_gap_ms)
        return int(self._now_ms)

    def event(self) -> dict[str, Any]:
        rng = self._rng
        timestamp = self._tick()
        event_type = rng.choices(self._types, weights=self._type_weights)[0]
        user, event_type = self._user_for(event_type, timestamp)
        session = self._session(user)
        if event_type == "view" or not (session.viewed or session.cart):
            product = self._popular_product()
        elif event_type == "add_to_cart":
            product = rng.choice(session.viewed or session.cart)
        else:
            product = rng.choice(session.cart or session.viewed)
        quantity = rng.choice((1, 1, 1, 2, 3))
        activity = self._activity_of(user)
        if event_type == "purchase":
            budget = self._limits.purchase_cents - activity.spent_cents()
            # Fewer items, or just a look, rather than a clean user over the amount limit.
            quantity = min(quantity, budget // self._prices[product])
            if quantity < 1:
                event_type = "view"
        if event_type == "view":
            session.viewed = [*session.viewed[-9:], product]
        elif event_type == "add_to_cart":
            session.cart = [*session.cart[-9:], product]
            activity.carts.append(timestamp)
        else:
            activity.purchases.append((timestamp, quantity * self._prices[product]))
        return self.build(
            user,
            session.session_id,
            event_type,
            product,
            timestamp,
            quantity=quantity,
            country=self.home_country(user),
        )

    def build(
        self,
        user: str,
        session_id: str,
        event_type: str,
        product: str,
        timestamp: int,
        *,
        quantity: int,
        country: str,
    ) -> dict[str, Any]:
        """One event; carts and purchases carry quantity, price and amount in the currency
        of ``country``."""
        event: dict[str, Any] = {
            "eventId": _uuid4(self._rng),
            "userId": user,
            "email": email_address(user),
            "sessionId": session_id,
            "eventType": event_type,
            "productId": product,
            "timestamp": timestamp,
            "channel": self._rng.choices(self._channels, weights=self._channel_weights)[0],
            "country": country,
        }
        if event_type != "view":
            price = self._prices[product]
            event["quantity"] = quantity
            event["priceCents"] = price
            event["currency"] = CURRENCY_OF[country]
            # Major units with 2 decimals: an int of cents / 100 prints as exactly that.
            event["amount"] = quantity * price / 100
        return event

    def planted(self, step: _PlantedStep) -> dict[str, Any]:
        """The next event of a planted user's script, at the shop's clock."""
        return self.build(
            step.user,
            step.session_id,
            step.event_type,
            step.product,
            self._tick(),
            quantity=step.quantity,
            country=step.country,
        )


@dataclass(frozen=True, slots=True)
class _PlantedStep:
    rule: FraudRule
    user: str
    session_id: str
    event_type: str
    product: str
    quantity: int
    country: str


PLANTED_SPACING: Final = 2
"""A planted user's events are this many records apart: a burst, well inside every window."""


def _planted_scripts(shop: RetailEventGenerator) -> list[list[_PlantedStep]]:
    """One fraudulent user per rule, each tripping its rule (and only it) with the detector's
    default thresholds."""
    by_price = sorted(shop.prices, key=lambda p: (shop.prices[p], p))
    cheap, dear = by_price[0], by_price[-1]
    scripts: list[list[_PlantedStep]] = []
    for rule in FraudRule:
        user = shop.new_user()
        home = shop.home_country(user)
        session = shop.new_session()

        def step(
            event_type: str,
            product: str,
            quantity: int = 1,
            *,
            rule: FraudRule = rule,
            user: str = user,
            session: str = session,
            country: str = home,
        ) -> _PlantedStep:
            return _PlantedStep(rule, user, session, event_type, product, quantity, country)

        if rule is FraudRule.PURCHASE_VELOCITY:
            # 8 cheap purchases in a row: more than 5 in 10 minutes, far under the amount.
            scripts.append([step("purchase", cheap) for _ in range(8)])
        elif rule is FraudRule.PURCHASE_AMOUNT:
            # 2 purchases of the dearest product worth 1.5 x the amount threshold in all.
            quantity = math.ceil(PLANTED_AMOUNT_CENTS / 2 / shop.prices[dear])
            scripts.append([step("purchase", dear, quantity) for _ in range(2)])
        elif rule is FraudRule.NEW_COUNTRY:
            # A purchase at home, then one from a country the account never bought from.
            abroad = shop.other_country(user)
            scripts.append(
                [
                    step("purchase", cheap),
                    step("purchase", cheap, session=shop.new_session(), country=abroad),
                ]
            )
        else:
            # 9 add-to-carts in one session: more than 6 in 5 minutes.
            scripts.append([step("add_to_cart", cheap) for _ in range(9)])
    return scripts


def _planted_positions(
    scripts: list[list[_PlantedStep]], count: int, rng: random.Random
) -> dict[int, _PlantedStep]:
    """Where in the run each planted event goes: each script a burst starting somewhere in
    the middle 80 %, bursts never sharing a position."""
    positions: dict[int, _PlantedStep] = {}
    slot = count // (len(scripts) + 1)
    for number, script in enumerate(scripts, start=1):
        span = PLANTED_SPACING * len(script)
        start = slot * number - span // 2 + rng.randrange(-slot // 4, slot // 4 + 1)
        start = max(count // 10, min(start, count - span - 1))
        while any(start + PLANTED_SPACING * i in positions for i in range(len(script))):
            start += 1
        for index, planted in enumerate(script):
            positions[start + PLANTED_SPACING * index] = planted
    return positions


def email_address(user_id: str) -> str:
    """The user's address: deterministic, at the reserved ``example.com`` (RFC 2606)."""
    return f"{user_id}@{EMAIL_DOMAIN}"


def _compact(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def poison_bytes(kind: RecordKind, event: Mapping[str, Any], rng: random.Random) -> bytes:
    """A record of ``kind`` made from a valid ``event``: what a buggy producer would send."""
    text = _compact(event)
    variant = rng.randrange(3)
    if kind is RecordKind.BAD_JSON:
        if variant == 0:
            return repr(dict(event)).encode()  # a Python dict, single quotes
        # Cut inside the object: its closing brace is missing, whatever the cut.
        return text[: rng.randrange(1, len(text) - 1)].encode()
    if kind is RecordKind.NOT_UTF8:
        if variant == 0:
            return text.encode("utf-16")  # starts with the byte order mark FF FE
        return _compact({**event, "note": "Crème brûlée"}).encode("latin-1")
    if kind is RecordKind.WRONG_TYPE:
        broken = dict(event)
        if variant == 0:
            broken["timestamp"] = str(event["timestamp"])
        elif variant == 1:
            broken["timestamp"] = event["timestamp"] / 1000  # float seconds
        else:
            broken["userId"] = rng.randrange(1, 10**9)
        return _compact(broken).encode()
    if kind is RecordKind.MISSING_FIELD:
        missing = rng.choice(REQUIRED_FIELDS)
        return _compact({k: v for k, v in event.items() if k != missing}).encode()
    if kind is RecordKind.NOT_AN_OBJECT:
        if variant == 0:
            return _compact([event]).encode()  # a batch in one record
        if variant == 1:
            return _compact(text).encode()  # encoded twice: a JSON string
        return b"null"
    msg = f"not a poison kind: {kind}"
    raise ValueError(msg)


def generate_records(
    count: int,
    *,
    seed: int | None = None,
    poison_rate: float = 0.0,
    users: int = DEFAULT_USERS,
    products: int = DEFAULT_PRODUCTS,
    start_ms: int | None = None,
    mean_gap_ms: float = DEFAULT_MEAN_GAP_MS,
    plant_fraud: bool = False,
) -> Iterator[ProducedRecord]:
    """``count`` records, lazily: retail events, a share ``poison_rate`` (0-1) of them replaced
    by poison records of a random kind. With ``plant_fraud`` (and at least
    :data:`PLANT_MIN_COUNT` records), one fraudulent user per :class:`FraudRule` whose events
    (never poisoned) trip it, marked ``planted``. The same arguments give the same records."""
    if not 0.0 <= poison_rate <= 1.0:
        msg = f"poison_rate must be between 0 and 1, got {poison_rate}"
        raise ValueError(msg)
    rng = random.Random(seed)  # noqa: S311 -- test data, reproducible on purpose
    shop = RetailEventGenerator(
        rng,
        users=users,
        products=products,
        start_ms=start_ms if start_ms is not None else int(time.time() * 1000),
        mean_gap_ms=mean_gap_ms,
    )
    planted: dict[int, _PlantedStep] = {}
    if plant_fraud and count >= PLANT_MIN_COUNT:
        planted = _planted_positions(_planted_scripts(shop), count, rng)
    for position in range(count):
        step = planted.get(position)
        if step is not None:
            event = shop.planted(step)
            data = _compact(event).encode()
            yield ProducedRecord(
                step.user, data, RecordKind.VALID, event["eventId"], planted=step.rule
            )
            continue
        event = shop.event()
        key = str(event["userId"])
        if poison_rate and rng.random() < poison_rate:
            kind = rng.choice(POISON_KINDS)
            # Without the address: poison records stay exactly what they were before it.
            bare = {name: value for name, value in event.items() if name != "email"}
            data = poison_bytes(kind, bare, rng)
            yield ProducedRecord(key, data, kind, f"poison-{_uuid4(rng)}")
        else:
            yield ProducedRecord(key, _compact(event).encode(), RecordKind.VALID, event["eventId"])
