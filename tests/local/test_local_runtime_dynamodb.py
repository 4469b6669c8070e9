"""DynamoDB stream event source mappings in the local runtime.

Each docstring quotes the AWS documentation sentence the test holds the runtime to.
"""

from __future__ import annotations

import json
import time

from local_runtime_harness import REGION, Aws, unique


def _table(aws: Aws, *, view: str = "NEW_AND_OLD_IMAGES") -> tuple[str, str]:
    name = unique("table")
    description = aws.dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )["TableDescription"]
    return name, description["LatestStreamArn"]


def test_dynamodb_stream_records_have_the_shape_lambda_delivers(aws: Aws) -> None:
    """AWS (with-ddb): "Lambda reads records from the stream and invokes your function
    synchronously with an event that contains stream records." -- eventName INSERT, MODIFY and
    REMOVE, the keys and images as DynamoDB JSON (binary values base64), the stream ARN.

    GIVEN a mapping on a table's NEW_AND_OLD_IMAGES stream
    WHEN an item is inserted, modified and removed
    THEN the function gets three records in that order, in Lambda's DynamoDB record shape.
    """
    function = aws.function()
    table, stream = _table(aws)
    aws.dynamodb.put_item(TableName=table, Item={"pk": {"S": "k1"}, "blob": {"B": b"\x00\x01"}})
    aws.dynamodb.put_item(TableName=table, Item={"pk": {"S": "k1"}, "n": {"N": "2"}})
    aws.dynamodb.delete_item(TableName=table, Key={"pk": {"S": "k1"}})

    mapping = aws.mapping(function, stream)
    aws.drain(mapping)

    (invocation,) = aws.invocations(function)
    records = invocation["event"]["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = records
    assert set(insert) == {
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    }
    assert insert["eventSource"] == "aws:dynamodb"
    assert insert["eventSourceARN"] == stream
    assert insert["awsRegion"] == REGION
    change = insert["dynamodb"]
    assert change["Keys"] == {"pk": {"S": "k1"}}
    assert change["NewImage"] == {"pk": {"S": "k1"}, "blob": {"B": "AAE="}}
    assert "OldImage" not in change
    assert change["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    # AWS: attribute names and values of the keys, then of the image (2 bytes of binary).
    assert change["SizeBytes"] == (2 + 2) + (2 + 2 + 4 + 2)
    # AWS: a float of whole seconds.
    assert isinstance(change["ApproximateCreationDateTime"], float)
    assert change["ApproximateCreationDateTime"] == int(change["ApproximateCreationDateTime"])
    assert abs(change["ApproximateCreationDateTime"] - time.time()) < 60
    assert modify["dynamodb"]["OldImage"] == change["NewImage"]
    assert modify["dynamodb"]["NewImage"] == {"pk": {"S": "k1"}, "n": {"N": "2"}}
    assert "NewImage" not in remove["dynamodb"]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(numbers)


def test_dynamodb_on_failure_record_carries_ddb_stream_batch_info(aws: Aws) -> None:
    """AWS (services-ddb-errors / kinesis-on-failure-destination): a discarded batch from a
    DynamoDB stream is described by DDBStreamBatchInfo -- shard, sequence number range, arrival
    times, batch size and stream ARN.

    GIVEN a function that always fails and no retries
    WHEN one stream record is delivered
    THEN one on-failure record with DDBStreamBatchInfo reaches the SQS destination.
    """
    function = aws.function(mode="fail-always")
    table, stream = _table(aws)
    queue_url, queue_arn = aws.queue("on-failure")
    aws.dynamodb.put_item(TableName=table, Item={"pk": {"S": "k1"}})

    mapping = aws.mapping(
        function,
        stream,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    aws.drain(mapping)

    (record,) = aws.messages(queue_url, expect=1)
    assert "KinesisBatchInfo" not in record
    info = record["DDBStreamBatchInfo"]
    (invocation,) = aws.invocations(function)
    sequence = invocation["sequence_numbers"][0]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == sequence
    assert info["batchSize"] == 1
    assert info["streamArn"] == stream
    assert info["shardId"].startswith("shardId-")
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_dynamodb_filter_on_event_name_and_new_image(aws: Aws) -> None:
    """AWS (invocation-eventfiltering): for DynamoDB the pattern applies to the record, e.g.
    {"eventName": ["INSERT"], "dynamodb": {"NewImage": {...}}}; "If none of your filters are
    satisfied, Lambda discards the record."

    GIVEN a pattern selecting INSERTs whose NewImage status is CONFIRMED
    WHEN confirmed and pending items are written, and one is modified
    THEN only the confirmed INSERT is delivered.
    """
    function = aws.function()
    table, stream = _table(aws)
    aws.dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "status": {"S": "CONFIRMED"}})
    aws.dynamodb.put_item(TableName=table, Item={"pk": {"S": "b"}, "status": {"S": "PENDING"}})
    aws.dynamodb.put_item(TableName=table, Item={"pk": {"S": "b"}, "status": {"S": "CONFIRMED"}})
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["CONFIRMED"]}}}}

    mapping = aws.mapping(
        function, stream, FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]}
    )
    aws.drain(mapping)

    (invocation,) = aws.invocations(function)
    assert invocation["payloads"] == [{"pk": "a", "status": "CONFIRMED"}]
    assert aws.counters(mapping)["records_filtered_out"] == 2
