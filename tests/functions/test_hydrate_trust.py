"""The hydrate function serves only the streams it is configured for (SOURCE_STREAM_ARNS) and
signs its envelopes with the pipeline's KMS HMAC key (issue #16 items 1 and 4), against moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from factories import Intercepted, encode, on_failure_record, retail_event, sns_event
from stream_harness import Aws, HydrateHarness, Streams, harness_session

from hydrate import app as hydrate_app
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, ErrorCategory, PayloadFormat
from stream_pipeline.runtime.dlq_mac import EnvelopeVerifier
from stream_pipeline.runtime.hydration.hydrator import Hydrator

OTHER_STREAM = "payments"


@pytest.fixture
def streams(aws: Aws) -> Streams:
    return Streams.create(aws, harness_session())


@pytest.fixture
def hydrate(streams: Streams, monkeypatch: pytest.MonkeyPatch) -> Iterator[HydrateHarness]:
    monkeypatch.delenv("PAYLOAD_BUCKET", raising=False)
    harness = HydrateHarness(streams)
    harness.configure()
    yield harness
    hydrate_app.set_dependencies(None)


@pytest.fixture
def other_stream_arn(streams: Streams) -> str:
    """Another stream of the account, holding a record the function must never copy."""
    streams.kinesis.create_stream(StreamName=OTHER_STREAM, ShardCount=1)
    arn = streams.kinesis.describe_stream_summary(StreamName=OTHER_STREAM)[
        "StreamDescriptionSummary"
    ]["StreamARN"]
    streams.kinesis.put_record(StreamARN=arn, Data=b"payment-1", PartitionKey="p")
    return str(arn)


def batch_of(streams: Streams, stream_arn: str, numbers: list[str]) -> dict[str, Any]:
    return on_failure_record(
        start=numbers[0],
        end=numbers[-1],
        batch_size=len(numbers),
        stream_arn=stream_arn,
        shard_id="shardId-000000000000",
    )


def test_an_on_failure_record_naming_another_stream_is_dead_lettered_unread(
    aws: Aws, streams: Streams, hydrate: HydrateHarness, other_stream_arn: str
) -> None:
    """GIVEN an invocation (anyone allowed lambda:InvokeFunction can make one) holding an
    on-failure record of the configured stream and one naming another stream of the account
    WHEN the hydrate function handles it
    THEN the configured stream's record is hydrated; the other is dead-lettered as
    UNSERVED_STREAM with its reason and its original text, and that stream is never read; the
    invocation does not fail."""
    numbers = streams.put([encode(retail_event(userId="served"))])
    kinesis = Intercepted(
        streams.kinesis,
        get_shard_iterator=lambda real, **params: real(**params),
        get_records=lambda real, **params: real(**params),
    )
    hydrate.configure(kinesis=kinesis)
    forged = batch_of(streams, other_stream_arn, ["1"])

    summary = hydrate.invoke(sns_event(batch_of(streams, streams.stream_arn, numbers), forged))

    assert summary["malformed"] == 1
    assert summary["recordsHydrated"] == 1
    envelopes = {e.error_category: e for e in aws.dlq_envelopes()}
    assert set(envelopes) == {ErrorCategory.RETRIES_EXHAUSTED, ErrorCategory.UNSERVED_STREAM}
    refused = envelopes[ErrorCategory.UNSERVED_STREAM]
    assert refused.error_reason.startswith(
        "not hydrated: the on-failure record names a stream this function does not serve "
        f"('{other_stream_arn}'"
    )
    assert refused.payload_format is PayloadFormat.ON_FAILURE_RECORD
    assert json.loads(refused.original_bytes()) == forged
    read_streams = {params.get("StreamARN") for _, params in kinesis.calls}
    assert other_stream_arn not in read_streams
    assert read_streams == {streams.stream_arn}


def test_an_efo_consumer_of_a_served_stream_is_served_and_a_look_alike_is_not(
    streams: Streams,
) -> None:
    """GIVEN the configured stream WHEN the hydrate function's stream check looks at an
    enhanced fan-out consumer ARN of it, and at streams whose ARN merely starts like it
    THEN the consumer is served, the look-alikes are not."""
    consumer_arn = f"{streams.stream_arn}/consumer/email-notifier:1738324800"
    hydrator = Hydrator(
        {}, function_name="h", log=hydrate_app.logger, served_streams={streams.stream_arn}
    )

    assert hydrator.serves(consumer_arn)
    assert not hydrator.serves(f"{streams.stream_arn}-copy")
    assert not hydrator.serves(f"{streams.stream_arn}-copy/consumer/x:1")


def test_hydrated_envelopes_are_signed_with_the_configured_key(
    aws: Aws, streams: Streams, hydrate: HydrateHarness
) -> None:
    """GIVEN the hydrate function configured with the pipeline's HMAC key (DLQ_MAC_KEY_ARN)
    WHEN it dead-letters a failed batch
    THEN every envelope carries an envelope_mac that VerifyMac accepts with that key."""
    kms = harness_session().client("kms")
    key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
    hydrate.configure(kms=kms, mac_key_arn=key)
    numbers = streams.put([encode(retail_event(userId=f"u{n}")) for n in range(3)])

    hydrate.invoke(sns_event(batch_of(streams, streams.stream_arn, numbers)))

    bodies = aws.dlq_bodies()
    assert len(bodies) == 3
    verifier = EnvelopeVerifier(kms, key)
    assert [verifier.problem(body) for body in bodies] == [None, None, None]
    assert all(DlqEnvelope.parse(body).envelope_mac for body in bodies)
