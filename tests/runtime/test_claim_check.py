"""The S3 claim-check of an envelope's payload (stored, pointed at, fetched back and verified)
and s3:// URIs."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from factories import hydrated_envelope as _hydrated

from stream_pipeline.runtime.claim_check import fetch_payload, parse_s3_uri, s3_uri, store_payload
from stream_pipeline.runtime.dlq_envelope import (
    DlqEnvelope,
    EnvelopeError,
    PayloadUnavailableError,
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
