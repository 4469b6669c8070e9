"""End of batch: one de-duplicated BatchWriteItem pass, then one DLQ pass, then per-record
outcomes (``None`` = settled, exception = report as batch item failure).

Every record ends stored, dead-lettered with its original bytes, or reported for retry: a
record DynamoDB refuses is dead-lettered (``WRITE_REJECTED``), one it could not store yet, or
whose envelope could not be sent, is reported so that the event source mapping retries it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from stream_pipeline.kit.records import Handled, Outcome, Rejected, Store
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, EnvelopeError, ErrorCategory
from stream_pipeline.runtime.dlq_publisher import DlqPublisher
from stream_pipeline.runtime.dynamodb_writer import DynamoBatchWriter, Item, ItemKey


class Log(Protocol):
    def info(self, msg: object, *args: object, **kwargs: Any) -> None: ...
    def warning(self, msg: object, *args: object, **kwargs: Any) -> None: ...


class RecordNotSettledError(Exception):
    """The record was neither stored nor dead-lettered: report it so the ESM retries it."""


class WriteFailedError(RecordNotSettledError):
    pass


class DlqSendFailedError(RecordNotSettledError):
    pass


@dataclass(slots=True)
class BatchReport:
    records: int = 0
    stored: int = 0
    """Records whose item is in the table (duplicates inside the batch included)."""
    duplicates: int = 0
    """Records that shared their item key with a later record of the same batch."""
    handled: int = 0
    """Records the handler settled without an item for the sink."""
    skipped: int = 0
    """Records with nothing to handle (DynamoDB REMOVE records, records the handler skipped)."""
    dead_lettered: Counter[str] = field(default_factory=Counter)
    """Records dead-lettered, by reason code (the metric dimension ``ErrorCategory``)."""
    not_settled: int = 0
    write_requests: int = 0
    write_retries: int = 0
    dlq_requests: int = 0
    dlq_retries: int = 0
    dlq_truncated: int = 0
    dlq_claim_checked: int = 0


class BatchSettler:
    def __init__(
        self,
        writer: DynamoBatchWriter | None,
        publisher: DlqPublisher,
        *,
        consumer: str,
        clock: Callable[[], datetime],
        log: Log,
    ) -> None:
        self._writer = writer
        self._publisher = publisher
        self._consumer = consumer
        self._clock = clock
        self._log = log

    def settle(self, prepared: Sequence[Outcome]) -> tuple[list[Exception | None], BatchReport]:
        report = BatchReport(records=len(prepared))
        outcomes: list[Exception | None] = [None] * len(prepared)

        # 1. Writes. One item per key; in stream order the last record wins (for the same event
        #    the items are identical anyway). Every record sharing a key shares its write outcome.
        latest: dict[ItemKey, Item] = {}
        candidates = 0
        for entry in prepared:
            if isinstance(entry, Store):
                candidates += 1
                latest[entry.key] = entry.item
        report.duplicates = candidates - len(latest)
        if latest and self._writer is None:
            msg = "the record handler returned items, but the consumer has no sink"
            raise RuntimeError(msg)
        written = self._writer.write(latest) if latest and self._writer is not None else None
        if written is not None:
            report.write_requests = written.requests
            report.write_retries = written.retry_requests

        to_dlq: list[tuple[int, Rejected]] = []
        for index, entry in enumerate(prepared):
            if isinstance(entry, Store):
                failure = written.failures.get(entry.key) if written is not None else None
                if failure is None:
                    report.stored += 1
                elif failure.rejected:
                    to_dlq.append(
                        (
                            index,
                            Rejected(entry.origin, ErrorCategory.WRITE_REJECTED, failure.reason),
                        )
                    )
                else:
                    outcomes[index] = WriteFailedError(failure.reason)
                    self._log.warning(
                        "record not stored; reporting it for retry",
                        extra={**entry.origin.log_keys(), "reason": failure.reason},
                    )
            elif isinstance(entry, Rejected):
                to_dlq.append((index, entry))
            elif isinstance(entry, Handled):
                if entry.skipped:
                    report.skipped += 1
                else:
                    report.handled += 1

        # 2. Dead letters (permanent errors), in one SendMessageBatch pass.
        if to_dlq:
            self._dead_letter(to_dlq, outcomes, report)

        report.not_settled = sum(outcome is not None for outcome in outcomes)
        return outcomes, report

    def _dead_letter(
        self,
        to_dlq: list[tuple[int, Rejected]],
        outcomes: list[Exception | None],
        report: BatchReport,
    ) -> None:
        failed_at = self._clock()
        envelopes: list[DlqEnvelope] = []
        owners: list[tuple[int, Rejected]] = []
        for index, rejected in to_dlq:
            try:
                envelopes.append(
                    rejected.origin.envelope(
                        rejected.code, rejected.reason, self._consumer, failed_at
                    )
                )
            except EnvelopeError as exc:
                outcomes[index] = DlqSendFailedError(f"cannot build DLQ envelope: {exc}")
                continue
            owners.append((index, rejected))

        published = self._publisher.publish(envelopes)
        report.dlq_requests = published.requests
        report.dlq_retries = published.retry_requests
        report.dlq_truncated = published.truncated
        report.dlq_claim_checked = published.claim_checked
        for position, (index, rejected) in enumerate(owners):
            log_keys = {
                **rejected.origin.log_keys(),
                "error_category": str(rejected.code),
                "reason": rejected.reason,
            }
            send_failure = published.failures.get(position)
            if send_failure is None:
                report.dead_lettered[str(rejected.code)] += 1
                self._log.warning("record sent to DLQ", extra=log_keys)
            else:
                outcomes[index] = DlqSendFailedError(send_failure)
                self._log.warning(
                    "DLQ send failed; reporting record for retry",
                    extra={**log_keys, "dlq_error": send_failure},
                )
