"""Hydrate function, end to end through ``lambda_handler`` against moto Kinesis, DynamoDB
streams, SQS and S3. Paths moto cannot produce (expired iterators, throttling, trimming, closed
shards) are in ``test_hydrate_stream_errors.py`` (the function) and
tests/runtime/test_hydration_reader.py (the reader), with botocore's Stubber."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from factories import (
    CONSUMER_FUNCTION_ARN,
    MISSING,
    ON_FAILURE_TOPIC_ARN,
    REGION,
    FakeLambdaContext,
    Intercepted,
    always_raise,
    client_error,
    on_failure_record,
    retail_event,
    sns_event,
)
from stream_harness import (
    HYDRATE_FUNCTION,
    PAYLOAD_BUCKET,
    Aws,
    HydrateHarness,
    Streams,
    emf_metrics,
    harness_session,
)

from hydrate import app as hydrate_app
from hydrate.config import ConfigurationError, Settings
from stream_pipeline.runtime.claim_check import fetch_payload, parse_s3_uri
from stream_pipeline.runtime.dlq_envelope import (
    SQS_MAX_MESSAGE_BYTES,
    DlqEnvelope,
    ErrorCategory,
    PayloadFormat,
    canonical_json,
)
from stream_pipeline.runtime.request_pool import RequestPool

REASON = "retries exhausted (RetryAttemptsExhausted) after 3 attempts: Unhandled"
FAILED_AT = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)


@pytest.fixture
def streams(aws: Aws) -> Streams:
    return Streams.create(aws, harness_session())


@pytest.fixture
def hydrate(streams: Streams, monkeypatch: pytest.MonkeyPatch) -> Iterator[HydrateHarness]:
    monkeypatch.delenv("PAYLOAD_BUCKET", raising=False)
    harness = HydrateHarness(streams)
    harness.configure()
    yield harness
    hydrate_app.set_dependencies(None)


def _payloads(count: int, *, first: int = 0) -> list[bytes]:
    return [json.dumps(retail_event(userId=f"u{first + n}")).encode() for n in range(count)]


def _by_sequence(envelopes: list[DlqEnvelope]) -> list[DlqEnvelope]:
    return sorted(envelopes, key=lambda e: int(e.sequence_number))


def _failed_batch(streams: Streams, numbers: list[str], **overrides: Any) -> dict[str, Any]:
    return on_failure_record(
        start=numbers[0],
        end=numbers[-1],
        batch_size=len(numbers),
        stream_arn=streams.stream_arn,
        shard_id=streams.shard_id,
        **overrides,
    )


# --------------------------------------------------------------------------- Kinesis


def test_sns_on_failure_record_is_hydrated_with_bytes_coordinates_and_reason(
    hydrate: HydrateHarness, streams: Streams, aws: Aws
) -> None:
    """GIVEN three records in the stream and the on-failure record of their batch, via SNS
    WHEN the hydrate function handles the notification
    THEN each record is in the DLQ with its original bytes, partition key, coordinates, the
    readable reason and the failed consumer; nothing else is.
    """
    payloads = _payloads(3)
    keys = ["user-a", "user-b", "user-c"]
    numbers = streams.put(payloads, keys)

    summary = hydrate.invoke(sns_event(_failed_batch(streams, numbers)))

    envelopes = _by_sequence(aws.dlq_envelopes())
    assert [e.original_bytes() for e in envelopes] == payloads
    assert [e.partition_key for e in envelopes] == keys
    assert [e.sequence_number for e in envelopes] == numbers
    for envelope in envelopes:
        assert envelope.event_source == "aws:kinesis"
        assert envelope.event_source_arn == streams.stream_arn
        assert envelope.shard_id == streams.shard_id
        assert envelope.event_id == f"{streams.shard_id}:{envelope.sequence_number}"
        assert envelope.approximate_arrival_time is not None
        assert envelope.error_category is ErrorCategory.RETRIES_EXHAUSTED
        assert envelope.error_reason == REASON
        assert envelope.consumer == CONSUMER_FUNCTION_ARN
        assert envelope.failed_at == FAILED_AT
        assert envelope.hydrated is True
        assert envelope.payload_format is PayloadFormat.RAW
    assert summary["recordsHydrated"] == 3
    assert summary["payloadUnavailable"] == 0


def test_dlq_sends_overlap_up_to_the_pool_size(
    hydrate: HydrateHarness, streams: Streams, aws: Aws
) -> None:
    """GIVEN a failed batch of 40 records (4 SendMessageBatch requests), a pool of 2 and a queue
    that answers a request only once 2 are in flight together
    WHEN hydrated
    THEN all 40 envelopes arrive: the sends overlapped, 2 at a time.
    """
    numbers = streams.put(_payloads(40))
    together = threading.Barrier(2, timeout=10)

    def paired(real: Any, **params: Any) -> Any:
        together.wait()
        return real(**params)

    sqs = Intercepted(aws.sqs, send_message_batch=paired)
    hydrate.configure(sqs=sqs).pool = RequestPool(max_workers=2)

    summary = hydrate.invoke(sns_event(_failed_batch(streams, numbers)))

    assert summary["dlqMessages"] == summary["sendMessageBatchRequests"] * 10 == 40
    assert sorted((e.sequence_number for e in aws.dlq_envelopes()), key=int) == numbers


def test_direct_on_failure_record_is_hydrated(
    hydrate: HydrateHarness, streams: Streams, aws: Aws
) -> None:
    """GIVEN the raw on-failure record as the event (a test or a manual re-run)
    WHEN handled THEN its records are hydrated exactly as from SNS.
    """
    numbers = streams.put(_payloads(2))

    hydrate.invoke(_failed_batch(streams, numbers))

    assert sorted(e.sequence_number for e in aws.dlq_envelopes()) == sorted(numbers)


def test_batch_spanning_several_pages_takes_only_its_range(
    hydrate: HydrateHarness, streams: Streams, aws: Aws
) -> None:
    """GIVEN 30 records, of which records 6..25 (20) were the failed batch, and GetRecords
    pages of at most 7 records
    WHEN hydrated
    THEN exactly the 20 records of the range are dead-lettered, read in ceil(20 / 7) = 3 pages.
    """
    payloads = _payloads(30)
    numbers = streams.put(payloads)
    calls: Counter[str] = Counter()
    kinesis = Intercepted(
        streams.kinesis,
        get_records=lambda real, **params: real(**params),
        get_shard_iterator=lambda real, **params: real(**params),
    )
    hydrate.configure(kinesis=kinesis, page_limit=7)

    hydrate.invoke(sns_event(_failed_batch(streams, numbers[5:25])))

    envelopes = _by_sequence(aws.dlq_envelopes())
    assert [e.original_bytes() for e in envelopes] == payloads[5:25]
    calls.update(name for name, _ in kinesis.calls)
    assert calls == {"get_shard_iterator": 1, "get_records": 3}
    assert [params["Limit"] for name, params in kinesis.calls if name == "get_records"] == [7, 7, 6]
    ((_, iterator_params),) = [c for c in kinesis.calls if c[0] == "get_shard_iterator"]
    assert iterator_params["ShardIteratorType"] == "AT_SEQUENCE_NUMBER"
    assert iterator_params["StartingSequenceNumber"] == numbers[5]


def test_missing_response_context_record_age_exceeded(
    hydrate: HydrateHarness, streams: Streams, aws: Aws
) -> None:
    """GIVEN an on-failure record without responseContext (RecordAgeExceeded: the function was
    not invoked for the batch)
    WHEN hydrated
    THEN the records are dead-lettered as RECORD_AGE_EXCEEDED (not RETRIES_EXHAUSTED) with a
    reason naming the condition.
    """
    payloads = _payloads(1)
    numbers = streams.put(payloads)
    record = _failed_batch(
        streams, numbers, condition="RecordAgeExceeded", invoke_count=0, response_context=MISSING
    )

    hydrate.invoke(sns_event(record))

    (envelope,) = aws.dlq_envelopes()
    assert envelope.error_category is ErrorCategory.RECORD_AGE_EXCEEDED
    assert envelope.error_reason == "record age exceeded (RecordAgeExceeded) after 0 attempts"
    assert envelope.original_bytes() == payloads[0]


def test_record_age_exceeded_range_beyond_the_bound_keeps_its_label(
    hydrate: HydrateHarness, streams: Streams, aws: Aws
) -> None:
    """GIVEN a RecordAgeExceeded batch of 1 whose sequence range holds 12 records (more than
    the 10 x batch size the function reads)
    WHEN hydrated
    THEN the 10 records read and the pointer to the rest are all RECORD_AGE_EXCEEDED.
    """
    numbers = streams.put(_payloads(12))
    record = on_failure_record(
        start=numbers[0],
        end=numbers[-1],
        batch_size=1,
        stream_arn=streams.stream_arn,
        shard_id=streams.shard_id,
        condition="RecordAgeExceeded",
        invoke_count=0,
        response_context=MISSING,
    )

    hydrate.invoke(record)

    envelopes = aws.dlq_envelopes()
    assert len(envelopes) == 11
    assert sum(envelope.is_range for envelope in envelopes) == 1
    assert {envelope.error_category for envelope in envelopes} == {
        ErrorCategory.RECORD_AGE_EXCEEDED
    }


def test_enhanced_fan_out_consumer_arn_in_stream_arn_reads_the_stream(
    hydrate: HydrateHarness, streams: Streams, aws: Aws
) -> None:
    """GIVEN an on-failure record whose streamArn is the mapping's enhanced fan-out consumer
    ARN (<stream ARN>/consumer/<name>:<creation epoch>) rather than the stream's
    WHEN hydrated
    THEN the records are read from the stream, and the envelopes name the stream's ARN (what a
    replay writes to), exactly as for a record that carries the stream ARN.
    """
    payloads = _payloads(2)
    numbers = streams.put(payloads)
    consumer_arn = f"{streams.stream_arn}/consumer/orders-processor:1738300000"
    from_consumer = on_failure_record(
        start=numbers[0],
        end=numbers[-1],
        batch_size=2,
        stream_arn=consumer_arn,
        shard_id=streams.shard_id,
    )

    summary = hydrate.invoke(sns_event(from_consumer))

    envelopes = _by_sequence(aws.dlq_envelopes())
    assert summary["malformed"] == 0
    assert [e.original_bytes() for e in envelopes] == payloads
    assert {e.event_source_arn for e in envelopes} == {streams.stream_arn}
    assert {e.error_category for e in envelopes} == {ErrorCategory.RETRIES_EXHAUSTED}


def test_end_beyond_the_stream_gives_a_payload_unavailable_entry_after_empty_pages(
    hydrate: HydrateHarness, streams: Streams, aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a batch of 5 whose last 2 records the stream does not return (empty pages)
    WHEN hydrated
    THEN the 3 readable records are dead-lettered, plus one "payload unavailable" pointer for the
    rest (after the last record read, 2 missing), after 5 consecutive empty pages; the
    PayloadUnavailable metric counts it.
    """
    numbers = streams.put(_payloads(3))
    end = str(int(numbers[-1]) + 2)
    record = on_failure_record(
        start=numbers[0],
        end=end,
        batch_size=5,
        stream_arn=streams.stream_arn,
        shard_id=streams.shard_id,
    )
    capsys.readouterr()

    hydrate.invoke(sns_event(record))

    envelopes = aws.dlq_envelopes()
    hydrated = [e for e in envelopes if e.payload_available]
    (pointer,) = [e for e in envelopes if not e.payload_available]
    assert len(hydrated) == 3
    assert pointer.error_category is ErrorCategory.PAYLOAD_UNAVAILABLE
    assert pointer.error_reason.startswith("payload unavailable: expired from stream (2 record(s)")
    assert "5 consecutive empty pages" in pointer.error_reason
    assert pointer.error_reason.endswith(REASON)
    assert (pointer.sequence_number, pointer.end_sequence_number) == (numbers[-1], end)
    assert pointer.after_sequence_number is True
    assert pointer.missing_count == 2
    assert (pointer.event_source_arn, pointer.shard_id) == (streams.stream_arn, streams.shard_id)
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["PayloadUnavailable"][0][0] == 1
    assert metrics["RecordsHydrated"][0][0] == 3


def test_range_with_more_records_than_the_batch_dead_letters_the_whole_range(
    hydrate: HydrateHarness, streams: Streams, aws: Aws
) -> None:
    """GIVEN a batch of 2 whose sequence range holds 5 records (ParallelizationFactor > 1: the
    other 3 belonged to parallel batches of the same shard)
    WHEN hydrated
    THEN all 5 are dead-lettered (none of the batch's records can be missed; replay is
    idempotent), and no payload-unavailable entry is made.
    """
    numbers = streams.put(_payloads(5))

    hydrate.invoke(on_failure_record(
        start=numbers[0], end=numbers[-1], batch_size=2,
        stream_arn=streams.stream_arn, shard_id=streams.shard_id,
    ))  # fmt: skip

    envelopes = aws.dlq_envelopes()
    assert sorted(e.sequence_number for e in envelopes) == sorted(numbers)
    assert all(e.payload_available for e in envelopes)


def test_range_far_larger_than_the_batch_is_bounded_and_the_rest_left_as_a_pointer(
    hydrate: HydrateHarness, streams: Streams, aws: Aws
) -> None:
    """GIVEN a batch of 1 whose sequence range holds 15 records
    WHEN hydrated
    THEN 10 records (10 x the batch size, the largest ParallelizationFactor) are dead-lettered,
    and one pointer (no payload, category RETRIES_EXHAUSTED) covers the rest of the range for
    the replay CLI to read.
    """
    numbers = streams.put(_payloads(15))

    hydrate.invoke(on_failure_record(
        start=numbers[0], end=numbers[-1], batch_size=1,
        stream_arn=streams.stream_arn, shard_id=streams.shard_id,
    ))  # fmt: skip

    envelopes = aws.dlq_envelopes()
    hydrated = sorted(int(e.sequence_number) for e in envelopes if e.payload_available)
    (rest,) = [e for e in envelopes if not e.payload_available]
    assert hydrated == [int(n) for n in numbers[:10]]
    assert rest.error_category is ErrorCategory.RETRIES_EXHAUSTED
    assert (rest.sequence_number, rest.after_sequence_number) == (numbers[9], True)
    assert rest.end_sequence_number == numbers[-1]
    assert rest.error_reason.startswith("not hydrated: not read: stopped after 10 records")


def test_hydrating_the_same_record_twice_gives_the_same_envelope_ids(
    hydrate: HydrateHarness, streams: Streams, aws: Aws
) -> None:
    """GIVEN an on-failure record handled twice (Lambda retried the invocation)
    WHEN the DLQ is read THEN the duplicates share their envelope_id (readers de-duplicate).
    """
    numbers = streams.put(_payloads(2))
    event = sns_event(_failed_batch(streams, numbers))

    hydrate.invoke(event)
    hydrate.invoke(event)

    ids = Counter(e.envelope_id for e in aws.dlq_envelopes())
    assert len(ids) == 2
    assert set(ids.values()) == {2}


# --------------------------------------------------------------------------- DynamoDB streams


def test_dynamodb_stream_batch_is_hydrated(
    hydrate: HydrateHarness, streams: Streams, aws: Aws
) -> None:
    """GIVEN two items written to a table with a stream, and the on-failure record of their
    batch (DDBStreamBatchInfo)
    WHEN hydrated through the dynamodbstreams API
    THEN each stream record is dead-lettered with its NewImage (canonical DynamoDB JSON, as the
    stream processor envelopes it), its keys and the DynamoDB stream coordinates.
    """
    documents = [{"pk": "outbox#1", **retail_event()}, {"pk": "outbox#2", **retail_event()}]
    numbers = streams.write_source_items(documents)
    record = on_failure_record(
        start=numbers[0],
        end=numbers[-1],
        batch_size=2,
        source="dynamodb",
        stream_arn=streams.dynamodb_stream_arn,
        shard_id=streams.dynamodb_shard_id,
    )

    hydrate.invoke(sns_event(record))

    envelopes = _by_sequence(aws.dlq_envelopes())
    assert [e.sequence_number for e in envelopes] == numbers
    for envelope, document in zip(envelopes, documents, strict=True):
        image = json.loads(envelope.original_bytes())
        assert image["pk"] == {"S": document["pk"]}
        assert image["userId"] == {"S": document["userId"]}
        assert envelope.original_bytes() == canonical_json(image)
        assert envelope.payload_format is PayloadFormat.DYNAMODB_JSON
        assert envelope.dynamodb_keys == {"pk": {"S": document["pk"]}}
        assert envelope.event_source == "aws:dynamodb"
        assert envelope.event_source_arn == streams.dynamodb_stream_arn
        assert envelope.shard_id == streams.dynamodb_shard_id
        assert envelope.error_reason == REASON


# --------------------------------------------------------------------------- malformed input

MALFORMED = [
    pytest.param("{not json", "not valid JSON", id="not-json"),
    pytest.param("[1, 2]", "must be a JSON object, got list", id="array"),
    pytest.param(
        json.dumps(on_failure_record(start="1", end="2", batch_size=2, requestContext=MISSING)),
        "requestContext: Field required",
        id="no-request-context",
    ),
    pytest.param(
        json.dumps(
            on_failure_record(start="1", end="2", batch_size=2)
            | {
                "requestContext": {
                    "requestId": "r",
                    "functionArn": CONSUMER_FUNCTION_ARN,
                    "condition": "RetryAttemptsExhausted",
                    "approximateInvokeCount": "4",
                }
            }
        ),
        "requestContext.approximateInvokeCount: Input should be a valid integer",
        id="count-as-string",
    ),
    pytest.param(
        json.dumps(on_failure_record(start="1", end="2", batch_size=2, KinesisBatchInfo=MISSING)),
        "exactly one of KinesisBatchInfo or DDBStreamBatchInfo",
        id="no-batch-info",
    ),
    pytest.param(
        json.dumps(on_failure_record(start="9", end="10", batch_size=2) | {"timestamp": 5}),
        "timestamp",
        id="timestamp-number",
    ),
    pytest.param(
        json.dumps(on_failure_record(start="12", end="11", batch_size=2)),
        "startSequenceNumber is greater than endSequenceNumber",
        id="start-after-end",
    ),
    pytest.param(
        json.dumps(on_failure_record(start="0x1", end="2", batch_size=2)),
        "KinesisBatchInfo.startSequenceNumber",
        id="sequence-not-decimal",
    ),
    pytest.param(
        json.dumps(
            on_failure_record(
                start="1", end="2", batch_size=2, stream_arn="arn:aws:sqs:eu-west-1:1:q"
            )
        ),
        "not a Kinesis stream ARN",
        id="wrong-arn",
    ),
]


@pytest.mark.parametrize(("message", "reason"), MALFORMED)
def test_malformed_on_failure_record_is_preserved_not_hydrated(
    hydrate: HydrateHarness,
    aws: Aws,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    message: str,
    reason: str,
) -> None:
    """GIVEN an SNS notification whose message is not a valid on-failure record
    WHEN handled
    THEN the invocation succeeds, an error naming the problem is logged, and the DLQ holds a
    not-hydrated envelope with the original message bytes and the reason.
    """
    hydrate.invoke(sns_event(message))

    (envelope,) = aws.dlq_envelopes()
    assert envelope.error_category is ErrorCategory.MALFORMED_ON_FAILURE_RECORD
    assert envelope.payload_format is PayloadFormat.ON_FAILURE_RECORD
    assert envelope.original_bytes() == message.encode()
    assert reason in envelope.error_reason
    assert envelope.error_reason.startswith("not hydrated: ")
    assert envelope.hydrated is False
    assert envelope.event_source == "aws:sns"
    assert envelope.event_source_arn == ON_FAILURE_TOPIC_ARN
    assert envelope.consumer == HYDRATE_FUNCTION
    (logged,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert reason in logged.reason
    assert emf_metrics(capsys.readouterr().out)["MalformedOnFailureRecords"][0][0] == 1


def test_event_that_is_neither_sns_nor_an_on_failure_record_is_preserved(
    hydrate: HydrateHarness, aws: Aws
) -> None:
    """GIVEN an event of another shape (an SQS record wired by mistake)
    WHEN handled THEN it is kept whole in a not-hydrated envelope.
    """
    event = {"Records": [{"eventSource": "aws:sqs", "body": "x"}]}

    hydrate.invoke(event)

    (envelope,) = aws.dlq_envelopes()
    assert json.loads(envelope.original_bytes()) == event["Records"][0]
    assert envelope.event_source == "aws:lambda"


def test_one_malformed_message_does_not_stop_the_others(
    hydrate: HydrateHarness, streams: Streams, aws: Aws
) -> None:
    """GIVEN one SNS event holding a good on-failure record and a malformed one
    WHEN handled THEN the good one is hydrated and the bad one preserved.
    """
    numbers = streams.put(_payloads(2))

    hydrate.invoke(sns_event("garbage", _failed_batch(streams, numbers)))

    categories = Counter(e.error_category for e in aws.dlq_envelopes())
    assert categories == {
        ErrorCategory.RETRIES_EXHAUSTED: 2,
        ErrorCategory.MALFORMED_ON_FAILURE_RECORD: 1,
    }


# --------------------------------------------------------------------------- SQS / S3


def test_dlq_send_failure_raises_after_bounded_retries(
    hydrate: HydrateHarness, streams: Streams, aws: Aws
) -> None:
    """GIVEN a DLQ that throttles every SendMessageBatch
    WHEN an on-failure record is handled
    THEN the invocation raises after 3 attempts (Lambda's async retries and the function's own
    on-failure destination take over); nothing is half-reported as success.
    """
    numbers = streams.put(_payloads(2))
    sqs = Intercepted(
        aws.sqs,
        send_message_batch=always_raise(client_error("ThrottlingException", "SendMessageBatch")),
    )
    hydrate.configure(sqs=sqs)

    with pytest.raises(hydrate_app.DlqSendError, match="2 of 2 DLQ envelope"):
        hydrate.invoke(sns_event(_failed_batch(streams, numbers)))

    assert len(sqs.calls) == 3
    assert len(hydrate.sleeps) == 2


def test_oversized_record_without_bucket_keeps_pointer_sha_and_coordinates(
    hydrate: HydrateHarness, streams: Streams, aws: Aws
) -> None:
    """GIVEN a 300 KB record (its envelope cannot fit in an SQS message) and no PAYLOAD_BUCKET
    WHEN hydrated
    THEN the envelope leaves the payload out entirely, keeping sha256, length and coordinates
    (the replay CLI re-reads it from the stream).
    """
    payload = b"x" * 300_000
    numbers = streams.put([payload])

    summary = hydrate.invoke(_failed_batch(streams, numbers))

    (envelope,) = aws.dlq_envelopes()
    assert (envelope.payload_available, envelope.payload_truncated) == (False, True)
    assert envelope.payload_sha256 == hashlib.sha256(payload).hexdigest()
    assert envelope.payload_length == len(payload)
    assert envelope.payload_location is None
    assert (envelope.shard_id, envelope.sequence_number) == (streams.shard_id, numbers[0])
    assert summary["payloadsOmitted"] == 1


def test_oversized_record_with_bucket_is_claim_checked_in_s3(
    hydrate: HydrateHarness, streams: Streams, aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a 300 KB record next to a small one, and a PAYLOAD_BUCKET
    WHEN hydrated
    THEN the large payload is stored at s3://bucket/<envelope_id>, its envelope points there
    (sha256 and length kept), and the small one stays inline.
    """
    payload = bytes(range(256)) * 1200
    numbers = streams.put([payload, b'{"small": true}'])
    hydrate.configure(payload_bucket=PAYLOAD_BUCKET)
    capsys.readouterr()

    hydrate.invoke(_failed_batch(streams, numbers))

    large, small = _by_sequence(aws.dlq_envelopes())
    assert large.payload_location == f"s3://{PAYLOAD_BUCKET}/{large.envelope_id}"
    assert parse_s3_uri(large.payload_location) == (PAYLOAD_BUCKET, large.envelope_id)
    assert large.size_bytes() <= SQS_MAX_MESSAGE_BYTES
    assert fetch_payload(streams.s3, large) == payload
    assert small.original_bytes() == b'{"small": true}'
    assert emf_metrics(capsys.readouterr().out)["PayloadsStoredInS3"][0][0] == 1


# --------------------------------------------------------------------------- cost


def _acknowledge_sends(session: boto3.session.Session, sent: list[str]) -> None:
    """Answer SendMessageBatch without moto: moto's SQS recomputes every queue attribute for
    each message sent (quadratic in queue depth; 1,000 messages take minutes). botocore still
    builds and validates each request; the bodies are recorded and acknowledged one by one.
    Requests run concurrently: each thread acknowledges the entries of its own request."""
    request = threading.local()
    lock = threading.Lock()

    def record(params: dict[str, Any], **_: Any) -> None:
        request.entries = list(params["Entries"])
        with lock:
            sent.extend(entry["MessageBody"] for entry in request.entries)

    def acknowledge(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        successful = [
            {
                "Id": entry["Id"],
                "MessageId": f"m-{entry['Id']}",
                "MD5OfMessageBody": hashlib.md5(entry["MessageBody"].encode()).hexdigest(),  # noqa: S324
            }
            for entry in request.entries
        ]
        return AWSResponse("https://sqs.invalid", 200, {}, None), {
            "Successful": successful,
            "Failed": [],
        }

    session.events.register("before-parameter-build.sqs.SendMessageBatch", record)
    session.events.register("before-call.sqs.SendMessageBatch", acknowledge)


@pytest.mark.parametrize("count", [1, 100, 1000])
def test_request_count_is_one_iterator_the_pages_needed_and_a_send_per_ten(
    streams: Streams, aws: Aws, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    """GIVEN a failed batch of n records in moto's Kinesis and the production wiring (clients
    built from the environment)
    WHEN hydrated
    THEN the AWS requests are exactly 1 GetShardIterator, 1 GetRecords (Limit = n) and
    ceil(n / 10) SendMessageBatch -- nothing else (no CloudWatch: metrics are EMF lines) -- and
    the n envelopes sent are the n records. Counted with botocore's before-parameter-build hook.
    """
    numbers = streams.put(_payloads(count))
    calls: Counter[str] = Counter()
    sent: list[str] = []

    def counted(event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".")
        calls[f"{service}.{operation}"] += 1

    session = boto3.session.Session(region_name=REGION)
    session.events.register("before-parameter-build", counted)
    _acknowledge_sends(session, sent)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    monkeypatch.setenv("DLQ_URL", aws.queue_url)
    monkeypatch.setenv("SOURCE_STREAM_ARNS", streams.stream_arn)
    monkeypatch.delenv("PAYLOAD_BUCKET", raising=False)
    hydrate_app.set_dependencies(None)
    try:
        hydrate_app.lambda_handler(
            sns_event(_failed_batch(streams, numbers)),
            FakeLambdaContext(function_name=HYDRATE_FUNCTION),  # type: ignore[arg-type]
        )
    finally:
        hydrate_app.set_dependencies(None)

    assert dict(calls) == {
        "kinesis.GetShardIterator": 1,
        "kinesis.GetRecords": 1,
        "sqs.SendMessageBatch": math.ceil(count / 10),
    }
    # the requests run concurrently: their envelopes arrive in any order
    assert sorted((DlqEnvelope.parse(body).sequence_number for body in sent), key=int) == numbers


# --------------------------------------------------------------------------- configuration


def test_missing_dlq_url_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN no DLQ_URL WHEN the cold start builds dependencies THEN the error names it."""
    monkeypatch.delenv("DLQ_URL", raising=False)
    hydrate_app.set_dependencies(None)

    with pytest.raises(ConfigurationError, match="DLQ_URL"):
        hydrate_app.lambda_handler(
            sns_event("{}"),
            FakeLambdaContext(),  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("bucket", ["s3://bucket", "arn:aws:s3:::bucket", "Bad_Bucket"])
def test_invalid_payload_bucket_is_named(bucket: str) -> None:
    with pytest.raises(ConfigurationError, match="PAYLOAD_BUCKET"):
        Settings.from_env({**_REQUIRED, "PAYLOAD_BUCKET": bucket})


_STREAM = "arn:aws:kinesis:eu-west-1:123456789012:stream/retail-events"
_TABLE_STREAM = (
    "arn:aws:dynamodb:eu-west-1:123456789012:table/outbox/stream/2025-01-31T12:00:00.123"
)
_KEY = "arn:aws:kms:eu-west-1:123456789012:key/7f1c0a52-3d1e-4a59-9b1c-2b8f0e6d4c11"
_REQUIRED = {"DLQ_URL": "https://sqs/q", "SOURCE_STREAM_ARNS": _STREAM}


def test_settings_from_environment() -> None:
    settings = Settings.from_env(
        {
            "DLQ_URL": " https://sqs/q ",
            "SOURCE_STREAM_ARNS": f" {_STREAM} ,{_TABLE_STREAM}",
            "PAYLOAD_BUCKET": "b-1",
            "AWS_LAMBDA_FUNCTION_NAME": "h",
            "DLQ_MAC_KEY_ARN": _KEY,
        }
    )

    assert settings == Settings(
        dlq_url="https://sqs/q",
        streams=frozenset({_STREAM, _TABLE_STREAM}),
        payload_bucket="b-1",
        function_name="h",
        mac_key_arn=_KEY,
    )
    assert Settings.from_env(_REQUIRED).payload_bucket is None
    assert Settings.from_env(_REQUIRED).mac_key_arn is None


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"DLQ_URL": "u"}, "SOURCE_STREAM_ARNS"),
        ({"DLQ_URL": "u", "SOURCE_STREAM_ARNS": " , "}, "SOURCE_STREAM_ARNS"),
        ({"DLQ_URL": "u", "SOURCE_STREAM_ARNS": "retail-events"}, "SOURCE_STREAM_ARNS"),
        ({**_REQUIRED, "DLQ_MAC_KEY_ARN": "alias-without-arn"}, "DLQ_MAC_KEY_ARN"),
    ],
)
def test_missing_or_invalid_served_streams_and_mac_key_are_named(
    environment: dict[str, str], named: str
) -> None:
    """GIVEN no served stream, a stream name instead of an ARN, or a MAC key that is not an ARN
    WHEN the settings are read THEN the error names the variable."""
    with pytest.raises(ConfigurationError, match=named):
        Settings.from_env(environment)


def test_metrics_are_emitted_as_emf(
    hydrate: HydrateHarness, streams: Streams, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN one good and one malformed on-failure record WHEN handled THEN EMF counts them."""
    numbers = streams.put(_payloads(2))
    capsys.readouterr()

    hydrate.invoke(sns_event(_failed_batch(streams, numbers), "nope"))

    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["OnFailureRecordsReceived"][0][0] == 2
    assert metrics["MalformedOnFailureRecords"][0][0] == 1
    assert metrics["RecordsHydrated"][0][0] == 2
    assert metrics["PayloadUnavailable"][0][0] == 0


def test_kinesis_data_survives_exactly(hydrate: HydrateHarness, streams: Streams, aws: Aws) -> None:
    """GIVEN binary, non-UTF-8 record bytes WHEN hydrated THEN the envelope holds them exactly."""
    payload = b"\x00\xff\xfe" + "Café".encode()
    numbers = streams.put([payload])

    hydrate.invoke(_failed_batch(streams, numbers))

    (envelope,) = aws.dlq_envelopes()
    assert envelope.original_bytes() == payload
    assert base64.b64decode(envelope.payload_b64 or "") == payload
