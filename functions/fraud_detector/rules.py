"""The fraud rules, as pure functions of an event and the user's history around it.

Every window is measured in event time (the events' ``timestamp``), never in arrival time: a
redelivered or replayed record is evaluated against the same history and trips the same rule
with the same window, which is what lets the flags table keep one flag per (user, rule,
window). A rule trips on *more than* its threshold.

- ``purchase-velocity``: more than N purchases of one user in W (the window ending at the
  event, inclusive);
- ``purchase-amount``: more than amount A spent by one user in one currency in W;
- ``new-country``: the user's first purchase from a country, after purchases from another one;
- ``cart-burst``: more than M add-to-carts in one session within Wc.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from fraud_detector.config import Thresholds
from fraud_detector.models import FraudEvent

PURCHASE: Final = "purchase"
ADD_TO_CART: Final = "add_to_cart"
HANDLED_EVENT_TYPES: Final = frozenset({PURCHASE, ADD_TO_CART})
"""What the module's event filter lets through; anything else is skipped."""


class Rule(StrEnum):
    PURCHASE_VELOCITY = "purchase-velocity"
    PURCHASE_AMOUNT = "purchase-amount"
    NEW_COUNTRY = "new-country"
    CART_BURST = "cart-burst"

    @property
    def sliding(self) -> bool:
        """A rule over a sliding window: a burst going on past its first flag is the same
        burst, not a new flag (see ``store.FlagBook``)."""
        return self is not Rule.NEW_COUNTRY


@dataclass(frozen=True, slots=True)
class Entry:
    """One event of a user's history."""

    timestamp: int
    event_type: str
    session_id: str | None
    currency: str | None
    amount_cents: int


@dataclass(frozen=True, slots=True)
class Trip:
    """A rule tripped by an event: the flag to raise, once."""

    rule: Rule
    user_id: str
    window_start: int
    """Event time (epoch ms) of the oldest event the rule counted."""
    window_end: int
    """Event time of the event that tripped it."""
    observed: str
    """What the rule saw: a count, an amount in cents, a country."""
    threshold: str
    event_id: str
    detail: Mapping[str, str]
    """Context for an analyst: the session, the currency, the country."""

    @property
    def flag_key(self) -> str:
        """The flags table's range key: one flag per (user, rule, window). For
        ``new-country`` the window is the country (one flag per country ever)."""
        if self.rule is Rule.NEW_COUNTRY:
            return f"{self.rule}#{self.observed}"
        return f"{self.rule}#{self.window_start:013d}"


def purchase_rules(
    event: FraudEvent, event_id: str, window: Sequence[Entry], limits: Thresholds
) -> list[Trip]:
    """``purchase-velocity`` and ``purchase-amount`` for a purchase; ``window``: the user's
    history in [t - W, t], the purchase itself included."""
    purchases = [entry for entry in window if entry.event_type == PURCHASE]
    trips: list[Trip] = []
    if len(purchases) > limits.purchase_count:
        trips.append(
            Trip(
                Rule.PURCHASE_VELOCITY,
                event.userId,
                min(p.timestamp for p in purchases),
                event.timestamp,
                str(len(purchases)),
                str(limits.purchase_count),
                event_id,
                {},
            )
        )
    # Amounts in different currencies do not add up: the rule is per currency.
    same_currency = [p for p in purchases if p.currency == event.currency]
    spent = sum(p.amount_cents for p in same_currency)
    if same_currency and spent > limits.purchase_amount_cents:
        trips.append(
            Trip(
                Rule.PURCHASE_AMOUNT,
                event.userId,
                min(p.timestamp for p in same_currency),
                event.timestamp,
                str(spent),
                str(limits.purchase_amount_cents),
                event_id,
                {"currency": event.currency} if event.currency else {},
            )
        )
    return trips


@dataclass(frozen=True, slots=True)
class FirstPurchase:
    """The user's first purchase from a country."""

    timestamp: int
    event_id: str


def new_country_rule(user_id: str, first_purchases: Mapping[str, FirstPurchase]) -> list[Trip]:
    """``new-country``: every country the user first purchased from *after* first purchasing
    from another one -- all but the earliest. A function of the first purchases alone, not of
    the order the records came in: a home purchase replayed after a purchase abroad still
    flags the country abroad (the flag is the same one either way)."""
    if len(first_purchases) < 2:
        return []
    home = min(first.timestamp for first in first_purchases.values())
    trips = []
    for country, first in sorted(first_purchases.items()):
        earlier = sorted(c for c, f in first_purchases.items() if f.timestamp < first.timestamp)
        if first.timestamp == home or not earlier:
            continue
        trips.append(
            Trip(
                Rule.NEW_COUNTRY,
                user_id,
                first.timestamp,
                first.timestamp,
                country,
                ",".join(earlier),
                first.event_id,
                {"country": country, "knownCountries": ",".join(earlier)},
            )
        )
    return trips


def cart_burst_rule(
    event: FraudEvent, event_id: str, window: Sequence[Entry], limits: Thresholds
) -> list[Trip]:
    """``cart-burst`` for an add-to-cart; ``window``: the user's history in [t - Wc, t]."""
    if event.sessionId is None:
        return []
    carts = [
        entry
        for entry in window
        if entry.event_type == ADD_TO_CART and entry.session_id == event.sessionId
    ]
    if len(carts) <= limits.cart_burst_count:
        return []
    return [
        Trip(
            Rule.CART_BURST,
            event.userId,
            min(c.timestamp for c in carts),
            event.timestamp,
            str(len(carts)),
            str(limits.cart_burst_count),
            event_id,
            {"sessionId": event.sessionId},
        )
    ]
