"""`replay stats` must not blind the DLQ's age alarm: SQS leaves a message received 3 or more
times out of ApproximateAgeOfOldestMessage, so the default reads only the queue's attributes
(and the age metric); ``--inspect`` receives, with a warning (moto)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from factories import kinesis_event_from_get_records
from rich.console import Console
from stream_harness import QUEUE_NAME, Aws, Streams, harness_session

from stream_pipeline.replay import cli as replay
from stream_pipeline.replay.model import Clients
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, ErrorCategory


@pytest.fixture
def streams(aws: Aws) -> Streams:
    return Streams.create(aws, harness_session())


def fill(streams: Streams, count: int) -> None:
    streams.put([f"r{n}".encode() for n in range(count)], ["k"] * count)
    event = kinesis_event_from_get_records(
        streams.records()[-count:], stream_arn=streams.stream_arn, shard_id=streams.shard_id
    )
    for record in event["Records"]:
        envelope = DlqEnvelope.build_from_kinesis_record(
            record,
            error_category=ErrorCategory.SCHEMA_VIOLATION,
            error_reason="rejected",
            consumer="stream-processor",
        )
        streams.aws.sqs.send_message(QueueUrl=streams.aws.queue_url, MessageBody=envelope.to_json())


def stats(streams: Streams, *args: str, cloudwatch: object = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = replay.main(
        ["stats", "--queue-url", streams.aws.queue_url, "--wait-seconds", "0", *args],
        clients=Clients(
            sqs=streams.aws.sqs,
            kinesis=streams.kinesis,
            dynamodbstreams=streams.dynamodbstreams,
            s3=streams.s3,
            cloudwatch=cloudwatch,
        ),
        console=Console(file=out, width=250, no_color=True),
        error_console=Console(file=err, width=250, no_color=True),
    )
    return code, out.getvalue(), err.getvalue()


def receive_counts(streams: Streams) -> list[int]:
    """Each message's ApproximateReceiveCount after one more receive (this one)."""
    response = streams.aws.sqs.receive_message(
        QueueUrl=streams.aws.queue_url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    )
    return sorted(int(m["Attributes"]["ApproximateReceiveCount"]) for m in response["Messages"])


def test_stats_reads_only_the_queues_attributes_by_default(streams: Streams) -> None:
    """GIVEN 3 messages in the DLQ and the queue's age metric in CloudWatch (420 s)
    WHEN `replay stats` runs (no --inspect), five times
    THEN it shows 3 visible messages and the age, exit status 0, and never received one: the
    next receive is each message's first (ApproximateReceiveCount 1)."""
    fill(streams, 3)
    cloudwatch = harness_session().client("cloudwatch")
    cloudwatch.put_metric_data(
        Namespace="AWS/SQS",
        MetricData=[
            {
                "MetricName": "ApproximateAgeOfOldestMessage",
                "Dimensions": [{"Name": "QueueName", "Value": QUEUE_NAME}],
                "Timestamp": datetime.now(UTC) - timedelta(minutes=2),
                "Value": 420.0,
                "Unit": "Seconds",
            }
        ],
    )

    for _ in range(5):
        code, output, warnings = stats(streams, cloudwatch=cloudwatch)

    assert code == 0
    (row,) = [line for line in output.splitlines() if "420 s" in line]
    assert [cell.strip() for cell in row.strip("│ ").split("│")] == ["3", "0", "0", "420 s"]
    assert "SCHEMA_VIOLATION" not in output
    assert "stats --inspect" in output
    assert warnings == ""
    assert receive_counts(streams) == [1, 1, 1]


def test_stats_says_why_the_age_is_unknown(streams: Streams) -> None:
    """GIVEN no datapoint of the age metric WHEN stats runs THEN the age column says so."""
    fill(streams, 1)

    code, output, _ = stats(streams, cloudwatch=harness_session().client("cloudwatch"))

    assert code == 0
    assert "- (no datapoint in the last 15 min)" in output


def test_inspect_warns_that_each_look_counts_and_names_the_messages_it_blinded(
    streams: Streams,
) -> None:
    """GIVEN 2 messages WHEN `stats --inspect` runs three times THEN each run counts them per
    reason and warns that a receive counts; the third says both have now been received 3 or
    more times (out of the age metric)."""
    fill(streams, 2)

    runs = [stats(streams, "--inspect") for _ in range(3)]

    for code, output, warnings in runs:
        assert code == 0
        assert "SCHEMA_VIOLATION" in output
        assert "each receive counts" in warnings
    assert "received 3 or more times" not in runs[1][1]
    assert "2 message(s) have now been received 3 or more times" in runs[2][1]
