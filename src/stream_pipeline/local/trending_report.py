"""The trending aggregator's windows, read back from its aggregates table: the shards' partial
windows combined at read time (the documented second step, docs/trending.md), and rendered with
rich for the demo.

The table holds one item per window and shard (``windowStart``, ``part``; see
functions/trending_aggregator/models.py). A window is the sum of its items: event counts, the
per-product counts of each funnel step (a product a shard did not keep among its top products is
in that shard's ``otherProducts``), countries; the conversion is computed from the sums.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from boto3.dynamodb.types import TypeDeserializer
from rich.console import Console

FUNNEL: Final = (("view", "views"), ("add_to_cart", "addToCarts"), ("purchase", "purchases"))
"""Event type -> the item's attribute holding its per-product counts."""
OUTPUT: Final = "trending_aggregates_table_name"
"""The environments' output naming the aggregates table."""


@dataclass
class WindowAggregate:
    """One window, every shard's part summed."""

    start: str
    end: str
    parts: int = 0
    shards: set[str] = field(default_factory=set)
    events: Counter[str] = field(default_factory=Counter)
    products: dict[str, Counter[str]] = field(
        default_factory=lambda: {event_type: Counter() for event_type, _ in FUNNEL}
    )
    other_products: Counter[str] = field(default_factory=Counter)
    countries: Counter[str] = field(default_factory=Counter)

    def add(self, item: Mapping[str, Any]) -> None:
        self.parts += 1
        self.shards.add(str(item.get("shardId")))
        self.events.update(_counts(item.get("events")))
        for event_type, attribute in FUNNEL:
            self.products[event_type].update(_counts(item.get(attribute)))
        self.other_products.update(_counts(item.get("otherProducts")))
        self.countries.update(_counts(item.get("countries")))

    @property
    def conversion(self) -> float | None:
        """View -> purchase conversion of the whole window: purchases per view."""
        views = self.events.get("view", 0)
        return self.events.get("purchase", 0) / views if views else None

    def top(self, event_type: str, count: int) -> list[tuple[str, int]]:
        ranked = sorted(self.products[event_type].items(), key=lambda kv: (-kv[1], kv[0]))
        return ranked[:count]


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {str(key): int(count) for key, count in value.items() if _is_count(count)}


def _is_count(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def combine(items: Iterable[Mapping[str, Any]]) -> list[WindowAggregate]:
    """The windows the items belong to, oldest first, each the sum of its parts."""
    windows: dict[str, WindowAggregate] = {}
    for item in items:
        start = str(item.get("windowStart"))
        window = windows.setdefault(start, WindowAggregate(start, str(item.get("windowEnd"))))
        window.add(item)
    return [windows[start] for start in sorted(windows)]


def read_items(dynamodb: Any, table_name: str) -> list[dict[str, Any]]:
    """Every item of the aggregates table (a Scan: the local table is small; in AWS, Query one
    window's ``windowStart`` instead)."""
    deserializer = TypeDeserializer()
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name):
        items += [
            {name: deserializer.deserialize(value) for name, value in item.items()}
            for item in page.get("Items") or []
        ]
    return items


def _top_text(pairs: list[tuple[str, int]]) -> str:
    return ", ".join(f"{key} {count}" for key, count in pairs) or "-"


def render(
    windows: list[WindowAggregate], console: Console, *, last: int = 3, top: int = 3
) -> None:
    """The ``last`` windows, one block each: funnel counts and conversion, then the top products
    per step and the top countries (lines that fit an 80-column terminal)."""
    if not windows:
        console.print("trending: no window has closed yet")
        return
    shown = windows[-last:]
    console.print(
        f"[bold]Trending: the last {len(shown)} window(s) of {_seconds(shown[-1])} s[/bold] "
        "(UTC, by arrival; shards combined)"
    )
    for window in shown:
        conversion = window.conversion
        console.print(
            f"[bold]{window.start[11:19]}[/bold]  {sum(window.events.values())} events: "
            f"{window.events.get('view', 0)} views, {window.events.get('add_to_cart', 0)} "
            f"carts, {window.events.get('purchase', 0)} purchases, conversion "
            f"{'-' if conversion is None else f'{conversion:.1%}'}",
            highlight=False,
        )
        countries = sorted(window.countries.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        for label, pairs in (
            ("top viewed", window.top("view", top)),
            ("top added to cart", window.top("add_to_cart", top)),
            ("top purchased", window.top("purchase", top)),
            ("top countries", countries),
        ):
            console.print(f"  {label}: {_top_text(pairs)}", highlight=False)


def _seconds(window: WindowAggregate) -> str:
    try:
        start = datetime.fromisoformat(window.start)
        end = datetime.fromisoformat(window.end)
    except ValueError:
        return "?"
    return f"{(end - start).total_seconds():g}"


def report(dynamodb: Any, outputs: Mapping[str, Any], console: Console) -> None:
    """The demo's trending section, when the stack has the trending aggregator."""
    table_name = outputs.get(OUTPUT)
    if table_name:
        render(combine(read_items(dynamodb, str(table_name))), console)
