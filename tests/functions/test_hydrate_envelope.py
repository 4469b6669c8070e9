"""What the hydrate function added to the shared envelope: range pointers, the S3 claim-check,
the not-hydrated format -- and that older envelopes still parse."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import pytest
from factories import KINESIS_STREAM_ARN, SHARD_ID

from stream_pipeline.runtime.claim_check import fetch_payload, parse_s3_uri, s3_uri, store_payload
from stream_pipeline.runtime.dlq_envelope import (
    DlqEnvelope,
    EnvelopeError,
    EnvelopeParseError,
    ErrorCategory,
    PayloadFormat,
    PayloadUnavailableError,
)


def _hydrated(payload: bytes = b"abc", **kwargs: Any) -> DlqEnvelope:
    return DlqEnvelope.create(
        event_source="aws:kinesis",
        event_source_arn=KINESIS_STREAM_ARN,
        shard_id=SHARD_ID,
        sequence_number="42",
        partition_key="pk",
        error_category=ErrorCategory.RETRIES_EXHAUSTED,
        error_reason="retries exhausted",
        consumer="arn:aws:lambda:eu-west-1:123456789012:function:f",
        payload=payload,
        hydrated=True,
        **kwargs,
    )


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, **_: Any) -> None:
        self.objects[(Bucket, Key)] = Body

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}


def test_claim_check_round_trip() -> None:
    """GIVEN an envelope with a payload WHEN claim-checked THEN the message keeps sha256, length
    and coordinates, points at s3://bucket/<envelope_id>, and the object gives the bytes back."""
    s3 = FakeS3()
    envelope = _hydrated(b"payload bytes")

    pointer = store_payload(s3, "bucket", envelope)
    parsed = DlqEnvelope.parse(pointer.to_json())

    assert parsed.payload_location == f"s3://bucket/{envelope.envelope_id}"
    assert (parsed.payload_available, parsed.payload_truncated) == (False, True)
    assert parsed.payload_sha256 == hashlib.sha256(b"payload bytes").hexdigest()
    assert parsed.envelope_id == envelope.envelope_id
    assert fetch_payload(s3, parsed) == b"payload bytes"
    with pytest.raises(PayloadUnavailableError, match="stored at s3://bucket/"):
        parsed.original_bytes()


def test_claim_check_object_that_does_not_match_is_refused() -> None:
    s3 = FakeS3()
    pointer = store_payload(s3, "bucket", _hydrated(b"right"))
    s3.objects[("bucket", pointer.envelope_id)] = b"wrong"

    with pytest.raises(PayloadUnavailableError, match="length or sha256 differ"):
        fetch_payload(s3, pointer)


def test_claim_check_needs_a_payload() -> None:
    with pytest.raises(EnvelopeError, match="no payload"):
        _hydrated().without_payload().with_payload_location("s3://b/k")


@pytest.mark.parametrize(
    ("uri", "parts"),
    [("s3://b/k", ("b", "k")), ("s3://b/a/b/c", ("b", "a/b/c"))],
)
def test_s3_uri_round_trip(uri: str, parts: tuple[str, str]) -> None:
    assert parse_s3_uri(uri) == parts
    assert s3_uri(*parts) == uri


@pytest.mark.parametrize("uri", ["https://b/k", "s3://b", "s3:///k"])
def test_bad_s3_uri_is_refused(uri: str) -> None:
    with pytest.raises(ValueError, match="s3"):
        parse_s3_uri(uri)


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
