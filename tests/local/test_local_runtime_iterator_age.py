"""``IteratorAge``: what Lambda publishes for every stream batch it invokes a function with (the
age of the batch's last record, milliseconds, dimension ``FunctionName``); `stream-pipeline
rewind` reads it to know its temporary consumer has caught up."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from local_runtime_harness import Aws


def _ages(aws: Aws, function: str) -> list[float]:
    now = datetime.now(UTC)
    statistics = aws.cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="IteratorAge",
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["SampleCount", "Maximum"],
    )
    return [
        point["Maximum"]
        for point in statistics["Datapoints"]
        for _ in range(int(point["SampleCount"]))
    ]


def test_every_stream_batch_publishes_the_age_of_its_last_record(aws: Aws) -> None:
    """GIVEN two records put on a stream, then a wait of a second
    WHEN a mapping with batch size 1 reads them from the start
    THEN one IteratorAge datapoint per batch exists for the function, each at least the wait."""
    function = aws.function()
    stream = aws.stream()
    aws.put(stream, [{"n": 1}, {"n": 2}])
    time.sleep(1.0)

    mapping = aws.mapping(function, stream, BatchSize=1)
    aws.drain(mapping)

    ages = _ages(aws, function)
    assert len(ages) == 2
    assert min(ages) >= 1000
