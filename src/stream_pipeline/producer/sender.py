"""Sending produced records with PutRecords: batching, an optional rate, retries of the failed
entries, and the report that accounts for every record (see docs/producer.md)."""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline.cli_common import (
    MAX_PARTITION_KEY_CHARS,
    MAX_RECORD_BYTES,
    MAX_RECORDS_PER_PUT,
    put_records_batches,
    stream_params,
)
from stream_pipeline.producer.generator import ProducedRecord
from stream_pipeline.runtime.aws_errors import (
    ErrorKind,
    RetryPolicy,
    classify_exception,
    describe_exception,
    error_code,
)

DEFAULT_MAX_ATTEMPTS: Final = 8
DEFAULT_POLICY: Final = RetryPolicy(
    max_attempts=DEFAULT_MAX_ATTEMPTS, base_delay=0.1, max_delay=5.0
)
"""Waits before the retries: equal jitter in [c/2, c], c = 0.1 s doubling up to 5 s (at most
about 11 s in all): longer than a shard's one-second throughput window."""
FLUSH_SECONDS: Final = 0.5
"""With ``--rate``, a request carries at most this many seconds' worth of records."""

PERMANENT_ENTRY_ERRORS: Final = frozenset(
    {
        "AccessDeniedException",
        "KMSAccessDeniedException",
        "KMSDisabledException",
        "KMSInvalidStateException",
        "KMSNotFoundException",
        "KMSOptInRequired",
    }
)
"""Per-entry error codes that no retry can fix: reported at once."""

# --------------------------------------------------------------------------- rate limiting


class TokenBucket:
    """``rate`` tokens per second, at most ``capacity`` saved up (it starts full).
    ``acquire(n)`` waits (injectable ``sleep``) until ``n`` tokens are there, then takes them."""

    def __init__(
        self,
        rate: float,
        capacity: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or capacity <= 0:
            msg = "rate and capacity must be positive"
            raise ValueError(msg)
        self._rate = rate
        self._capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = capacity
        self._last = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
        self._last = now

    def acquire(self, tokens: int) -> None:
        self._refill()
        if self._tokens < tokens:
            self._sleep((tokens - self._tokens) / self._rate)
            self._refill()
        # A coarse clock may leave the bucket slightly short: the debt delays the next request.
        self._tokens -= tokens


def batch_limit_for(rate: float) -> int:
    """Records per request: 500, or with a rate half a second's worth (at least 1)."""
    if rate <= 0:
        return MAX_RECORDS_PER_PUT
    return max(1, min(MAX_RECORDS_PER_PUT, math.floor(rate * FLUSH_SECONDS)))


# --------------------------------------------------------------------------- sending


@dataclass(slots=True)
class ProduceReport:
    sent: Counter[str] = field(default_factory=Counter)
    """Records accepted by the stream, by kind."""
    failed: Counter[str] = field(default_factory=Counter)
    """Records given up on, by kind."""
    failure_reasons: Counter[str] = field(default_factory=Counter)
    """Error code -> records given up on with it."""
    entry_errors: Counter[str] = field(default_factory=Counter)
    """Error code -> failed entries over all attempts (retried ones included)."""
    requests: int = 0
    """PutRecords calls made (each call counted once, whatever the SDK retried inside it)."""
    retried: int = 0
    """Entries sent again."""
    elapsed_seconds: float = 0.0

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())

    @property
    def total_failed(self) -> int:
        return sum(self.failed.values())

    @property
    def events_per_second(self) -> float:
        return self.total_sent / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0


class ProduceError(RuntimeError):
    """PutRecords failed in a way no retry fixes (stream missing, access denied, no
    credentials). ``report`` holds what was done before."""

    def __init__(self, message: str, report: ProduceReport) -> None:
        super().__init__(message)
        self.report = report


def _record_size(record: ProducedRecord) -> int:
    return len(record.data) + len(record.partition_key.encode("utf-8"))


def _local_problem(record: ProducedRecord) -> str | None:
    if not 1 <= len(record.partition_key) <= MAX_PARTITION_KEY_CHARS:
        return f"InvalidPartitionKey: must be 1 to {MAX_PARTITION_KEY_CHARS} characters"
    if _record_size(record) > MAX_RECORD_BYTES:
        return (
            f"RecordTooLarge: {_record_size(record)} bytes with its partition key, "
            f"Kinesis takes {MAX_RECORD_BYTES}"
        )
    return None


class _Producer:
    def __init__(
        self,
        client: Any,
        stream: str,
        *,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
        rand: Callable[[], float],
        manifest: TextIO | None,
    ) -> None:
        self._client = client
        self._stream = stream
        self._policy = policy
        self._sleep = sleep
        self._rand = rand
        self._manifest = manifest
        self.report = ProduceReport()

    def _write(self, record: ProducedRecord, status: Mapping[str, str]) -> None:
        if self._manifest is None:
            return
        line = {
            "id": record.record_id,
            "kind": record.kind.value,
            "expected": record.kind.expected,
            "partitionKey": record.partition_key,
            "sha256": hashlib.sha256(record.data).hexdigest(),
            "length": len(record.data),
            # Only on a planted fraudulent user's events: the rule it is meant to trip.
            **({"planted": record.planted.value} if record.planted is not None else {}),
            **status,
        }
        self._manifest.write(json.dumps(line, separators=(",", ":")) + "\n")

    def _accepted(self, record: ProducedRecord, result: Mapping[str, Any]) -> None:
        self.report.sent[record.kind.value] += 1
        self._write(
            record,
            {
                "status": "sent",
                "shardId": str(result.get("ShardId", "")),
                "sequenceNumber": str(result["SequenceNumber"]),
            },
        )

    def _given_up(self, record: ProducedRecord, code: str, why: str) -> None:
        self.report.failed[record.kind.value] += 1
        self.report.failure_reasons[code] += 1
        self._write(record, {"status": "failed", "error": why})

    def sendable(
        self, records: Iterable[ProducedRecord], on_progress: Callable[[int], None]
    ) -> Iterator[ProducedRecord]:
        """The records Kinesis can take; the others are reported failed at once."""
        for record in records:
            problem = _local_problem(record)
            if problem is None:
                yield record
            else:
                self._given_up(record, problem.split(":", 1)[0], problem)
                on_progress(1)

    def send(self, batch: list[ProducedRecord]) -> None:
        pending = batch
        attempt = 1
        while pending:
            failed = self._put(pending)
            retry: list[ProducedRecord] = []
            for record, code, message in failed:
                self.report.entry_errors[code] += 1
                if code in PERMANENT_ENTRY_ERRORS:
                    self._given_up(record, code, f"{code}: {message}".rstrip(": "))
                elif attempt >= self._policy.max_attempts:
                    why = f"{code}: {message}".rstrip(": ") + f" (after {attempt} attempts)"
                    self._given_up(record, code, why)
                else:
                    retry.append(record)
            if retry:
                self._sleep(self._policy.delay(attempt, self._rand))
                self.report.retried += len(retry)
                attempt += 1
            pending = retry

    def _put(self, records: list[ProducedRecord]) -> list[tuple[ProducedRecord, str, str]]:
        """One PutRecords call; returns the entries that failed (record, code, message)."""
        self.report.requests += 1
        try:
            response = self._client.put_records(
                Records=[{"Data": r.data, "PartitionKey": r.partition_key} for r in records],
                **stream_params(self._stream),
            )
        except (ClientError, BotoCoreError) as exc:
            if classify_exception(exc) is not ErrorKind.RETRYABLE:
                msg = f"PutRecords to {self._stream} failed: {describe_exception(exc)}"
                raise ProduceError(msg, self.report) from exc
            code = error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__
            return [(record, code or "RequestFailed", str(exc)) for record in records]
        results: list[dict[str, Any]] = response.get("Records") or []
        failed: list[tuple[ProducedRecord, str, str]] = []
        for position, record in enumerate(records):
            result = results[position] if position < len(results) else {}
            if result.get("SequenceNumber") and not result.get("ErrorCode"):
                self._accepted(record, result)
            else:
                code = str(result.get("ErrorCode") or "NoResult")
                failed.append((record, code, str(result.get("ErrorMessage") or "")))
        return failed


def produce(
    client: Any,
    stream: str,
    records: Iterable[ProducedRecord],
    *,
    rate: float = 0.0,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rand: Callable[[], float] = random.random,
    manifest: TextIO | None = None,
    on_progress: Callable[[int], None] = lambda count: None,
) -> ProduceReport:
    """Put ``records`` into ``stream`` (name or ARN) with PutRecords; see the module docstring.

    ``rate`` > 0 limits the records per second (token bucket on ``clock`` and ``sleep``);
    ``policy`` bounds the attempts per record and the backoff between them; ``manifest``
    receives one JSON line per record; ``on_progress(n)`` after every n records settled.
    Raises :class:`ProduceError` on an error no retry fixes.
    """
    producer = _Producer(client, stream, policy=policy, sleep=sleep, rand=rand, manifest=manifest)
    limit = batch_limit_for(rate)
    bucket = TokenBucket(rate, limit, clock=clock, sleep=sleep) if rate > 0 else None
    started = clock()
    try:
        sendable = producer.sendable(records, on_progress)
        for batch in put_records_batches(sendable, _record_size, max_records=limit):
            if bucket is not None:
                bucket.acquire(len(batch))
            producer.send(batch)
            on_progress(len(batch))
    finally:
        producer.report.elapsed_seconds = clock() - started
    return producer.report
