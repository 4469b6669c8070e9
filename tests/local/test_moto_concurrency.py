"""Concurrent writes to moto's DynamoDB and Kinesis are all kept, as in AWS (``moto_serial``).

moto's races are narrow; each test widens its window with a short sleep inside the model code
that runs between moto's read and its write, so that without the serialisation writes are lost
on every run (checked by removing ``moto_serial.apply()``)."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stream_pipeline.local.runtime import moto_patches, moto_serial

REGION = "eu-west-1"
THREADS = 8


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    moto_serial.apply()
    with mock_aws():
        yield boto3.session.Session(region_name=REGION)


def _slowed(monkeypatch: pytest.MonkeyPatch, cls: Any, name: str) -> None:
    """``cls.name`` waits up to a millisecond first (uneven waits: threads overtake each other)."""
    original = getattr(cls, name)
    waits = random.Random(7)

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(waits.random() / 1000)
        return original(*args, **kwargs)

    monkeypatch.setattr(cls, name, slow)


class _SlowPartitions(defaultdict[Any, Any]):
    """moto's partitions (``Table.items``), with a wait between creating a partition and
    storing it: the moment another put to the same new partition can slip in."""

    def __missing__(self, key: Any) -> Any:
        partition = self.default_factory()  # type: ignore[misc]
        time.sleep(0.001)
        self[key] = partition
        return partition


def test_concurrent_puts_to_new_partitions_keep_every_item(
    moto: boto3.session.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a table, and moto's creation of a partition slowed down
    WHEN 8 threads write 400 items over 40 partitions that do not exist yet, 25 per request
    THEN all 400 items are in the table."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    dynamodb = moto.client("dynamodb")
    dynamodb.create_table(
        TableName="items",
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
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables["items"]
    table.items = _SlowPartitions(dict)
    puts = [
        {"PutRequest": {"Item": {"userId": {"S": f"user-{n % 40}"}, "eventKey": {"S": f"{n}"}}}}
        for n in range(400)
    ]
    requests = [puts[start : start + 25] for start in range(0, len(puts), 25)]

    with ThreadPoolExecutor(THREADS) as pool:
        list(
            pool.map(
                lambda chunk: dynamodb.batch_write_item(RequestItems={"items": chunk}), requests
            )
        )

    stored = [
        item
        for page in dynamodb.get_paginator("scan").paginate(TableName="items")
        for item in page["Items"]
    ]
    assert len(stored) == len(puts)


def test_concurrent_puts_to_one_shard_keep_every_record(
    moto: boto3.session.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a one-shard stream, and moto's record construction slowed down
    WHEN 8 threads put 200 records at once
    THEN the shard holds 200 records under 200 distinct sequence numbers."""
    from moto.kinesis.models import Record

    kinesis = moto.client("kinesis")
    kinesis.create_stream(StreamName="events", ShardCount=1)
    _slowed(monkeypatch, Record, "__init__")

    with ThreadPoolExecutor(THREADS) as pool:
        sequence_numbers = list(
            pool.map(
                lambda n: kinesis.put_record(StreamName="events", Data=b"%d" % n, PartitionKey="k")[
                    "SequenceNumber"
                ],
                range(200),
            )
        )

    shard_id = kinesis.list_shards(StreamName="events")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName="events", ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"]
    assert len(set(sequence_numbers)) == 200
    assert sorted(int(record["Data"]) for record in records) == list(range(200))


def test_the_local_runtime_serialises_both_backends() -> None:
    """GIVEN the local runtime's moto patches WHEN applied THEN both handlers are serialised."""
    from moto.dynamodb.responses import DynamoHandler
    from moto.kinesis.responses import KinesisResponse

    moto_patches.apply()

    assert DynamoHandler.call_action._serialised  # type: ignore[attr-defined]
    assert KinesisResponse.call_action._serialised  # type: ignore[attr-defined]
