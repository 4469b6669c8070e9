"""Lambda entry point: retail events from a Kinesis or DynamoDB stream -> enriched items in
DynamoDB, on the consumer kit (validation, DLQ, retries, idempotent writes, metrics).

Handler string: ``stream_processor.app.lambda_handler``. See README.md next to this file.
"""

from __future__ import annotations

from typing import Any

from stream_pipeline.kit import DynamoDBSink, StreamConsumer, StreamRecord
from stream_processor.models import ITEM_KEY, RetailEvent, enrich

consumer: StreamConsumer[RetailEvent] = StreamConsumer(
    name="stream_processor", model=RetailEvent, sink=DynamoDBSink(key=ITEM_KEY)
)


@consumer.record_handler
def record_handler(record: StreamRecord[RetailEvent]) -> dict[str, Any]:
    event = record.event
    return enrich(
        event, event.eventId or record.derived_id, record.received_at, consumer.sensitive_fields
    )


lambda_handler = consumer.lambda_handler
