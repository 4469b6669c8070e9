"""The local runtime's records against AWS-recorded ones (tests/data/aws_recorded), field by
field: keys present or left out, nulls kept, JSON types, precision (whole-second or millisecond
times, float epochs), constants equal; ids, ARNs and times by format.

Each scenario repeats, on the local runtime, the one AWS recorded (same payload, same mapping
settings), so the values that do not vary between runs must be equal too: invoke counts, batch
sizes, data, DynamoDB ``SizeBytes``.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import boto3
import pytest
from aws_recorded import differences, load, sample, source_files
from botocore.config import Config
from local_runtime_harness import ACCOUNT, REGION, Aws, unique

from stream_pipeline.local.runtime import async_invoke, destinations, events
from stream_pipeline.local.runtime.model import AsyncConfig
from stream_pipeline.local.runtime.stats import Stats

# --------------------------------------------------------------------------- helpers

KINESIS_EVENT_VALUES_OF_THE_RUN = [
    "$.kinesis.partitionKey",
    "$.kinesis.sequenceNumber",
    "$.kinesis.data",
    "$.kinesis.approximateArrivalTimestamp",
    "$.eventID",
    "$.invokeIdentityArn",
    "$.awsRegion",
    "$.eventSourceARN",
]


def _put_raw(aws: Aws, stream: str, data: bytes, partition_key: str) -> str:
    response = aws.kinesis.put_record(StreamARN=stream, Data=data, PartitionKey=partition_key)
    return str(response["SequenceNumber"])


def _ddb_table(aws: Aws, key: str, view: str) -> tuple[str, str]:
    name = unique("parity")
    description = aws.dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )["TableDescription"]
    return name, str(description["LatestStreamArn"])


def _reader_of(aws: Aws, topic: str) -> str:
    """An SQS queue subscribed to ``topic`` with raw delivery: it receives the published text."""
    url, arn = aws.queue("topic-reader")
    aws.sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    return url


def assert_matches(recorded: Any, built: Any, *, loose: list[str] | None = None) -> None:
    found = differences(recorded, built, loose=loose or [])
    assert found == [], "\n".join(found)


# --------------------------------------------------------------------------- the samples


def test_every_recorded_sample_names_its_source() -> None:
    """GIVEN the AWS-recorded samples kept as test data WHEN each is read THEN it names the
    repository, commit and path it was copied from (or the AWS document), and holds a sample."""
    files = source_files()
    assert len(files) >= 10
    for path in files:
        data = load(path.stem)
        source = data["_source"]
        assert ("repository" in source and len(source["commit"]) == 40) or "url" in source
        assert data["sample"]


def test_the_comparison_sees_each_kind_of_difference() -> None:
    """The comparison itself: a missing key, an extra key, a dropped null, a float for an
    integer, milliseconds for whole seconds and a changed constant are each reported."""
    recorded = {
        "a": 1,
        "b": None,
        "t": "<timestamp:2022-07-13T13:48:01Z>",
        "c": "RetryAttemptsExhausted",
        "x": "<uuid:1>",
        "y": "<uuid:1>",
    }
    good = {
        "a": 1,
        "b": None,
        "t": "2026-01-01T00:00:00Z",
        "c": "RetryAttemptsExhausted",
        "x": "6f1c2a9e-0000-4000-8000-000000000001",
        "y": "6f1c2a9e-0000-4000-8000-000000000001",
    }
    assert differences(recorded, good) == []
    for change in (
        {"a": 1.0},
        {"t": "2026-01-01T00:00:00.000Z"},
        {"c": "RecordAgeExceeded"},
        {"y": "6f1c2a9e-0000-4000-8000-000000000002"},
        {"extra": True},
    ):
        assert differences(recorded, {**good, **change}), change
    assert differences(recorded, {k: v for k, v in good.items() if k != "b"})


# --------------------------------------------------------------------------- stream records


def test_kinesis_record_matches_the_recorded_one(aws: Aws) -> None:
    """GIVEN a mapping on a stream (AWS recorded: "hello" put with partition key test_0)
    WHEN the same record is delivered by the local runtime
    THEN it matches the recorded record field by field, and the Lambda guide's example by type
    (approximateArrivalTimestamp a float of epoch seconds)."""
    function = aws.function()
    stream = aws.stream()
    _put_raw(aws, stream, b"hello", "test_0")

    mapping = aws.mapping(function, stream)
    aws.drain(mapping)

    (invocation,) = aws.invocations(function)
    (record,) = invocation["event"]["Records"]
    assert_matches(sample("kinesis_esm_event")["Records"][0], record)
    guide = sample("lambda_guide_kinesis_event")["Records"][0]
    assert_matches(guide, record, loose=KINESIS_EVENT_VALUES_OF_THE_RUN)
    assert invocation["event"].keys() == {"Records"}


def test_dynamodb_record_with_a_binary_attribute_matches_the_recorded_one(aws: Aws) -> None:
    """GIVEN a mapping on a NEW_IMAGE stream (AWS recorded: an item with a string key and a
    binary attribute b"foobar")
    WHEN the same item is written and delivered by the local runtime
    THEN the record matches field by field: eventVersion 1.1, ApproximateCreationDateTime a
    float of whole seconds, the binary value base64, SizeBytes 70 as AWS counts it."""
    function = aws.function()
    table, stream = _ddb_table(aws, "my_partition_key", "NEW_IMAGE")
    aws.dynamodb.put_item(
        TableName=table,
        Item={"my_partition_key": {"S": "hello world"}, "binary_key": {"B": b"foobar"}},
    )

    mapping = aws.mapping(function, stream, BatchSize=1)
    aws.drain(mapping)

    (invocation,) = aws.invocations(function)
    assert_matches(sample("dynamodb_esm_event"), invocation["event"])


def test_dynamodb_size_bytes_is_counted_as_dynamodb_counts_it() -> None:
    """GIVEN the Lambda guide's DynamoDB records (number and string attributes; an INSERT and a
    MODIFY with both images) as boto3 returns them WHEN their SizeBytes is computed THEN it is
    the guide's 26 and 59."""
    for record in sample("lambda_guide_dynamodb_event")["Records"]:
        change = record["dynamodb"]
        assert events.stream_record_size(change) == change["SizeBytes"]


# --------------------------------------------------------------------------- on-failure records


@pytest.mark.parametrize("destination", ["sqs", "sns"])
def test_kinesis_on_failure_record_after_retries_matches(aws: Aws, destination: str) -> None:
    """GIVEN a function that always fails, MaximumRetryAttempts 1 and an SQS or SNS on-failure
    destination (as AWS recorded)
    WHEN a record exhausts its retries
    THEN the on-failure record matches: approximateInvokeCount 2, responseContext with
    functionError Unhandled, millisecond times, batch info of one record."""
    function = aws.function(mode="fail-always")
    stream = aws.stream()
    if destination == "sqs":
        reader, target = aws.queue("on-failure")
        recorded = sample("kinesis_on_failure_sqs_retries_exhausted")
    else:
        target = aws.topic("on-failure")
        reader = _reader_of(aws, target)
        recorded = sample("kinesis_on_failure_sns_retries_exhausted")
    _put_raw(aws, stream, b"hello", "test")

    mapping = aws.mapping(
        function,
        stream,
        BatchSize=1,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": target}},
    )
    aws.drain(mapping)

    (record,) = aws.messages(reader, expect=1)
    assert_matches(recorded, record)


def test_kinesis_on_failure_record_after_a_partial_batch_response_keeps_a_null_error(
    aws: Aws,
) -> None:
    """GIVEN ReportBatchItemFailures, a function answering an empty itemIdentifier (the whole
    batch failed) and MaximumRetryAttempts 2 (as AWS recorded)
    WHEN the retries are exhausted
    THEN the record matches: responseContext.functionError is present and null, count 3."""
    function = aws.function(
        mode="respond",
        environment={"PROBE_RESPONSE": json.dumps({"batchItemFailures": [{"itemIdentifier": ""}]})},
    )
    stream = aws.stream()
    queue_url, queue_arn = aws.queue("on-failure")
    _put_raw(aws, stream, b"hello", "test")

    mapping = aws.mapping(
        function,
        stream,
        BatchSize=1,
        MaximumRetryAttempts=2,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    aws.drain(mapping)

    (record,) = aws.messages(queue_url, expect=1)
    assert_matches(sample("kinesis_on_failure_partial_batch_response"), record)


def test_kinesis_batch_expired_before_any_invocation_matches(aws: Aws) -> None:
    """GIVEN a record older than the mapping's maximum record age when the mapping starts
    (AWS recorded it with 60 s; 1 s here, which the runtime honours)
    WHEN the mapping reads it
    THEN the function is never invoked and the record matches AWS's: condition
    RecordAgeExceeded, approximateInvokeCount 1, no responseContext."""
    function = aws.function()
    stream = aws.stream()
    queue_url, queue_arn = aws.queue("on-failure")
    _put_raw(aws, stream, b"stream-data", "test")
    time.sleep(1.2)

    mapping = aws.mapping(
        function,
        stream,
        BatchSize=1,
        MaximumRetryAttempts=0,
        MaximumRecordAgeInSeconds=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    aws.drain(mapping)

    assert aws.invocations(function) == []
    (record,) = aws.messages(queue_url, expect=1)
    assert_matches(sample("kinesis_on_failure_expired_before_invocation"), record)


def test_kinesis_on_failure_object_in_s3_matches(aws: Aws) -> None:
    """GIVEN an S3 on-failure destination, MaximumRetryAttempts 1 and the record AWS recorded
    (partition key custom, the same JSON bytes)
    WHEN its retries are exhausted
    THEN the object matches AWS's: the record plus payload.Records, equal data."""
    function = aws.function(mode="fail-always")
    stream = aws.stream()
    bucket = unique("parity")
    aws.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    recorded = sample("kinesis_on_failure_s3")
    data = base64.b64decode(recorded["payload"]["Records"][0]["kinesis"]["data"])
    _put_raw(aws, stream, data, "custom")

    mapping = aws.mapping(
        function,
        stream,
        BatchSize=1,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": f"arn:aws:s3:::{bucket}"}},
    )
    aws.drain(mapping)

    (item,) = aws.s3.list_objects_v2(Bucket=bucket)["Contents"]
    body = json.loads(aws.s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
    assert_matches(recorded, body)


def _ddb_failing_mapping(
    aws: Aws, function: str, image: dict[str, Any], destination: str, **settings: Any
) -> str:
    table, stream = _ddb_table(aws, "my_partition_key", "NEW_IMAGE")
    aws.dynamodb.put_item(TableName=table, Item=image)
    return aws.mapping(
        function,
        stream,
        BatchSize=1,
        DestinationConfig={"OnFailure": {"Destination": destination}},
        **settings,
    )


HELLO_ITEM = {"my_partition_key": {"S": "hello world"}}


def test_dynamodb_on_failure_record_after_retries_matches(aws: Aws) -> None:
    """GIVEN a DynamoDB stream mapping whose function always fails, MaximumRetryAttempts 1
    WHEN the retries are exhausted
    THEN the record matches AWS's: DDBStreamBatchInfo with whole-second arrival times,
    approximateInvokeCount 2, functionError Unhandled."""
    function = aws.function(mode="fail-always")
    queue_url, queue_arn = aws.queue("on-failure")
    mapping = _ddb_failing_mapping(aws, function, HELLO_ITEM, queue_arn, MaximumRetryAttempts=1)
    aws.drain(mapping)

    (record,) = aws.messages(queue_url, expect=1)
    assert_matches(sample("dynamodb_on_failure_sqs_retries_exhausted"), record)


def test_dynamodb_on_failure_record_after_a_partial_batch_response_matches(aws: Aws) -> None:
    """GIVEN ReportBatchItemFailures, a function answering an empty itemIdentifier and
    MaximumRetryAttempts 3 (as AWS recorded)
    WHEN the retries are exhausted
    THEN the record matches: functionError present and null, approximateInvokeCount 4."""
    function = aws.function(
        mode="respond",
        environment={"PROBE_RESPONSE": json.dumps({"batchItemFailures": [{"itemIdentifier": ""}]})},
    )
    queue_url, queue_arn = aws.queue("on-failure")
    image = {"my_partition_key": {"S": "hello world"}, "binary_key": {"B": b"foobar"}}
    mapping = _ddb_failing_mapping(
        aws,
        function,
        image,
        queue_arn,
        MaximumRetryAttempts=3,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    aws.drain(mapping)

    (record,) = aws.messages(queue_url, expect=1)
    assert_matches(sample("dynamodb_on_failure_partial_batch_response"), record)


def test_dynamodb_on_failure_object_in_s3_matches(aws: Aws) -> None:
    """GIVEN an S3 on-failure destination on a DynamoDB stream mapping, MaximumRetryAttempts 1
    WHEN the item AWS recorded exhausts its retries
    THEN the object matches: the record, and payload.Records with SizeBytes 54."""
    function = aws.function(mode="fail-always")
    bucket = unique("parity")
    aws.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    mapping = _ddb_failing_mapping(
        aws, function, HELLO_ITEM, f"arn:aws:s3:::{bucket}", MaximumRetryAttempts=1
    )
    aws.drain(mapping)

    (item,) = aws.s3.list_objects_v2(Bucket=bucket)["Contents"]
    body = json.loads(aws.s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
    assert_matches(sample("dynamodb_on_failure_s3"), body)


# --------------------------------------------------------------------------- asynchronous


def test_sns_notification_event_matches_the_recorded_one(aws: Aws) -> None:
    """GIVEN a function subscribed to a topic (AWS recorded: the JSON text {"raise_error": 1}
    published without a subject or attributes)
    WHEN the same message is published
    THEN the event matches: Subject null, MessageAttributes empty, the Url spellings of the
    Lambda event (SigningCertUrl, UnsubscribeUrl), the message text unchanged."""
    function = aws.function()
    topic = aws.topic("notifications")
    aws.sns.subscribe(
        TopicArn=topic,
        Protocol="lambda",
        Endpoint=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}",
    )
    recorded = sample("sns_lambda_event")
    text = json.dumps(recorded["Records"][0]["Sns"]["Message"])

    aws.sns.publish(TopicArn=topic, Message=text)
    aws.drain()

    (invocation,) = aws.invocations(function)
    event = invocation["event"]
    notification = event["Records"][0]["Sns"]
    assert notification["Message"] == text
    # LocalStack's snapshot shows the JSON message parsed: compare it parsed too.
    parsed = {**notification, "Message": json.loads(notification["Message"])}
    assert_matches(recorded, {"Records": [{**event["Records"][0], "Sns": parsed}]})


ERROR_PAYLOAD_OF_THE_RUN = [
    "$.responsePayload.errorMessage",
    "$.responsePayload.errorType",
    "$.responsePayload.stackTrace",
]


def _invoke_async(aws: Aws, function: str, payload: Any) -> None:
    aws.awslambda.invoke(
        FunctionName=function, InvocationType="Event", Payload=json.dumps(payload).encode()
    )


def test_async_record_after_retries_matches(aws: Aws) -> None:
    """GIVEN a function that always fails and an SQS on-failure destination (default retries)
    WHEN it is invoked asynchronously with the payload AWS recorded
    THEN the record matches: $LATEST-qualified functionArn, approximateInvokeCount 3, and one
    requestId for the event, the same in requestContext and in the last error payload."""
    function = aws.function(mode="fail-always")
    queue_url, queue_arn = aws.queue("async-failures")
    aws.configure_async(function, DestinationConfig={"OnFailure": {"Destination": queue_arn}})

    _invoke_async(aws, function, {"message": "parity-retries"})
    aws.drain()

    (record,) = aws.messages(queue_url, expect=1)
    assert_matches(
        sample("async_on_failure_retries_exhausted"), record, loose=ERROR_PAYLOAD_OF_THE_RUN
    )
    assert {i["request_id"] for i in aws.invocations(function)} == {
        record["requestContext"]["requestId"]
    }


def test_async_record_when_the_event_ages_out_matches(aws: Aws) -> None:
    """GIVEN MaximumEventAgeInSeconds 1 (AWS's minimum is 60; the runtime honours what is
    configured) and a failing function slower than that
    WHEN it is invoked asynchronously
    THEN after one attempt the record matches AWS's EventAgeExceeded record: count 1, the
    response of that attempt."""
    function = aws.function(mode="fail-always", environment={"PROBE_SLEEP": "1.2"})
    queue_url, queue_arn = aws.queue("async-failures")
    unvalidated = boto3.client(
        "lambda",
        endpoint_url=aws.runtime.endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=False),
    )
    unvalidated.put_function_event_invoke_config(
        FunctionName=function,
        MaximumEventAgeInSeconds=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    changed_at = time.time()
    aws.wait_for(lambda state: float(state.get("config_read_at", 0)) > changed_at)

    _invoke_async(aws, function, {"message": "parity-age"})
    aws.drain()

    (record,) = aws.messages(queue_url, expect=1)
    assert_matches(
        sample("async_on_failure_event_age_exceeded"), record, loose=ERROR_PAYLOAD_OF_THE_RUN
    )


def test_async_success_record_matches(aws: Aws) -> None:
    """GIVEN an OnSuccess destination WHEN a function succeeds on an asynchronous {} THEN the
    record matches AWS's Success record: responseContext without functionError."""
    function = aws.function(mode="echo")
    queue_url, queue_arn = aws.queue("async-successes")
    aws.configure_async(
        function,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": queue_arn}},
    )

    _invoke_async(aws, function, {})
    aws.drain()

    (record,) = aws.messages(queue_url, expect=1)
    assert_matches(sample("async_on_success"), record, loose=["$.responsePayload"])


class _NeverInvoked:
    def wait_for_function(self, function_arn: str, timeout: float) -> None:
        return None

    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an event past its maximum age is not invoked")


def test_async_event_that_ages_out_before_any_attempt_still_has_a_request_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN an asynchronous event already older than MaximumEventAgeInSeconds when its turn
    comes WHEN the runtime gives it up without invoking THEN the EventAgeExceeded record has a
    requestId (a UUID), count 0 and no response."""
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(destinations, "send", lambda clients, arn, record, **_: sent.append(record))
    config = AsyncConfig(maximum_event_age=60, on_failure="arn:aws:sqs:eu-west-1:1:q")
    invoker = async_invoke.AsyncInvoker(
        _NeverInvoked(),  # type: ignore[arg-type]
        destinations.Clients("http://127.0.0.1:9"),
        Stats(),
        lambda arn: config,
        retry_delay=0,
        function_wait=0,
        threads=1,
    )
    function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:aged"
    invoker.submit(function_arn, {"n": 1}, enqueued_at=time.time() - 61)
    deadline = time.monotonic() + 10
    while invoker.pending and time.monotonic() < deadline:
        time.sleep(0.01)
    invoker.stop()

    (record,) = sent
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert differences("<uuid:1>", record["requestContext"]["requestId"]) == []
    assert "responseContext" not in record
