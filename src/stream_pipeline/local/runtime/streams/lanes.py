"""Lanes: ``ParallelizationFactor`` per shard, each building batches (``BatchSize``,
``MaximumBatchingWindowInSeconds``, the 6 MB payload limit) from the records its reader hands
it, and settling one batch before it takes the next."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Final, Protocol

from stream_pipeline.local.runtime.events import StreamRecord
from stream_pipeline.local.runtime.model import MappingConfig
from stream_pipeline.local.runtime.streams.context import RunnerContext

LOG = logging.getLogger("local_runtime.streams")

MAX_PAYLOAD_BYTES: Final = 6 * 1024 * 1024
"""Lambda's synchronous invocation payload limit: a batch never exceeds it."""


class LaneOwner(Protocol):
    """What a lane needs of its mapping runner (a ``MappingRunner``)."""

    @property
    def config(self) -> MappingConfig: ...

    @property
    def context(self) -> RunnerContext: ...

    @property
    def stopped(self) -> threading.Event: ...

    def settle(self, lane: Lane, batch: list[StreamRecord]) -> None: ...


class Lane:
    """Batches of one lane of one shard, invoked and settled one at a time, in order."""

    def __init__(self, runner: LaneOwner, shard_id: str, index: int) -> None:
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
