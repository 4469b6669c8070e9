"""The shared DLQ envelope: construction, round trip, size fitting, strict parsing, and the fields
added for the hydrate function (range pointers, the not-hydrated format, older envelopes)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from factories import (
    DYNAMODB_STREAM_ARN,
    KINESIS_STREAM_ARN,
    SHARD_ID,
    dynamodb_record,
    kinesis_record,
    retail_event,
    typed,
)
from factories import hydrated_envelope as _hydrated
from pydantic import ValidationError

from stream_pipeline.runtime.dlq_envelope import (
    ENVELOPE_VERSION,
    MAX_REASON_CHARS,
    SQS_MAX_MESSAGE_BYTES,
    DlqEnvelope,
    EnvelopeError,
    EnvelopeParseError,
    ErrorCategory,
    PayloadFormat,
    PayloadUnavailableError,
)

FAILED_AT = datetime(2025, 2, 1, 8, 30, tzinfo=UTC)


def _kinesis_envelope(payload: bytes = b'{"userId": ""}', **kwargs: Any) -> DlqEnvelope:
    record = kinesis_record(payload, sequence_number="42", partition_key="pk-9")
    return DlqEnvelope.build_from_kinesis_record(
        record,
        error_category=kwargs.pop("error_category", ErrorCategory.SCHEMA_VIOLATION),
        error_reason=kwargs.pop("error_reason", "userId: too short"),
        consumer="stream-processor",
        failed_at=FAILED_AT,
        **kwargs,
    )


# --------------------------------------------------------------------------- round trip


def test_kinesis_envelope_round_trip() -> None:
    """GIVEN an envelope built from a Lambda Kinesis record
    WHEN serialised and parsed back
    THEN it is equal, carries the coordinates and gives back the original bytes.
    """
    envelope = _kinesis_envelope(b'{"userId": ""}')

    parsed = DlqEnvelope.parse(envelope.to_json())

    assert parsed == envelope
    assert parsed.envelope_version == ENVELOPE_VERSION
    assert parsed.original_bytes() == b'{"userId": ""}'
    assert parsed.payload_format is PayloadFormat.RAW
    assert parsed.event_source == "aws:kinesis"
    assert parsed.event_source_arn == KINESIS_STREAM_ARN
    assert parsed.shard_id == SHARD_ID
    assert parsed.sequence_number == "42"
    assert parsed.event_id == f"{SHARD_ID}:42"
    assert parsed.partition_key == "pk-9"
    assert parsed.failed_at == FAILED_AT
    assert parsed.payload_length == 14
    assert parsed.payload_sha256 == hashlib.sha256(b'{"userId": ""}').hexdigest()
    assert (parsed.payload_available, parsed.payload_truncated, parsed.hydrated) == (
        True,
        False,
        False,
    )


def test_parse_accepts_bytes() -> None:
    """GIVEN the envelope JSON as bytes (e.g. an SQS body read raw) WHEN parsed THEN it works."""
    envelope = _kinesis_envelope()

    assert DlqEnvelope.parse(envelope.to_json().encode()) == envelope


def test_dynamodb_envelope_round_trip_keeps_typed_image_and_keys() -> None:
    """GIVEN a DynamoDB stream record
    WHEN an envelope is built and parsed back
    THEN the payload is the NewImage as canonical DynamoDB JSON, and keys/arn/sequence are kept.
    """
    image = typed(retail_event(userId=""))
    record = dynamodb_record(None, typed_new_image=image, keys={"pk": {"S": "k"}})

    envelope = DlqEnvelope.parse(
        DlqEnvelope.build_from_dynamodb_record(
            record,
            error_category=ErrorCategory.SCHEMA_VIOLATION,
            error_reason="userId",
            consumer="c",
        ).to_json()
    )

    assert envelope.payload_format is PayloadFormat.DYNAMODB_JSON
    assert json.loads(envelope.original_bytes()) == image
    assert (
        envelope.original_bytes()
        == json.dumps(image, sort_keys=True, separators=(",", ":")).encode()
    )
    assert envelope.dynamodb_keys == {"pk": {"S": "k"}}
    assert envelope.event_source == "aws:dynamodb"
    assert envelope.event_source_arn == DYNAMODB_STREAM_ARN
    assert envelope.sequence_number == record["dynamodb"]["SequenceNumber"]
    assert envelope.shard_id is None


def test_dynamodb_record_without_image_has_no_payload() -> None:
    """GIVEN a stream record without NewImage WHEN enveloped THEN no payload, nothing truncated."""
    envelope = DlqEnvelope.build_from_dynamodb_record(
        dynamodb_record(None, event_name="MODIFY"),
        error_category=ErrorCategory.MISSING_NEW_IMAGE,
        error_reason="no image",
        consumer="c",
    )

    assert (envelope.payload_available, envelope.payload_truncated) == (False, False)
    with pytest.raises(PayloadUnavailableError):
        envelope.original_bytes()


def test_hydrate_style_pointer_envelope_round_trip() -> None:
    """GIVEN what the hydrate function knows when the records have left the stream
    (a shard and a sequence range, no bytes)
    WHEN it builds a pointer-only envelope with the generic constructor
    THEN it round-trips with hydrated=True and no payload.
    """
    envelope = DlqEnvelope.create(
        event_source="aws:kinesis",
        event_source_arn=KINESIS_STREAM_ARN,
        shard_id=SHARD_ID,
        sequence_number="100",
        end_sequence_number="180",
        error_category=ErrorCategory.RETRIES_EXHAUSTED,
        error_reason="RetryAttemptsExhausted",
        consumer="hydrate",
        payload=None,
        approximate_arrival_time=datetime(2025, 1, 1, tzinfo=UTC),
        hydrated=True,
    )

    parsed = DlqEnvelope.parse(envelope.to_json())

    assert parsed == envelope
    assert parsed.hydrated is True
    assert parsed.end_sequence_number == "180"
    assert parsed.payload_available is False


def test_invalid_base64_data_is_kept_as_delivered_text() -> None:
    """GIVEN a Kinesis record whose data field is not base64
    WHEN enveloped
    THEN the field's text is the payload, flagged as kinesis-data-field.
    """
    record = kinesis_record(raw_data="??not base64??")

    envelope = DlqEnvelope.build_from_kinesis_record(
        record, error_category=ErrorCategory.DECODE_ERROR, error_reason="b64", consumer="c"
    )

    assert envelope.payload_format is PayloadFormat.KINESIS_DATA_FIELD
    assert envelope.original_bytes() == b"??not base64??"


def test_record_without_sequence_number_cannot_be_enveloped() -> None:
    """GIVEN a record without sequence number WHEN enveloped THEN a clear EnvelopeError."""
    record = kinesis_record(b"x")
    del record["kinesis"]["sequenceNumber"]

    with pytest.raises(EnvelopeError, match="sequenceNumber"):
        DlqEnvelope.build_from_kinesis_record(
            record, error_category=ErrorCategory.DECODE_ERROR, error_reason="r", consumer="c"
        )


def test_envelope_id_identifies_the_record_not_the_failure() -> None:
    """GIVEN envelopes for the same record written at different times for different reasons,
    and one for another record
    WHEN their ids are compared
    THEN the same record has the same id (readers can de-duplicate), another record another id.
    """
    first = _kinesis_envelope(error_category=ErrorCategory.SCHEMA_VIOLATION)
    again = _kinesis_envelope(error_category=ErrorCategory.WRITE_REJECTED, error_reason="other")
    other = DlqEnvelope.build_from_kinesis_record(
        kinesis_record(b"x", sequence_number="43"),
        error_category=ErrorCategory.SCHEMA_VIOLATION,
        error_reason="r",
        consumer="c",
    )

    assert first.envelope_id == again.envelope_id
    assert first.envelope_id != other.envelope_id


def test_json_is_ascii_only_and_reason_is_bounded() -> None:
    """GIVEN non-ASCII text and an overly long reason
    WHEN serialised
    THEN the JSON is pure ASCII (safe for SQS) and the reason is cut to the documented bound.
    """
    envelope = _kinesis_envelope("Café ☕".encode(), error_reason="é" * (MAX_REASON_CHARS + 50))

    text = envelope.to_json()

    assert text.isascii()
    assert len(envelope.error_reason) == MAX_REASON_CHARS
    assert DlqEnvelope.parse(text).original_bytes() == "Café ☕".encode()


def test_envelope_is_immutable() -> None:
    """GIVEN an envelope WHEN a field is assigned THEN pydantic refuses (frozen)."""
    envelope = _kinesis_envelope()

    with pytest.raises(ValidationError):
        envelope.error_reason = "changed"  # type: ignore[misc]


# --------------------------------------------------------------------------- size


def test_small_envelope_fits_unchanged() -> None:
    """GIVEN a small envelope WHEN fitted to the SQS limit THEN it is returned as is."""
    envelope = _kinesis_envelope()

    assert envelope.fit_to_size() is envelope


def test_oversized_envelope_drops_payload_but_keeps_pointer() -> None:
    """GIVEN a 300 KB payload (envelope far above 256 KiB)
    WHEN fitted to the SQS limit
    THEN the payload is left out entirely (not cut), flagged payload_truncated, with sha256,
    length and coordinates kept; reading the bytes explains where to re-read them.
    """
    payload = b"z" * 300_000
    envelope = _kinesis_envelope(payload)

    fitted = envelope.fit_to_size()

    assert fitted.size_bytes() <= SQS_MAX_MESSAGE_BYTES
    parsed = DlqEnvelope.parse(fitted.to_json())
    assert parsed.payload_b64 is None
    assert (parsed.payload_available, parsed.payload_truncated) == (False, True)
    assert parsed.payload_length == len(payload)
    assert parsed.payload_sha256 == hashlib.sha256(payload).hexdigest()
    assert parsed.envelope_id == envelope.envelope_id
    assert (parsed.shard_id, parsed.sequence_number) == (SHARD_ID, "42")
    with pytest.raises(PayloadUnavailableError, match="re-read sequence number 42"):
        parsed.original_bytes()


@pytest.mark.parametrize("reason_chars", [20, MAX_REASON_CHARS], ids=["short", "longest"])
def test_pointer_only_keeps_the_note_whole(reason_chars: int) -> None:
    """GIVEN an envelope whose reason is short, or as long as a reason may be
    WHEN made pointer-only with a note (where the bytes still are)
    THEN the payload is left out, the reason starts with the original one and ends with the whole
    note, within the reason bound, and the envelope parses back."""
    note = "the bytes live only in the stream until its retention ends"
    envelope = _kinesis_envelope(b"z" * 1_000, error_reason="r" * reason_chars)

    pointer = DlqEnvelope.parse(envelope.pointer_only(note).to_json())

    assert (pointer.payload_available, pointer.payload_truncated) == (False, True)
    assert pointer.payload_sha256 == envelope.payload_sha256
    assert pointer.error_reason.startswith("rrrrrrrrrr")
    assert pointer.error_reason.endswith(f"; {note}")
    assert len(pointer.error_reason) <= MAX_REASON_CHARS


def test_fit_to_size_boundary() -> None:
    """GIVEN an envelope of exactly N bytes WHEN fitted to N and N-1 THEN kept, then dropped."""
    envelope = _kinesis_envelope(b"q" * 1000)
    size = envelope.size_bytes()

    assert envelope.fit_to_size(size) is envelope
    assert envelope.fit_to_size(size - 1).payload_truncated is True


def test_envelope_that_cannot_fit_even_without_payload_raises() -> None:
    """GIVEN a limit smaller than the pointer itself WHEN fitted THEN an EnvelopeError."""
    with pytest.raises(EnvelopeError, match="even without payload"):
        _kinesis_envelope().fit_to_size(100)


# --------------------------------------------------------------------------- parse errors


def _valid_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_kinesis_envelope(b"abc").to_json())
    return document


def _with(**changes: Any) -> str:
    document = _valid_document()
    for name, value in changes.items():
        if value is _DELETE:
            del document[name]
        else:
            document[name] = value
    return json.dumps(document)


_DELETE = object()

MALFORMED = [
    pytest.param("not json at all", "not valid JSON", id="not-json"),
    pytest.param(b"\xff\xfe", "not valid JSON", id="not-utf8"),
    pytest.param("[1, 2]", "must be a JSON object, got list", id="array"),
    pytest.param("{}", "no envelope_version", id="empty-object"),
    pytest.param(_with(envelope_version=2), "unsupported DLQ envelope_version 2", id="v2"),
    pytest.param(_with(envelope_version="1"), "unsupported DLQ envelope_version '1'", id="v-str"),
    pytest.param(
        _with(envelope_version=True), "unsupported DLQ envelope_version True", id="v-bool"
    ),
    pytest.param(_with(sequence_number=_DELETE), "sequence_number: Field required", id="no-seq"),
    pytest.param(_with(error_category="nope"), "error_category", id="bad-category"),
    pytest.param(_with(failed_at="2025-01-01T00:00:00"), "failed_at", id="naive-time"),
    pytest.param(_with(failed_at="yesterday"), "failed_at", id="bad-time"),
    pytest.param(_with(consumer=""), "consumer", id="empty-consumer"),
    pytest.param(
        _with(payload_b64=base64.b64encode(b"abd").decode()), "payload_sha256", id="sha-mismatch"
    ),
    pytest.param(_with(payload_length=4), "payload_length 4", id="length-mismatch"),
    pytest.param(_with(payload_b64="@@@"), "not valid base64", id="bad-base64"),
    pytest.param(_with(payload_b64=None), "payload_available", id="available-without-payload"),
    pytest.param(_with(payload_available=False), "payload_available", id="payload-not-flagged"),
    pytest.param(_with(payload_truncated=True), "truncated envelope", id="truncated-with-payload"),
    pytest.param(_with(payload_format=None), "payload_format", id="no-format"),
    pytest.param(
        _with(
            payload_b64=None, payload_available=False, payload_truncated=True, payload_sha256=None
        ),
        "payload_sha256 and payload_length",
        id="truncated-without-hash",
    ),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED)
def test_malformed_envelope_is_rejected_with_a_clear_error(text: str | bytes, message: str) -> None:
    """GIVEN malformed envelope text
    WHEN parsed
    THEN EnvelopeParseError (a ValueError) says what is wrong.
    """
    with pytest.raises(EnvelopeParseError, match=message):
        DlqEnvelope.parse(text)


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    """GIVEN an envelope with a field added by a newer writer (same version)
    WHEN parsed by this reader
    THEN it parses, ignoring the field.
    """
    envelope = DlqEnvelope.parse(_with(added_later={"x": 1}))

    assert envelope.original_bytes() == b"abc"
    assert not hasattr(envelope, "added_later")


# ----------------------------------------------------------------- fields added for hydrate


def _document(**changes: Any) -> str:
    document: dict[str, Any] = json.loads(_hydrated().to_json())
    document.update(changes)
    return json.dumps(document)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"payload_location": "s3://b/k"}, "payload_location is only valid"),
        (
            {
                "payload_b64": None,
                "payload_available": False,
                "payload_truncated": True,
                "payload_location": "https://b/k",
            },
            "must be an s3:// URI",
        ),
        ({"after_sequence_number": True}, "after_sequence_number is only valid on a range"),
        ({"missing_count": -1}, "missing_count"),
    ],
    ids=["location-with-payload", "location-not-s3", "after-without-range", "negative-count"],
)
def test_inconsistent_new_fields_are_rejected(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(EnvelopeParseError, match=message):
        DlqEnvelope.parse(_document(**changes))


def test_range_pointer_round_trip() -> None:
    """GIVEN a range pointer (after a record, up to the end, 2 missing)
    WHEN serialised and parsed THEN every coordinate survives and it is a range."""
    pointer = DlqEnvelope.create(
        event_source="aws:kinesis",
        event_source_arn=KINESIS_STREAM_ARN,
        shard_id=SHARD_ID,
        sequence_number="10",
        end_sequence_number="12",
        after_sequence_number=True,
        missing_count=2,
        error_category=ErrorCategory.PAYLOAD_UNAVAILABLE,
        error_reason="payload unavailable: expired from stream",
        consumer="c",
        payload=None,
        hydrated=True,
    )

    parsed = DlqEnvelope.parse(pointer.to_json())

    assert parsed == pointer
    assert parsed.is_range
    assert (parsed.after_sequence_number, parsed.missing_count) == (True, 2)
    assert not _hydrated().is_range


def test_envelope_written_before_the_new_fields_still_parses() -> None:
    """GIVEN an envelope JSON without the fields added for hydrate (an older writer)
    WHEN parsed THEN it reads with their defaults."""
    document = json.loads(_hydrated().to_json())
    for name in ("after_sequence_number", "missing_count", "payload_location"):
        del document[name]

    parsed = DlqEnvelope.parse(json.dumps(document))

    assert (parsed.after_sequence_number, parsed.missing_count) == (False, None)
    assert parsed.payload_location is None


def test_not_hydrated_format_round_trips() -> None:
    envelope = DlqEnvelope.create(
        event_source="aws:sns",
        sequence_number="sha256-00",
        error_category=ErrorCategory.MALFORMED_ON_FAILURE_RECORD,
        error_reason="not hydrated: on-failure record is not valid JSON",
        consumer="hydrate",
        payload=b"{broken",
        payload_format=PayloadFormat.ON_FAILURE_RECORD,
    )

    parsed = DlqEnvelope.parse(envelope.to_json())

    assert parsed.payload_format is PayloadFormat.ON_FAILURE_RECORD
    assert parsed.original_bytes() == b"{broken"
