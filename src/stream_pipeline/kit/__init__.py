"""The consumer kit: the public API a team writes its own stream consumer with.

A consumer is a record handler (and optionally a pydantic model and a sink); the kit does the
rest -- decoding, validation, dead-lettering with the original bytes and the team's reason
code, the claim-check of oversized payloads, batched idempotent writes, retries, EMF metrics::

    from stream_pipeline.kit import DynamoDBSink, Reject, StreamConsumer, StreamRecord

    consumer = StreamConsumer(name="orders", model=Order, sink=DynamoDBSink(key=("orderId",)))

    @consumer.record_handler
    def record_handler(record: StreamRecord[Order]) -> dict:
        if record.event.currency not in ACCEPTED:
            raise Reject("orders.INVALID_CURRENCY", f"currency {record.event.currency}")
        return record.event.model_dump()

    lambda_handler = consumer.lambda_handler

Bundled into every deployment zip next to ``stream_pipeline.runtime``; see
docs/consumer-kit.md ("Write your own consumer").
"""

from __future__ import annotations

from stream_pipeline.kit.batch_prepare import BatchPreparationError
from stream_pipeline.kit.consumer import SKIP, StreamConsumer, UnsupportedEventError
from stream_pipeline.kit.dependencies import Dependencies
from stream_pipeline.kit.dynamodb_sink import DynamoDBSink
from stream_pipeline.kit.field_encryption import (
    FieldDecryptor,
    FieldEncryptionError,
    FieldEncryptor,
)
from stream_pipeline.kit.records import StreamRecord
from stream_pipeline.kit.settings import ConfigurationError, ConsumerSettings
from stream_pipeline.kit.window import TumblingWindowConsumer, Window
from stream_pipeline.runtime.decoding import RecordRejectedError as Reject
from stream_pipeline.runtime.reason_codes import ErrorCategory, reason_code

__all__ = [
    "SKIP",
    "BatchPreparationError",
    "ConfigurationError",
    "ConsumerSettings",
    "Dependencies",
    "DynamoDBSink",
    "ErrorCategory",
    "FieldDecryptor",
    "FieldEncryptionError",
    "FieldEncryptor",
    "Reject",
    "StreamConsumer",
    "StreamRecord",
    "TumblingWindowConsumer",
    "UnsupportedEventError",
    "Window",
    "reason_code",
]
