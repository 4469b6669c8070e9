"""The dead-letter envelope: the one message format every function of the pipeline sends to the DLQ.

An envelope describes one stream record that could not be processed: where it came from (its
coordinates in the stream), why it failed, and -- when it still fits in an SQS message -- the
record's original bytes. Producers: the stream processor and the e-mail notifier (permanent
errors), the hydrate function (records whose retries were exhausted). Consumers: the replay CLI
and humans.

Versioning: ``envelope_version`` is bumped only for incompatible changes. Fields may be added
without a bump, so readers ignore fields they do not know.

Payload rules (checked on construction and on :meth:`DlqEnvelope.parse`):

* ``payload_available`` -- ``payload_b64`` holds the original bytes; ``payload_sha256`` and
  ``payload_length`` describe them and are verified.
* ``payload_truncated`` -- the envelope with the payload would not fit in an SQS message, so the
  payload was left out *entirely* (never cut); sha256 + length of the original bytes and the
  coordinates remain, so the record can be re-read from the stream while it is retained.
  When ``payload_location`` is set too (``s3://bucket/key``, written by the hydrate function
  when it has a ``PAYLOAD_BUCKET``), the bytes are in that S3 object (S3 claim-check): the
  replay CLI reads them there and checks them against sha256 + length.
* neither -- there was no payload to keep (e.g. a pointer-only envelope from the hydrate
  function after the record left the stream, or a DynamoDB stream record without a NewImage).

Reason codes (``error_category``): see :mod:`stream_pipeline.runtime.reason_codes`.

Range pointers (hydrate function): ``end_sequence_number`` set means the envelope stands for
every record of shard ``shard_id`` from ``sequence_number`` up to ``end_sequence_number``
(inclusive; sequence numbers compare as integers). With ``after_sequence_number`` the range
starts *after* ``sequence_number`` (that record itself was dead-lettered separately).
``missing_count`` is how many records the range holds, when known.

Dependency-light on purpose (stdlib + pydantic): every function zip bundles this module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from stream_pipeline.runtime.reason_codes import (
    MAX_REASON_CODE_CHARS,
    RESERVED_REASON_CODES,
    ErrorCategory,
    MalformedReasonCodeError,
    reason_code,
    validate_reason_code,
)

__all__ = [
    "ENVELOPE_VERSION",
    "MAX_REASON_CHARS",
    "MAX_REASON_CODE_CHARS",
    "RESERVED_REASON_CODES",
    "SQS_MAX_MESSAGE_BYTES",
    "DlqEnvelope",
    "EnvelopeError",
    "EnvelopeParseError",
    "ErrorCategory",
    "MalformedReasonCodeError",
    "PayloadFormat",
    "PayloadUnavailableError",
    "reason_code",
    "validate_reason_code",
]

ENVELOPE_VERSION: Final = 1
"""Version written by this module; :meth:`DlqEnvelope.parse` accepts only this version."""

SQS_MAX_MESSAGE_BYTES: Final = 256 * 1024
"""SQS message body limit the envelopes are fitted to (the classic 256 KiB queue maximum)."""

MAX_REASON_CHARS: Final = 2_000
"""Error reasons longer than this are shortened so that a pointer-only envelope stays small."""

KINESIS_SOURCE: Final = "aws:kinesis"
DYNAMODB_SOURCE: Final = "aws:dynamodb"


class PayloadFormat(StrEnum):
    """How to read the bytes returned by :meth:`DlqEnvelope.original_bytes`."""

    RAW = "raw"
    """Exactly the bytes the producer put into the stream."""
    KINESIS_DATA_FIELD = "kinesis-data-field"
    """The text of the event's ``data`` field as delivered, because it was not valid base64."""
    DYNAMODB_JSON = "dynamodb-json"
    """The stream record's NewImage in DynamoDB-typed JSON (sorted keys, no whitespace)."""
    ON_FAILURE_RECORD = "on-failure-record"
    """The text of an on-failure record (or the event holding it) that could not be read. It
    describes a failed batch; it is not a stream record and must never be replayed as one."""


class EnvelopeError(ValueError):
    """Base class for envelope errors."""


class EnvelopeParseError(EnvelopeError):
    """The text is not a well-formed envelope this reader understands."""


class PayloadUnavailableError(EnvelopeError):
    """The envelope does not carry the record's bytes; re-read them from the stream."""


_READ_CONTEXT: Final = {"accept_future_builtins": True}
"""Validation context of :meth:`DlqEnvelope.parse`: reading, not writing."""


def canonical_json(value: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no insignificant whitespace."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _bounded(text: str, limit: int = MAX_REASON_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\N{HORIZONTAL ELLIPSIS}"


def _to_datetime(value: datetime | float | int | str | None) -> datetime | None:
    """Lambda events carry epoch seconds (numbers); AWS SDK responses carry datetimes."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), UTC)


def _envelope_id(
    event_source: str,
    event_source_arn: str | None,
    shard_id: str | None,
    sequence_number: str,
    end_sequence_number: str | None,
) -> str:
    """Deterministic id of the record (range): the same record always gets the same id, whoever
    writes the envelope, so readers can de-duplicate (the DLQ itself is at-least-once)."""
    parts = (event_source, event_source_arn or "", shard_id or "", sequence_number)
    text = "\n".join((*parts, end_sequence_number or ""))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _describe_validation_error(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in error["loc"]) or "<envelope>"
        problems.append(f"{location}: {error['msg']}")
    return "; ".join(problems)


class DlqEnvelope(BaseModel):
    """One undeliverable stream record, as sent to the dead-letter queue."""

    # defer_build: the consumers build an envelope only when a record fails, so pydantic builds
    # the validator then instead of during every cold start (about 20 ms of import time).
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    envelope_version: int = ENVELOPE_VERSION
    envelope_id: str = Field(min_length=1)

    # Coordinates: enough to find the record again in its stream.
    event_source: str = Field(min_length=1)
    event_source_arn: str | None = None
    event_id: str | None = None
    shard_id: str | None = None
    sequence_number: str = Field(min_length=1)
    end_sequence_number: str | None = None
    """Only for envelopes that point at a range of records (hydrate, pointer-only)."""
    after_sequence_number: bool = False
    """Range pointers only: the range starts after ``sequence_number``, not at it."""
    missing_count: int | None = Field(default=None, ge=0)
    """Range pointers only: how many records the range holds, when known."""
    partition_key: str | None = None
    dynamodb_keys: dict[str, Any] | None = None
    approximate_arrival_time: AwareDatetime | None = None

    # The failure.
    error_category: str
    """The reason code: an :class:`ErrorCategory` member for a built-in code, else a ``str``."""
    error_reason: str
    consumer: str = Field(min_length=1)
    failed_at: AwareDatetime
    hydrated: bool = False
    """True when the payload was re-read from the stream (hydrate function), False when the
    consumer captured it while processing the record."""

    # The record's bytes.
    payload_format: PayloadFormat | None = None
    payload_b64: str | None = None
    payload_sha256: str | None = None
    payload_length: int | None = Field(default=None, ge=0)
    payload_available: bool
    payload_truncated: bool = False
    payload_location: str | None = None
    """``s3://bucket/key`` of the payload when it was left out of the message (claim-check)."""

    envelope_mac: str | None = None
    """Base64 HMAC of the rest of the envelope by the pipeline's KMS HMAC key
    (:mod:`stream_pipeline.runtime.dlq_mac`); None when unsigned. Any other change to the
    envelope drops it (a copy is re-signed by its sender)."""

    @field_validator("error_category")
    @classmethod
    def _check_reason_code(cls, value: str, info: ValidationInfo) -> str:
        context = info.context or {}
        return validate_reason_code(
            value, accept_future_builtins=bool(context.get("accept_future_builtins"))
        )

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        if self.envelope_version != ENVELOPE_VERSION:
            msg = f"unsupported envelope_version {self.envelope_version}"
            raise ValueError(msg)
        if self.payload_available != (self.payload_b64 is not None):
            msg = "payload_available must be true exactly when payload_b64 is present"
            raise ValueError(msg)
        if self.payload_available and self.payload_truncated:
            msg = "a truncated envelope carries no payload"
            raise ValueError(msg)
        if self.payload_location is not None:
            if not self.payload_truncated:
                msg = "payload_location is only valid on an envelope whose payload was left out"
                raise ValueError(msg)
            if not self.payload_location.startswith("s3://"):
                msg = "payload_location must be an s3:// URI"
                raise ValueError(msg)
        if self.after_sequence_number and self.end_sequence_number is None:
            msg = "after_sequence_number is only valid on a range (end_sequence_number)"
            raise ValueError(msg)
        if self.payload_available or self.payload_truncated:
            if self.payload_format is None:
                msg = "payload_format is required when the envelope describes a payload"
                raise ValueError(msg)
            if self.payload_sha256 is None or self.payload_length is None:
                msg = "payload_sha256 and payload_length are required with a payload"
                raise ValueError(msg)
        if self.payload_b64 is not None:
            try:
                payload = base64.b64decode(self.payload_b64, validate=True)
            except (binascii.Error, ValueError) as exc:
                msg = "payload_b64 is not valid base64"
                raise ValueError(msg) from exc
            if len(payload) != self.payload_length:
                msg = f"payload_length {self.payload_length} != actual length {len(payload)}"
                raise ValueError(msg)
            if hashlib.sha256(payload).hexdigest() != self.payload_sha256:
                msg = "payload_sha256 does not match the payload"
                raise ValueError(msg)
        return self

    # ------------------------------------------------------------------ constructors

    @classmethod
    def create(
        cls,
        *,
        event_source: str,
        sequence_number: str,
        error_category: str,
        error_reason: str,
        consumer: str,
        payload: bytes | None,
        payload_format: PayloadFormat | None = None,
        event_source_arn: str | None = None,
        event_id: str | None = None,
        shard_id: str | None = None,
        end_sequence_number: str | None = None,
        after_sequence_number: bool = False,
        missing_count: int | None = None,
        partition_key: str | None = None,
        dynamodb_keys: Mapping[str, Any] | None = None,
        approximate_arrival_time: datetime | float | None = None,
        failed_at: datetime | None = None,
        hydrated: bool = False,
    ) -> DlqEnvelope:
        """Generic constructor (the hydrate function builds from GetRecords output with it).

        ``error_category``: an :class:`ErrorCategory` or a team's code (:func:`reason_code`); a
        malformed one raises pydantic's ValidationError (a ValueError) naming the field.
        """
        payload_fields: dict[str, Any] = {"payload_available": False}
        if payload is not None:
            payload_fields = {
                "payload_available": True,
                "payload_format": payload_format or PayloadFormat.RAW,
                "payload_b64": base64.b64encode(payload).decode("ascii"),
                "payload_sha256": hashlib.sha256(payload).hexdigest(),
                "payload_length": len(payload),
            }
        return cls(
            envelope_id=_envelope_id(
                event_source, event_source_arn, shard_id, sequence_number, end_sequence_number
            ),
            event_source=event_source,
            event_source_arn=event_source_arn,
            event_id=event_id,
            shard_id=shard_id,
            sequence_number=sequence_number,
            end_sequence_number=end_sequence_number,
            after_sequence_number=after_sequence_number,
            missing_count=missing_count,
            partition_key=partition_key,
            dynamodb_keys=dict(dynamodb_keys) if dynamodb_keys is not None else None,
            approximate_arrival_time=_to_datetime(approximate_arrival_time),
            error_category=error_category,
            error_reason=_bounded(error_reason),
            consumer=consumer,
            failed_at=_to_datetime(failed_at) or datetime.now(UTC),
            hydrated=hydrated,
            **payload_fields,
        )

    @classmethod
    def build_from_kinesis_record(
        cls,
        record: Mapping[str, Any],
        *,
        error_category: str,
        error_reason: str,
        consumer: str,
        failed_at: datetime | None = None,
        hydrated: bool = False,
    ) -> DlqEnvelope:
        """Envelope for one record of a Lambda Kinesis event (``event["Records"][i]``).

        The payload is the base64-decoded ``data``; when ``data`` is not valid base64 the
        field's text is kept as delivered (format ``kinesis-data-field``).
        """
        kinesis = record.get("kinesis") or {}
        sequence_number = kinesis.get("sequenceNumber")
        if not isinstance(sequence_number, str) or not sequence_number:
            msg = "Kinesis record has no kinesis.sequenceNumber"
            raise EnvelopeError(msg)
        payload, payload_format = _kinesis_payload(kinesis.get("data"))
        event_id = record.get("eventID")
        # Lambda's Kinesis eventID is "<shardId>:<sequenceNumber>".
        shard_id = (
            event_id.split(":", 1)[0] if isinstance(event_id, str) and ":" in event_id else None
        )
        return cls.create(
            event_source=str(record.get("eventSource") or KINESIS_SOURCE),
            event_source_arn=record.get("eventSourceARN"),
            event_id=event_id,
            shard_id=shard_id,
            sequence_number=sequence_number,
            partition_key=kinesis.get("partitionKey"),
            approximate_arrival_time=kinesis.get("approximateArrivalTimestamp"),
            error_category=error_category,
            error_reason=error_reason,
            consumer=consumer,
            payload=payload,
            payload_format=payload_format,
            failed_at=failed_at,
            hydrated=hydrated,
        )

    @classmethod
    def build_from_dynamodb_record(
        cls,
        record: Mapping[str, Any],
        *,
        error_category: str,
        error_reason: str,
        consumer: str,
        failed_at: datetime | None = None,
        hydrated: bool = False,
    ) -> DlqEnvelope:
        """Envelope for one record of a Lambda DynamoDB stream event.

        The payload is the NewImage in DynamoDB-typed JSON (sorted keys, no whitespace); a
        record without a NewImage yields an envelope without payload (keys are kept).
        """
        stream_record = record.get("dynamodb") or {}
        sequence_number = stream_record.get("SequenceNumber")
        if not isinstance(sequence_number, str) or not sequence_number:
            msg = "DynamoDB stream record has no dynamodb.SequenceNumber"
            raise EnvelopeError(msg)
        new_image = stream_record.get("NewImage")
        return cls.create(
            event_source=str(record.get("eventSource") or DYNAMODB_SOURCE),
            event_source_arn=record.get("eventSourceARN"),
            event_id=record.get("eventID"),
            sequence_number=sequence_number,
            dynamodb_keys=stream_record.get("Keys"),
            approximate_arrival_time=stream_record.get("ApproximateCreationDateTime"),
            error_category=error_category,
            error_reason=error_reason,
            consumer=consumer,
            payload=canonical_json(new_image) if new_image is not None else None,
            payload_format=PayloadFormat.DYNAMODB_JSON,
            failed_at=failed_at,
            hydrated=hydrated,
        )

    # ------------------------------------------------------------------ serialisation

    def to_json(self) -> str:
        """Compact, ASCII-only JSON (safe for every character set SQS accepts). An unsigned
        envelope has no ``envelope_mac`` key at all (the same text as before signing existed)."""
        document = self.model_dump(mode="json")
        if document.get("envelope_mac") is None:
            document.pop("envelope_mac", None)
        return json.dumps(document, separators=(",", ":"), ensure_ascii=True)

    def size_bytes(self) -> int:
        return len(self.to_json())  # ASCII: one byte per character

    @classmethod
    def parse(cls, text: str | bytes) -> DlqEnvelope:
        """Read an envelope; raises :class:`EnvelopeParseError` naming what is wrong."""
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            msg = f"DLQ envelope is not valid JSON: {exc}"
            raise EnvelopeParseError(msg) from exc
        if not isinstance(data, dict):
            msg = f"DLQ envelope must be a JSON object, got {type(data).__name__}"
            raise EnvelopeParseError(msg)
        version = data.get("envelope_version")
        if version is None:
            msg = "DLQ envelope has no envelope_version field"
            raise EnvelopeParseError(msg)
        if version != ENVELOPE_VERSION or isinstance(version, bool):
            msg = (
                f"unsupported DLQ envelope_version {version!r}; "
                f"this reader understands version {ENVELOPE_VERSION}"
            )
            raise EnvelopeParseError(msg)
        try:
            return cls.model_validate(data, context=_READ_CONTEXT)
        except ValidationError as exc:
            msg = f"malformed DLQ envelope: {_describe_validation_error(exc)}"
            raise EnvelopeParseError(msg) from exc

    # ------------------------------------------------------------------ payload helpers

    def original_bytes(self) -> bytes:
        """The record's bytes exactly as captured (see ``payload_format``)."""
        if self.payload_b64 is None:
            why = "it was left out to fit in an SQS message" if self.payload_truncated else "none"
            if self.payload_location is not None:
                why = f"it is stored at {self.payload_location}"
            msg = (
                f"envelope {self.envelope_id} carries no payload ({why}); re-read sequence number "
                f"{self.sequence_number} of shard {self.shard_id} from {self.event_source_arn}"
            )
            raise PayloadUnavailableError(msg)
        # Integrity (length, sha256) was verified when the envelope was built or parsed.
        return base64.b64decode(self.payload_b64)

    def without_payload(self) -> DlqEnvelope:
        """Pointer-only copy: payload dropped, sha256/length/coordinates kept."""
        if self.payload_b64 is None:
            return self
        return self.model_copy(
            update={
                "payload_b64": None,
                "payload_available": False,
                "payload_truncated": True,
                "envelope_mac": None,
            }
        )

    def pointer_only(self, note: str) -> DlqEnvelope:
        """:meth:`without_payload` with ``note`` (why, and where the bytes still are) added to
        the reason; the reason is shortened first when needed, so that the note is kept whole."""
        room = MAX_REASON_CHARS - len(note) - 2
        reason = f"{_bounded(self.error_reason, max(room, 1))}; {note}"
        return self.without_payload().model_copy(
            update={"error_reason": _bounded(reason), "envelope_mac": None}
        )

    def with_payload_location(self, location: str) -> DlqEnvelope:
        """Claim-check copy: payload left out of the message, stored at ``location`` (s3://)."""
        if self.payload_b64 is None:
            msg = f"envelope {self.envelope_id} carries no payload to move to {location}"
            raise EnvelopeError(msg)
        # The read context: this envelope may have been read with a newer release's code.
        return self.model_validate(
            {
                **self.without_payload().model_dump(),
                "payload_location": location,
                "envelope_mac": None,
            },
            context=_READ_CONTEXT,
        )

    @property
    def is_range(self) -> bool:
        """True for a pointer to a range of records (``end_sequence_number`` set)."""
        return self.end_sequence_number is not None

    def fit_to_size(self, max_bytes: int = SQS_MAX_MESSAGE_BYTES) -> DlqEnvelope:
        """This envelope if its JSON fits in ``max_bytes``, else :meth:`without_payload`."""
        if self.size_bytes() <= max_bytes:
            return self
        pointer = self.without_payload()
        if pointer.size_bytes() > max_bytes:
            msg = f"envelope {self.envelope_id} exceeds {max_bytes} bytes even without payload"
            raise EnvelopeError(msg)
        return pointer


def _kinesis_payload(data: object) -> tuple[bytes | None, PayloadFormat | None]:
    if not isinstance(data, str):
        return None, None
    try:
        return base64.b64decode(data, validate=True), PayloadFormat.RAW
    except (binascii.Error, ValueError):
        # Keep what was delivered. surrogatepass: the text came from JSON and may hold anything.
        return data.encode("utf-8", "surrogatepass"), PayloadFormat.KINESIS_DATA_FIELD
