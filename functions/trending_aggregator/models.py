"""The events the trending aggregator reads, its window state, and the item it stores per window
and shard.

State (what Lambda carries between the invocations of one window; JSON, kept well under the
1 MB limit): ``first`` (the sequence number of the first record folded in: with the shard, the
item's sort key, so a state Lambda ended early and the rest of the window are two items, not one
overwriting the other), ``events`` (count per event type), ``products`` (per tracked event type:
count per product, at most ``MAX_PRODUCTS_PER_TYPE`` distinct products, the rest summed in
``other``) and ``countries`` (count per ISO 3166-1 alpha-2 code, ``ZZ`` when unknown). Worst
case: 3 types x 1,000 products x (256-character id + count) ~ 800 KB.

Item key scheme (table: hash key ``windowStart`` (S), range key ``part`` (S)):
``windowStart`` = the window's start, ISO-8601 UTC (``2026-12-06T18:20:00Z``), ``part`` =
``<shardId>#<first sequence number>``. One item per window and shard (two if Lambda ended the
state early); all shards' items of a window share the hash key, so one ``Query`` reads the whole
window and the reader sums them (src/stream_pipeline/local/trending_report.py). The item depends
only on the window's records, so a retried final invocation rewrites the same item.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from stream_pipeline.kit import ConfigurationError

TRACKED_TYPES: Final = ("view", "add_to_cart", "purchase")
"""The funnel: top products and conversion are computed over these event types."""
MAX_PRODUCTS_PER_TYPE: Final = 1_000
"""Distinct products counted per type and window; beyond, a product counts in ``other`` (the
totals stay exact). Bounds the state: see the module docstring."""
UNKNOWN_COUNTRY: Final = "ZZ"
"""ISO 3166-1 user-assigned code: a record without a (valid) country."""
ITEM_KEY: Final = ("windowStart", "part")
_COUNTRY: Final = re.compile(r"^[A-Z]{2}$")
MIN_TIMESTAMP_MS: Final = 946_684_800_000
MAX_TIMESTAMP_MS: Final = 4_102_444_800_000

State = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TrendingSettings:
    """The aggregator's own settings (``modules/trending-aggregator`` sets them)."""

    stored_products: int = 50
    """``STORED_PRODUCTS_PER_TYPE`` (1-200): products per event type kept in a window's item."""
    retention: timedelta = timedelta(days=90)
    """``AGGREGATES_RETENTION_DAYS`` (1-3,650): the item's TTL after its window's end."""

    @classmethod
    def from_env(cls, _settings: Any = None) -> TrendingSettings:
        """Read at the cold start (the kit's ``extras`` hook); a bad value is a
        ``ConfigurationError`` naming the variable."""
        values: dict[str, int] = {}
        for name, low, high, default in (
            ("STORED_PRODUCTS_PER_TYPE", 1, 200, 50),
            ("AGGREGATES_RETENTION_DAYS", 1, 3650, 90),
        ):
            text = os.environ.get(name, str(default))
            if not text.isdigit() or not low <= int(text) <= high:
                msg = f"{name} must be a whole number from {low} to {high}, got {text!r}"
                raise ConfigurationError(msg)
            values[name] = int(text)
        return cls(
            stored_products=values["STORED_PRODUCTS_PER_TYPE"],
            retention=timedelta(days=values["AGGREGATES_RETENTION_DAYS"]),
        )


class RetailEvent(BaseModel):
    """The fields the aggregator reads (the producer's schema, as strict as the processor's, so
    both consumers dead-letter the same records). Unknown fields are kept; ``country`` is read
    leniently: a record is never refused for analytics metadata."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    userId: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    eventType: Annotated[str, StringConstraints(max_length=128)]
    productId: Annotated[str, StringConstraints(max_length=256)]
    timestamp: Annotated[int, Field(ge=MIN_TIMESTAMP_MS, lt=MAX_TIMESTAMP_MS)]
    country: Any = None

    @property
    def country_code(self) -> str:
        code = self.country
        return code if isinstance(code, str) and _COUNTRY.match(code) else UNKNOWN_COUNTRY


def fold(state: State, event: RetailEvent, sequence_number: str) -> State:
    """``state`` with ``event`` counted in, as a new state (the one given is not changed: the
    kit keeps it to answer a failure later in the batch). Only the touched maps are copied."""
    new = dict(state)
    new.setdefault("first", sequence_number)
    new["events"] = _add(state.get("events") or {}, event.eventType)
    new["countries"] = _add(state.get("countries") or {}, event.country_code)
    if event.eventType in TRACKED_TYPES:
        products = dict(state.get("products") or {})
        counts = products.get(event.eventType) or {}
        if event.productId in counts or len(counts) < MAX_PRODUCTS_PER_TYPE:
            products[event.eventType] = _add(counts, event.productId)
        else:
            new["other"] = _add(state.get("other") or {}, event.eventType)
        new["products"] = products
    return new


def _add(counts: Mapping[str, int], key: str) -> dict[str, int]:
    return {**counts, key: counts.get(key, 0) + 1}


def conversion(views: int, purchases: int) -> float | None:
    """View -> purchase conversion of a window: purchases per view (None without views)."""
    return round(purchases / views, 4) if views else None


def window_item(
    state: State,
    *,
    start: datetime,
    end: datetime,
    shard_id: str,
    stored_products: int,
    retention: timedelta,
) -> dict[str, Any] | None:
    """The aggregates item of one window and shard; None for a window with nothing counted."""
    if not state.get("events"):
        return None
    events: dict[str, int] = state["events"]
    products: dict[str, dict[str, int]] = state.get("products") or {}
    other: dict[str, int] = dict(state.get("other") or {})
    kept: dict[str, dict[str, int]] = {}
    for event_type in TRACKED_TYPES:
        counts = products.get(event_type) or {}
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept[event_type] = dict(ranked[:stored_products])
        dropped = sum(count for _, count in ranked[stored_products:])
        if dropped:
            other[event_type] = other.get(event_type, 0) + dropped
    views, purchases = events.get("view", 0), events.get("purchase", 0)
    item: dict[str, Any] = {
        "windowStart": iso(start),
        "part": f"{shard_id}#{state['first']}",
        "windowEnd": iso(end),
        "shardId": shard_id,
        "records": sum(events.values()),
        "events": events,
        "views": kept["view"],
        "addToCarts": kept["add_to_cart"],
        "purchases": kept["purchase"],
        "otherProducts": other,
        "countries": state.get("countries") or {},
        "expiresAt": int((end + retention).timestamp()),
    }
    rate = conversion(views, purchases)
    if rate is not None:
        item["conversion"] = rate
    return item


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
