"""Realistic retail events, and poison records the consumer must dead-letter (see
docs/producer.md): :func:`generate_records` yields :class:`ProducedRecord`."""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
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


class RetailEventGenerator:
    """A small shop: users browsing in sessions, products by popularity. Deterministic for a
    given ``random.Random``."""

    def __init__(
        self,
        rng: random.Random,
        *,
        users: int = DEFAULT_USERS,
        products: int = DEFAULT_PRODUCTS,
        start_ms: int,
        mean_gap_ms: float = DEFAULT_MEAN_GAP_MS,
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
        self._sessions: dict[str, _Session] = {}
        self._now_ms = float(start_ms)
        self._mean_gap_ms = max(mean_gap_ms, 0.001)
        self._types = [name for name, _ in EVENT_MIX]
        self._type_weights = [weight for _, weight in EVENT_MIX]
        self._channels = [name for name, _ in CHANNELS]
        self._channel_weights = [weight for _, weight in CHANNELS]

    def _popular_product(self) -> str:
        return self._rng.choices(self._products, cum_weights=self._product_weights)[0]

    def _session(self, user: str) -> _Session:
        session = self._sessions.get(user)
        if session is None or session.remaining <= 0:
            length = 1 + int(self._rng.expovariate(1 / (MEAN_SESSION_EVENTS - 1)))
            session = _Session(f"session-{_uuid4(self._rng)}", length)
            self._sessions[user] = session
        session.remaining -= 1
        return session

    def event(self) -> dict[str, Any]:
        rng = self._rng
        user = rng.choices(self._users, cum_weights=self._user_weights)[0]
        session = self._session(user)
        event_type = rng.choices(self._types, weights=self._type_weights)[0]
        if event_type == "view" or not (session.viewed or session.cart):
            product = self._popular_product()
        elif event_type == "add_to_cart":
            product = rng.choice(session.viewed or session.cart)
        else:
            product = rng.choice(session.cart or session.viewed)
        if event_type == "view":
            session.viewed = [*session.viewed[-9:], product]
        elif event_type == "add_to_cart":
            session.cart = [*session.cart[-9:], product]
        self._now_ms += rng.expovariate(1 / self._mean_gap_ms)
        event: dict[str, Any] = {
            "eventId": _uuid4(rng),
            "userId": user,
            "email": email_address(user),
            "sessionId": session.session_id,
            "eventType": event_type,
            "productId": product,
            "timestamp": int(self._now_ms),
            "channel": rng.choices(self._channels, weights=self._channel_weights)[0],
        }
        if event_type != "view":
            event["quantity"] = rng.choice((1, 1, 1, 2, 3))
            event["priceCents"] = self._prices[product]
        return event


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
) -> Iterator[ProducedRecord]:
    """``count`` records, lazily: retail events, a share ``poison_rate`` (0-1) of them replaced
    by poison records of a random kind. The same arguments give the same records."""
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
    for _ in range(count):
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
