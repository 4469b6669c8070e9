"""A Lambda stream record -> a :class:`StreamRecord` for the team's handler, or a rejection.

Pure functions of the record (no AWS calls): what runs per record inside the batch processor.
Decoding follows :mod:`stream_pipeline.runtime.decoding`, so every consumer built on the kit
accepts and rejects the same records for the same reason codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from stream_pipeline.runtime.decoding import (
    RecordRejectedError,
    canonical_json_bytes,
    decode_kinesis_data,
    derive_event_id,
    describe_validation_error,
    parse_json_payload,
)
from stream_pipeline.runtime.dlq_envelope import (
    DYNAMODB_SOURCE,
    KINESIS_SOURCE,
    DlqEnvelope,
    canonical_json,
)
from stream_pipeline.runtime.dynamodb_image import image_to_document
from stream_pipeline.runtime.dynamodb_writer import Item, ItemKey
from stream_pipeline.runtime.reason_codes import ErrorCategory


@dataclass(frozen=True, slots=True)
class StreamRecord[EventT]:
    """One record as the team's handler sees it: the validated event and where it came from."""

    event: EventT
    """The record validated by the consumer's model, or the JSON document without a model."""
    document: Any
    """The decoded JSON document (a DynamoDB NewImage as plain JSON, binary values base64)."""
    canonical_payload: bytes
    """``document`` as canonical JSON (sorted keys, no whitespace, UTF-8)."""
    event_source: str
    """``aws:kinesis`` or ``aws:dynamodb``."""
    event_source_arn: str | None
    sequence_number: str
    received_at: datetime
    """When the kit received the batch (the consumer's clock): one value per batch."""
    raw: Mapping[str, Any]
    """The record exactly as Lambda delivered it."""

    @property
    def derived_id(self) -> str:
        """``sha256-`` + the digest of the canonical payload: an idempotent id for events
        without one (the same event re-delivered or replayed gets the same id)."""
        return derive_event_id(self.canonical_payload)

    @property
    def partition_key(self) -> str | None:
        return (self.raw.get("kinesis") or {}).get("partitionKey")

    @property
    def origin(self) -> Origin:
        return Origin(self.raw, self.event_source, self.sequence_number)


# ----------------------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record sits in its stream: enough to dead-letter it and to log it."""

    raw: Mapping[str, Any]
    event_source: str
    sequence_number: str

    def envelope(self, code: str, reason: str, consumer: str, failed_at: datetime) -> DlqEnvelope:
        """The DLQ envelope of the record: its original bytes, coordinates and reason."""
        build = (
            DlqEnvelope.build_from_dynamodb_record
            if self.event_source == DYNAMODB_SOURCE
            else DlqEnvelope.build_from_kinesis_record
        )
        return build(
            self.raw,
            error_category=code,
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
class Store:
    """The handler's item, for the sink."""

    origin: Origin
    item: Item
    key: ItemKey


@dataclass(frozen=True, slots=True)
class Rejected:
    """Permanently unprocessable: goes to the DLQ, never retried."""

    origin: Origin
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Handled:
    """Nothing for the sink: the handler returned None, or the record has nothing to handle
    (``skipped``: a DynamoDB REMOVE record, or the handler returned ``SKIP``)."""

    origin: Origin
    skipped: bool = False


Outcome = Store | Rejected | Handled


def origin_of(raw: Mapping[str, Any], *, kinesis: bool) -> Origin:
    """The origin of a Lambda Kinesis (``kinesis``) or DynamoDB stream record."""
    if kinesis:
        return Origin(raw, KINESIS_SOURCE, str((raw.get("kinesis") or {})["sequenceNumber"]))
    return Origin(raw, DYNAMODB_SOURCE, str((raw.get("dynamodb") or {})["SequenceNumber"]))


# ----------------------------------------------------------------------------- decoding


@dataclass(frozen=True, slots=True)
class RecordDecoder[EventT]:
    """Lambda record -> :class:`StreamRecord` (raises :class:`RecordRejectedError`), or a
    :class:`Handled` skip for a DynamoDB REMOVE record."""

    model: type[BaseModel] | None
    max_record_bytes: int

    def kinesis(self, raw: Mapping[str, Any], received_at: datetime) -> StreamRecord[EventT]:
        kinesis = raw.get("kinesis") or {}
        payload = decode_kinesis_data(kinesis.get("data"), max_bytes=self.max_record_bytes)
        document = parse_json_payload(payload)
        origin = (KINESIS_SOURCE, str(kinesis["sequenceNumber"]))
        return self._record(raw, origin, document, received_at)

    def dynamodb(
        self, raw: Mapping[str, Any], received_at: datetime
    ) -> StreamRecord[EventT] | Handled:
        stream_record = raw.get("dynamodb") or {}
        sequence_number = str(stream_record["SequenceNumber"])
        new_image = stream_record.get("NewImage")
        event_name = raw.get("eventName")
        if new_image is None:
            if event_name == "REMOVE":
                return Handled(Origin(raw, DYNAMODB_SOURCE, sequence_number), skipped=True)
            raise RecordRejectedError(
                ErrorCategory.MISSING_NEW_IMAGE,
                f"{event_name} record without NewImage: the stream view type must include "
                "new images (NEW_IMAGE or NEW_AND_OLD_IMAGES)",
            )
        size = len(canonical_json(new_image))
        if size > self.max_record_bytes:
            raise RecordRejectedError(
                ErrorCategory.OVERSIZED,
                f"NewImage is {size} bytes, limit is {self.max_record_bytes}",
            )
        if not isinstance(new_image, dict):
            raise RecordRejectedError(ErrorCategory.UNDECODABLE_IMAGE, "NewImage is not a map")
        try:
            document = image_to_document(new_image)
        except (TypeError, ValueError, ArithmeticError, KeyError, AttributeError) as exc:
            raise RecordRejectedError(
                ErrorCategory.UNDECODABLE_IMAGE,
                f"NewImage is not valid DynamoDB JSON: {type(exc).__name__}: {exc}",
            ) from exc
        return self._record(raw, (DYNAMODB_SOURCE, sequence_number), document, received_at)

    def _record(
        self,
        raw: Mapping[str, Any],
        origin: tuple[str, str],
        document: Any,
        received_at: datetime,
    ) -> StreamRecord[EventT]:
        canonical = canonical_json_bytes(document)
        event: Any = document
        if self.model is not None:
            if not isinstance(document, dict):
                raise RecordRejectedError(
                    ErrorCategory.NOT_AN_OBJECT,
                    f"JSON value is {type(document).__name__}, expected an object",
                )
            try:
                event = self.model.model_validate(document)
            except ValidationError as exc:
                raise RecordRejectedError(
                    ErrorCategory.SCHEMA_VIOLATION, describe_validation_error(exc)
                ) from exc
        event_source, sequence_number = origin
        return StreamRecord(
            event=event,
            document=document,
            canonical_payload=canonical,
            event_source=event_source,
            event_source_arn=raw.get("eventSourceARN"),
            sequence_number=sequence_number,
            received_at=received_at,
            raw=raw,
        )
