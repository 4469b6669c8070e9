"""The repository's real functions under the local runtime: stream_processor stores records in
DynamoDB and dead-letters poison; an exhausted batch goes through the SNS on-failure topic to
hydrate, which puts the records, re-read from the stream, into the DLQ."""

from __future__ import annotations

import base64
import json
from typing import Any

from local_runtime_harness import ACCOUNT, REGION, Aws, unique

BASE_TIMESTAMP_MS = 1_700_000_000_000


def _retail_event(n: int) -> dict[str, Any]:
    return {
        "userId": f"user-{n % 4}",
        "eventType": "purchase" if n % 3 == 0 else "view",
        "productId": f"P{n:04d}",
        "timestamp": BASE_TIMESTAMP_MS + n,
        "eventId": f"evt-{n}",
    }


def _results_table(aws: Aws) -> str:
    name = unique("results")
    aws.dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "userId", "KeyType": "HASH"},
            {"AttributeName": "eventKey", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "userId", "AttributeType": "S"},
            {"AttributeName": "eventKey", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _stream_processor(aws: Aws, table: str, dlq_url: str) -> str:
    return aws.function(
        "stream-processor",
        handler="stream_processor.app.lambda_handler",
        timeout=30,
        environment={"TABLE_NAME": table, "DLQ_URL": dlq_url},
    )


def _stored_event_ids(aws: Aws, table: str) -> set[str]:
    items = aws.dynamodb.scan(TableName=table)["Items"]
    return {item["eventId"]["S"] for item in items}


def test_stream_processor_stores_records_and_dead_letters_poison(aws: Aws) -> None:
    """GIVEN the real stream_processor behind a Kinesis mapping (TABLE_NAME, DLQ_URL)
    WHEN 20 valid retail events and one non-JSON record are put
    THEN the 20 events are items in DynamoDB and the bad record is an INVALID_JSON envelope
    with its original bytes in the DLQ.
    """
    table = _results_table(aws)
    dlq_url, _ = aws.queue("dlq")
    function = _stream_processor(aws, table, dlq_url)
    stream = aws.stream()
    aws.put(stream, [_retail_event(n) for n in range(20)] + [b"{not json"])

    mapping = aws.mapping(
        function,
        stream,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=3,
    )
    aws.drain(mapping, timeout=60)

    assert _stored_event_ids(aws, table) == {f"evt-{n}" for n in range(20)}
    (envelope,) = aws.messages(dlq_url, expect=1)
    assert envelope["error_category"] == "INVALID_JSON"
    assert base64.b64decode(envelope["payload_b64"]) == b"{not json"
    assert envelope["event_source_arn"] == stream


def test_an_exhausted_batch_is_hydrated_from_the_stream_into_the_dlq(aws: Aws) -> None:
    """GIVEN stream_processor writing to a table that does not exist (every record is reported
    for retry), one retry, the SNS on-failure topic, and hydrate subscribed to that topic
    WHEN three events are put
    THEN the on-failure record reaches hydrate, which dead-letters the three records with their
    original bytes (RETRIES_EXHAUSTED, hydrated).
    """
    dlq_url, _ = aws.queue("dlq")
    processor = _stream_processor(aws, unique("missing-table"), dlq_url)
    stream = aws.stream()
    hydrate = aws.function(
        "hydrate",
        handler="hydrate.app.lambda_handler",
        timeout=30,
        environment={"DLQ_URL": dlq_url, "SOURCE_STREAM_ARNS": stream},
    )
    topic = aws.topic("on-failure")
    aws.sns.subscribe(
        TopicArn=topic,
        Protocol="lambda",
        Endpoint=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{hydrate}",
    )
    payloads = [json.dumps(_retail_event(n)).encode() for n in range(3)]
    sequences = aws.put(stream, payloads)

    aws.mapping(
        processor,
        stream,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": topic}},
    )
    aws.drain(timeout=60)

    envelopes = sorted(aws.messages(dlq_url, expect=3), key=lambda e: int(e["sequence_number"]))
    assert [e["sequence_number"] for e in envelopes] == sequences
    assert {e["error_category"] for e in envelopes} == {"RETRIES_EXHAUSTED"}
    assert all(e["hydrated"] for e in envelopes)
    assert [base64.b64decode(e["payload_b64"]) for e in envelopes] == payloads
    assert aws.counters(function=hydrate)["async_invocations"] == 1


def test_throttled_dynamodb_writes_are_retried_until_every_record_is_stored(aws: Aws) -> None:
    """GIVEN the fault throttle-dynamodb:60 on stream_processor (a botocore hook in its worker)
    WHEN 30 events are put
    THEN every event is stored anyway (writer retries, then the mapping's retries), and the
    function's own metrics show re-sent BatchWriteItem requests.
    """
    table = _results_table(aws)
    dlq_url, _ = aws.queue("dlq")
    function = _stream_processor(aws, table, dlq_url)
    aws.runtime.write_faults({function: ["throttle-dynamodb:60"]})
    stream = aws.stream()
    aws.put(stream, [_retail_event(n) for n in range(30)])

    mapping = aws.mapping(
        function,
        stream,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=20,
    )
    aws.drain(mapping, timeout=60)

    assert _stored_event_ids(aws, table) == {f"evt-{n}" for n in range(30)}
    assert aws.queue_is_empty(dlq_url)
    log = (aws.runtime.state_dir / "functions" / f"{function}.log").read_text()
    retries = 0
    for line in log.splitlines():
        if line.startswith("{") and '"BatchWriteRetries"' in line:
            value = json.loads(line)["BatchWriteRetries"]
            retries += sum(value) if isinstance(value, list) else int(value)
    assert retries > 0
