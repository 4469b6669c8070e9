"""Lambda entry point: retail events on Lambda tumbling windows -> one aggregates item per
window and shard (top products by views, carts and purchases, view -> purchase conversion,
counts per country) and EMF business metrics, on the consumer kit's TumblingWindowConsumer
(decoding, dead-lettering, window state, retries, idempotent writes).

Handler string: ``trending_aggregator.app.lambda_handler``. See README.md next to this file.
"""

from __future__ import annotations

from typing import Any

from stream_pipeline.kit import DynamoDBSink, StreamRecord, TumblingWindowConsumer, Window
from trending_aggregator.models import (
    ITEM_KEY,
    RetailEvent,
    State,
    TrendingSettings,
    fold,
    window_item,
)

COUNTERS = ("WindowViews", "WindowAddToCarts", "WindowPurchases", "WindowsAggregated")

consumer = TumblingWindowConsumer(
    name="trending_aggregator",
    model=RetailEvent,
    sink=DynamoDBSink(key=ITEM_KEY),
    event_sources=("aws:kinesis",),
    counters=COUNTERS,
    extras=TrendingSettings.from_env,
)


@consumer.aggregate
def aggregate(state: State, record: StreamRecord[RetailEvent]) -> State:
    return fold(state, record.event, str(record.sequence_number))


@consumer.window_end
def window_end(state: State, window: Window) -> list[dict[str, Any]]:
    settings: TrendingSettings = consumer.extras
    item = window_item(
        state,
        start=window.start,
        end=window.end,
        shard_id=window.shard_id or "unknown",
        stored_products=settings.stored_products,
        retention=settings.retention,
    )
    if item is None:
        return []
    events = item["events"]
    consumer.count("WindowViews", events.get("view", 0))
    consumer.count("WindowAddToCarts", events.get("add_to_cart", 0))
    consumer.count("WindowPurchases", events.get("purchase", 0))
    consumer.count("WindowsAggregated")
    return [item]


lambda_handler = consumer.lambda_handler
