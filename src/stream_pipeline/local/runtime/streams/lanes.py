"""Lanes: ``ParallelizationFactor`` per shard, each building batches (``BatchSize``,
``MaximumBatchingWindowInSeconds``, the 6 MB payload limit) from the records its reader hands
it, and settling one batch before it takes the next. With ``TumblingWindowInSeconds`` a batch
never spans two windows, and a lane keeps its open window (see ``windows``)."""

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
from stream_pipeline.local.runtime.streams.windows import Bounds, Cut, OpenWindow

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

    def settle(self, lane: Lane, batch: list[StreamRecord], cut: Cut | None = None) -> None: ...


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
        self.window: OpenWindow | None = None
        """The tumbling window invoked and not yet closed by a successful final invocation."""
        self._caught_up_at = 0.0
        """Wall time at which a poll that found the shard's tip began: every record that arrived
        before it is in this lane's buffer (or was delivered)."""
        self._shard_ended = False
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

    def caught_up(self, poll_started_at: float) -> None:
        """The reader found the tip with a poll begun at this time (a window ending before it is
        complete)."""
        with self._condition:
            self._caught_up_at = max(self._caught_up_at, poll_started_at)
            self._condition.notify_all()

    def shard_ended(self) -> None:
        """AWS: "When a shard ends, Lambda considers the current window to be closed"."""
        with self._condition:
            self._shard_ended = True
            self._condition.notify_all()

    def window_due(self) -> float | None:
        """When the lane's open (or next buffered) window ends: the reader polls then, so the
        window can close without waiting for the next write."""
        seconds = self.runner.config.tumbling_window
        if not seconds:
            return None
        with self._condition:
            if self.window is not None:
                return float(self.window.bounds.end)
            if self._buffer:
                return float(Bounds.of(self._buffer[0][1].arrival, seconds).end)
        return None

    @property
    def buffered(self) -> int:
        with self._condition:
            return len(self._buffer)

    @property
    def idle(self) -> bool:
        with self._condition:
            return not self._buffer and not self._busy and self.window is None

    def _take_batch(self) -> tuple[list[StreamRecord], Cut | None] | None:
        if self.runner.config.tumbling_window:
            return self._take_window_batch()
        batch = self._take_plain_batch()
        return None if batch is None else (batch, None)

    def _cut(self, config: MappingConfig, limit: int) -> list[StreamRecord]:
        """Up to ``limit`` buffered records, within the 6 MB payload limit (call locked)."""
        batch: list[StreamRecord] = []
        size = 0
        while self._buffer and len(batch) < limit:
            record = self._buffer[0][1]
            if batch and size + record.size > MAX_PAYLOAD_BYTES:
                break
            self._buffer.popleft()
            batch.append(record)
            size += record.size
        return batch

    def _take_window_batch(self) -> tuple[list[StreamRecord], Cut | None] | None:
        """The next batch of the first buffered window, never spanning two windows. It is the
        window's final one when the window is complete (a later record is buffered, a poll begun
        after its end found the tip, or the shard ended) and it holds the window's last records;
        a complete window whose records were all delivered gets an empty final invocation."""
        stopped = self.runner.stopped
        poll = self.runner.context.options.poll_interval
        with self._condition:
            while not stopped.is_set():
                config = self.runner.config
                seconds = config.tumbling_window or 0
                if not seconds:
                    break  # the setting was removed: the open window ends unfinished
                window = self.window
                if not self._buffer:
                    if window is not None and self._window_complete(window.bounds):
                        self._busy = True
                        return [], Cut(window.bounds, final=True)
                    self._condition.wait(poll)
                    continue
                bounds = Bounds.of(self._buffer[0][1].arrival, seconds)
                if window is not None and window.bounds.start < bounds.start:
                    # The open window's records were all delivered: close it first.
                    self._busy = True
                    return [], Cut(window.bounds, final=True)
                in_window = 0
                for _, record in self._buffer:
                    if record.arrival >= bounds.end:
                        break
                    in_window += 1
                complete = in_window < len(self._buffer) or self._window_complete(bounds)
                window_start = max(self._last_completion, self._buffer[0][0])
                waited = time.monotonic() >= window_start + config.batching_window
                if complete or waited or in_window >= config.batch_size:
                    batch = self._cut(config, min(in_window, config.batch_size))
                    self._busy = True
                    return batch, Cut(bounds, final=complete and len(batch) == in_window)
                self._condition.wait(poll)
            return None if stopped.is_set() else self._take_plain_batch_locked()

    def _window_complete(self, bounds: Bounds) -> bool:
        return self._shard_ended or self._caught_up_at >= bounds.end

    def _take_plain_batch_locked(self) -> tuple[list[StreamRecord], Cut | None] | None:
        self.window = None
        batch = self._cut(self.runner.config, self.runner.config.batch_size)
        self._busy = bool(batch)
        return (batch, None) if batch else None

    def _take_plain_batch(self) -> list[StreamRecord] | None:
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
            batch = self._cut(config, config.batch_size)
            self._busy = True
            return batch

    def _run(self) -> None:
        while not self.runner.stopped.is_set():
            taken = self._take_batch()
            if taken is None:
                if self.runner.stopped.is_set():
                    return
                continue
            batch, cut = taken
            try:
                self.runner.settle(self, batch, cut)
            except Exception:  # a bug must not silently stop the lane
                LOG.exception("lane %s of %s failed", self.index, self.shard_id)
                self.runner.context.stats.count("runtime_errors", mapping=self.runner.config.uuid)
            finally:
                with self._condition:
                    self._busy = False
                    self._last_completion = time.monotonic()
                    self._condition.notify_all()
