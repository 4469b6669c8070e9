"""Kinesis event source mapping semantics of the local runtime, one AWS rule per test.

Each docstring quotes the AWS documentation sentence the test holds the runtime to.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from local_runtime_harness import ACCOUNT, REGION, Aws, RuntimeProcess, decode, unique

ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _wait_invocations(aws: Aws, function: str, count: int, timeout: float = 10) -> list[Any]:
    deadline = time.monotonic() + timeout
    while len(aws.invocations(function)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return aws.invocations(function)


# --------------------------------------------------------------------------- event shape


def test_kinesis_event_has_the_records_and_context_lambda_delivers(aws: Aws) -> None:
    """AWS (with-kinesis): "Lambda reads records from the data stream and invokes your function
    synchronously with an event that contains stream records."

    GIVEN a mapping from a stream to the probe function
    WHEN one record is put
    THEN the handler gets exactly Lambda's Kinesis record shape, and a context object.
    """
    function = aws.function(environment={"COLOR": "blue"})
    stream = aws.stream()
    mapping = aws.mapping(function, stream)
    (sequence,) = aws.put(stream, [{"hello": "world"}], partition_key="user-7")

    aws.drain(mapping)

    (invocation,) = aws.invocations(function)
    (record,) = invocation["event"]["Records"]
    arrival = record["kinesis"].pop("approximateArrivalTimestamp")
    assert isinstance(arrival, float)
    assert abs(arrival - time.time()) < 60
    assert record == {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "user-7",
            "sequenceNumber": sequence,
            "data": "eyJoZWxsbyI6ICJ3b3JsZCJ9",
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": aws.role,
        "awsRegion": REGION,
        "eventSourceARN": stream,
    }
    context = invocation["context"]
    assert context["function_name"] == function
    assert context["memory_limit_in_mb"] == "256"
    assert context["invoked_function_arn"] == (
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"
    )
    assert 0 < context["remaining_ms"] <= 10_000
    assert invocation["environment"]["COLOR"] == "blue"
    assert invocation["environment"]["AWS_ENDPOINT_URL"] == aws.runtime.endpoint
    assert invocation["environment"]["AWS_REGION"] == REGION


# --------------------------------------------------------------------------- starting position


def test_trim_horizon_starts_at_the_oldest_record(aws: Aws) -> None:
    """AWS (StartingPosition): "TRIM_HORIZON - Start reading at the last untrimmed record in the
    shard in the system, which is the oldest data record in the shard."

    GIVEN records put before the mapping exists
    WHEN a TRIM_HORIZON mapping is created
    THEN they are all delivered, in order.
    """
    function = aws.function()
    stream = aws.stream()
    sequences = aws.put(stream, [{"n": n} for n in range(3)])

    mapping = aws.mapping(function, stream, StartingPosition="TRIM_HORIZON")
    aws.drain(mapping)

    assert [n for batch in aws.batches(function) for n in batch] == sequences


def test_a_reader_at_the_tip_polls_again_only_once_a_record_is_written(aws: Aws) -> None:
    """Not an AWS rule: Lambda polls each shard about once a second; the runtime, which sees
    every write, polls a shard whose tip it reached only after the next one (or after 5 s).

    GIVEN a mapping that read its shard to the tip (poll interval 0.05 s)
    WHEN nothing is written for 1.5 s
    THEN its reader made at most a few GetRecords calls, not one per interval,
    AND a record put afterwards is still delivered.
    """
    function = aws.function()
    stream = aws.stream()
    mapping = aws.mapping(function, stream, StartingPosition="TRIM_HORIZON")
    aws.drain(mapping)
    before = aws.counters(mapping=mapping).get("get_records", 0)

    time.sleep(1.5)
    sequences = aws.put(stream, [{"n": 1}])
    aws.drain(mapping)

    # The state the counters come from is written periodically: allow for a couple of calls
    # around the drains; polling every interval would have made about 30.
    assert aws.counters(mapping=mapping)["get_records"] - before <= 4
    assert aws.batches(function) == [sequences]


def test_latest_starts_after_the_records_already_in_the_shard(aws: Aws) -> None:
    """AWS (StartingPosition): "LATEST - Start reading just after the most recent record in the
    shard, so that you always read the most recent data in the shard."

    GIVEN a record put before a LATEST mapping is created
    WHEN another record is put after it
    THEN only the later record is delivered.
    """
    function = aws.function()
    stream = aws.stream()
    aws.put(stream, [{"when": "before"}])
    mapping = aws.mapping(function, stream, StartingPosition="LATEST")
    after = aws.put(stream, [{"when": "after"}])

    aws.drain(mapping)

    assert aws.batches(function) == [after]


def test_at_timestamp_starts_at_the_first_record_put_from_then_on(aws: Aws) -> None:
    """AWS (StartingPosition): "AT_TIMESTAMP - Start reading from a position defined by a time
    stamp."

    GIVEN a record put before a moment and one after it
    WHEN an AT_TIMESTAMP mapping starts at that moment
    THEN only the record put after the moment is delivered.
    """
    function = aws.function()
    stream = aws.stream()
    aws.put(stream, [{"when": "before"}])
    time.sleep(0.3)
    moment = datetime.now(UTC)
    time.sleep(0.3)
    after = aws.put(stream, [{"when": "after"}])

    mapping = aws.mapping(
        function, stream, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=moment
    )
    aws.drain(mapping)

    assert aws.batches(function) == [after]


# --------------------------------------------------------------------------- batching


def test_batch_size_caps_the_records_of_each_invocation(aws: Aws) -> None:
    """AWS (BatchSize): "The maximum number of records in each batch that Lambda pulls from
    your stream or queue and sends to your function."

    GIVEN seven records and BatchSize 3
    WHEN the mapping reads them
    THEN the function gets batches of 3, 3 and 1, in stream order.
    """
    function = aws.function()
    stream = aws.stream()
    sequences = aws.put(stream, [{"n": n} for n in range(7)])

    mapping = aws.mapping(function, stream, BatchSize=3)
    aws.drain(mapping)

    assert aws.batches(function) == [sequences[0:3], sequences[3:6], sequences[6:]]


def test_batching_window_gathers_records_put_one_by_one_into_one_batch(aws: Aws) -> None:
    """AWS (MaximumBatchingWindowInSeconds): "The maximum amount of time, in seconds, that
    Lambda spends gathering records before invoking the function."

    GIVEN a mapping with a 1 s batching window and a large batch size
    WHEN five records are put one call at a time
    THEN a single invocation carries all five.
    """
    function = aws.function()
    stream = aws.stream()
    mapping = aws.mapping(function, stream, BatchSize=100, MaximumBatchingWindowInSeconds=1)
    aws.wait_for(lambda state: mapping in state["mappings"])
    sequences = [aws.put(stream, [{"n": n}])[0] for n in range(5)]

    aws.drain(mapping)

    assert aws.batches(function) == [sequences]


# --------------------------------------------------------------------------- parallelization


def test_parallelization_factor_runs_lanes_concurrently_keeping_partition_key_order(
    aws: Aws,
) -> None:
    """AWS (with-kinesis): "Lambda can process up to 10 batches in each shard simultaneously.
    If you increase the number of concurrent batches per shard, Lambda still ensures in-order
    processing at the partition-key level."

    GIVEN ParallelizationFactor 3 and records of six partition keys in one shard
    WHEN the handler waits until two of its invocations are in flight together (a rendezvous,
    not a sleep: it holds under any load)
    THEN batches run concurrently, every batch holds records of one lane in stream order, and
    each partition key's records are delivered in the order they were put.
    """
    function = aws.function(environment={"PROBE_RENDEZVOUS": "2"})
    stream = aws.stream()
    put: dict[str, list[str]] = {}
    for round_ in range(3):
        for key in ("a", "b", "c", "d", "e", "f"):
            put.setdefault(key, []).extend(
                aws.put(stream, [{"k": key, "r": round_}], partition_key=key)
            )

    mapping = aws.mapping(function, stream, BatchSize=3, ParallelizationFactor=3)
    aws.drain(mapping)

    invocations = sorted(aws.invocations(function), key=lambda entry: entry["started"])
    delivered: dict[str, list[str]] = {}
    for entry in invocations:
        numbers = [int(n) for n in entry["sequence_numbers"]]
        assert numbers == sorted(numbers)
        for key, number in zip(entry["partition_keys"], entry["sequence_numbers"], strict=True):
            delivered.setdefault(key, []).append(number)
    assert delivered == put
    overlapping = any(
        later["started"] < earlier["finished"] for earlier, later in itertools.pairwise(invocations)
    )
    assert overlapping, "no two batches of the shard ran at the same time"
    for key in put:  # one lane per key: its batches never run at the same time
        holding = [entry for entry in invocations if key in entry["partition_keys"]]
        assert all(
            later["started"] >= earlier["finished"]
            for earlier, later in itertools.pairwise(holding)
        )


# --------------------------------------------------------------------------- partial batch response


def test_report_batch_item_failures_retries_from_the_lowest_failed_sequence_number(
    aws: Aws,
) -> None:
    """AWS (services-kinesis-batchfailurereporting): "If the batchItemFailures array contains
    multiple items, Lambda uses the record with the lowest sequence number as the checkpoint.
    Lambda then retries all records starting from that checkpoint."

    GIVEN a batch of five whose 2nd and 4th records are reported failed once
    WHEN the function returns its batchItemFailures
    THEN the retry starts at the 2nd record and carries every record after it.
    """
    function = aws.function(mode="report-flaky")
    stream = aws.stream()
    sequences = aws.put(
        stream, [{"n": 0}, {"n": 1, "fail_times": 1}, {"n": 2}, {"n": 3, "fail_times": 1}, {"n": 4}]
    )

    mapping = aws.mapping(
        function,
        stream,
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=3,
    )
    aws.drain(mapping)

    assert aws.batches(function) == [sequences, sequences[1:]]
    counters = aws.counters(mapping)
    assert counters["partial_batch_failures"] == 1
    assert counters["retries"] == 1


@pytest.mark.parametrize(
    "failure",
    [{"itemIdentifier": ""}, {"itemIdentifier": None}, {"itemIdentifier": "999999"}, {}],
    ids=["empty", "null", "not-in-batch", "missing"],
)
def test_an_invalid_item_identifier_fails_the_whole_batch(
    aws: Aws, failure: dict[str, Any]
) -> None:
    """AWS (services-kinesis-batchfailurereporting): Lambda treats a batch as a complete failure
    when the response holds "an empty string itemIdentifier", "a null itemIdentifier" or "an
    itemIdentifier with a bad key name".

    GIVEN a function that always answers with an unusable batchItemFailures entry
    WHEN the mapping allows one retry
    THEN the whole batch is delivered twice, then discarded to the on-failure destination.
    """
    function = aws.function(
        mode="respond", environment={"PROBE_RESPONSE": json.dumps({"batchItemFailures": [failure]})}
    )
    stream = aws.stream()
    queue_url, queue_arn = aws.queue("on-failure")
    sequences = aws.put(stream, [{"n": n} for n in range(3)])

    mapping = aws.mapping(
        function,
        stream,
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    aws.drain(mapping)

    assert aws.batches(function) == [sequences, sequences]
    (record,) = aws.messages(queue_url, expect=1)
    assert record["KinesisBatchInfo"]["batchSize"] == 3
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    # The function succeeded: AWS keeps functionError, null (tests/data/aws_recorded).
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": None,
    }


@pytest.mark.parametrize("response", [{"batchItemFailures": []}, {"batchItemFailures": None}, None])
def test_an_empty_batch_item_failures_list_is_a_success(aws: Aws, response: Any) -> None:
    """AWS (services-kinesis-batchfailurereporting): "Lambda treats a batch as a complete success
    if your function returns any of the following: An empty batchItemFailure list; A null
    batchItemFailure list; An empty EventResponse; A null EventResponse".

    GIVEN ReportBatchItemFailures and a function answering with nothing failed
    WHEN a batch is delivered
    THEN it is not retried.
    """
    function = aws.function(mode="respond", environment={"PROBE_RESPONSE": json.dumps(response)})
    stream = aws.stream()
    sequences = aws.put(stream, [{"n": 1}, {"n": 2}])

    mapping = aws.mapping(
        function,
        stream,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    aws.drain(mapping)

    assert aws.batches(function) == [sequences]
    assert "retries" not in aws.counters(mapping)


def test_batch_item_failures_are_ignored_without_report_batch_item_failures(aws: Aws) -> None:
    """AWS (services-kinesis-batchfailurereporting): "Even when your function code returns
    partial batch failure responses, these responses will not be processed by Lambda unless the
    ReportBatchItemFailures feature is explicitly turned on for your event source mapping."

    GIVEN a mapping without FunctionResponseTypes
    WHEN the function reports a failed record
    THEN the batch counts as a success.
    """
    function = aws.function(mode="report-flaky")
    stream = aws.stream()
    sequences = aws.put(stream, [{"n": 1, "fail_times": 5}])

    mapping = aws.mapping(function, stream)
    aws.drain(mapping)

    assert aws.batches(function) == [sequences]


# --------------------------------------------------------------------------- errors and retries


def test_bisect_isolates_the_poison_record_without_consuming_retries(aws: Aws) -> None:
    """AWS (kinesis-on-failure-destination): "For function errors, you can also configure
    BisectBatchOnFunctionError, which splits a failed batch into two smaller batches, isolating
    bad records and avoiding timeouts. Splitting batches doesn't consume the retry quota."

    GIVEN a batch of four whose last record always makes the function fail, and no retries
    WHEN the mapping bisects on function error
    THEN the halves are retried in order until the poison record is alone, and only that record
    reaches the on-failure destination.
    """
    function = aws.function(mode="fail-on-poison")
    stream = aws.stream()
    queue_url, queue_arn = aws.queue("on-failure")
    s = aws.put(stream, [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3, "poison": True}])

    mapping = aws.mapping(
        function,
        stream,
        BatchSize=4,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    aws.drain(mapping)

    assert aws.batches(function) == [s, s[:2], s[2:], s[2:3], s[3:]]
    (record,) = aws.messages(queue_url, expect=1)
    info = record["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        s[3],
        s[3],
        1,
    )
    assert record["requestContext"]["approximateInvokeCount"] == 3
    counters = aws.counters(mapping)
    assert counters["bisects"] == 2
    assert "retries" not in counters


def test_maximum_retry_attempts_then_the_on_failure_record(aws: Aws) -> None:
    """AWS (UpdateEventSourceMapping): "MaximumRetryAttempts - Discard records after the
    specified number of retries." and (kinesis-on-failure-destination): "Each record sent to
    the destination is a JSON document with metadata about the failed invocation."

    GIVEN a function that always fails and MaximumRetryAttempts 2
    WHEN a batch of two is delivered
    THEN it is invoked three times, then one on-failure record in AWS's exact shape goes to SQS.
    """
    function = aws.function(mode="fail-always")
    stream = aws.stream()
    queue_url, queue_arn = aws.queue("on-failure")
    sequences = aws.put(stream, [{"n": 1}, {"n": 2}])

    mapping = aws.mapping(
        function,
        stream,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    aws.drain(mapping)

    assert aws.batches(function) == [sequences] * 3
    (record,) = aws.messages(queue_url, expect=1)
    assert list(record) == [
        "requestContext",
        "responseContext",
        "version",
        "timestamp",
        "KinesisBatchInfo",
    ]
    request = record["requestContext"]
    assert request["functionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"
    assert request["condition"] == "RetryAttemptsExhausted"
    assert request["approximateInvokeCount"] == 3
    assert request["requestId"] == aws.invocations(function)[-1]["request_id"]
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["version"] == "1.0"
    assert ISO_MILLIS.match(record["timestamp"])
    info = record["KinesisBatchInfo"]
    assert ISO_MILLIS.match(info.pop("approximateArrivalOfFirstRecord"))
    assert ISO_MILLIS.match(info.pop("approximateArrivalOfLastRecord"))
    assert info == {
        "shardId": "shardId-000000000000",
        "startSequenceNumber": sequences[0],
        "endSequenceNumber": sequences[1],
        "batchSize": 2,
        "streamArn": stream,
    }
    assert aws.counters(mapping)["retries"] == 2


def test_infinite_retries_retry_until_the_function_succeeds(aws: Aws) -> None:
    """AWS (services-kinesis-parameters): "MaximumRetryAttempts ... -1 means infinite: failed
    records are retried until the record expires".

    GIVEN MaximumRetryAttempts -1 and a function whose first three invocations fail
    WHEN a batch is delivered
    THEN it is retried until the fourth invocation succeeds; nothing is discarded.
    """
    function = aws.function()
    aws.runtime.write_faults({function: ["raise-on-invocation:1,2,3"]})
    stream = aws.stream()
    queue_url, queue_arn = aws.queue("on-failure")
    aws.put(stream, [{"n": 1}])

    mapping = aws.mapping(
        function,
        stream,
        MaximumRetryAttempts=-1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    aws.drain(mapping)

    assert aws.counters(function=function)["invocations"] == 4
    assert len(aws.invocations(function)) == 1  # the injected failures never ran the handler
    assert aws.queue_is_empty(queue_url)


def test_maximum_record_age_discards_older_records_to_the_destination(aws: Aws) -> None:
    """AWS (CreateEventSourceMapping): "MaximumRecordAgeInSeconds - Discard records older than
    the specified age."; the on-failure record leaves out responseContext when the function
    was never invoked (condition RecordAgeExceeded, approximateInvokeCount 1).

    GIVEN records older than the mapping's MaximumRecordAgeInSeconds (1 s here; AWS requires
    at least 60, the runtime honours what is configured)
    WHEN the mapping reads them
    THEN the function is not invoked and a RecordAgeExceeded record reaches the destination.
    """
    function = aws.function()
    stream = aws.stream()
    queue_url, queue_arn = aws.queue("on-failure")
    sequences = aws.put(stream, [{"n": 1}, {"n": 2}])
    time.sleep(1.2)

    mapping = aws.mapping(
        function,
        stream,
        MaximumRecordAgeInSeconds=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    aws.drain(mapping)

    assert aws.invocations(function) == []
    (record,) = aws.messages(queue_url, expect=1)
    assert "responseContext" not in record
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    # AWS counts the attempt that found the batch too old (AWS-recorded: 1, never invoked).
    assert record["requestContext"]["approximateInvokeCount"] == 1
    info = record["KinesisBatchInfo"]
    assert [info["startSequenceNumber"], info["endSequenceNumber"]] == sequences


def test_a_timeout_is_a_function_error(aws: Aws) -> None:
    """AWS (invocation-async-error-handling): "Function errors include errors returned by the
    function's code and errors returned by the function's runtime, such as timeouts."

    GIVEN a function with a 1 s timeout whose first invocation takes 5 s
    WHEN a batch is delivered with one retry allowed
    THEN the first invocation times out (its worker is replaced) and the retry succeeds.
    """
    function = aws.function(mode="sleep-once", timeout=1, environment={"PROBE_SLEEP": "5"})
    stream = aws.stream()
    sequences = aws.put(stream, [{"n": 1}])

    mapping = aws.mapping(function, stream, MaximumRetryAttempts=1)
    aws.drain(mapping)

    assert aws.batches(function) == [sequences]  # the timed-out run never finished
    counters = aws.counters(function=function)
    assert counters["timeouts"] == 1
    assert counters["invocations"] == 2


def test_a_worker_crash_mid_batch_is_a_function_error_and_the_batch_is_retried(
    aws: Aws,
) -> None:
    """AWS (with-kinesis): stream mappings deliver at least once -- an invocation that fails
    after its side effects (here: the runtime process exits) is retried with the same records.

    GIVEN the fault crash-once-per-batch (the worker exits after the handler ran)
    WHEN a batch is delivered
    THEN the handler runs twice on the same records and nothing is discarded.
    """
    function = aws.function()
    aws.runtime.write_faults({function: ["crash-once-per-batch"]})
    stream = aws.stream()
    sequences = aws.put(stream, [{"n": 1}, {"n": 2}])

    mapping = aws.mapping(function, stream, MaximumRetryAttempts=2)
    aws.drain(mapping)

    assert aws.batches(function) == [sequences, sequences]
    counters = aws.counters(function=function)
    assert counters["worker_crashes"] == 1
    assert counters["worker_starts"] == 2


# --------------------------------------------------------------------------- destinations


def test_on_failure_record_to_an_sns_topic(aws: Aws) -> None:
    """AWS (kinesis-on-failure-destination): "You can configure any Amazon SNS topic, Amazon SQS
    queue, Amazon S3 bucket, or Kafka as a destination."

    GIVEN an SNS topic as on-failure destination (an SQS queue subscribed to read it)
    WHEN a batch exhausts its retries
    THEN the on-failure record is published to the topic.
    """
    function = aws.function(mode="fail-always")
    stream = aws.stream()
    topic = aws.topic("on-failure")
    queue_url, queue_arn = aws.queue("topic-reader")
    aws.sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    sequences = aws.put(stream, [{"n": 1}])

    mapping = aws.mapping(
        function,
        stream,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": topic}},
    )
    aws.drain(mapping)

    (record,) = aws.messages(queue_url, expect=1)
    assert record["KinesisBatchInfo"]["startSequenceNumber"] == sequences[0]
    assert aws.counters(mapping)["on_failure_records"] == 1


def test_on_failure_record_to_an_s3_bucket_holds_the_records(aws: Aws) -> None:
    """AWS (kinesis-on-failure-destination): "For Amazon S3 destinations, Lambda also sends the
    entire invocation record along with the metadata." The object key is
    "aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>".

    GIVEN an S3 bucket as on-failure destination
    WHEN a batch exhausts its retries
    THEN one object, under AWS's key layout, holds the record plus the invocation's payload.
    """
    function = aws.function(mode="fail-always")
    stream = aws.stream()
    bucket = unique("on-failure")
    aws.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    aws.put(stream, [{"n": 1}, {"n": 2}])

    mapping = aws.mapping(
        function,
        stream,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": f"arn:aws:s3:::{bucket}"}},
    )
    aws.drain(mapping)

    (item,) = aws.s3.list_objects_v2(Bucket=bucket)["Contents"]
    pattern = (
        rf"^aws/lambda/{mapping}/shardId-000000000000/\d{{4}}/\d\d/\d\d/"
        r"\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d-[0-9a-f-]{36}$"
    )
    assert re.match(pattern, item["Key"])
    body = json.loads(aws.s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert [decode(record) for record in body["payload"]["Records"]] == [{"n": 1}, {"n": 2}]


# --------------------------------------------------------------------------- filtering


def test_filter_criteria_drop_records_that_match_no_pattern(aws: Aws) -> None:
    """AWS (invocation-eventfiltering): "If a record from your event source satisfies one or
    more of your filters, Lambda includes the record in the next event it sends to your
    function. If none of your filters are satisfied, Lambda discards the record." and
    (with-kinesis-filtering): "As long as the data the producer puts into the stream is valid
    JSON, you can use event filtering to filter records using the data key."

    GIVEN two OR-ed patterns on the decoded data (exact value; prefix + numeric)
    WHEN matching, non-matching and non-JSON records are put
    THEN only the matching records are delivered; the others are consumed, not delivered.
    """
    function = aws.function()
    stream = aws.stream()
    patterns = [
        {"data": {"type": ["buy"]}},
        {"data": {"sku": [{"prefix": "P-"}], "quantity": [{"numeric": [">", 10]}]}},
    ]
    aws.put(
        stream,
        [
            {"type": "buy"},
            {"type": "sell"},
            {"sku": "P-1", "quantity": 11},
            {"sku": "P-2", "quantity": 3},
            {"sku": "X-1", "quantity": 50},
            b"not json at all",
            {"type": "buy", "extra": True},
        ],
    )

    mapping = aws.mapping(
        function,
        stream,
        FilterCriteria={"Filters": [{"Pattern": json.dumps(p)} for p in patterns]},
    )
    aws.drain(mapping)

    delivered = [payload for entry in aws.invocations(function) for payload in entry["payloads"]]
    assert delivered == [
        {"type": "buy"},
        {"sku": "P-1", "quantity": 11},
        {"type": "buy", "extra": True},
    ]
    assert aws.counters(mapping)["records_filtered_out"] == 4


def test_an_invalid_filter_pattern_is_not_run_and_is_reported(aws: Aws) -> None:
    """AWS (invocation-eventfiltering): "A pattern is a string representation of a JSON filter
    rule." -- Lambda refuses a mapping whose pattern is not one; the runtime keeps it stopped
    (no record consumed, none lost) and says why in its state.

    GIVEN a mapping whose pattern uses an unknown operator
    WHEN the runtime reads its configuration
    THEN the mapping is reported Invalid with the reason, and nothing is delivered.
    """
    function = aws.function()
    stream = aws.stream()
    aws.put(stream, [{"n": 1}])
    pattern = json.dumps({"data": {"n": [{"regex": ".*"}]}})

    mapping = aws.mapping(function, stream, FilterCriteria={"Filters": [{"Pattern": pattern}]})
    state = aws.wait_for(lambda s: s["mappings"].get(mapping, {}).get("state") == "Invalid")

    assert "unsupported rule" in state["mappings"][mapping]["error"]
    assert aws.invocations(function) == []
    aws.awslambda.delete_event_source_mapping(UUID=mapping)
    aws.drain()


# --------------------------------------------------------------------------- sources


def test_an_efo_consumer_mapping_reads_the_consumers_stream(aws: Aws) -> None:
    """AWS (services-kinesis-parameters): "EventSourceArn ... ARN of the data stream or a stream
    consumer".

    GIVEN a mapping whose source is an enhanced fan-out consumer of the stream
    WHEN records are put on the stream
    THEN they are delivered, with the stream as eventSourceARN.
    """
    function = aws.function()
    stream = aws.stream()
    consumer = aws.kinesis.register_stream_consumer(StreamARN=stream, ConsumerName="efo")
    sequences = aws.put(stream, [{"n": 1}])

    mapping = aws.mapping(function, consumer["Consumer"]["ConsumerARN"])
    aws.drain(mapping)

    (invocation,) = aws.invocations(function)
    assert invocation["sequence_numbers"] == sequences
    assert invocation["event"]["Records"][0]["eventSourceARN"] == stream


def test_a_second_mapping_of_the_same_function_and_stream_is_refused(aws: Aws) -> None:
    """AWS: a CreateEventSourceMapping for a function and stream that already have one is a
    ResourceConflictException (an SDK retry of a create that succeeded must not double every
    delivery).

    GIVEN a mapping of a function on a stream
    WHEN a second one is created for the same pair, then one for another function
    THEN the second is refused, naming the existing mapping; the other function's is created.
    """
    function, other = aws.function(), aws.function()
    stream = aws.stream()
    first = aws.mapping(function, stream)

    with pytest.raises(ClientError) as refused:
        aws.mapping(function, stream)
    second = aws.mapping(other, stream)

    assert refused.value.response["Error"]["Code"] == "ResourceConflictException"
    assert first in refused.value.response["Error"]["Message"]
    assert second != first


def test_puts_with_a_mapping_present_never_reach_motos_docker_path(
    aws: Aws, runtime: RuntimeProcess
) -> None:
    """moto runs the function through Docker once per put record when a mapping exists; the
    runtime takes that path over, so puts are plain writes and every record is delivered once.

    GIVEN a mapping on a stream
    WHEN 300 records are put
    THEN they arrive in batches of the mapping's size and moto logged no Lambda execution.
    """
    function = aws.function()
    stream = aws.stream()
    mapping = aws.mapping(function, stream, BatchSize=100)
    for start in range(0, 300, 100):
        aws.put(stream, [{"n": n} for n in range(start, start + 100)])

    aws.drain(mapping)

    assert sum(len(batch) for batch in aws.batches(function)) == 300
    groups = aws.logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{function}")
    assert groups["logGroups"] == []  # moto writes its Docker attempts there
    assert "docker" not in (runtime.state_dir / "runtime.log").read_text().lower()
