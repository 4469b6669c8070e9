"""The retail event every consumer of the stream reads, and how a stream record becomes one.

Shared by the consumers (the stream processor, the e-mail notifier) so that they accept and
reject exactly the same records, for the same reasons, with the same event id:

* :class:`RetailEvent` -- the schema (pydantic v2, strict types, unknown fields kept);
* :func:`decode_kinesis_data` -- Lambda's base64 ``data`` field -> the record's bytes;
* :func:`parse_json_payload` -- bytes -> a JSON value (UTF-8, standard JSON only);
* :func:`event_from_document` -- a JSON value -> :class:`DecodedEvent` (the validated event, its
  canonical payload and its effective event id);
* :func:`decode_kinesis_record` -- the three steps above for one Lambda Kinesis record.

Each step raises :class:`EventRejectedError` with the dead-letter :class:`ErrorCategory` and a
reason that names what is wrong, never the offending values (they may be large or personal).

Events without ``eventId`` get a derived one: ``"sha256-" + sha256(canonical JSON of the
decoded payload)`` where canonical JSON = sorted keys, no whitespace, UTF-8. Identical payloads
without an ``eventId`` are therefore treated as the same event (they are indistinguishable).

Dependency-light on purpose (stdlib + pydantic): every function zip bundles this module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final, NoReturn

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from stream_pipeline.runtime.dlq_envelope import ErrorCategory

__all__ = [
    "DERIVED_EVENT_ID_PREFIX",
    "MAX_TIMESTAMP_MS",
    "MIN_TIMESTAMP_MS",
    "DecodedEvent",
    "EventRejectedError",
    "RetailEvent",
    "decode_kinesis_data",
    "decode_kinesis_record",
    "derive_event_id",
    "describe_validation_error",
    "event_from_document",
    "parse_json_payload",
]

MIN_TIMESTAMP_MS: Final = 946_684_800_000
"""2000-01-01T00:00:00Z. Also rejects epoch *seconds* sent by mistake."""
MAX_TIMESTAMP_MS: Final = 4_102_444_800_000
"""2100-01-01T00:00:00Z (exclusive); keeps the stream processor's key prefix at 13 digits."""

DERIVED_EVENT_ID_PREFIX: Final = "sha256-"


class RetailEvent(BaseModel):
    """One customer interaction as produced into the stream. Unknown fields are kept."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    userId: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    eventType: Annotated[str, StringConstraints(max_length=128)]
    productId: Annotated[str, StringConstraints(max_length=256)]
    timestamp: Annotated[int, Field(ge=MIN_TIMESTAMP_MS, lt=MAX_TIMESTAMP_MS)]
    """Epoch milliseconds."""
    eventId: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    sessionId: Annotated[str, StringConstraints(max_length=256)] | None = None


class EventRejectedError(ValueError):
    """The record can never become a :class:`RetailEvent`: a permanent error (dead-letter it)."""

    def __init__(self, category: ErrorCategory, reason: str) -> None:
        super().__init__(f"{category.value}: {reason}")
        self.category = category
        self.reason = reason


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """A validated event and what identifies it."""

    event: RetailEvent
    canonical_payload: bytes
    """The decoded JSON object as canonical JSON (sorted keys, no whitespace, UTF-8)."""

    @property
    def event_id(self) -> str:
        """``eventId``, or the id derived from the canonical payload when there is none."""
        return self.event.eventId or derive_event_id(self.canonical_payload)

    @property
    def event_id_derived(self) -> bool:
        return self.event.eventId is None


def describe_validation_error(exc: ValidationError) -> str:
    """Field-by-field summary without the offending values (they may be large or personal)."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in error["loc"]) or "<event>"
        problems.append(f"{location}: {error['msg']}")
    return "; ".join(problems)


def derive_event_id(canonical_payload: bytes) -> str:
    """Deterministic id for an event without ``eventId`` (see module docstring)."""
    return DERIVED_EVENT_ID_PREFIX + hashlib.sha256(canonical_payload).hexdigest()


def _reject_constant(name: str) -> NoReturn:
    msg = f"non-standard JSON constant {name}"
    raise ValueError(msg)


def decode_kinesis_data(data: object, *, max_bytes: int | None = None) -> bytes:
    """The bytes of a Lambda Kinesis record's ``data`` field (base64), at most ``max_bytes``."""
    if not isinstance(data, str):
        raise EventRejectedError(ErrorCategory.DECODE_ERROR, "record has no base64 data field")
    try:
        payload = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EventRejectedError(
            ErrorCategory.DECODE_ERROR, f"data is not valid base64: {exc}"
        ) from exc
    if max_bytes is not None and len(payload) > max_bytes:
        raise EventRejectedError(
            ErrorCategory.OVERSIZED, f"record is {len(payload)} bytes, limit is {max_bytes}"
        )
    return payload


def parse_json_payload(payload: bytes) -> Any:
    """UTF-8 text holding one standard JSON value (``NaN``/``Infinity`` are rejected)."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EventRejectedError(ErrorCategory.INVALID_ENCODING, f"not UTF-8: {exc}") from exc
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise EventRejectedError(ErrorCategory.INVALID_JSON, f"not valid JSON: {exc}") from exc


def event_from_document(document: Any) -> DecodedEvent:
    """A decoded JSON value (or a DynamoDB image turned into a plain document) -> the event."""
    if not isinstance(document, dict):
        raise EventRejectedError(
            ErrorCategory.NOT_AN_OBJECT,
            f"JSON value is {type(document).__name__}, expected an object",
        )
    try:
        canonical = json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except (ValueError, RecursionError) as exc:
        # e.g. "\ud800": valid JSON syntax, but not representable as UTF-8 / in DynamoDB.
        raise EventRejectedError(
            ErrorCategory.INVALID_JSON, f"unrepresentable text: {exc}"
        ) from exc
    try:
        event = RetailEvent.model_validate(document)
    except ValidationError as exc:
        raise EventRejectedError(
            ErrorCategory.SCHEMA_VIOLATION, describe_validation_error(exc)
        ) from exc
    return DecodedEvent(event=event, canonical_payload=canonical)


def decode_kinesis_record(
    record: Mapping[str, Any], *, max_bytes: int | None = None
) -> DecodedEvent:
    """One record of a Lambda Kinesis event (``event["Records"][i]``) -> the event.

    Raises :class:`EventRejectedError` for a record that can never be processed.
    """
    kinesis = record.get("kinesis") or {}
    payload = decode_kinesis_data(kinesis.get("data"), max_bytes=max_bytes)
    return event_from_document(parse_json_payload(payload))
