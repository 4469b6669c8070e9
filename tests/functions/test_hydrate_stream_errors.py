"""The hydrate function when reading the stream fails: records trimmed past retention and a
shard that throttles every read. Kinesis answers come from botocore's Stubber; the shard range
reader itself is tested in tests/runtime/test_hydration_reader.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber
from factories import KINESIS_STREAM_ARN, SHARD_ID, on_failure_record, sns_event
from stream_harness import Aws, HydrateHarness, Streams, emf_metrics, harness_session

from hydrate import app as hydrate_app
from stream_pipeline.runtime.dlq_envelope import ErrorCategory, PayloadFormat
from stream_pipeline.runtime.hydration.reader import StreamReadError

# AWS-sized sequence numbers: 56 digits, where string order and integer order can differ.
BASE = 49_647_238_774_018_758_449_143_790_841_110_230_174_859_314_878_514_777_290


def seq(offset: int) -> str:
    return str(BASE + offset)


def shard(shard_id: str, first: str) -> dict[str, Any]:
    """A ListShards entry of an open shard whose first sequence number is ``first``."""
    return {
        "ShardId": shard_id,
        "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": "1"},
        "SequenceNumberRange": {"StartingSequenceNumber": first},
    }


def expect_iterator(
    stubber: Stubber, iterator_type: str, sequence_number: str, iterator: str = "it-0"
) -> None:
    stubber.add_response(
        "get_shard_iterator",
        {"ShardIterator": iterator},
        {
            "StreamARN": KINESIS_STREAM_ARN,
            "ShardId": SHARD_ID,
            "ShardIteratorType": iterator_type,
            "StartingSequenceNumber": sequence_number,
        },
    )


def test_trimmed_records_give_a_payload_unavailable_entry_and_metric(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN an on-failure record for 3 records Kinesis no longer serves (GetShardIterator
    refuses the position with a message that names no other shard or stream, and the number is
    inside the shard's range)
    WHEN the hydrate function handles it
    THEN the DLQ holds one "payload unavailable: expired from stream" entry with the shard,
    the sequence range, the stream ARN and the count, and PayloadUnavailable is 1.
    """
    streams = Streams.create(aws, harness_session())
    kinesis = harness_session().client("kinesis")
    stubber = Stubber(kinesis)
    stubber.add_client_error(
        "get_shard_iterator",
        service_error_code="InvalidArgumentException",
        service_message="StartingSequenceNumber is past the trim horizon",
    )
    stubber.add_response("list_shards", {"Shards": [shard(SHARD_ID, seq(-50))]})
    harness = HydrateHarness(streams)
    harness.configure(kinesis=kinesis)
    capsys.readouterr()

    with stubber:
        harness.invoke(sns_event(on_failure_record(start=seq(0), end=seq(2), batch_size=3)))
    hydrate_app.set_dependencies(None)

    (envelope,) = aws.dlq_envelopes()
    assert envelope.error_category is ErrorCategory.PAYLOAD_UNAVAILABLE
    assert envelope.error_reason.startswith(
        "payload unavailable: expired from stream (3 record(s) gone: InvalidArgumentException"
    )
    assert (envelope.event_source_arn, envelope.shard_id) == (KINESIS_STREAM_ARN, SHARD_ID)
    assert (envelope.sequence_number, envelope.end_sequence_number) == (seq(0), seq(2))
    assert envelope.missing_count == 3
    assert envelope.payload_available is False
    assert emf_metrics(capsys.readouterr().out)["PayloadUnavailable"][0][0] == 1


def test_sequence_number_of_another_shard_dead_letters_the_on_failure_record(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN an on-failure record whose start sequence number Kinesis refuses as another
    shard's (AWS's message, tests/data/kinesis_get_shard_iterator_errors.json)
    WHEN the hydrate function handles it
    THEN the DLQ holds one not-hydrated INVALID_STREAM_POSITION envelope whose payload is the
    on-failure record itself (never replayed as a stream record), whose reason says the position
    is refused, not expired; nothing is counted as PayloadUnavailable; the invocation succeeds.
    """
    streams = Streams.create(aws, harness_session())
    kinesis = harness_session().client("kinesis")
    stubber = Stubber(kinesis)
    message = (
        "Invalid StartingSequenceNumber. It encodes shardId-000000000007, while it was used in "
        "a call to shardId-000000000000"
    )
    stubber.add_client_error(
        "get_shard_iterator", service_error_code="InvalidArgumentException", service_message=message
    )
    harness = HydrateHarness(streams)
    harness.configure(kinesis=kinesis)
    record = on_failure_record(start=seq(0), end=seq(2), batch_size=3)
    capsys.readouterr()

    with stubber:
        summary = harness.invoke(sns_event(record))
    hydrate_app.set_dependencies(None)

    (envelope,) = aws.dlq_envelopes()
    assert envelope.error_category is ErrorCategory.INVALID_STREAM_POSITION
    assert envelope.payload_format is PayloadFormat.ON_FAILURE_RECORD
    assert json.loads(envelope.original_bytes()) == record
    assert envelope.error_reason.startswith(
        "not hydrated: the stream refuses the batch's position as not its own (shard "
        f"{SHARD_ID}, sequence numbers {seq(0)} to {seq(2)} of {KINESIS_STREAM_ARN})"
    )
    assert message in envelope.error_reason
    assert "expired" not in envelope.error_reason.replace("not expired data", "")
    assert (summary["payloadUnavailable"], summary["malformed"]) == (0, 1)
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["PayloadUnavailable"][0][0] == 0
    assert metrics["MalformedOnFailureRecords"][0][0] == 1


def test_throttled_stream_fails_the_invocation_and_sends_nothing(aws: Aws) -> None:
    """GIVEN a stream that throttles every GetRecords
    WHEN the hydrate function handles an on-failure record
    THEN it raises (Lambda retries the event later) and the DLQ stays empty.
    """
    streams = Streams.create(aws, harness_session())
    kinesis = harness_session().client("kinesis")
    stubber = Stubber(kinesis)
    expect_iterator(stubber, "AT_SEQUENCE_NUMBER", seq(0))
    for _ in range(5):
        stubber.add_client_error(
            "get_records", service_error_code="ProvisionedThroughputExceededException"
        )
    harness = HydrateHarness(streams)
    harness.configure(kinesis=kinesis)

    with stubber, pytest.raises(StreamReadError):
        harness.invoke(on_failure_record(start=seq(0), end=seq(1), batch_size=2))
    hydrate_app.set_dependencies(None)

    assert aws.dlq_bodies() == []
    assert len(harness.sleeps) == 4
