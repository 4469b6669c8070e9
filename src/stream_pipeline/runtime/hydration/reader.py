"""Re-read an inclusive sequence number range of one shard, Kinesis or DynamoDB stream.

Used by the hydrate function (the range of a discarded batch) and by the replay CLI (to hydrate
pointer-only envelopes). The protocol, with the fewest calls:

1. ``GetShardIterator`` ``AT_SEQUENCE_NUMBER`` the range start (``AFTER_SEQUENCE_NUMBER`` for a
   range that starts after a record);
2. ``GetRecords`` with ``Limit`` = records still expected (the page maximum once past them, or
   when nothing is expected), following ``NextShardIterator`` until a record at or past the end
   sequence number. Sequence numbers are compared as integers, never as strings.

What can go wrong, and what the reader does:

* ``ExpiredIteratorException`` -> a new iterator ``AFTER_SEQUENCE_NUMBER`` the last record read
  (``AT_SEQUENCE_NUMBER`` the start when none was read); bounded, then :class:`StreamReadError`.
* throttling (``ProvisionedThroughputExceededException``, ``LimitExceededException``, KMS
  throttling, 5xx) -> bounded exponential backoff (injectable ``sleep``), then
  :class:`StreamReadError`: the data is still there, the caller should fail and be retried.
* the data is gone -- ``TrimmedDataAccessException``, ``ResourceNotFoundException``, a closed
  shard that ends before the end sequence number, the first record read being past the start (the
  records before it were trimmed), or ``max_empty_pages`` consecutive empty pages -> the part not
  read is returned as a :class:`MissingRange`; nothing is invented, nothing silently dropped.
* Kinesis refuses the start position (``InvalidArgumentException`` from ``GetShardIterator``):
  that is not expired data. When its message says the sequence number belongs to another shard
  (``Invalid StartingSequenceNumber. It encodes shardId-…, while it was used in a call to …``) or
  another stream (``StartingSequenceNumber … used in GetShardIterator on shard … in stream …
  under account … is invalid because it did not come from this stream.``), or when ``ListShards``
  shows the number outside the shard's sequence number range, the range is reported as
  :class:`RefusedPosition` (a forged or mismatched on-failure record) and nothing is read.
  Otherwise (a message not known here, the shard in range or not listed) the range is missing,
  with Kinesis' message as its detail.
* any other error (access denied, KMS key disabled, ...) -> :class:`StreamReadError`.
"""

from __future__ import annotations

import base64
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from botocore.exceptions import ClientError

from stream_pipeline.runtime.aws_errors import (
    ErrorKind,
    RetryPolicy,
    classify_exception,
    describe_client_error,
    error_code,
)
from stream_pipeline.runtime.dlq_envelope import (
    DYNAMODB_SOURCE,
    KINESIS_SOURCE,
    PayloadFormat,
    canonical_json,
)

KINESIS_MAX_LIMIT: Final = 10_000
DYNAMODB_STREAMS_MAX_LIMIT: Final = 1_000
DEFAULT_MAX_EMPTY_PAGES: Final = 5
DEFAULT_MAX_ITERATOR_RENEWALS: Final = 5

EXPIRED_ITERATOR_CODE: Final = "ExpiredIteratorException"
INVALID_ARGUMENT_CODE: Final = "InvalidArgumentException"
UNAVAILABLE_CODES: Final = frozenset(
    {"TrimmedDataAccessException", "ResourceNotFoundException", INVALID_ARGUMENT_CODE}
)
POSITION_OF_ANOTHER_SHARD: Final = re.compile(
    r"\bit encodes \S+, while it was used in a call to\b", re.IGNORECASE
)
"""Kinesis' GetShardIterator message for a sequence number of another shard of the stream."""
POSITION_OF_ANOTHER_STREAM: Final = re.compile(
    r"\bis invalid because it did not come from this stream\b", re.IGNORECASE
)
"""Kinesis' GetShardIterator message for a sequence number of another stream (or of a stream
deleted and re-created under the same name)."""
MAX_LIST_SHARDS_PAGES: Final = 20
"""ListShards pages read at most to find one shard (1,000 shards a page by default)."""
THROTTLING_CODES: Final = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "KMSThrottlingException",
    }
)


class StreamKind(StrEnum):
    KINESIS = KINESIS_SOURCE
    DYNAMODB = DYNAMODB_SOURCE


class StreamReadError(RuntimeError):
    """The range could not be read now (throttling, iterators expiring, a deployment problem).
    The records may still be there: fail, so that the read is tried again later."""


class _ExpiredIteratorError(Exception):
    pass


class _UnavailableError(Exception):
    pass


class _RefusedPositionError(Exception):
    pass


class _InvalidPositionError(_UnavailableError):
    """Kinesis refused a GetShardIterator position; ``refused``: its message says the sequence
    number is another shard's or another stream's."""

    def __init__(self, reason: str, *, refused: bool) -> None:
        super().__init__(reason)
        self.refused = refused


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """One record read back from the stream."""

    sequence_number: str
    payload: bytes | None
    """Kinesis: the record's bytes. DynamoDB: the NewImage as canonical DynamoDB JSON (binary
    values base64, as Lambda delivers them), or None (no NewImage, e.g. REMOVE)."""
    payload_format: PayloadFormat
    partition_key: str | None = None
    approximate_arrival: datetime | None = None
    event_id: str | None = None
    dynamodb_keys: dict[str, Any] | None = None
    event_name: str | None = None


@dataclass(frozen=True, slots=True)
class MissingRange:
    """Records of the range that could not be read (inclusive bounds, integer order)."""

    start: str
    end: str
    after: bool
    """True: the range starts after ``start`` (a record that was read), not at it."""
    detail: str
    count: int | None = None
    """How many records are missing, when known."""


@dataclass(frozen=True, slots=True)
class RefusedPosition:
    """The stream refused the range's position as not its own (a sequence number of another
    shard or stream): the on-failure record naming it is forged or mismatched, not expired."""

    detail: str


@dataclass(slots=True)
class ReadStats:
    get_shard_iterator: int = 0
    get_records: int = 0
    list_shards: int = 0
    empty_pages: int = 0
    throttle_retries: int = 0
    iterator_renewals: int = 0


@dataclass(slots=True)
class RangeRead:
    records: list[StreamRecord] = field(default_factory=list)
    missing: list[MissingRange] = field(default_factory=list)
    """Parts that are gone from the stream."""
    not_read: MissingRange | None = None
    """Set when the reader stopped at ``max_records`` before the end: the rest is in the stream
    but was not read."""
    refused: RefusedPosition | None = None
    """Set when the stream refused the start position as not its own: nothing was read, and the
    range is neither missing nor expired."""
    stats: ReadStats = field(default_factory=ReadStats)


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    return None


def lambda_json(value: Any) -> Any:
    """boto3's DynamoDB-typed JSON -> the same JSON as in a Lambda event (bytes -> base64)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(key): lambda_json(member) for key, member in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [lambda_json(member) for member in value]
    return value


def _kinesis_record(item: dict[str, Any], shard_id: str) -> StreamRecord:
    sequence_number = str(item["SequenceNumber"])
    data = item.get("Data")
    return StreamRecord(
        sequence_number=sequence_number,
        payload=bytes(data) if data is not None else b"",
        payload_format=PayloadFormat.RAW,
        partition_key=item.get("PartitionKey"),
        approximate_arrival=_aware(item.get("ApproximateArrivalTimestamp")),
        event_id=f"{shard_id}:{sequence_number}",
    )


def _dynamodb_record(item: dict[str, Any], shard_id: str) -> StreamRecord:
    stream_record = item.get("dynamodb") or {}
    image = stream_record.get("NewImage")
    keys = stream_record.get("Keys")
    event_id = item.get("eventID")
    return StreamRecord(
        sequence_number=str(stream_record["SequenceNumber"]),
        payload=canonical_json(lambda_json(image)) if image is not None else None,
        payload_format=PayloadFormat.DYNAMODB_JSON,
        approximate_arrival=_aware(stream_record.get("ApproximateCreationDateTime")),
        event_id=event_id if isinstance(event_id, str) else None,
        dynamodb_keys=lambda_json(keys) if isinstance(keys, dict) else None,
        event_name=item.get("eventName"),
    )


class ShardRangeReader:
    """Reads ranges of shards of one stream type with one client (``kinesis`` or
    ``dynamodbstreams``)."""

    def __init__(
        self,
        client: Any,
        kind: StreamKind,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        page_limit: int | None = None,
        max_empty_pages: int = DEFAULT_MAX_EMPTY_PAGES,
        max_iterator_renewals: int = DEFAULT_MAX_ITERATOR_RENEWALS,
    ) -> None:
        maximum = KINESIS_MAX_LIMIT if kind is StreamKind.KINESIS else DYNAMODB_STREAMS_MAX_LIMIT
        self._client = client
        self._kind = kind
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._rand = rand
        self._page_limit = max(1, min(page_limit or maximum, maximum))
        self._max_empty_pages = max(1, max_empty_pages)
        self._max_renewals = max_iterator_renewals

    def read(
        self,
        *,
        stream_arn: str,
        shard_id: str,
        start: str,
        end: str,
        expected: int | None = None,
        after: bool = False,
        max_records: int | None = None,
    ) -> RangeRead:
        """Records ``start``..``end`` (inclusive; after ``start`` with ``after``), in order.

        ``expected`` (how many records the range should hold) sizes the pages; ``max_records``
        bounds the work (the rest is reported in ``not_read``).
        """
        result = RangeRead()
        start_int, end_int = int(start), int(end)
        last: str | None = None

        def position() -> tuple[str, str]:
            if last is not None:
                return "AFTER_SEQUENCE_NUMBER", last
            return ("AFTER_SEQUENCE_NUMBER" if after else "AT_SEQUENCE_NUMBER"), start

        def rest(detail: str) -> MissingRange:
            if last is not None:
                return MissingRange(last, end, True, detail)
            return MissingRange(start, end, after, detail)

        try:
            iterator: str | None = self._iterator(stream_arn, shard_id, *position(), result.stats)
        except _RefusedPositionError as exc:
            result.refused = RefusedPosition(str(exc))
            return result
        except _UnavailableError as exc:
            result.missing.append(rest(str(exc)))
            return self._finish(result, expected)

        empty_pages = 0
        renewals = 0
        while iterator:
            if max_records is not None and len(result.records) >= max_records:
                result.not_read = rest(f"not read: stopped after {max_records} records")
                break
            try:
                page = self._call(
                    "get_records",
                    result.stats,
                    **self._records_params(iterator, self._limit(expected, result), stream_arn),
                )
            except _ExpiredIteratorError as exc:
                renewals += 1
                result.stats.iterator_renewals += 1
                if renewals > self._max_renewals:
                    msg = f"shard iterator expired {renewals} times reading {shard_id}: {exc}"
                    raise StreamReadError(msg) from exc
                try:
                    iterator = self._iterator(stream_arn, shard_id, *position(), result.stats)
                except (_UnavailableError, _RefusedPositionError) as gone:
                    # The stream accepted the range's start before (the first iterator): a
                    # refusal now is no forged record, the rest of the range cannot be read.
                    result.missing.append(rest(str(gone)))
                    break
                continue
            except _UnavailableError as exc:
                result.missing.append(rest(str(exc)))
                break

            items: list[dict[str, Any]] = page.get("Records") or []
            done = False
            for item in items:
                record = self._convert(item, shard_id)
                number = int(record.sequence_number)
                if number < start_int or (after and number == start_int):
                    continue  # before the range (defensive: the iterator starts at it)
                if last is not None and number <= int(last):
                    continue  # already read (a renewed iterator may repeat records)
                if number > end_int:
                    done = True
                    break
                if last is None and not after and number > start_int:
                    result.missing.append(
                        MissingRange(
                            start,
                            str(number - 1),
                            False,
                            f"the first record still in the stream is {record.sequence_number}, "
                            f"after the range start {start}",
                        )
                    )
                result.records.append(record)
                last = record.sequence_number
                if number == end_int:
                    done = True
                    break
                if max_records is not None and len(result.records) >= max_records:
                    break
            if done:
                break
            if max_records is not None and len(result.records) >= max_records:
                result.not_read = rest(f"not read: stopped after {max_records} records")
                break
            if items:
                empty_pages = 0
            else:
                empty_pages += 1
                result.stats.empty_pages += 1
                if empty_pages >= self._max_empty_pages:
                    result.missing.append(
                        rest(f"{empty_pages} consecutive empty pages before the end of the range")
                    )
                    break
            iterator = page.get("NextShardIterator")
            if not iterator:
                result.missing.append(rest("the shard is closed and ends before the range end"))
        return self._finish(result, expected)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _finish(result: RangeRead, expected: int | None) -> RangeRead:
        if expected is not None and len(result.missing) == 1 and result.not_read is None:
            count = expected - len(result.records)
            if count > 0:
                result.missing[0] = replace(result.missing[0], count=count)
        return result

    def _limit(self, expected: int | None, result: RangeRead) -> int:
        if expected is not None and len(result.records) < expected:
            return min(self._page_limit, expected - len(result.records))
        return self._page_limit

    def _records_params(self, iterator: str, limit: int, stream_arn: str) -> dict[str, Any]:
        params: dict[str, Any] = {"ShardIterator": iterator, "Limit": limit}
        if self._kind is StreamKind.KINESIS:
            params["StreamARN"] = stream_arn
        return params

    def _convert(self, item: dict[str, Any], shard_id: str) -> StreamRecord:
        if self._kind is StreamKind.KINESIS:
            return _kinesis_record(item, shard_id)
        return _dynamodb_record(item, shard_id)

    def _iterator(
        self,
        stream_arn: str,
        shard_id: str,
        iterator_type: str,
        sequence_number: str,
        stats: ReadStats,
    ) -> str:
        if self._kind is StreamKind.KINESIS:
            params = {
                "StreamARN": stream_arn,
                "ShardId": shard_id,
                "ShardIteratorType": iterator_type,
                "StartingSequenceNumber": sequence_number,
            }
        else:
            params = {
                "StreamArn": stream_arn,
                "ShardId": shard_id,
                "ShardIteratorType": iterator_type,
                "SequenceNumber": sequence_number,
            }
        try:
            response = self._call("get_shard_iterator", stats, **params)
        except _InvalidPositionError as exc:
            if exc.refused:
                raise _RefusedPositionError(str(exc)) from exc
            outside = self._outside_shard(stream_arn, shard_id, sequence_number, stats)
            if outside is not None:
                raise _RefusedPositionError(f"{exc}; {outside}") from exc
            raise
        iterator = response.get("ShardIterator")
        if not iterator:
            msg = f"no shard iterator returned for {shard_id} {iterator_type} {sequence_number}"
            raise _UnavailableError(msg)
        return str(iterator)

    def _call(self, operation: str, stats: ReadStats, **params: Any) -> dict[str, Any]:
        retries = 0
        while True:
            if operation == "get_records":
                stats.get_records += 1
            elif operation == "list_shards":
                stats.list_shards += 1
            else:
                stats.get_shard_iterator += 1
            try:
                response: dict[str, Any] = getattr(self._client, operation)(**params)
            except ClientError as exc:
                code = error_code(exc)
                reason = describe_client_error(exc)
                if code == EXPIRED_ITERATOR_CODE:
                    raise _ExpiredIteratorError(reason) from exc
                if (
                    code == INVALID_ARGUMENT_CODE
                    and operation == "get_shard_iterator"
                    and self._kind is StreamKind.KINESIS
                ):
                    message = str(exc.response.get("Error", {}).get("Message") or "")
                    refused = bool(
                        POSITION_OF_ANOTHER_SHARD.search(message)
                        or POSITION_OF_ANOTHER_STREAM.search(message)
                    )
                    raise _InvalidPositionError(reason, refused=refused) from exc
                if code in UNAVAILABLE_CODES:
                    raise _UnavailableError(reason) from exc
                if code in THROTTLING_CODES or classify_exception(exc) is ErrorKind.RETRYABLE:
                    if retries + 1 >= self._policy.max_attempts:
                        msg = (
                            f"{operation} still failing after {self._policy.max_attempts} "
                            f"attempts: {reason}"
                        )
                        raise StreamReadError(msg) from exc
                    retries += 1
                    stats.throttle_retries += 1
                    self._sleep(self._policy.delay(retries, self._rand))
                    continue
                msg = f"{operation} failed: {reason}"
                raise StreamReadError(msg) from exc
            return response

    def _outside_shard(
        self, stream_arn: str, shard_id: str, sequence_number: str, stats: ReadStats
    ) -> str | None:
        """Why ``shard_id`` cannot hold ``sequence_number`` (ListShards: the number is outside
        the shard's sequence number range); None when it can, or when that cannot be told (the
        shard is not listed any more, ListShards failed): then the range counts as missing."""
        params: dict[str, Any] = {"StreamARN": stream_arn}
        try:
            for _ in range(MAX_LIST_SHARDS_PAGES):
                page = self._call("list_shards", stats, **params)
                for shard in page.get("Shards") or []:
                    if shard.get("ShardId") != shard_id:
                        continue
                    bounds = shard.get("SequenceNumberRange") or {}
                    first = bounds.get("StartingSequenceNumber")
                    last = bounds.get("EndingSequenceNumber")
                    number = int(sequence_number)
                    if (first is not None and number < int(first)) or (
                        last is not None and number > int(last)
                    ):
                        return (
                            f"sequence number {sequence_number} is outside the range of "
                            f"{shard_id} ({first} to {last or 'open'})"
                        )
                    return None
                token = page.get("NextToken")
                if not token:
                    return None
                # ListShards refuses the stream together with a NextToken.
                params = {"NextToken": token}
        except (_UnavailableError, StreamReadError, ValueError):
            return None
        return None
