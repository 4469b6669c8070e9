"""Event source mappings for Kinesis streams (and EFO consumers) and DynamoDB streams.

Per mapping and shard, one reader thread polls ``GetRecords`` and hands each record that
passes the filter criteria to a *lane*: ``ParallelizationFactor`` lanes per shard, a record's
lane chosen by a hash of its partition key (Kinesis) or item key (DynamoDB), so the records of
one key are always processed by one lane, in order. Each lane builds batches (``BatchSize``,
``MaximumBatchingWindowInSeconds``, the 6 MB payload limit), invokes the function and settles
the batch before taking the next one:

* success: checkpoint after the batch;
* ``ReportBatchItemFailures``: checkpoint before the lowest reported sequence number and retry
  from there (an invalid report fails the whole batch; an empty one is a success);
* function error with ``BisectBatchOnFunctionError``: split in two halves, retried in order,
  without consuming a retry ("Splitting batches doesn't consume the retry quota");
* otherwise retry, up to ``MaximumRetryAttempts`` (-1: forever);
* records older than ``MaximumRecordAgeInSeconds`` (-1: never) are discarded before any
  invocation attempt;
* discarded records: an on-failure record (``RetryAttemptsExhausted`` / ``RecordAgeExceeded``)
  to ``DestinationConfig.OnFailure`` (SNS, SQS, or S3 with the records as ``payload``).

Checkpoints live in memory (so does the emulator's data): a restarted runtime starts over from
the mappings' starting positions.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline.local.runtime import destinations, events
from stream_pipeline.local.runtime.events import StreamRecord
from stream_pipeline.local.runtime.filters import matches_any
from stream_pipeline.local.runtime.hub import HUB
from stream_pipeline.local.runtime.invoker import Invocation, Invoker
from stream_pipeline.local.runtime.model import MappingConfig
from stream_pipeline.local.runtime.stats import Stats

LOG = logging.getLogger("local_runtime.streams")

MAX_PAYLOAD_BYTES: Final = 6 * 1024 * 1024
"""Lambda's synchronous invocation payload limit: a batch never exceeds it."""
KINESIS_GET_RECORDS_LIMIT: Final = 10_000
DYNAMODB_GET_RECORDS_LIMIT: Final = 1_000
RETRY_ATTEMPTS_EXHAUSTED: Final = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED: Final = "RecordAgeExceeded"


@dataclass(frozen=True, slots=True)
class StreamOptions:
    poll_interval: float = 0.25
    retry_delay: float = 0.2
    """Pause before retrying a failed batch (AWS backs off too; bisected halves go at once)."""


@dataclass(slots=True)
class RunnerContext:
    clients: destinations.Clients
    invoker: Invoker
    stats: Stats
    options: StreamOptions
    filters: list[dict[str, Any]] = field(default_factory=list)


# --------------------------------------------------------------------------- batch item failures


def first_failed_index(payload: Any, records: Sequence[StreamRecord]) -> tuple[int | None, str]:
    """Where to retry from after a successful invocation with ReportBatchItemFailures.

    ``(None, "success")``: nothing failed (null/empty response, null/empty list).
    ``(i, "partial")``: checkpoint before ``records[i]``, the reported record with the lowest
    sequence number. ``(0, "invalid")``: an empty, null or non-string ``itemIdentifier``, or one
    that is not in the batch -- the whole batch failed.
    """
    if not isinstance(payload, dict):
        return None, "success"
    failures = payload.get("batchItemFailures")
    if failures is None or failures == []:
        return None, "success"
    if not isinstance(failures, list):
        return 0, "invalid"
    positions = {record.sequence_number: index for index, record in enumerate(records)}
    reported: list[str] = []
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or not identifier or identifier not in positions:
            return 0, "invalid"
        reported.append(identifier)
    lowest = min(reported, key=int)
    return positions[lowest], "partial"


# --------------------------------------------------------------------------- lanes


@dataclass(slots=True)
class _Attempt:
    records: list[StreamRecord]
    retries: int = 0
    invocations: int = 0


class Lane:
    """Batches of one lane of one shard, invoked and settled one at a time, in order."""

    def __init__(self, runner: MappingRunner, shard_id: str, index: int) -> None:
        self.runner = runner
        self.shard_id = shard_id
        self.index = index
        self._buffer: deque[tuple[float, StreamRecord]] = deque()
        self._condition = threading.Condition()
        self._busy = False
        self._last_completion = 0.0
        self.checkpoint: str | None = None
        self._thread = threading.Thread(
            target=self._run,
            name=f"lane-{runner.config.uuid[:8]}-{shard_id[-4:]}-{index}",
            daemon=True,
        )

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def put(self, records: Sequence[StreamRecord]) -> None:
        """Buffer the records one GetRecords page gave this lane, all at once: a batch is cut
        from what the page held, never from part of it (as when the lane thread ran between
        two single puts)."""
        if not records:
            return
        now = time.monotonic()
        with self._condition:
            self._buffer.extend((now, record) for record in records)
            self._condition.notify_all()

    def wake(self) -> None:
        with self._condition:
            self._condition.notify_all()

    @property
    def buffered(self) -> int:
        with self._condition:
            return len(self._buffer)

    @property
    def idle(self) -> bool:
        with self._condition:
            return not self._buffer and not self._busy

    def _take_batch(self) -> list[StreamRecord] | None:
        stopped = self.runner.stopped
        poll = self.runner.context.options.poll_interval
        with self._condition:
            while not self._buffer and not stopped.is_set():
                self._condition.wait(poll)
            if stopped.is_set():
                return None
            config = self.runner.config
            window_start = max(self._last_completion, self._buffer[0][0])
            deadline = window_start + config.batching_window
            while (
                len(self._buffer) < config.batch_size
                and time.monotonic() < deadline
                and not stopped.is_set()
            ):
                self._condition.wait(min(poll, max(0.0, deadline - time.monotonic())))
                config = self.runner.config
            batch: list[StreamRecord] = []
            size = 0
            while self._buffer and len(batch) < config.batch_size:
                record = self._buffer[0][1]
                if batch and size + record.size > MAX_PAYLOAD_BYTES:
                    break
                self._buffer.popleft()
                batch.append(record)
                size += record.size
            self._busy = True
            return batch

    def _run(self) -> None:
        while not self.runner.stopped.is_set():
            batch = self._take_batch()
            if batch is None:
                return
            try:
                self.runner.settle(self, batch)
            except Exception:  # a bug must not silently stop the lane
                LOG.exception("lane %s of %s failed", self.index, self.shard_id)
                self.runner.context.stats.count("runtime_errors", mapping=self.runner.config.uuid)
            finally:
                with self._condition:
                    self._busy = False
                    self._last_completion = time.monotonic()
                    self._condition.notify_all()


# --------------------------------------------------------------------------- shard readers


class ShardReader:
    """Polls one shard and dispatches the records that pass the filters to the lanes."""

    def __init__(self, runner: MappingRunner, shard_id: str, resume_after: str | None) -> None:
        self.runner = runner
        self.shard_id = shard_id
        self.lanes = [Lane(runner, shard_id, index) for index in range(runner.lane_count)]
        self.position: str | None = resume_after
        """The last record read (handed to a lane or filtered out); a resumed reader starts
        from its checkpoint."""
        self.at_tip = False
        self.empty_poll_writes = -1
        self.error: str | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"shard-{runner.config.uuid[:8]}-{shard_id[-4:]}", daemon=True
        )

    def start(self) -> None:
        for lane in self.lanes:
            lane.start()
        self._thread.start()

    def join(self, timeout: float) -> None:
        for lane in self.lanes:
            lane.wake()
        if self._thread.is_alive():
            self._thread.join(timeout)
        for lane in self.lanes:
            lane.join(timeout)

    def drained(self, writes: int) -> bool:
        return (
            self.at_tip
            and self.empty_poll_writes == writes
            and all(lane.idle for lane in self.lanes)
        )

    def status(self) -> dict[str, Any]:
        return {
            "read_up_to": self.position,
            "at_tip": self.at_tip,
            "buffered": sum(lane.buffered for lane in self.lanes),
            "busy_lanes": sum(0 if lane.idle else 1 for lane in self.lanes),
            "checkpoints": [lane.checkpoint for lane in self.lanes],
            "error": self.error,
        }

    # ---------------------------------------------------------------- reading

    def _lane_for(self, record: StreamRecord) -> Lane:
        if len(self.lanes) == 1:
            return self.lanes[0]
        digest = hashlib.sha256(record.lane_key.encode("utf-8")).digest()
        return self.lanes[int.from_bytes(digest[:8], "big") % len(self.lanes)]

    def _iterator(self) -> str:
        config = self.runner.config
        kind = config.kind
        position, sequence = self._start_position()
        if kind == "kinesis":
            kinesis = self.runner.client("kinesis")
            params: dict[str, Any] = {
                "StreamARN": config.stream_arn,
                "ShardId": self.shard_id,
                "ShardIteratorType": position,
            }
            if sequence is not None:
                params["StartingSequenceNumber"] = sequence
            if position == "AT_TIMESTAMP":
                params["Timestamp"] = datetime.fromtimestamp(config.starting_timestamp or 0, UTC)
            return str(kinesis.get_shard_iterator(**params)["ShardIterator"])
        streams = self.runner.client("dynamodbstreams")
        params = {"StreamArn": config.stream_arn, "ShardId": self.shard_id}
        if position == "AT_TIMESTAMP":
            LOG.warning("DynamoDB streams have no AT_TIMESTAMP: reading from TRIM_HORIZON")
            position = "TRIM_HORIZON"
        params["ShardIteratorType"] = position
        if sequence is not None:
            params["SequenceNumber"] = sequence
        return str(streams.get_shard_iterator(**params)["ShardIterator"])

    def _start_position(self) -> tuple[str, str | None]:
        if self.position is not None:
            # After the last record read (a resumed runner starts with its checkpoint): a new
            # iterator after a read error or a pause never reads a record twice.
            return "AFTER_SEQUENCE_NUMBER", self.position
        config = self.runner.config
        if config.starting_position == "LATEST":
            creation = HUB.mapping_creations.get(config.uuid)
            if creation is None:
                return "LATEST", None
            tip = creation.shard_tips.get(self.shard_id)
            return ("TRIM_HORIZON", None) if tip is None else ("AFTER_SEQUENCE_NUMBER", tip)
        if config.starting_position == "AT_TIMESTAMP":
            return "AT_TIMESTAMP", None
        return "TRIM_HORIZON", None

    def _fetch(self, iterator: str) -> tuple[list[StreamRecord], str | None]:
        config = self.runner.config
        function = self.runner.context.invoker.function(config.function_arn)
        role = function.role if function is not None else ""
        if config.kind == "kinesis":
            response = self.runner.client("kinesis").get_records(
                ShardIterator=iterator, Limit=KINESIS_GET_RECORDS_LIMIT, StreamARN=config.stream_arn
            )
            records = [
                events.kinesis_record(
                    item,
                    shard_id=self.shard_id,
                    stream_arn=config.stream_arn,
                    region=config.region,
                    role=role,
                )
                for item in response.get("Records") or []
            ]
        else:
            response = self.runner.client("dynamodbstreams").get_records(
                ShardIterator=iterator, Limit=DYNAMODB_GET_RECORDS_LIMIT
            )
            records = [
                events.dynamodb_record(item, stream_arn=config.stream_arn, region=config.region)
                for item in response.get("Records") or []
            ]
        return records, response.get("NextShardIterator")

    def _backlog(self) -> int:
        return sum(lane.buffered for lane in self.lanes)

    def _run(self) -> None:
        runner = self.runner
        stopped = runner.stopped
        poll = runner.context.options.poll_interval
        iterator: str | None = None
        while not stopped.is_set():
            config = runner.config
            if not config.enabled:
                stopped.wait(poll)
                continue
            if self._backlog() >= max(2 * config.batch_size, 500) * len(self.lanes):
                stopped.wait(poll / 5)
                continue
            writes = HUB.writes
            try:
                if iterator is None:
                    iterator = self._iterator()
                records, iterator = self._fetch(iterator)
            except (ClientError, BotoCoreError) as exc:
                self.error = str(exc)
                iterator = None
                LOG.warning("mapping %s shard %s: %s", config.uuid, self.shard_id, exc)
                runner.context.stats.count("read_errors", mapping=config.uuid)
                stopped.wait(max(poll, 1.0))
                continue
            self.error = None
            if not runner.config.enabled:
                # Disabled while this poll was under way: its records stay for when the mapping
                # is enabled again (a fresh iterator reads them after `position`).
                iterator = None
                continue
            if not records:
                self.at_tip = True
                self.empty_poll_writes = writes
                stopped.wait(poll)
                continue
            self.at_tip = False
            by_lane: dict[Lane, list[StreamRecord]] = {}
            for record in records:
                if runner.context.filters and not matches_any(
                    runner.context.filters, record.filter_document
                ):
                    runner.context.stats.count("records_filtered_out", mapping=config.uuid)
                    continue
                by_lane.setdefault(self._lane_for(record), []).append(record)
            for lane, lane_records in by_lane.items():
                lane.put(lane_records)
            if records:
                self.position = records[-1].sequence_number
            if iterator is None:  # closed shard
                self.at_tip = True
                self.empty_poll_writes = writes
                return


# --------------------------------------------------------------------------- mappings


class MappingRunner:
    """Runs one event source mapping: a reader per shard, ``ParallelizationFactor`` lanes each."""

    def __init__(
        self,
        config: MappingConfig,
        context: RunnerContext,
        *,
        resume: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        self.context = context
        self.lane_count = config.parallelization_factor
        self.stopped = threading.Event()
        self.readers: dict[str, ShardReader] = {}
        self._resume = dict(resume or {})
        self._lock = threading.Lock()
        self.error: str | None = None

    def client(self, service: str) -> Any:
        return self.context.clients.get(service, self.config.region)

    # ---------------------------------------------------------------- lifecycle

    def refresh_shards(self) -> None:
        """Start a reader for every shard not read yet (at start, and after resharding)."""
        try:
            shard_ids = self._list_shards()
        except (ClientError, BotoCoreError) as exc:
            self.error = f"cannot list the shards of {self.config.stream_arn}: {exc}"
            LOG.warning("%s", self.error)
            return
        self.error = None
        with self._lock:
            for shard_id in shard_ids:
                if shard_id not in self.readers and not self.stopped.is_set():
                    reader = ShardReader(self, shard_id, self._resume.get(shard_id))
                    self.readers[shard_id] = reader
                    reader.start()

    def _list_shards(self) -> list[str]:
        if self.config.kind == "kinesis":
            kinesis = self.client("kinesis")
            shards: list[str] = []
            params: dict[str, Any] = {"StreamARN": self.config.stream_arn}
            while True:
                page = kinesis.list_shards(**params)
                shards += [shard["ShardId"] for shard in page.get("Shards") or []]
                token = page.get("NextToken")
                if not token:
                    return shards
                params = {"NextToken": token}
        description = self.client("dynamodbstreams").describe_stream(
            StreamArn=self.config.stream_arn
        )["StreamDescription"]
        return [shard["ShardId"] for shard in description.get("Shards") or []]

    def update(self, config: MappingConfig, filters: list[dict[str, Any]]) -> None:
        self.config = config
        self.context.filters = filters

    def positions(self) -> dict[str, str]:
        """Per shard: the lowest position every lane has settled (to resume after a restart)."""
        with self._lock:
            readers = dict(self.readers)
        result: dict[str, str] = {}
        for shard_id, reader in readers.items():
            if reader.position is not None and all(lane.idle for lane in reader.lanes):
                result[shard_id] = reader.position
            else:
                settled = [lane.checkpoint for lane in reader.lanes if lane.checkpoint]
                if settled:
                    result[shard_id] = min(settled, key=int)
        return result

    def stop(self) -> None:
        self.stopped.set()
        with self._lock:
            readers = list(self.readers.values())
        for reader in readers:
            reader.join(timeout=2.0)

    def drained(self, writes: int) -> bool:
        if not self.config.enabled:
            return True
        with self._lock:
            readers = list(self.readers.values())
        return bool(readers) and all(reader.drained(writes) for reader in readers)

    def status(self, writes: int) -> dict[str, Any]:
        with self._lock:
            readers = dict(self.readers)
        return {
            "function_arn": self.config.function_arn,
            "event_source_arn": self.config.source_arn,
            "state": "Enabled" if self.config.enabled else "Disabled",
            "error": self.error,
            "drained": self.drained(writes),
            "shards": {shard_id: reader.status() for shard_id, reader in sorted(readers.items())},
        }

    # ---------------------------------------------------------------- settling batches

    def settle(self, lane: Lane, batch: list[StreamRecord]) -> None:
        stats = self.context.stats
        pending: deque[_Attempt] = deque([_Attempt(batch)])
        while pending and not self.stopped.is_set():
            config = self.config
            uuid_ = config.uuid
            attempt = pending[0]
            if config.maximum_record_age >= 0:
                cutoff = time.time() - config.maximum_record_age
                expired = [r for r in attempt.records if r.arrival < cutoff]
                if expired:
                    self._discard(lane, expired, RECORD_AGE_EXCEEDED, attempt.invocations, None)
                    attempt.records = [r for r in attempt.records if r.arrival >= cutoff]
                    if not attempt.records:
                        pending.popleft()
                        continue
            if self.context.invoker.function(config.function_arn) is None:
                self.stopped.wait(self.context.options.poll_interval)
                continue
            result = self._invoke(attempt.records)
            attempt.invocations += 1
            stats.count("batches", mapping=uuid_)
            stats.count("records_delivered", len(attempt.records), mapping=uuid_)
            remaining = self._remaining_after(result, attempt, pending)
            if remaining is None:
                continue
            if 0 <= config.maximum_retry_attempts <= attempt.retries:
                response = events.response_context(result.function_error)
                self._discard(
                    lane,
                    remaining,
                    RETRY_ATTEMPTS_EXHAUSTED,
                    attempt.invocations,
                    response,
                    request_id=result.request_id,
                )
                pending.popleft()
                continue
            attempt.retries += 1
            attempt.records = remaining
            stats.count("retries", mapping=uuid_)
            self.stopped.wait(self.context.options.retry_delay)
        if not self.stopped.is_set():
            lane.checkpoint = batch[-1].sequence_number

    def _invoke(self, records: list[StreamRecord]) -> Invocation:
        key = f"{self.config.uuid}:{records[0].sequence_number}-{records[-1].sequence_number}"
        return self.context.invoker.invoke(
            self.config.function_arn, events.stream_event(records), batch_key=key
        )

    def _remaining_after(
        self, result: Invocation, attempt: _Attempt, pending: deque[_Attempt]
    ) -> list[StreamRecord] | None:
        """The records to retry, or None when the attempt is settled (success or bisected)."""
        config = self.config
        stats = self.context.stats
        records = attempt.records
        if result.ok:
            if not config.report_batch_item_failures:
                pending.popleft()
                return None
            index, verdict = first_failed_index(result.payload, records)
            if index is None:
                pending.popleft()
                return None
            stats.count(
                "partial_batch_failures" if verdict == "partial" else "invalid_batch_responses",
                mapping=config.uuid,
            )
            if index > 0:
                attempt.records = records[index:]
            return records[index:]
        if config.bisect_on_error and len(records) > 1:
            stats.count("bisects", mapping=config.uuid)
            middle = len(records) // 2
            halves = [
                _Attempt(records[:middle], attempt.retries, attempt.invocations),
                _Attempt(records[middle:], attempt.retries, attempt.invocations),
            ]
            pending.popleft()
            pending.extendleft(reversed(halves))
            return None
        return records

    def _discard(
        self,
        lane: Lane,
        records: list[StreamRecord],
        condition: str,
        invocations: int,
        response: dict[str, Any] | None,
        *,
        request_id: str | None = None,
    ) -> None:
        config = self.config
        stats = self.context.stats
        now = time.time()
        record = events.stream_on_failure_record(
            kind=config.kind,
            request_id=request_id or str(uuid.uuid4()),
            function_arn=config.function_arn,
            condition=condition,
            invoke_count=invocations,
            response_context=response,
            shard_id=lane.shard_id,
            stream_arn=config.stream_arn,
            records=records,
            now=now,
        )
        stats.count("records_discarded", len(records), mapping=config.uuid)
        destination = config.on_failure
        if destination is None:
            LOG.warning(
                "mapping %s discarded %d record(s) (%s) with no on-failure destination",
                config.uuid,
                len(records),
                condition,
            )
            stats.count("discarded_without_destination", mapping=config.uuid)
            return
        try:
            destinations.send(
                self.context.clients,
                destination,
                record,
                s3_key=events.s3_on_failure_key(config.uuid, lane.shard_id, now),
                s3_body=events.s3_on_failure_body(record, records),
            )
        except destinations.DeliveryError as exc:
            LOG.error("mapping %s: on-failure record not delivered: %s", config.uuid, exc)
            stats.count("on_failure_delivery_errors", mapping=config.uuid)
            return
        stats.count("on_failure_records", mapping=config.uuid)
        LOG.info(
            "mapping %s: %s for %d record(s) sent to %s",
            config.uuid,
            condition,
            len(records),
            destination,
        )
