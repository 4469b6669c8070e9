"""Turn one stream record into a write candidate, a permanent rejection or a skip.

Pure functions of the record (no AWS calls): this is what runs per record inside the
Powertools batch processor. Anything raised from here is unexpected and makes the record a
batch item failure (retried by the event source mapping).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from stream_pipeline.runtime.dlq_envelope import (
    DYNAMODB_SOURCE,
    KINESIS_SOURCE,
    DlqEnvelope,
    ErrorCategory,
    canonical_json,
)
from stream_pipeline.runtime.dynamodb_image import image_to_document
from stream_pipeline.runtime.retail_event import (
    EventRejectedError,
    decode_kinesis_data,
    event_from_document,
    parse_json_payload,
)
from stream_processor.config import Settings
from stream_processor.models import (
    DYNAMODB_MAX_ITEM_BYTES,
    EnrichedEvent,
    Item,
    enrich,
    item_size_bytes,
)


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A record of the Lambda event and where it sits in its stream."""

    event_source: str
    raw: Mapping[str, Any]
    sequence_number: str

    def envelope(
        self, category: ErrorCategory, reason: str, consumer: str, failed_at: datetime
    ) -> DlqEnvelope:
        build = (
            DlqEnvelope.build_from_dynamodb_record
            if self.event_source == DYNAMODB_SOURCE
            else DlqEnvelope.build_from_kinesis_record
        )
        return build(
            self.raw,
            error_category=category,
            error_reason=reason,
            consumer=consumer,
            failed_at=failed_at,
        )

    def log_keys(self) -> dict[str, str]:
        keys = {"sequence_number": self.sequence_number, "event_source": self.event_source}
        event_id = self.raw.get("eventID")
        if isinstance(event_id, str):
            keys["record_event_id"] = event_id
        return keys


@dataclass(frozen=True, slots=True)
class WriteCandidate:
    source: SourceRecord
    event: EnrichedEvent
    item: Item


@dataclass(frozen=True, slots=True)
class Rejected:
    """Permanently unprocessable: goes to the DLQ, never retried."""

    source: SourceRecord
    category: ErrorCategory
    reason: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """Nothing to store (DynamoDB REMOVE records)."""

    source: SourceRecord
    reason: str


Prepared = WriteCandidate | Rejected | Skipped


class RecordPreparer:
    """Record handlers for the batch processor (one per event source)."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime]) -> None:
        self._settings = settings
        self._clock = clock

    # ----------------------------------------------------------------- Kinesis

    def kinesis(self, record: KinesisStreamRecord) -> Prepared:
        raw = record.raw_event
        kinesis = raw.get("kinesis") or {}
        source = SourceRecord(KINESIS_SOURCE, raw, str(kinesis["sequenceNumber"]))
        try:
            payload = decode_kinesis_data(
                kinesis.get("data"), max_bytes=self._settings.max_record_bytes
            )
            document = parse_json_payload(payload)
        except EventRejectedError as exc:
            return Rejected(source, exc.category, exc.reason)
        return self._from_document(source, document)

    # ----------------------------------------------------------------- DynamoDB streams

    def dynamodb(self, record: DynamoDBRecord) -> Prepared:
        raw = record.raw_event
        stream_record = raw.get("dynamodb") or {}
        source = SourceRecord(DYNAMODB_SOURCE, raw, str(stream_record["SequenceNumber"]))

        new_image = stream_record.get("NewImage")
        event_name = raw.get("eventName")
        if new_image is None:
            if event_name == "REMOVE":
                return Skipped(source, "REMOVE record: nothing to store")
            return Rejected(
                source,
                ErrorCategory.MISSING_NEW_IMAGE,
                f"{event_name} record without NewImage: the stream view type must include "
                "new images (NEW_IMAGE or NEW_AND_OLD_IMAGES)",
            )
        size = len(canonical_json(new_image))
        if size > self._settings.max_record_bytes:
            return Rejected(
                source,
                ErrorCategory.OVERSIZED,
                f"NewImage is {size} bytes, limit is {self._settings.max_record_bytes}",
            )
        if not isinstance(new_image, dict):
            return Rejected(source, ErrorCategory.UNDECODABLE_IMAGE, "NewImage is not a map")
        try:
            document = image_to_document(new_image)
        except (TypeError, ValueError, ArithmeticError, KeyError, AttributeError) as exc:
            return Rejected(
                source,
                ErrorCategory.UNDECODABLE_IMAGE,
                f"NewImage is not valid DynamoDB JSON: {type(exc).__name__}: {exc}",
            )
        return self._from_document(source, document)

    # ----------------------------------------------------------------- common

    def _from_document(self, source: SourceRecord, document: Any) -> Prepared:
        try:
            decoded = event_from_document(document)
        except EventRejectedError as exc:
            return Rejected(source, exc.category, exc.reason)
        enriched = enrich(decoded.event, decoded.canonical_payload, self._clock())
        item = enriched.to_item()
        size = item_size_bytes(item)
        if size > DYNAMODB_MAX_ITEM_BYTES:
            return Rejected(
                source,
                ErrorCategory.OVERSIZED,
                f"stored item would be about {size} bytes; DynamoDB's limit is "
                f"{DYNAMODB_MAX_ITEM_BYTES}",
            )
        return WriteCandidate(source, enriched, item)
