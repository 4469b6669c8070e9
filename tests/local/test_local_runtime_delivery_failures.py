"""Destinations that cannot be written: ``DestinationDeliveryFailures``.

AWS (invocation-async-retain-records): "If Lambda can't send a record to a destination you have
configured, it sends a DestinationDeliveryFailures metric to Amazon CloudWatch. [...] Delivery
errors can also occur due to permissions errors and size limits." The runtime does the same for
a stream mapping's on-failure destination (issue #15: Lambda's metric "for an on-failure
destination that could not be written: AWS then drops the batch"; the AWS pages reachable
offline do not say it for mappings), and the mapping goes on, as (kinesis-on-failure-destination)
"Lambda discards the records and continues processing batches from the stream".
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from local_runtime_harness import ACCOUNT, REGION, Aws, unique


def _failures(aws: Aws, function: str) -> float:
    """Sum of the function's DestinationDeliveryFailures over the last ten minutes."""
    now = datetime.now(UTC)
    statistics = aws.cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="DestinationDeliveryFailures",
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    )
    return sum(point["Sum"] for point in statistics["Datapoints"])


def _missing_topic() -> str:
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:{unique('deleted-topic')}"


def test_an_on_failure_topic_that_is_gone_publishes_the_metric_and_the_shard_goes_on(
    aws: Aws,
) -> None:
    """GIVEN a mapping whose on-failure destination is a topic that does not exist, and a
    function that fails on poison records, no retries
    WHEN a poison record and then two good ones are put
    THEN the poison batch is dropped with one DestinationDeliveryFailures datapoint (Sum 1) for
    the function, and the mapping goes on: the good records are delivered after it."""
    function = aws.function(mode="fail-on-poison")
    stream = aws.stream()
    poison = aws.put(stream, [{"poison": True}])
    good = aws.put(stream, [{"n": 1}, {"n": 2}])

    mapping = aws.mapping(
        function,
        stream,
        BatchSize=1,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": _missing_topic()}},
    )
    aws.drain(mapping)

    assert aws.batches(function) == [poison, [good[0]], [good[1]]]
    counters = aws.counters(mapping)
    assert counters["on_failure_delivery_errors"] == 1
    assert counters.get("on_failure_records", 0) == 0
    assert aws.counters(function=function)["destination_delivery_failures"] == 1
    assert _failures(aws, function) == 1


def test_a_delivered_on_failure_record_publishes_no_failure(aws: Aws) -> None:
    """GIVEN the same mapping with a queue that exists WHEN a poison record is discarded THEN
    the record reaches the queue and no DestinationDeliveryFailures datapoint exists."""
    function = aws.function(mode="fail-on-poison")
    stream = aws.stream()
    queue_url, queue_arn = aws.queue("on-failure")
    aws.put(stream, [{"poison": True}])

    mapping = aws.mapping(
        function,
        stream,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    aws.drain(mapping)

    assert len(aws.messages(queue_url, expect=1)) == 1
    assert _failures(aws, function) == 0


def test_an_async_on_failure_destination_that_is_gone_publishes_the_metric(aws: Aws) -> None:
    """GIVEN an asynchronously invoked function that fails, no retries, and an on-failure
    destination topic that does not exist WHEN it is invoked THEN one DestinationDeliveryFailures
    datapoint exists for it."""
    function = aws.function(mode="fail-always")
    aws.configure_async(
        function,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": _missing_topic()}},
    )

    aws.awslambda.invoke(FunctionName=function, InvocationType="Event", Payload=b"{}")
    aws.drain()

    deadline = time.monotonic() + 5
    while _failures(aws, function) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _failures(aws, function) == 1
    assert aws.counters(function=function)["async_record_delivery_errors"] == 1
