"""The hydrate function when reading the stream fails: records trimmed past retention and a
shard that throttles every read. Kinesis answers come from botocore's Stubber; the shard range
reader itself is tested in tests/runtime/test_hydration_reader.py."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber
from factories import KINESIS_STREAM_ARN, SHARD_ID, on_failure_record, sns_event
from stream_harness import Aws, HydrateHarness, Streams, emf_metrics, harness_session

from hydrate import app as hydrate_app
from stream_pipeline.runtime.dlq_envelope import ErrorCategory
from stream_pipeline.runtime.hydration.reader import StreamReadError

# AWS-sized sequence numbers: 56 digits, where string order and integer order can differ.
BASE = 49_647_238_774_018_758_449_143_790_841_110_230_174_859_314_878_514_777_290


def seq(offset: int) -> str:
    return str(BASE + offset)


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
    """GIVEN an on-failure record for 3 records that were trimmed past retention
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
