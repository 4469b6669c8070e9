"""One event source mapping (Kinesis stream, EFO consumer or DynamoDB stream): a reader per
shard, ``ParallelizationFactor`` lanes each; its positions (to resume after a restart), whether
it is drained, and its status."""

from __future__ import annotations

import logging
import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline.local.runtime.model import MappingConfig
from stream_pipeline.local.runtime.streams.context import RunnerContext
from stream_pipeline.local.runtime.streams.readers import ShardReader
from stream_pipeline.local.runtime.streams.settling import BatchSettler

LOG = logging.getLogger("local_runtime.streams")


class MappingRunner(BatchSettler):
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
