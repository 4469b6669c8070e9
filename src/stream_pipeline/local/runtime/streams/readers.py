"""Shard readers: one thread per mapping and shard polls ``GetRecords`` (Kinesis or DynamoDB
streams) and hands each record that passes the filter criteria to a lane, chosen by a hash of
its partition key (Kinesis) or item key (DynamoDB): the records of one key keep their order."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline.local.runtime import events
from stream_pipeline.local.runtime.events import StreamRecord
from stream_pipeline.local.runtime.filters import matches_any
from stream_pipeline.local.runtime.hub import HUB
from stream_pipeline.local.runtime.streams.lanes import Lane, LaneOwner

LOG = logging.getLogger("local_runtime.streams")

KINESIS_GET_RECORDS_LIMIT: Final = 10_000
DYNAMODB_GET_RECORDS_LIMIT: Final = 1_000
IDLE_REPOLL_SECONDS: Final = 5.0
"""A reader at the tip of its shard polls again after a write (moto is in-process and reports
each one) or after this long, whichever comes first."""


class ReaderOwner(LaneOwner, Protocol):
    """What a shard reader needs of its mapping runner (a ``MappingRunner``)."""

    @property
    def lane_count(self) -> int: ...

    def client(self, service: str) -> Any: ...


class ShardReader:
    """Polls one shard and dispatches the records that pass the filters to the lanes."""

    def __init__(self, runner: ReaderOwner, shard_id: str, resume_after: str | None) -> None:
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
        self.runner.context.stats.count("get_records", mapping=config.uuid)
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

    def _wait_for_write(self, seen: int) -> None:
        """After an empty poll: Lambda would poll again about every second; here a reader at
        the tip polls again only once a record was written (or after IDLE_REPOLL_SECONDS),
        which keeps an idle runtime from spending a core on empty GetRecords calls."""
        stopped = self.runner.stopped
        poll = self.runner.context.options.poll_interval
        wait = IDLE_REPOLL_SECONDS
        # A tumbling window closes once a poll begun after its end found the tip: poll then.
        due = [end for end in (lane.window_due() for lane in self.lanes) if end is not None]
        if due:
            wait = min(wait, max(0.0, min(due) - time.time()) + poll)
        deadline = time.monotonic() + wait
        while not stopped.is_set() and time.monotonic() < deadline:
            if HUB.wait_for_write(seen, poll) != seen:
                return

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
            poll_started_at = time.time()
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
                for lane in self.lanes:
                    lane.caught_up(poll_started_at)
                if iterator is None:  # closed shard
                    for lane in self.lanes:
                        lane.shard_ended()
                    return
                stopped.wait(poll)
                self._wait_for_write(writes)
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
                for lane in self.lanes:
                    lane.shard_ended()
                return
