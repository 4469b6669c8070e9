"""The replay trusts its configuration, not the content of what it replays (issue #16 item 1),
against moto: a DLQ message or a failure-bucket object naming another stream or bucket is refused
and stays where it was; an envelope not signed with the pipeline's KMS HMAC key, or altered after
signing, is refused; a genuine one, signed by the real stream processor, is replayed."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from factories import (
    ACCOUNT,
    CONSUMER_FUNCTION_ARN,
    REGION,
    async_invocation_record,
    encode,
    kinesis_event_from_get_records,
    on_failure_record,
    retail_event,
    sns_event,
)
from stream_harness import (
    FIXED_NOW,
    PAYLOAD_BUCKET,
    STREAM_NAME,
    Aws,
    Harness,
    Streams,
    harness_session,
)

from stream_pipeline.local.runtime import events
from stream_pipeline.replay.bucket import BucketReplayer
from stream_pipeline.replay.model import (
    HYDRATE_FAILED,
    S3_ON_FAILURE,
    UNTRUSTED_ENVELOPE,
    Clients,
    Outcome,
    ReplayReport,
    RunOptions,
)
from stream_pipeline.replay.replayer import Replayer
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, ErrorCategory

OTHER_STREAM = "payments"
"""Another stream of the account: what a forged message would have the replay write or read."""
OTHER_BUCKET = "payments-exports"
FAILURE_BUCKET = "stream-pipeline-failures"
MAPPING_UUID = "0f6e7c3a-7d1b-4d5e-9a43-5a3c2b1e0d9f"
CONSUMER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/stream-processor"
CHOSEN_BYTES = b'{"transfer":"attacker","amount":1000000}'


@pytest.fixture
def streams(aws: Aws) -> Streams:
    return Streams.create(aws, harness_session())


@pytest.fixture
def other_stream_arn(streams: Streams) -> str:
    """A second stream in the account with one record of its own."""
    streams.kinesis.create_stream(StreamName=OTHER_STREAM, ShardCount=1)
    arn = streams.kinesis.describe_stream_summary(StreamName=OTHER_STREAM)[
        "StreamDescriptionSummary"
    ]["StreamARN"]
    streams.kinesis.put_record(StreamARN=arn, Data=b"payment-1", PartitionKey="p")
    return str(arn)


@pytest.fixture
def kms() -> Any:
    return harness_session().client("kms")


@pytest.fixture
def mac_key(kms: Any) -> str:
    """The pipeline's HMAC key, as modules/hydrating-dlq creates it."""
    metadata = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    return str(metadata["Arn"])


@pytest.fixture
def failure_bucket(streams: Streams) -> str:
    streams.s3.create_bucket(
        Bucket=FAILURE_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return FAILURE_BUCKET


# --------------------------------------------------------------------------- helpers


def clients(streams: Streams, kms: Any) -> Clients:
    return Clients(
        sqs=streams.aws.sqs,
        kinesis=streams.kinesis,
        dynamodbstreams=streams.dynamodbstreams,
        s3=streams.s3,
        kms=kms,
    )


def options(fixture: Streams, **overrides: Any) -> RunOptions:
    """The configuration an environment's outputs give: its stream, its buckets, its MAC key."""
    settings: dict[str, Any] = {
        "queue_url": fixture.aws.queue_url,
        "wait_seconds": 0,
        "streams": frozenset({fixture.stream_arn}),
        "buckets": frozenset({PAYLOAD_BUCKET}),
        **overrides,
    }
    return RunOptions(**settings)


def replay(fixture: Streams, kms: Any, **overrides: Any) -> ReplayReport:
    return Replayer(clients(fixture, kms), options(fixture, **overrides)).run()


def send(streams: Streams, body: str) -> None:
    streams.aws.sqs.send_message(QueueUrl=streams.aws.queue_url, MessageBody=body)


def queued_bodies(streams: Streams) -> list[str]:
    """Every message still in the DLQ (received once each: hidden for the rest of the test)."""
    bodies: list[str] = []
    while True:
        messages = streams.aws.sqs.receive_message(
            QueueUrl=streams.aws.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300
        ).get("Messages", [])
        if not messages:
            return bodies
        bodies.extend(message["Body"] for message in messages)


def take_bodies(streams: Streams) -> list[str]:
    """Every message of the DLQ, removed from it (to alter and send again)."""
    bodies: list[str] = []
    while True:
        messages = streams.aws.sqs.receive_message(
            QueueUrl=streams.aws.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300
        ).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            streams.aws.sqs.delete_message(
                QueueUrl=streams.aws.queue_url, ReceiptHandle=message["ReceiptHandle"]
            )


def other_stream_data(streams: Streams) -> list[bytes]:
    """Every record's bytes of the other stream."""
    iterator = streams.kinesis.get_shard_iterator(
        StreamName=OTHER_STREAM, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return [
        record["Data"] for record in streams.kinesis.get_records(ShardIterator=iterator)["Records"]
    ]


def forged_envelope(stream_arn: str, **fields: Any) -> DlqEnvelope:
    """An envelope anyone allowed sqs:SendMessage can write: chosen bytes, chosen stream."""
    return DlqEnvelope.create(
        event_source="aws:kinesis",
        event_source_arn=stream_arn,
        shard_id="shardId-000000000000",
        sequence_number="1",
        partition_key="p",
        error_category=ErrorCategory.RETRIES_EXHAUSTED,
        error_reason="retries exhausted",
        consumer=CONSUMER_FUNCTION_ARN,
        payload=CHOSEN_BYTES,
        **fields,
    )


def dead_letter_genuinely(
    streams: Streams, harness: Harness, kms: Any, mac_key: str
) -> tuple[bytes, str]:
    """The real stream processor, configured with the MAC key, rejects one oversized event:
    its signed envelope is in the DLQ. Returns the record's bytes and sequence number."""
    payload = encode(retail_event(userId="genuine", note="x" * 300))
    (number,) = streams.put([payload], ["pk-genuine"])
    harness.configure(max_record_bytes=200, kms=kms, mac_key_arn=mac_key)
    event = kinesis_event_from_get_records(
        streams.records()[-1:], stream_arn=streams.stream_arn, shard_id=streams.shard_id
    )
    assert harness.failed_sequence_numbers(event) == []
    return payload, number


# --------------------------------------------------------------------------- genuine


@pytest.mark.parametrize("configured_as", ["arn", "name"])
def test_a_genuine_signed_envelope_is_replayed(
    streams: Streams, harness: Harness, kms: Any, mac_key: str, configured_as: str
) -> None:
    """GIVEN an envelope the stream processor signed with the pipeline's HMAC key
    WHEN the DLQ is replayed with that key and the pipeline's stream configured (by ARN, or by
    its name as `--stream retail-events` gives it)
    THEN the record is back in its stream with its original bytes; the DLQ is empty."""
    payload, number = dead_letter_genuinely(streams, harness, kms, mac_key)
    stream = streams.stream_arn if configured_as == "arn" else STREAM_NAME

    report = replay(streams, kms, mac_key=mac_key, streams=frozenset({stream}))

    assert report.counts == {"OVERSIZED": {Outcome.REPLAYED: 1}}
    assert report.kept == []
    assert [record["Data"] for record in streams.records(after=number)] == [payload]
    assert queued_bodies(streams) == []


# --------------------------------------------------------------------------- forged messages


@pytest.mark.parametrize(
    ("accept_unsigned", "label", "why"),
    [
        pytest.param(
            False, UNTRUSTED_ENVELOPE, "refused: unsigned: it carries no envelope_mac", id="mac"
        ),
        pytest.param(
            True,
            "RETRIES_EXHAUSTED",
            "refused: it names stream 'arn:aws:kinesis:eu-west-1:123456789012:stream/payments' "
            "to put records into, which is not one of the configured streams",
            id="accept-unsigned",
        ),
    ],
)
def test_a_forged_message_naming_another_stream_is_refused_and_stays(
    streams: Streams,
    kms: Any,
    mac_key: str,
    other_stream_arn: str,
    accept_unsigned: bool,
    label: str,
    why: str,
) -> None:
    """GIVEN a message planted in the DLQ naming another stream of the account and chosen bytes
    WHEN replayed (with the MAC key; also when unsigned envelopes are accepted)
    THEN it is refused with its reason and still in the DLQ; nothing is written anywhere."""
    body = forged_envelope(other_stream_arn).to_json()
    send(streams, body)

    report = replay(streams, kms, mac_key=mac_key, accept_unsigned=accept_unsigned)

    assert report.counts == {label: {Outcome.KEPT: 1}}
    (kept,) = report.kept
    assert kept.why.startswith(why)
    assert queued_bodies(streams) == [body]
    assert other_stream_data(streams) == [b"payment-1"]
    assert streams.records() == []


def test_a_forged_pointer_into_another_stream_is_not_read(
    streams: Streams, kms: Any, other_stream_arn: str
) -> None:
    """GIVEN a pointer-only message (no payload) whose coordinates are another stream's record,
    with --target naming the pipeline's stream (so the write itself is allowed)
    WHEN replayed THEN it is refused before any read of that stream and stays; the pipeline's
    stream receives nothing (the other stream's record is not copied into it)."""
    envelope = forged_envelope(other_stream_arn).without_payload()
    send(streams, envelope.to_json())

    report = replay(streams, kms, accept_unsigned=True, target=streams.stream_arn)

    (kept,) = report.kept
    assert "names stream 'arn:aws:kinesis:eu-west-1:123456789012:stream/payments' to read" in (
        kept.why
    )
    assert len(queued_bodies(streams)) == 1
    assert streams.records() == []


def test_a_claim_check_in_another_bucket_is_refused_and_stays(streams: Streams, kms: Any) -> None:
    """GIVEN a message whose payload "is stored" in another bucket of the account (an object
    whose sha256 and length the message carries, so the hash alone would pass)
    WHEN replayed THEN it is refused naming the bucket, stays, and the object is not copied."""
    streams.s3.create_bucket(
        Bucket=OTHER_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    streams.s3.put_object(Bucket=OTHER_BUCKET, Key="export.json", Body=CHOSEN_BYTES)
    envelope = forged_envelope(streams.stream_arn).model_copy(
        update={
            "payload_b64": None,
            "payload_available": False,
            "payload_truncated": True,
            "payload_location": f"s3://{OTHER_BUCKET}/export.json",
        }
    )
    send(streams, envelope.to_json())

    report = replay(streams, kms, accept_unsigned=True)

    (kept,) = report.kept
    assert kept.why.startswith(
        "refused: its payload is in bucket 'payments-exports', which is not one of the "
        "configured buckets (stream-pipeline-dlq-payloads)"
    )
    assert len(queued_bodies(streams)) == 1
    assert streams.records() == []


def test_a_hydrate_failure_record_naming_another_stream_is_refused_and_stays(
    streams: Streams, kms: Any, mac_key: str, other_stream_arn: str
) -> None:
    """GIVEN a planted "failed hydrate invocation" record (Lambda's format, unsigned by nature)
    whose on-failure record names another stream's range
    WHEN replayed THEN it is refused before reading that stream and stays; nothing is put."""
    body = json.dumps(
        async_invocation_record(
            sns_event(
                on_failure_record(
                    start="1",
                    end="1",
                    batch_size=1,
                    stream_arn=other_stream_arn,
                    shard_id="shardId-000000000000",
                )
            )
        )
    )
    send(streams, body)

    report = replay(streams, kms, mac_key=mac_key)

    assert report.counts == {HYDRATE_FAILED: {Outcome.KEPT: 1}}
    assert "names stream 'arn:aws:kinesis:eu-west-1:123456789012:stream/payments'" in (
        report.kept[0].why
    )
    assert queued_bodies(streams) == [body]
    assert streams.records() == []


def test_without_a_mac_key_every_envelope_is_refused(streams: Streams, kms: Any) -> None:
    """GIVEN an envelope naming the configured stream WHEN replayed with neither a MAC key nor
    accept_unsigned THEN it is refused (nothing can tell who wrote it) and stays."""
    send(streams, forged_envelope(streams.stream_arn).to_json())

    report = replay(streams, kms)

    assert report.counts == {UNTRUSTED_ENVELOPE: {Outcome.KEPT: 1}}
    assert "no MAC key configured" in report.kept[0].why
    assert streams.records() == []


# --------------------------------------------------------------------------- altered


def _new_payload(document: dict[str, Any]) -> None:
    document["payload_b64"] = base64.b64encode(CHOSEN_BYTES).decode()
    document["payload_sha256"] = hashlib.sha256(CHOSEN_BYTES).hexdigest()
    document["payload_length"] = len(CHOSEN_BYTES)


def _new_sequence_number(document: dict[str, Any]) -> None:
    document["sequence_number"] = str(int(document["sequence_number"]) + 1)


def _new_reason(document: dict[str, Any]) -> None:
    document["error_category"] = "RETRIES_EXHAUSTED"


def _new_partition_key(document: dict[str, Any]) -> None:
    document["partition_key"] = "another-key"


@pytest.mark.parametrize(
    "alter",
    [_new_payload, _new_sequence_number, _new_reason, _new_partition_key],
    ids=["payload", "coordinates", "reason", "partition-key"],
)
def test_an_envelope_altered_after_signing_is_refused_and_stays(
    streams: Streams,
    harness: Harness,
    kms: Any,
    mac_key: str,
    alter: Callable[[dict[str, Any]], None],
) -> None:
    """GIVEN a genuine signed envelope changed after signing (its payload with a matching
    sha256, its coordinates, its reason or its partition key) and sent again
    WHEN replayed with the key THEN it is refused as forged or altered and stays; the stream
    receives nothing."""
    _, number = dead_letter_genuinely(streams, harness, kms, mac_key)
    (body,) = take_bodies(streams)
    document = json.loads(body)
    alter(document)
    altered = json.dumps(document)
    send(streams, altered)

    report = replay(streams, kms, mac_key=mac_key)

    assert report.counts == {UNTRUSTED_ENVELOPE: {Outcome.KEPT: 1}}
    assert report.kept[0].why.startswith("refused: forged or altered")
    assert queued_bodies(streams) == [altered]
    assert streams.records(after=number) == []


def test_a_mac_made_with_another_key_is_refused(
    streams: Streams, harness: Harness, kms: Any, mac_key: str
) -> None:
    """GIVEN an envelope signed with another HMAC key (one an attacker may use)
    WHEN replayed with the pipeline's key THEN it is refused (the message cannot choose the key).
    """
    other_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    dead_letter_genuinely(streams, harness, kms, other_key["Arn"])

    report = replay(streams, kms, mac_key=mac_key)

    assert report.counts == {UNTRUSTED_ENVELOPE: {Outcome.KEPT: 1}}
    assert len(queued_bodies(streams)) == 1


# --------------------------------------------------------------------------- failure bucket


def write_failure_object(
    streams: Streams, *, batch_stream_arn: str, record_stream_arn: str | None = None
) -> str:
    """An object as Lambda's S3 on-failure destination writes it, for a batch holding one
    record with chosen bytes; ``record_stream_arn`` sets the record's own eventSourceARN."""
    item = {
        "SequenceNumber": "1",
        "Data": CHOSEN_BYTES,
        "PartitionKey": "p",
        "ApproximateArrivalTimestamp": FIXED_NOW,
    }
    record = events.kinesis_record(
        item,
        shard_id="shardId-000000000000",
        stream_arn=record_stream_arn or batch_stream_arn,
        region=REGION,
        role=CONSUMER_ROLE,
    )
    on_failure = events.stream_on_failure_record(
        kind="kinesis",
        request_id=str(uuid.uuid4()),
        function_arn=CONSUMER_FUNCTION_ARN,
        condition="RetryAttemptsExhausted",
        invoke_count=3,
        response_context=events.response_context("Unhandled"),
        shard_id="shardId-000000000000",
        stream_arn=batch_stream_arn,
        records=[record],
        now=FIXED_NOW.timestamp(),
    )
    key = events.s3_on_failure_key(MAPPING_UUID, "shardId-000000000000", FIXED_NOW.timestamp())
    body = json.dumps(events.s3_on_failure_body(on_failure, [record])).encode()
    streams.s3.put_object(Bucket=FAILURE_BUCKET, Key=key, Body=body)
    return key


@pytest.mark.parametrize("where", ["batch", "record"])
def test_a_forged_bucket_object_naming_another_stream_is_refused_and_stays(
    streams: Streams, kms: Any, failure_bucket: str, other_stream_arn: str, where: str
) -> None:
    """GIVEN an object under aws/lambda/ of the failure bucket whose batch -- or whose record's
    own eventSourceARN -- names another stream
    WHEN the bucket is replayed THEN the object is refused with its reason and not deleted;
    neither stream receives anything."""
    key = write_failure_object(
        streams,
        batch_stream_arn=other_stream_arn if where == "batch" else streams.stream_arn,
        record_stream_arn=other_stream_arn,
    )

    report = BucketReplayer(
        clients(streams, kms), options(streams, queue_url=None, bucket=failure_bucket)
    ).run()

    assert report.counts == {S3_ON_FAILURE: {Outcome.KEPT: 1}}
    assert "names stream 'arn:aws:kinesis:eu-west-1:123456789012:stream/payments'" in (
        report.kept[0].why
    )
    listed = streams.s3.list_objects_v2(Bucket=failure_bucket)["Contents"]
    assert [item["Key"] for item in listed] == [key]
    assert other_stream_data(streams) == [b"payment-1"]
    assert streams.records() == []


def test_a_genuine_bucket_object_of_the_configured_stream_is_replayed(
    streams: Streams, kms: Any, failure_bucket: str
) -> None:
    """GIVEN an object of the configured stream's batch (the bucket's objects carry no MAC:
    only Lambda may write under aws/lambda/, see the bucket policy)
    WHEN replayed THEN its record is put back and the object deleted."""
    write_failure_object(streams, batch_stream_arn=streams.stream_arn)

    report = BucketReplayer(
        clients(streams, kms), options(streams, queue_url=None, bucket=failure_bucket)
    ).run()

    assert report.counts == {S3_ON_FAILURE: {Outcome.REPLAYED: 1}}
    assert [record["Data"] for record in streams.records()] == [CHOSEN_BYTES]
    assert "Contents" not in streams.s3.list_objects_v2(Bucket=failure_bucket)


def test_a_stream_configured_by_name_is_the_operators_own(streams: Streams, kms: Any) -> None:
    """GIVEN the stream configured by its name and an envelope whose ARN names a stream of that
    name in another account
    WHEN replayed (unsigned envelopes accepted) THEN the record goes to the operator's stream of
    that name, never to the ARN the message carries."""
    foreign = f"arn:aws:kinesis:{REGION}:999999999999:stream/{STREAM_NAME}"
    send(streams, forged_envelope(foreign).to_json())

    report = replay(streams, kms, accept_unsigned=True, streams=frozenset({STREAM_NAME}))

    assert report.counts == {"RETRIES_EXHAUSTED": {Outcome.REPLAYED: 1}}
    assert [record["Data"] for record in streams.records()] == [CHOSEN_BYTES]
