"""Settling a batch: invoke the function, then checkpoint after it (success), retry from the
lowest reported failure (``ReportBatchItemFailures``), bisect it (``BisectBatchOnFunctionError``,
without consuming a retry), retry it up to ``MaximumRetryAttempts``, and discard what is too old
(``MaximumRecordAgeInSeconds``) or out of retries with an on-failure record to
``DestinationConfig.OnFailure``."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from stream_pipeline.local.runtime import destinations, events
from stream_pipeline.local.runtime.events import StreamRecord
from stream_pipeline.local.runtime.invoker import Invocation
from stream_pipeline.local.runtime.model import MappingConfig
from stream_pipeline.local.runtime.streams.context import RunnerContext
from stream_pipeline.local.runtime.streams.lanes import Lane

LOG = logging.getLogger("local_runtime.streams")

RETRY_ATTEMPTS_EXHAUSTED: Final = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED: Final = "RecordAgeExceeded"


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


class BatchSettler:
    """The half of a ``MappingRunner`` that invokes its function with the batches its lanes cut
    and settles them."""

    config: MappingConfig
    context: RunnerContext
    stopped: threading.Event

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
            result = self._invoke(attempt.records)
            attempt.invocations += 1
            stats.count("batches", mapping=uuid_)
            stats.count("records_delivered", len(attempt.records), mapping=uuid_)
            remaining = self._remaining_after(result, attempt, pending)
            if remaining is None:
                continue
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
        if not self.stopped.is_set():
            lane.checkpoint = batch[-1].sequence_number

    def _invoke(self, records: list[StreamRecord]) -> Invocation:
        key = f"{self.config.uuid}:{records[0].sequence_number}-{records[-1].sequence_number}"
        age_ms = (time.time() - records[-1].arrival) * 1000
        destinations.report_iterator_age(self.context.clients, self.config.function_arn, age_ms)
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
