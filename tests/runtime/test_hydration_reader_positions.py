"""Kinesis' InvalidArgumentException from GetShardIterator is not "data expired": a sequence
number of another shard or stream is a refused position (a forged or mismatched on-failure
record). The messages are AWS's own, kept in tests/data/kinesis_get_shard_iterator_errors.json
with their sources; Kinesis answers come from botocore's Stubber."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from factories import KINESIS_STREAM_ARN, SHARD_ID
from stream_harness import harness_session

from stream_pipeline.runtime.aws_errors import RetryPolicy
from stream_pipeline.runtime.hydration.reader import (
    MissingRange,
    RangeRead,
    RefusedPosition,
    ShardRangeReader,
    StreamKind,
)

SAMPLES = json.loads(
    (Path(__file__).parents[1] / "data" / "kinesis_get_shard_iterator_errors.json").read_text()
)["samples"]
BASE = 49_647_238_774_018_758_449_143_790_841_110_230_174_859_314_878_514_777_290


def seq(offset: int) -> str:
    return str(BASE + offset)


def samples(kind: str) -> list[str]:
    return [sample["message"] for sample in SAMPLES if sample["kind"] == kind]


@pytest.fixture
def kinesis() -> Iterator[tuple[Any, Stubber]]:
    client = harness_session().client("kinesis")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def refuse_iterator(stubber: Stubber, message: str) -> None:
    stubber.add_client_error(
        "get_shard_iterator",
        service_error_code="InvalidArgumentException",
        service_message=message,
        expected_params={
            "StreamARN": KINESIS_STREAM_ARN,
            "ShardId": SHARD_ID,
            "ShardIteratorType": "AT_SEQUENCE_NUMBER",
            "StartingSequenceNumber": seq(0),
        },
    )


def shard(shard_id: str, first: str, last: str | None = None) -> dict[str, Any]:
    bounds = {"StartingSequenceNumber": first}
    if last is not None:
        bounds["EndingSequenceNumber"] = last
    return {
        "ShardId": shard_id,
        "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": "1"},
        "SequenceNumberRange": bounds,
    }


def read(client: Any) -> RangeRead:
    reader = ShardRangeReader(
        client, StreamKind.KINESIS, policy=RetryPolicy(max_attempts=2), sleep=lambda _: None
    )
    return reader.read(
        stream_arn=KINESIS_STREAM_ARN, shard_id=SHARD_ID, start=seq(0), end=seq(2), expected=3
    )


@pytest.mark.parametrize("message", samples("another-shard") + samples("another-stream"))
def test_a_sequence_number_of_another_shard_or_stream_is_refused_not_expired(
    kinesis: tuple[Any, Stubber], message: str
) -> None:
    """GIVEN Kinesis answering GetShardIterator with one of AWS's own messages for a sequence
    number of another shard or another stream
    WHEN the range is read
    THEN it is a refused position carrying Kinesis' message; nothing is missing (not "expired")
    and no other call is made.
    """
    client, stubber = kinesis
    refuse_iterator(stubber, message)

    result = read(client)

    assert result.refused == RefusedPosition(f"InvalidArgumentException: {message}")
    assert result.missing == []
    assert result.records == []


@pytest.mark.parametrize(
    ("bounds", "why"),
    [
        ((seq(5), None), "is outside the range of"),
        ((seq(-9), seq(-1)), "is outside the range of"),
    ],
    ids=["before-the-shard-starts", "after-the-closed-shard-ends"],
)
def test_an_unknown_refusal_outside_the_shard_range_is_refused(
    kinesis: tuple[Any, Stubber], bounds: tuple[str, str | None], why: str
) -> None:
    """GIVEN an InvalidArgumentException whose message names neither case, and ListShards
    showing the start sequence number outside the shard's range (on the second page)
    WHEN the range is read
    THEN it is a refused position naming the shard's range.
    """
    client, stubber = kinesis
    (message,) = samples("other")
    refuse_iterator(stubber, message)
    stubber.add_response(
        "list_shards",
        {"Shards": [shard("shardId-000000000001", seq(0))], "NextToken": "page-2"},
        {"StreamARN": KINESIS_STREAM_ARN},
    )
    stubber.add_response(
        "list_shards", {"Shards": [shard(SHARD_ID, *bounds)]}, {"NextToken": "page-2"}
    )

    result = read(client)

    assert result.refused is not None
    assert result.refused.detail.startswith(f"InvalidArgumentException: {message}; ")
    assert f"sequence number {seq(0)} {why} {SHARD_ID}" in result.refused.detail
    assert result.missing == []


def test_an_unknown_refusal_inside_the_shard_range_is_missing(
    kinesis: tuple[Any, Stubber],
) -> None:
    """GIVEN an InvalidArgumentException whose message names neither case, and the start
    sequence number inside the shard's range
    WHEN the range is read
    THEN the range is missing (the stream may have trimmed it), with Kinesis' message.
    """
    client, stubber = kinesis
    (message,) = samples("other")
    refuse_iterator(stubber, message)
    stubber.add_response(
        "list_shards", {"Shards": [shard(SHARD_ID, seq(-100))]}, {"StreamARN": KINESIS_STREAM_ARN}
    )

    result = read(client)

    assert result.refused is None
    assert result.missing == [
        MissingRange(seq(0), seq(2), False, f"InvalidArgumentException: {message}", count=3)
    ]


@pytest.mark.parametrize("listing", ["not-listed", "access-denied"])
def test_an_unknown_refusal_that_the_shards_cannot_tell_is_missing(
    kinesis: tuple[Any, Stubber], listing: str
) -> None:
    """GIVEN an InvalidArgumentException whose message names neither case, and a shard that
    ListShards does not list (gone after retention) or a ListShards the role may not call
    WHEN the range is read
    THEN the range is missing with Kinesis' message: the read never fails on the check.
    """
    client, stubber = kinesis
    refuse_iterator(stubber, "StartingSequenceNumber is invalid")
    if listing == "not-listed":
        stubber.add_response("list_shards", {"Shards": [shard("shardId-000000000009", seq(0))]})
    else:
        stubber.add_client_error("list_shards", service_error_code="AccessDeniedException")

    result = read(client)

    assert result.refused is None
    assert [(m.start, m.end, m.count) for m in result.missing] == [(seq(0), seq(2), 3)]
    assert result.missing[0].detail == "InvalidArgumentException: StartingSequenceNumber is invalid"
