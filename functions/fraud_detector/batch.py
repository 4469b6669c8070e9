"""One batch's view of its users' histories, built once before the records are handled.

Per user of the batch: one read of the history table covering the widest window the user's
events need (and the user's first purchase per country), a conditional update per country
the batch purchased from earlier than known (rare: a new country), and one BatchWriteItem
pass for the batch's new events, all users together. The rules then run per record in memory,
in event time, over the stored history and the whole batch: two events of one user in one
batch see each other whatever order they arrive in.

A user whose reads or writes failed is kept with its error: each of its records raises it and
becomes a batch item failure, retried; the other users' records go on. Everything here is
idempotent (sets of keys, deterministic items, conditional country updates), so a retry, a
redelivery or a replay builds the same view and trips the same rules.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from fraud_detector.config import Thresholds
from fraud_detector.history import History, Stored, entry_of, event_key
from fraud_detector.models import FraudEvent
from fraud_detector.rules import (
    PURCHASE,
    Entry,
    FirstPurchase,
    Trip,
    cart_burst_rule,
    new_country_rule,
    purchase_rules,
)


class HistoryUnavailableError(RuntimeError):
    """The user's history could not be read or written for this batch: retry the record."""


@dataclass(frozen=True, slots=True)
class Sighting:
    """An event of the batch, with the id it is remembered by."""

    event: FraudEvent
    event_id: str


@dataclass(slots=True)
class UserHistory:
    """A user's events around the batch (stored and the batch's own), by event time, and
    first purchases per country."""

    entries: list[Entry]
    firsts: dict[str, FirstPurchase]
    _times: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.entries.sort(key=lambda entry: entry.timestamp)
        self._times = [entry.timestamp for entry in self.entries]

    def window(self, start_ms: int, end_ms: int) -> list[Entry]:
        """The events with start_ms <= timestamp <= end_ms."""
        low, high = bisect_left(self._times, start_ms), bisect_right(self._times, end_ms)
        return self.entries[low:high]

    def trips(self, event: FraudEvent, event_id: str, limits: Thresholds) -> list[Trip]:
        """The rules the event trips (the same on every delivery)."""
        end = event.timestamp
        if event.eventType != PURCHASE:
            start = end - limits.cart_burst_window_seconds * 1000
            return cart_burst_rule(event, event_id, self.window(start, end), limits)
        start = end - limits.velocity_window_seconds * 1000
        trips = purchase_rules(event, event_id, self.window(start, end), limits)
        # Only a purchase that is the first from its country changes which countries are new.
        first = self.firsts.get(event.country) if event.country is not None else None
        if first is not None and first.timestamp == end:
            trips += new_country_rule(event.userId, self.firsts)
        return trips


@dataclass(frozen=True, slots=True)
class BatchHistory:
    users: dict[str, UserHistory | Exception]
    duplicates: int
    """Events of the batch already remembered (a redelivery, a replay) or repeated in it."""

    def of(self, user_id: str) -> UserHistory:
        view = self.users.get(user_id)
        if isinstance(view, UserHistory):
            return view
        msg = f"no history for this user in this batch: {view!r}"
        raise HistoryUnavailableError(msg) from view


def _span(sightings: Sequence[Sighting], limits: Thresholds) -> tuple[int, int]:
    """The time range the user's events need: the earliest window start to the latest event."""
    starts = [
        s.event.timestamp
        - 1000
        * (
            limits.velocity_window_seconds
            if s.event.eventType == PURCHASE
            else limits.cart_burst_window_seconds
        )
        for s in sightings
    ]
    return min(starts), max(s.event.timestamp for s in sightings)


def _earliest_purchases(sightings: Sequence[Sighting]) -> dict[str, FirstPurchase]:
    """Country -> the batch's earliest purchase from it (the first in stream order on a tie,
    as the conditional update keeps the first one stored)."""
    earliest: dict[str, FirstPurchase] = {}
    for s in sightings:
        country = s.event.country
        if s.event.eventType != PURCHASE or country is None:
            continue
        known = earliest.get(country)
        if known is None or s.event.timestamp < known.timestamp:
            earliest[country] = FirstPurchase(s.event.timestamp, s.event_id)
    return earliest


def _user_view(
    history: History, user_id: str, sightings: Sequence[Sighting], limits: Thresholds
) -> tuple[Stored, dict[str, FirstPurchase]]:
    """Read the user's history; lower the first purchases the batch makes earlier."""
    stored = history.read(user_id, *_span(sightings, limits))
    firsts = dict(stored.firsts)
    for country, first in _earliest_purchases(sightings).items():
        known = firsts.get(country)
        if known is None or known.timestamp > first.timestamp:
            firsts[country] = history.note_purchase_country(user_id, country, first)
    return stored, firsts


def prepare(history: History, sightings: Sequence[Sighting], limits: Thresholds) -> BatchHistory:
    """Read, update and write the histories of the batch's users (see the module docstring)."""
    by_user: dict[str, list[Sighting]] = {}
    for sighting in sightings:
        by_user.setdefault(sighting.event.userId, []).append(sighting)

    def read(user_id: str) -> tuple[Stored, dict[str, FirstPurchase]] | Exception:
        try:
            return _user_view(history, user_id, by_user[user_id], limits)
        except Exception as exc:  # this user's records fail; the others go on
            return exc

    users = list(by_user)
    views: dict[str, UserHistory | Exception] = {}
    new_items = []
    duplicates = 0
    for user_id, result in zip(users, history.pool.map(read, users), strict=True):
        if isinstance(result, Exception):
            views[user_id] = result
            continue
        stored, firsts = result
        events = dict(stored.events)
        for s in by_user[user_id]:
            key = event_key(s.event.timestamp, s.event_id)
            if key in events:
                duplicates += 1
                continue
            events[key] = entry_of(s.event)
            new_items.append(history.item(s.event, s.event_id))
        views[user_id] = UserHistory(list(events.values()), firsts)
    for user_id in history.write(new_items):
        views[user_id] = HistoryUnavailableError("the batch's events of the user were not stored")
    return BatchHistory(views, duplicates)
