"""Lambda Kinesis events as the event source mapping delivers them, with payloads of a chosen
size, and the 6 MB invocation payload limit that decides which batches can exist."""

from __future__ import annotations

import base64
import functools
import json
from typing import Any, Final

from bench.common import ACCOUNT, REGION

INVOCATION_PAYLOAD_LIMIT: Final = 6 * 1024 * 1024
"""Lambda's synchronous invocation payload limit (6 MB; taken as 6 MiB, the larger reading).
An event source mapping invokes synchronously: a Kinesis batch is cut short rather than
exceed it, whatever the batch size setting."""

STREAM_ARN: Final = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/retail-events"
SHARD_ID: Final = "shardId-000000000000"
ROLE_ARN: Final = f"arn:aws:iam::{ACCOUNT}:role/stream-processor"
BASE_TIMESTAMP_MS: Final = 1_750_000_000_000
EVENT_TYPES: Final = ("view",) * 7 + ("add_to_cart",) * 2 + ("purchase",)
"""70 / 20 / 10 %, the producer's mix."""


def sequence_number(index: int) -> str:
    """56 digits, like AWS's (their length matters for the event size)."""
    return f"4963{index:052d}"


def payload(index: int, size: int) -> bytes:
    """A valid retail event of ``size`` bytes of compact JSON, padded with an extra ``note``
    field; the unpadded event (100 to 107 bytes with the event type) when ``size`` is smaller."""
    event: dict[str, Any] = {
        "eventId": f"e{index:05d}",
        "userId": f"u{index % 1000:03d}",
        "eventType": EVENT_TYPES[index % len(EVENT_TYPES)],
        "productId": f"P{index % 500:03d}",
        "timestamp": BASE_TIMESTAMP_MS + index,
    }
    data = json.dumps(event, separators=(",", ":")).encode()
    padding = size - len(data) - len(',"note":""')
    if padding > 0:
        event["note"] = "x" * padding
        data = json.dumps(event, separators=(",", ":")).encode()
    return data


def kinesis_record(index: int, data: bytes, partition_key: str) -> dict[str, Any]:
    number = sequence_number(index)
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": number,
            "data": base64.b64encode(data).decode("ascii"),
            "approximateArrivalTimestamp": 1_750_000_000.123,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{SHARD_ID}:{number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": ROLE_ARN,
        "awsRegion": REGION,
        "eventSourceARN": STREAM_ARN,
    }


def kinesis_event(payloads: list[bytes], keys: list[str] | None = None) -> dict[str, Any]:
    keys = keys or [f"u{index % 1000:03d}" for index in range(len(payloads))]
    return {
        "Records": [
            kinesis_record(index, data, key)
            for index, (data, key) in enumerate(zip(payloads, keys, strict=True))
        ]
    }


def sized_event(records: int, size: int) -> dict[str, Any]:
    return kinesis_event([payload(index, size) for index in range(records)])


def event_bytes(event: dict[str, Any]) -> int:
    """Size of the event as Lambda serialises it (compact JSON)."""
    return len(json.dumps(event, separators=(",", ":")).encode())


_PERIOD: Final = len(EVENT_TYPES)
"""Records differ in size only through their event type: sizes repeat every 10 records (every
other field has a fixed width up to index 99,999)."""
_EVENT_OVERHEAD: Final = len('{"Records":[]}')


@functools.cache
def _record_lengths(size: int) -> tuple[int, ...]:
    """JSON length of records 0..9 of a ``size``-byte payload event (the period); cached, as
    `largest_batch`'s search asks for the same size a few dozen times."""
    records = (
        kinesis_record(index, payload(index, size), f"u{index:03d}") for index in range(_PERIOD)
    )
    return tuple(len(json.dumps(record, separators=(",", ":")).encode()) for record in records)


def estimated_event_bytes(records: int, size: int) -> int:
    """The exact size of ``sized_event(records, size)``, without building it."""
    if records <= 0:
        return _EVENT_OVERHEAD
    lengths = _record_lengths(size)
    full, rest = divmod(records, _PERIOD)
    return _EVENT_OVERHEAD + full * sum(lengths) + sum(lengths[:rest]) + (records - 1)


def largest_batch(size: int, limit: int = INVOCATION_PAYLOAD_LIMIT) -> int:
    """The most records of a ``size``-byte payload one invocation can carry."""
    low, high = 0, 100_000
    while low < high:
        middle = (low + high + 1) // 2
        if estimated_event_bytes(middle, size) <= limit:
            low = middle
        else:
            high = middle - 1
    return low
