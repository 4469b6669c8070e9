"""Tumbling windows (``TumblingWindowInSeconds``) in the local runtime, one AWS rule per test.

Each docstring quotes the Lambda developer guide ("Implementing stateful Kinesis Data Streams
processing in Lambda") sentence the test holds the runtime to. Windows are short (2 s) and a
test never depends on where a boundary falls: it groups the invocations by the window the
runtime gave them and checks the rules for each window.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from datetime import datetime
from typing import Any

import pytest
from aws_recorded import differences, sample
from local_runtime_harness import Aws, unique

from stream_pipeline.local.runtime.streams.windows import (
    STATE_LIMIT_BYTES,
    Bounds,
    returned_state,
    state_size,
)

WINDOW_SECONDS = 2
RUN_VALUES = [
    "$.Records[0].kinesis.partitionKey",
    "$.Records[0].kinesis.sequenceNumber",
    "$.Records[0].kinesis.data",
    "$.Records[0].kinesis.approximateArrivalTimestamp",
    "$.Records[0].eventID",
    "$.Records[0].invokeIdentityArn",
    "$.Records[0].awsRegion",
    "$.Records[0].eventSourceARN",
    "$.window.start",
    "$.window.end",
    "$.state",
    "$.shardId",
    "$.eventSourceARN",
    "$.isFinalInvokeForWindow",
]


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _by_window(invocations: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    windows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for invocation in invocations:
        windows[invocation["event"]["window"]["start"]].append(invocation["event"])
    return windows


def _sequences(event: dict[str, Any]) -> list[str]:
    return [record["kinesis"]["sequenceNumber"] for record in event["Records"]]


def _window_mapping(aws: Aws, function: str, stream: str, **settings: Any) -> str:
    return aws.mapping(function, stream, TumblingWindowInSeconds=WINDOW_SECONDS, **settings)


# --------------------------------------------------------------------------- units


def test_windows_are_aligned_on_multiples_of_their_length() -> None:
    """AWS: "Tumbling windows are distinct time windows that open and close at regular
    intervals."

    GIVEN arrival times WHEN their window is computed THEN it starts at a multiple of the window
    length at or before the arrival, lasts the length, and prints in whole seconds."""
    bounds = Bounds.of(1607497475.5, 120)
    assert (bounds.start, bounds.end) == (1607497440, 1607497560)
    assert bounds.as_event() == {"start": "2020-12-09T07:04:00Z", "end": "2020-12-09T07:06:00Z"}
    assert Bounds.of(1607497560.0, 120).start == 1607497560


def test_a_response_must_hold_a_state() -> None:
    """AWS: "If the response does not contain a state property, Lambda considers this a failed
    invocation."

    GIVEN responses WHEN read THEN only those with a ``state`` key carry one."""
    assert returned_state({"state": {"a": 1}, "batchItemFailures": []}) == (True, {"a": 1})
    assert returned_state({"state": None}) == (True, {})
    assert returned_state({"batchItemFailures": []}) == (False, None)
    assert returned_state(None) == (False, None)
    assert state_size({"pad": "x" * STATE_LIMIT_BYTES}) > STATE_LIMIT_BYTES


# --------------------------------------------------------------------------- mapping semantics


def test_state_is_carried_between_the_invocations_of_a_window_and_the_last_is_final(
    aws: Aws,
) -> None:
    """AWS: "Each invocation receives a state." "At the end of the window, the flag
    isFinalInvokeForWindow is set to true." "Lambda determines tumbling window boundaries based
    on the time when records were inserted into the stream."

    GIVEN a 2 s tumbling window mapping with BatchSize 2 on the window probe
    WHEN 7 records are put
    THEN each invocation's records arrived within its window, the window is aligned, the first
    invocation of a window gets {} and each next one the state the previous one returned, exactly
    one invocation per window is final (the last), and the final invocation's state plus its
    records are every record of the window, in order, once;
    AND the event has the developer guide's shape (KinesisTimeWindowEvent).
    """
    function = aws.function(mode="window")
    stream = aws.stream()
    mapping = _window_mapping(aws, function, stream, BatchSize=2)

    sequences = aws.put(stream, [{"n": n} for n in range(7)])
    aws.drain(mapping)

    windows = _by_window(aws.invocations(function))
    assert windows
    seen: list[str] = []
    for start, events in windows.items():
        end = events[0]["window"]["end"]
        assert _epoch(start) % WINDOW_SECONDS == 0
        assert _epoch(end) - _epoch(start) == WINDOW_SECONDS
        folded: list[str] = []
        for index, event in enumerate(events):
            assert event["window"] == {"start": start, "end": end}
            assert event["shardId"] == "shardId-000000000000"
            assert event["eventSourceARN"] == stream
            assert event["isWindowTerminatedEarly"] is False
            assert event["isFinalInvokeForWindow"] is (index == len(events) - 1)
            assert event["state"] == ({} if index == 0 else {"sequences": folded})
            for record in event["Records"]:
                arrival = record["kinesis"]["approximateArrivalTimestamp"]
                assert _epoch(start) <= arrival < _epoch(end)
            folded = folded + _sequences(event)
        seen += folded
    assert seen == sequences
    with_records = next(e for es in windows.values() for e in es if e["Records"])
    first = {**with_records, "Records": with_records["Records"][:1]}
    found = differences(sample("lambda_guide_kinesis_time_window_event"), first, loose=RUN_VALUES)
    assert found == [], "\n".join(found)
    counters = aws.counters(mapping=mapping)
    assert counters["windows_closed"] == len(windows)


@pytest.mark.parametrize("failure", ["raise", "raise-bisect", "report"])
def test_a_failed_record_is_retried_with_the_state_of_the_records_before_it(
    aws: Aws, failure: str
) -> None:
    """AWS: "Tumbling windows fully support the existing retry policies maxRetryAttempts and
    maxRecordAge." (and partial batch responses: the response shape holds both ``state`` and
    ``batchItemFailures``).

    GIVEN a window mapping whose function fails once on the third record (raising, raising
    with BisectBatchOnFunctionError, or reporting it in batchItemFailures with the state of the
    two records before it)
    WHEN five records are put
    THEN the retry (or each bisected half, in order) gets the state of the last successful
    invocation, and the window's final state holds every record once, in order.
    """
    function = aws.function(mode="window", environment={"PROBE_WINDOW_FAILURE": failure})
    stream = aws.stream()
    settings: dict[str, Any] = {"BatchSize": 10, "MaximumRetryAttempts": 3}
    if failure == "report":
        settings["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
    if failure == "raise-bisect":
        settings["BisectBatchOnFunctionError"] = True
    mapping = _window_mapping(aws, function, stream, **settings)

    payloads: list[dict[str, Any]] = [{"n": n} for n in range(5)]
    payloads[2]["fail_times"] = 1
    sequences = aws.put(stream, payloads)
    aws.drain(mapping)

    invocations = aws.invocations(function)
    finals = [i["event"] for i in invocations if i["event"]["isFinalInvokeForWindow"]]
    folded = []
    for event in finals:
        folded += event["state"].get("sequences", []) + _sequences(event)
    assert folded == sequences
    counters = aws.counters(mapping=mapping)
    if failure == "raise-bisect":
        assert counters["bisects"] >= 1
    else:
        assert counters["retries"] >= 1


def test_a_response_without_state_is_a_failed_invocation_and_the_window_waits(
    aws: Aws,
) -> None:
    """AWS: "If the response does not contain a state property, Lambda considers this a failed
    invocation." "If invocation is unsuccessful, your Lambda function suspends further
    processing until a successful invocation."

    GIVEN a window mapping (1 retry, an SQS on-failure destination) whose function never
    answers with a state
    WHEN a record is put
    THEN its invocations count as failed: the record goes to the destination after its retry
    (RetryAttemptsExhausted), and the window's final invocation is retried, not skipped: the
    mapping does not report itself drained.
    """
    function = aws.function(mode="window-no-state")
    stream = aws.stream()
    queue_url, queue_arn = aws.queue()
    mapping = _window_mapping(
        aws,
        function,
        stream,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    aws.put(stream, [{"n": 1}])

    (record,) = aws.messages(queue_url, expect=1, timeout=20)
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    state = aws.wait_for(
        lambda s: (
            s["counters"]["mappings"].get(mapping, {}).get("window_invocation_retries", 0) >= 1
        )
    )
    assert state["mappings"][mapping]["drained"] is False
    assert state["counters"]["mappings"][mapping]["window_responses_without_state"] >= 3


def test_a_state_over_1_mb_ends_the_window_early_and_the_window_goes_on_fresh(aws: Aws) -> None:
    """AWS: "Your state can be a maximum of 1 MB per shard. If it exceeds that size, Lambda
    terminates the window early." (aws_lambda_events: isWindowTerminatedEarly "Subsequent invoke
    will continue the same window with a fresh state.")

    GIVEN a window mapping whose function returns a state over 1 MB for a record
    WHEN the record is put
    THEN the next invocation has isWindowTerminatedEarly, no records and that state, and the
    invocation after it (same window) starts from {}.
    """
    function = aws.function(mode="window")
    stream = aws.stream()
    mapping = _window_mapping(aws, function, stream)
    (sequence,) = aws.put(stream, [{"pad": STATE_LIMIT_BYTES + 10}])
    aws.drain(mapping)

    events = [i["event"] for i in aws.invocations(function)]
    big = next(i for i, e in enumerate(events) if e["Records"])
    early = events[big + 1]
    assert early["isWindowTerminatedEarly"] is True
    assert early["Records"] == []
    assert early["state"]["sequences"] == [sequence]
    assert len(early["state"]["pad"]) == STATE_LIMIT_BYTES + 10
    after = events[big + 2]
    assert after["window"] == early["window"]
    assert after["state"] == {}
    assert after["isFinalInvokeForWindow"] is True
    assert aws.counters(mapping=mapping)["windows_terminated_early"] == 1


def test_records_of_one_put_never_share_an_invocation_across_windows(aws: Aws) -> None:
    """AWS: "Each record in a stream belongs to a specific window."

    GIVEN a window mapping with a large batch and a 1 s batching window
    WHEN records are put in two puts separated by a full window
    THEN no invocation mixes records of two windows, and each window ends with its own final
    invocation.
    """
    function = aws.function(mode="window")
    stream = aws.stream()
    mapping = _window_mapping(
        aws, function, stream, BatchSize=100, MaximumBatchingWindowInSeconds=1
    )
    first = aws.put(stream, [{"n": n} for n in range(3)])
    aws.drain(mapping)
    second = aws.put(stream, [{"n": n} for n in range(3, 6)])
    aws.drain(mapping)

    windows = _by_window(aws.invocations(function))
    assert len(windows) >= 2
    for events in windows.values():
        assert [e["isFinalInvokeForWindow"] for e in events].count(True) == 1
    delivered = [s for events in windows.values() for e in events for s in _sequences(e)]
    assert delivered == first + second
    payload = json.loads(
        base64.b64decode(next(iter(windows.values()))[0]["Records"][0]["kinesis"]["data"])
    )
    assert payload == {"n": 0}


def test_a_dynamodb_stream_mapping_has_windows_too(aws: Aws) -> None:
    """AWS ("Implementing stateful DynamoDB stream processing"): the same window properties
    (DynamodbTimeWindowEvent), windows by ApproximateCreationDateTime.

    GIVEN a window mapping on a table's stream
    WHEN three items are written
    THEN the invocations carry the stream's ARN and shard, and the final invocation's state plus
    its records are the three records, once each, in order."""
    function = aws.function(mode="window")
    table = unique("table")
    stream = aws.dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    mapping = _window_mapping(aws, function, stream)
    for key in ("k1", "k2", "k3"):
        aws.dynamodb.put_item(TableName=table, Item={"pk": {"S": key}})
    aws.drain(mapping)

    events = [i["event"] for i in aws.invocations(function)]
    assert {e["eventSourceARN"] for e in events} == {stream}
    assert all(e["shardId"].startswith("shardId-") for e in events)
    folded = []
    for event in (e for e in events if e["isFinalInvokeForWindow"]):
        folded += event["state"].get("sequences", [])
        folded += [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    delivered = [r["dynamodb"]["SequenceNumber"] for e in events for r in e["Records"]]
    assert len(delivered) == 3
    assert folded == delivered
