"""Settling a batch: invoke the function, then checkpoint after it (success), retry from the
lowest reported failure (``ReportBatchItemFailures``), bisect it (``BisectBatchOnFunctionError``,
without consuming a retry), retry it up to ``MaximumRetryAttempts``, and discard what is too old
(``MaximumRecordAgeInSeconds``) or out of retries with an on-failure record to
``DestinationConfig.OnFailure``. With tumbling windows: carry the window's ``state`` from one
successful invocation to the next, count a response without ``state`` as a failed invocation,
end a state over 1 MB early, and close the window with its final invocation."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from stream_pipeline.local.runtime import destinations, events
from stream_pipeline.local.runtime.events import StreamRecord
from stream_pipeline.local.runtime.invoker import Invocation
from stream_pipeline.local.runtime.model import MappingConfig
from stream_pipeline.local.runtime.streams.context import RunnerContext
from stream_pipeline.local.runtime.streams.lanes import Lane
from stream_pipeline.local.runtime.streams.windows import (
    STATE_LIMIT_BYTES,
    Cut,
    OpenWindow,
    returned_state,
    state_size,
    window_event,
)

LOG = logging.getLogger("local_runtime.streams")

RETRY_ATTEMPTS_EXHAUSTED: Final = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED: Final = "RecordAgeExceeded"
MAX_WINDOW_RETRY_DELAY: Final = 5.0


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


@dataclass(slots=True)
class _Attempt:
    records: list[StreamRecord]
    retries: int = 0
    invocations: int = 0
    final: bool = False
    """Holds the window's last records: its invocation is the window's final one."""


class BatchSettler:
    """The half of a ``MappingRunner`` that invokes its function with the batches its lanes cut
    and settles them."""

    config: MappingConfig
    context: RunnerContext
    stopped: threading.Event

    def settle(self, lane: Lane, batch: list[StreamRecord], cut: Cut | None = None) -> None:
        if cut is not None:
            if lane.window is None or lane.window.bounds != cut.bounds:
                lane.window = OpenWindow(cut.bounds)
            if not batch:
                self._close_window(lane, cut)
                return
        stats = self.context.stats
        pending: deque[_Attempt] = deque([_Attempt(batch, final=cut is not None and cut.final)])
        while pending and not self.stopped.is_set():
            config = self.config
            uuid_ = config.uuid
            attempt = pending[0]
            if config.maximum_record_age >= 0:
                cutoff = time.time() - config.maximum_record_age
                expired = [r for r in attempt.records if r.arrival < cutoff]
                if expired:
                    # AWS counts the attempt that found the records too old: a batch that
                    # expired before any invocation reports approximateInvokeCount 1
                    # (AWS-recorded, tests/data/aws_recorded).
                    self._discard(lane, expired, RECORD_AGE_EXCEEDED, attempt.invocations + 1, None)
                    attempt.records = [r for r in attempt.records if r.arrival >= cutoff]
                    if not attempt.records:
                        pending.popleft()
                        continue
            if self.context.invoker.function(config.function_arn) is None:
                self.stopped.wait(self.context.options.poll_interval)
                continue
            result = self._invoke(attempt.records, lane, cut, final=attempt.final)
            attempt.invocations += 1
            stats.count("batches", mapping=uuid_)
            stats.count("records_delivered", len(attempt.records), mapping=uuid_)
            if cut is not None:
                result = self._take_state(lane, result)
            final = attempt.final
            remaining = self._remaining_after(result, attempt, pending)
            if remaining is None:
                if cut is not None and result.ok:
                    self._after_window_invocation(lane, cut, closed=final)
                continue
            if cut is not None and result.ok:
                self._after_window_invocation(lane, cut, closed=False)
            if 0 <= config.maximum_retry_attempts <= attempt.retries:
                response = events.stream_response_context(result.function_error)
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
        if self.stopped.is_set():
            return
        lane.checkpoint = batch[-1].sequence_number
        if cut is not None and cut.final and lane.window is not None:
            # The final records were discarded (retries or age): the window still closes.
            self._close_window(lane, cut)

    def _invoke(
        self,
        records: list[StreamRecord],
        lane: Lane | None = None,
        cut: Cut | None = None,
        *,
        final: bool = False,
        terminated_early: bool = False,
    ) -> Invocation:
        config = self.config
        if records:
            key = f"{config.uuid}:{records[0].sequence_number}-{records[-1].sequence_number}"
            age_ms = (time.time() - records[-1].arrival) * 1000
            destinations.report_iterator_age(self.context.clients, config.function_arn, age_ms)
        else:
            shard = lane.shard_id if lane else ""
            key = f"{config.uuid}:{shard}:window-{cut.bounds.start if cut else ''}"
        if cut is None or lane is None or lane.window is None:
            event = events.stream_event(records)
        else:
            event = window_event(
                records,
                bounds=cut.bounds,
                state=lane.window.state,
                shard_id=lane.shard_id,
                event_source_arn=config.stream_arn,
                final=final,
                terminated_early=terminated_early,
            )
        return self.context.invoker.invoke(config.function_arn, event, batch_key=key)

    # ------------------------------------------------------------------ tumbling windows

    def _take_state(self, lane: Lane, result: Invocation) -> Invocation:
        """Keep the state a successful invocation returned; one without ``state`` failed."""
        if not result.ok:
            return result
        present, state = returned_state(result.payload)
        if not present:
            self.context.stats.count("window_responses_without_state", mapping=self.config.uuid)
            LOG.warning(
                "mapping %s: the response holds no state; the invocation counts as failed",
                self.config.uuid,
            )
            return replace(result, function_error="Unhandled", outcome="error")
        if lane.window is not None:
            lane.window.state = state
        return result

    def _after_window_invocation(self, lane: Lane, cut: Cut, *, closed: bool) -> None:
        """After a successful invocation of the window: close it (final) or end an oversized
        state early."""
        window = lane.window
        if window is None:
            return
        if closed:
            self.context.stats.count("windows_closed", mapping=self.config.uuid)
            lane.window = None
            return
        if state_size(window.state) > STATE_LIMIT_BYTES:
            self._invoke_until_state(lane, cut, final=False, terminated_early=True)
            self.context.stats.count("windows_terminated_early", mapping=self.config.uuid)
            if lane.window is not None:
                lane.window.state = {}

    def _close_window(self, lane: Lane, cut: Cut) -> None:
        """The window's final invocation without records."""
        if self._invoke_until_state(lane, cut, final=True, terminated_early=False):
            self.context.stats.count("windows_closed", mapping=self.config.uuid)
            lane.window = None

    def _invoke_until_state(
        self, lane: Lane, cut: Cut, *, final: bool, terminated_early: bool
    ) -> bool:
        """Invoke without records until an invocation answers with a state. AWS: "If invocation
        is unsuccessful, your Lambda function suspends further processing until a successful
        invocation" -- no retry limit applies: there are no records to discard."""
        stats = self.context.stats
        delay = max(self.context.options.retry_delay, 0.1)
        while not self.stopped.is_set():
            if self.context.invoker.function(self.config.function_arn) is None:
                self.stopped.wait(self.context.options.poll_interval)
                continue
            result = self._invoke([], lane, cut, final=final, terminated_early=terminated_early)
            stats.count("batches", mapping=self.config.uuid)
            if result.ok and returned_state(result.payload)[0]:
                return True
            if result.ok:
                stats.count("window_responses_without_state", mapping=self.config.uuid)
            stats.count("window_invocation_retries", mapping=self.config.uuid)
            # Lambda retries with backoff too; a function that never answers must not spin.
            self.stopped.wait(delay)
            delay = min(delay * 2, MAX_WINDOW_RETRY_DELAY)
        return False

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
                _Attempt(records[middle:], attempt.retries, attempt.invocations, attempt.final),
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
            # Lambda drops the batch (the mapping goes on with the next one) and publishes
            # DestinationDeliveryFailures: the records are then only in the stream.
            LOG.error(
                "mapping %s: on-failure record for %s-%s (%d record(s), %s) not delivered, "
                "batch dropped: %s",
                config.uuid,
                records[0].sequence_number,
                records[-1].sequence_number,
                len(records),
                lane.shard_id,
                exc,
            )
            stats.count("on_failure_delivery_errors", mapping=config.uuid)
            stats.count("destination_delivery_failures", function=config.function_arn.split(":")[6])
            destinations.report_delivery_failure(self.context.clients, config.function_arn)
            return
        stats.count("on_failure_records", mapping=config.uuid)
        LOG.info(
            "mapping %s: %s for %d record(s) sent to %s",
            config.uuid,
            condition,
            len(records),
            destination,
        )
