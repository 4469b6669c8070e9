"""The shard range reader on the paths moto cannot produce: expired iterators, throttling,
trimmed data, closed shards, gaps. Kinesis and DynamoDB Streams answers come from botocore's
Stubber (which also checks every request's parameters). The hydrate function on those paths:
tests/functions/test_hydrate_stream_errors.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.config import Config
from botocore.stub import ANY, Stubber
from factories import (
    DYNAMODB_STREAM_ARN,
    KINESIS_STREAM_ARN,
    SHARD_ID,
    get_records_record,
    typed,
)
from stream_harness import harness_session

from stream_pipeline.runtime.aws_errors import RetryPolicy
from stream_pipeline.runtime.hydration.reader import (
    MissingRange,
    RangeRead,
    ShardRangeReader,
    StreamKind,
    StreamReadError,
)

# AWS-sized sequence numbers: 56 digits, where string order and integer order can differ.
BASE = 49_647_238_774_018_758_449_143_790_841_110_230_174_859_314_878_514_777_290


def seq(offset: int) -> str:
    return str(BASE + offset)


DDB_SHARD_ID = "shardId-00000001738300000000-0a1b2c3d"


def ddb_seq(offset: int) -> str:
    """DynamoDB stream sequence numbers: at least 21 digits."""
    return str(10**21 + offset)


@pytest.fixture
def kinesis() -> Iterator[tuple[Any, Stubber]]:
    client = harness_session().client("kinesis")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def ddb_streams() -> Iterator[tuple[Any, Stubber]]:
    client = harness_session().client(
        "dynamodbstreams", config=Config(account_id_endpoint_mode="disabled")
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


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


def expect_page(
    stubber: Stubber,
    numbers: list[str],
    *,
    iterator: str = "it-0",
    next_iterator: str | None = "it-next",
    limit: int | None = None,
) -> None:
    response: dict[str, Any] = {
        "Records": [get_records_record(n, data=f"record {n}".encode()) for n in numbers],
        "MillisBehindLatest": 0,
    }
    if next_iterator is not None:
        response["NextShardIterator"] = next_iterator
    expected: dict[str, Any] = {"ShardIterator": iterator, "StreamARN": KINESIS_STREAM_ARN}
    expected["Limit"] = limit if limit is not None else ANY
    stubber.add_response("get_records", response, expected)


def read(
    client: Any,
    *,
    start: str,
    end: str,
    expected: int | None = None,
    kind: StreamKind = StreamKind.KINESIS,
    sleeps: list[float] | None = None,
    stream_arn: str = KINESIS_STREAM_ARN,
    shard_id: str = SHARD_ID,
    **options: Any,
) -> RangeRead:
    reader = ShardRangeReader(
        client,
        kind,
        policy=RetryPolicy(max_attempts=4),
        sleep=(sleeps if sleeps is not None else []).append,
        rand=lambda: 0.5,
        **options,
    )
    return reader.read(
        stream_arn=stream_arn, shard_id=shard_id, start=start, end=end, expected=expected
    )


def numbers_of(result: RangeRead) -> list[str]:
    return [record.sequence_number for record in result.records]


# --------------------------------------------------------------------------- Kinesis


def test_expired_iterator_resumes_after_the_last_record_read(
    kinesis: tuple[Any, Stubber],
) -> None:
    """GIVEN a read that gets two records, then ExpiredIteratorException
    WHEN the reader continues
    THEN it asks for a new iterator AFTER_SEQUENCE_NUMBER the last record read and finishes the
    range without repeating or losing a record.
    """
    client, stubber = kinesis
    expect_iterator(stubber, "AT_SEQUENCE_NUMBER", seq(0))
    expect_page(stubber, [seq(0), seq(1)], limit=3)
    stubber.add_client_error("get_records", service_error_code="ExpiredIteratorException")
    expect_iterator(stubber, "AFTER_SEQUENCE_NUMBER", seq(1), iterator="it-renewed")
    expect_page(stubber, [seq(1), seq(2)], iterator="it-renewed", limit=1)

    result = read(client, start=seq(0), end=seq(2), expected=3)

    assert numbers_of(result) == [seq(0), seq(1), seq(2)]
    assert result.missing == []
    assert result.stats.iterator_renewals == 1


def test_expired_iterator_before_any_record_restarts_at_the_start(
    kinesis: tuple[Any, Stubber],
) -> None:
    """GIVEN ExpiredIteratorException on the very first GetRecords
    WHEN the reader continues THEN the new iterator is AT_SEQUENCE_NUMBER the start again.
    """
    client, stubber = kinesis
    expect_iterator(stubber, "AT_SEQUENCE_NUMBER", seq(0))
    stubber.add_client_error("get_records", service_error_code="ExpiredIteratorException")
    expect_iterator(stubber, "AT_SEQUENCE_NUMBER", seq(0), iterator="it-renewed")
    expect_page(stubber, [seq(0)], iterator="it-renewed", limit=1)

    result = read(client, start=seq(0), end=seq(0), expected=1)

    assert numbers_of(result) == [seq(0)]


def test_iterator_that_keeps_expiring_fails_the_read(kinesis: tuple[Any, Stubber]) -> None:
    """GIVEN iterators that always expire WHEN read THEN StreamReadError after the bound."""
    client, stubber = kinesis
    expect_iterator(stubber, "AT_SEQUENCE_NUMBER", seq(0))
    for _ in range(2):
        stubber.add_client_error("get_records", service_error_code="ExpiredIteratorException")
        expect_iterator(stubber, "AT_SEQUENCE_NUMBER", seq(0))
    stubber.add_client_error("get_records", service_error_code="ExpiredIteratorException")

    with pytest.raises(StreamReadError, match="expired 3 times"):
        read(client, start=seq(0), end=seq(0), expected=1, max_iterator_renewals=2)


def test_throughput_exceeded_then_success_backs_off_and_reads_everything(
    kinesis: tuple[Any, Stubber],
) -> None:
    """GIVEN GetRecords throttled twice (ProvisionedThroughputExceededException), then served
    WHEN read
    THEN the records are all read after two bounded backoff sleeps (injected, not real).
    """
    client, stubber = kinesis
    sleeps: list[float] = []
    expect_iterator(stubber, "AT_SEQUENCE_NUMBER", seq(0))
    for _ in range(2):
        stubber.add_client_error(
            "get_records", service_error_code="ProvisionedThroughputExceededException"
        )
    expect_page(stubber, [seq(0), seq(1)], limit=2)

    result = read(client, start=seq(0), end=seq(1), expected=2, sleeps=sleeps)

    assert numbers_of(result) == [seq(0), seq(1)]
    assert sleeps == pytest.approx([0.075, 0.15])
    assert result.stats.throttle_retries == 2


def test_throughput_exceeded_on_every_attempt_fails_the_read(
    kinesis: tuple[Any, Stubber],
) -> None:
    """GIVEN a shard throttled on every attempt WHEN read THEN StreamReadError (the records are
    still there: the invocation must fail and be retried, not report them as lost)."""
    client, stubber = kinesis
    sleeps: list[float] = []
    expect_iterator(stubber, "AT_SEQUENCE_NUMBER", seq(0))
    for _ in range(4):
        stubber.add_client_error(
            "get_records", service_error_code="ProvisionedThroughputExceededException"
        )

    with pytest.raises(StreamReadError, match="after 4 attempts"):
        read(client, start=seq(0), end=seq(1), expected=2, sleeps=sleeps)
    assert len(sleeps) == 3


def test_closed_shard_before_the_end_reports_the_rest_missing(
    kinesis: tuple[Any, Stubber],
) -> None:
    """GIVEN a shard that is closed (no NextShardIterator) after two of four records
    WHEN read
    THEN the two are returned, and the rest (after the last one read, up to the end, 2 records)
    is reported missing.
    """
    client, stubber = kinesis
    expect_iterator(stubber, "AT_SEQUENCE_NUMBER", seq(0))
    expect_page(stubber, [seq(0), seq(1)], next_iterator=None, limit=4)

    result = read(client, start=seq(0), end=seq(3), expected=4)

    assert numbers_of(result) == [seq(0), seq(1)]
    (missing,) = result.missing
    assert (missing.start, missing.end, missing.after, missing.count) == (seq(1), seq(3), True, 2)
    assert "closed" in missing.detail


def test_first_record_after_the_start_reports_the_gap_missing(
    kinesis: tuple[Any, Stubber],
) -> None:
    """GIVEN a batch of 5 from start to start+4 whose first two records were trimmed (the first
    record read is start+2)
    WHEN read
    THEN the three remaining records are returned, and the range start..start+1 (2 records) is
    reported missing.
    """
    client, stubber = kinesis
    expect_iterator(stubber, "AT_SEQUENCE_NUMBER", seq(0))
    expect_page(stubber, [seq(2), seq(3), seq(4)], limit=5)

    result = read(client, start=seq(0), end=seq(4), expected=5)

    assert numbers_of(result) == [seq(2), seq(3), seq(4)]
    assert result.missing == [
        MissingRange(seq(0), seq(1), False, result.missing[0].detail, count=2)
    ]
    assert f"first record still in the stream is {seq(2)}" in result.missing[0].detail


def test_stream_gone_reports_the_whole_range_missing(kinesis: tuple[Any, Stubber]) -> None:
    """GIVEN a deleted stream
    WHEN read THEN the whole range is missing, with the error in the detail.
    (A position Kinesis refuses: tests/runtime/test_hydration_reader_positions.py.)
    """
    client, stubber = kinesis
    code = "ResourceNotFoundException"
    stubber.add_client_error("get_shard_iterator", service_error_code=code, service_message="gone")

    result = read(client, start=seq(0), end=seq(2), expected=3)

    assert result.records == []
    assert result.refused is None
    assert result.missing == [MissingRange(seq(0), seq(2), False, f"{code}: gone", count=3)]


def test_access_denied_fails_the_read(kinesis: tuple[Any, Stubber]) -> None:
    """GIVEN a role without kinesis:GetRecords WHEN read THEN StreamReadError (never "missing")."""
    client, stubber = kinesis
    expect_iterator(stubber, "AT_SEQUENCE_NUMBER", seq(0))
    stubber.add_client_error("get_records", service_error_code="AccessDeniedException")

    with pytest.raises(StreamReadError, match="AccessDeniedException"):
        read(client, start=seq(0), end=seq(0), expected=1)


def test_sequence_numbers_are_compared_as_integers(kinesis: tuple[Any, Stubber]) -> None:
    """GIVEN a range from "9" to "10" (as strings, "10" < "9") and a record "11" after it
    WHEN read THEN "9" and "10" are in the range and "11" ends the read.
    """
    client, stubber = kinesis
    expect_iterator(stubber, "AT_SEQUENCE_NUMBER", "9")
    stubber.add_response(
        "get_records",
        {
            "Records": [get_records_record(n) for n in ("9", "10", "11")],
            "NextShardIterator": "it-next",
        },
        {"ShardIterator": "it-0", "StreamARN": KINESIS_STREAM_ARN, "Limit": 10_000},
    )

    result = read(client, start="9", end="10")

    assert numbers_of(result) == ["9", "10"]


def test_empty_pages_are_tolerated_up_to_the_bound(kinesis: tuple[Any, Stubber]) -> None:
    """GIVEN two empty pages, then the records WHEN read THEN nothing is missing; GIVEN only
    empty pages, the read stops after max_empty_pages and reports the range missing."""
    client, stubber = kinesis
    expect_iterator(stubber, "AT_SEQUENCE_NUMBER", seq(0))
    expect_page(stubber, [], limit=2)
    expect_page(stubber, [], iterator="it-next", next_iterator="it-2", limit=2)
    expect_page(stubber, [seq(0), seq(1)], iterator="it-2", limit=2)

    result = read(client, start=seq(0), end=seq(1), expected=2, max_empty_pages=3)

    assert numbers_of(result) == [seq(0), seq(1)]
    assert result.stats.empty_pages == 2

    expect_iterator(stubber, "AT_SEQUENCE_NUMBER", seq(0))
    expect_page(stubber, [], limit=2)
    expect_page(stubber, [], iterator="it-next", limit=2)
    expect_page(stubber, [], iterator="it-next", limit=2)

    result = read(client, start=seq(0), end=seq(1), expected=2, max_empty_pages=3)

    assert result.records == []
    (missing,) = result.missing
    assert "3 consecutive empty pages" in missing.detail
    assert missing.count == 2


# --------------------------------------------------------------------------- DynamoDB streams


def ddb_item(number: str) -> dict[str, Any]:
    return {
        "eventID": f"e-{number}",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2025, 1, 31, tzinfo=UTC),
            "Keys": {"pk": {"S": number[-3:]}},
            "NewImage": {"pk": {"S": number[-3:]}, "blob": {"B": b"\x00\x01"}},
            "SequenceNumber": number,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def ddb_iterator(stubber: Stubber, iterator_type: str, number: str) -> None:
    stubber.add_response(
        "get_shard_iterator",
        {"ShardIterator": "ddb-it"},
        {
            "StreamArn": DYNAMODB_STREAM_ARN,
            "ShardId": DDB_SHARD_ID,
            "ShardIteratorType": iterator_type,
            "SequenceNumber": number,
        },
    )


def test_dynamodb_trimmed_data_reports_the_range_missing(
    ddb_streams: tuple[Any, Stubber],
) -> None:
    """GIVEN records trimmed from a DynamoDB stream (TrimmedDataAccessException)
    WHEN read THEN the whole range is missing, with the count of the batch.
    """
    client, stubber = ddb_streams
    stubber.add_client_error("get_shard_iterator", service_error_code="TrimmedDataAccessException")

    result = read(
        client,
        start=ddb_seq(300),
        end=ddb_seq(302),
        expected=3,
        kind=StreamKind.DYNAMODB,
        stream_arn=DYNAMODB_STREAM_ARN,
        shard_id=DDB_SHARD_ID,
    )

    (missing,) = result.missing
    assert (missing.start, missing.end, missing.count) == (ddb_seq(300), ddb_seq(302), 3)
    assert missing.detail.startswith("TrimmedDataAccessException")


def test_dynamodb_expired_iterator_resumes_and_binary_is_base64(
    ddb_streams: tuple[Any, Stubber],
) -> None:
    """GIVEN a DynamoDB stream read interrupted by ExpiredIteratorException
    WHEN read
    THEN it resumes AFTER the last record, and binary attributes come out as base64 (as in a
    Lambda event), so the payload is the NewImage the stream processor would have seen.
    """
    client, stubber = ddb_streams
    ddb_iterator(stubber, "AT_SEQUENCE_NUMBER", ddb_seq(300))
    stubber.add_response(
        "get_records",
        {"Records": [ddb_item(ddb_seq(300))], "NextShardIterator": "ddb-next"},
        {"ShardIterator": "ddb-it", "Limit": 2},
    )
    stubber.add_client_error("get_records", service_error_code="ExpiredIteratorException")
    ddb_iterator(stubber, "AFTER_SEQUENCE_NUMBER", ddb_seq(300))
    stubber.add_response(
        "get_records",
        {"Records": [ddb_item(ddb_seq(301))], "NextShardIterator": "ddb-next"},
        {"ShardIterator": "ddb-it", "Limit": 1},
    )

    result = read(
        client,
        start=ddb_seq(300),
        end=ddb_seq(301),
        expected=2,
        kind=StreamKind.DYNAMODB,
        stream_arn=DYNAMODB_STREAM_ARN,
        shard_id=DDB_SHARD_ID,
    )

    assert numbers_of(result) == [ddb_seq(300), ddb_seq(301)]
    first = result.records[0]
    assert first.payload == b'{"blob":{"B":"AAE="},"pk":{"S":"300"}}'
    assert first.dynamodb_keys == typed({"pk": "300"})
    assert first.event_id == f"e-{ddb_seq(300)}"


def test_dynamodb_page_limit_is_at_most_1000(ddb_streams: tuple[Any, Stubber]) -> None:
    """GIVEN a DynamoDB stream batch of 5,000 WHEN read THEN pages ask for 1,000 (the API max)."""
    client, stubber = ddb_streams
    ddb_iterator(stubber, "AT_SEQUENCE_NUMBER", ddb_seq(1))
    stubber.add_response(
        "get_records",
        {"Records": [ddb_item(ddb_seq(1))]},
        {"ShardIterator": "ddb-it", "Limit": 1000},
    )

    result = read(
        client,
        start=ddb_seq(1),
        end=ddb_seq(5000),
        expected=5000,
        kind=StreamKind.DYNAMODB,
        stream_arn=DYNAMODB_STREAM_ARN,
        shard_id=DDB_SHARD_ID,
    )

    assert numbers_of(result) == [ddb_seq(1)]
    assert result.missing[0].count == 4999
