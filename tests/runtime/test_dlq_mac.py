"""DLQ envelope authentication (stream_pipeline.runtime.dlq_mac) with moto's KMS HMAC keys, and
the DLQ publisher that signs: what the MAC covers, what a verifier refuses, and that an envelope
that cannot be signed is never sent unsigned."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from factories import REGION, always_raise, client_error, hydrated_envelope
from moto import mock_aws

from stream_pipeline.runtime.aws_errors import RetryPolicy
from stream_pipeline.runtime.dlq_envelope import SQS_MAX_MESSAGE_BYTES, DlqEnvelope
from stream_pipeline.runtime.dlq_mac import (
    MAC_FIELD,
    UNSIGNED,
    EnvelopeSigner,
    EnvelopeVerifier,
    mac_key_from_env,
)
from stream_pipeline.runtime.dlq_publisher import DlqPublisher
from stream_pipeline.runtime.request_pool import RequestPool


@pytest.fixture
def kms() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("kms", region_name=REGION)


@pytest.fixture
def key(kms: Any) -> str:
    metadata = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    return str(metadata["Arn"])


def signed_document(kms: Any, key: str, envelope: DlqEnvelope | None = None) -> dict[str, Any]:
    signed = EnvelopeSigner(kms, key).sign(envelope or hydrated_envelope())
    return dict(json.loads(signed.to_json()))


def test_a_signed_envelope_verifies_and_parses(kms: Any, key: str) -> None:
    """GIVEN an envelope signed with the key WHEN verified with the same key THEN it passes, and
    the envelope model reads it (the MAC is a field of its own)."""
    document = signed_document(kms, key)

    assert EnvelopeVerifier(kms, key).problem(json.dumps(document)) is None
    assert DlqEnvelope.parse(json.dumps(document)).envelope_mac == document[MAC_FIELD]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("event_source_arn", "arn:aws:kinesis:eu-west-1:123456789012:stream/payments"),
        ("shard_id", "shardId-000000000001"),
        ("sequence_number", "43"),
        ("payload_sha256", "0" * 64),
        ("payload_location", "s3://elsewhere/key"),
        ("error_reason", "another reason"),
        ("consumer", "arn:aws:lambda:eu-west-1:123456789012:function:other"),
        ("field_of_a_newer_release", "added after signing"),
    ],
)
def test_any_change_after_signing_is_refused(kms: Any, key: str, field: str, value: str) -> None:
    """GIVEN a signed envelope with one field changed or added (a field this reader does not
    know counts too) WHEN verified THEN it is refused as forged or altered."""
    document = signed_document(kms, key)
    document[field] = value

    problem = EnvelopeVerifier(kms, key).problem(json.dumps(document))

    assert problem is not None
    assert problem.startswith("forged or altered: its envelope_mac does not match")


def test_a_mac_copied_from_another_envelope_is_refused(kms: Any, key: str) -> None:
    """GIVEN the MAC of one genuine envelope put on another envelope WHEN verified THEN refused."""
    genuine = signed_document(kms, key)
    other = json.loads(hydrated_envelope(b"chosen bytes").to_json())
    other[MAC_FIELD] = genuine[MAC_FIELD]

    assert EnvelopeVerifier(kms, key).problem(json.dumps(other)) is not None


@pytest.mark.parametrize(
    ("mac", "expected"),
    [
        (None, UNSIGNED),
        ("not base64!", "forged or altered: its envelope_mac is not base64"),
        ("", "forged or altered: its envelope_mac is empty"),
    ],
)
def test_missing_or_malformed_macs_are_named(
    kms: Any, key: str, mac: str | None, expected: str
) -> None:
    document = json.loads(hydrated_envelope().to_json())
    if mac is not None:
        document[MAC_FIELD] = mac

    assert EnvelopeVerifier(kms, key).problem(json.dumps(document)) == expected


def test_an_unreachable_kms_is_not_mistaken_for_a_forgery(kms: Any, key: str) -> None:
    """GIVEN KMS refusing VerifyMac (throttled) WHEN verifying THEN the reason says the MAC
    cannot be checked now, not that the envelope is forged."""
    document = json.dumps(signed_document(kms, key))
    failing = type(
        "Kms", (), {"verify_mac": always_raise(client_error("ThrottlingException", "VerifyMac"))}
    )()

    problem = EnvelopeVerifier(failing, key).problem(document)

    assert problem is not None
    assert problem.startswith("its envelope_mac cannot be checked now: ThrottlingException")


def test_an_unsigned_envelope_has_no_mac_key_in_its_json() -> None:
    """GIVEN an unsigned envelope WHEN serialised THEN its JSON has no envelope_mac key (the
    same text as before signing existed)."""
    assert MAC_FIELD not in json.loads(hydrated_envelope().to_json())


@pytest.mark.parametrize(
    "value", ["alias/dlq", "arn:aws:kms:eu-west-1:123:key/x", "arn:aws:sqs:eu-west-1:1:q"]
)
def test_a_mac_key_that_is_not_a_kms_key_arn_is_a_configuration_error(value: str) -> None:
    with pytest.raises(ValueError, match="DLQ_MAC_KEY_ARN must be a KMS key ARN"):
        mac_key_from_env({"DLQ_MAC_KEY_ARN": value})


# --------------------------------------------------------------------------- publisher


class RecordingSqs:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, str]]) -> Any:
        self.bodies.extend(entry["MessageBody"] for entry in Entries)
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries]}


def publisher(sqs: Any, signer: EnvelopeSigner) -> DlqPublisher:
    return DlqPublisher(
        sqs,
        "https://sqs/q",
        policy=RetryPolicy(max_attempts=1),
        sleep=lambda _: None,
        rand=lambda: 0.5,
        pool=RequestPool(max_workers=2),
        signer=signer,
    )


def test_the_publisher_signs_every_envelope_and_keeps_room_for_the_mac(kms: Any, key: str) -> None:
    """GIVEN a small envelope and one whose payload just fits in an SQS message unsigned
    WHEN published with a signer THEN both bodies verify and fit in 256 KiB (the large one
    sent without its payload: the MAC's room was kept)."""
    room = SQS_MAX_MESSAGE_BYTES - hydrated_envelope(b"").size_bytes()
    large = hydrated_envelope(b"x" * (room * 3 // 4 - 10))
    assert large.size_bytes() <= SQS_MAX_MESSAGE_BYTES
    sqs = RecordingSqs()

    report = publisher(sqs, EnvelopeSigner(kms, key)).publish([hydrated_envelope(), large])

    assert report.failures == {}
    assert report.truncated == 1
    verifier = EnvelopeVerifier(kms, key)
    assert [verifier.problem(body) for body in sqs.bodies] == [None, None]
    assert all(len(body) <= SQS_MAX_MESSAGE_BYTES for body in sqs.bodies)


def test_an_envelope_that_cannot_be_signed_is_not_sent(key: str) -> None:
    """GIVEN KMS refusing GenerateMac WHEN publishing THEN the envelope is listed as a failure
    (its record is retried) and nothing is sent unsigned."""
    failing = type(
        "Kms",
        (),
        {"generate_mac": always_raise(client_error("KMSInvalidStateException", "GenerateMac"))},
    )()
    sqs = RecordingSqs()

    report = publisher(sqs, EnvelopeSigner(failing, key)).publish([hydrated_envelope()])

    assert list(report.failures) == [0]
    assert "envelope not signed" in report.failures[0]
    assert "KMSInvalidStateException" in report.failures[0]
    assert sqs.bodies == []


def test_the_kms_client_is_made_on_the_first_envelope_and_once(kms: Any, key: str) -> None:
    """GIVEN a signer configured with a client factory (what the functions get: no KMS client
    at the cold start) WHEN nothing is published, then 12 envelopes are THEN the factory is
    not called before the first envelope, and once for all of them (before the pool's threads
    sign: boto3 does not create clients thread-safely)."""
    made: list[Any] = []

    def factory() -> Any:
        made.append(kms)
        return kms

    signer = EnvelopeSigner.configured(key, factory)
    assert signer is not None
    sqs = RecordingSqs()
    sender = publisher(sqs, signer)
    assert made == []

    report = sender.publish([hydrated_envelope(f"p{n}".encode()) for n in range(12)])

    assert report.failures == {}
    assert len(made) == 1
    assert len(sqs.bodies) == 12
    assert EnvelopeSigner.configured(None, factory) is None


def test_nothing_to_publish_makes_no_kms_client() -> None:
    """GIVEN a signer configured with a client factory WHEN an invocation publishes nothing (no
    poison record) THEN no KMS client is made (good records never pay for signing)."""
    made: list[str] = []
    key = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    signer = EnvelopeSigner.configured(key, lambda: made.append("client"))
    assert signer is not None

    report = publisher(RecordingSqs(), signer).publish([])

    assert report.failures == {}
    assert made == []
