"""On-failure record -> DLQ envelopes.

* every record of the discarded batch that the stream still holds: one envelope with its original
  bytes, coordinates, the readable failure reason and the failed consumer (``hydrated=True``),
  labelled by the record's condition (``RECORD_AGE_EXCEEDED`` for ``RecordAgeExceeded``,
  ``RETRIES_EXHAUSTED`` otherwise);
* every part of the batch the stream no longer holds: one pointer envelope per missing range,
  category ``PAYLOAD_UNAVAILABLE``, reason ``payload unavailable: expired from stream (...)``;
* an on-failure record that cannot be read: one not-hydrated envelope (category
  ``MALFORMED_ON_FAILURE_RECORD``) whose payload is the message's original bytes;
* an on-failure record naming a stream the function does not serve (``served_streams``): one
  not-hydrated envelope, category ``UNSERVED_STREAM``, with the message's original bytes;
  nothing is read (anyone allowed to invoke the function must not make it copy another stream);
* an on-failure record whose position the stream refuses as not its own (a sequence number of
  another shard or stream): one not-hydrated envelope, category ``INVALID_STREAM_POSITION``,
  with the message's original bytes -- never a pointer to a range that was not the batch's.

Envelope ids are derived from coordinates, so hydrating the same on-failure record again (a
retried invocation) produces the same envelopes: DLQ readers de-duplicate on ``envelope_id``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from stream_pipeline.runtime.dlq_envelope import (
    DlqEnvelope,
    ErrorCategory,
    PayloadFormat,
)
from stream_pipeline.runtime.hydration.models import (
    IncomingMessage,
    MalformedOnFailureRecordError,
    OnFailureRecord,
    parse_on_failure_record,
)
from stream_pipeline.runtime.hydration.reader import (
    MissingRange,
    RangeRead,
    ShardRangeReader,
    StreamKind,
    StreamRecord,
)

PAYLOAD_UNAVAILABLE_REASON: Final = "payload unavailable: expired from stream"
NOT_HYDRATED_REASON: Final = "not hydrated"
REFUSED_POSITION_REASON: Final = "the stream refuses the batch's position as not its own"
UNSERVED_STREAM_REASON: Final = "the on-failure record names a stream this function does not serve"
RANGE_FACTOR: Final = 10
"""The most records read for one batch, as a multiple of its size. With ParallelizationFactor
> 1 a batch holds only some of the records of its sequence range (the other records belong to
other parallel batches); the whole range is dead-lettered (replay is idempotent), up to this
bound, which is the largest ParallelizationFactor."""


class Log(Protocol):
    def info(self, msg: object, *args: object, **kwargs: Any) -> None: ...
    def warning(self, msg: object, *args: object, **kwargs: Any) -> None: ...
    def error(self, msg: object, *args: object, **kwargs: Any) -> None: ...


@dataclass(slots=True)
class HydrationReport:
    on_failure_records: int = 0
    malformed: int = 0
    """Not-hydrated envelopes: on-failure records that could not be read, whose position the
    stream refused (``invalid_positions``) or that name a stream not served
    (``unserved_streams``)."""
    unserved_streams: int = 0
    invalid_positions: int = 0
    records_hydrated: int = 0
    payload_unavailable: int = 0
    """Pointer envelopes for ranges that are gone from the stream."""
    records_missing: int = 0
    """Records known to be missing (sum of the known counts)."""
    ranges_not_read: int = 0
    get_records_calls: int = 0
    get_shard_iterator_calls: int = 0
    throttle_retries: int = 0
    iterator_renewals: int = 0
    empty_pages: int = 0


class Hydrator:
    def __init__(
        self,
        readers: Mapping[StreamKind, ShardRangeReader],
        *,
        function_name: str,
        log: Log,
        served_streams: Collection[str] | None = None,
    ) -> None:
        """``served_streams``: the stream ARNs the function is configured for (an EFO consumer
        ARN of one counts as it); None reads any (the replay, which checks on its own)."""
        self._served = frozenset(served_streams) if served_streams is not None else None
        self._readers = readers
        self._function_name = function_name
        self._log = log

    def envelopes(self, message: IncomingMessage, report: HydrationReport) -> list[DlqEnvelope]:
        report.on_failure_records += 1
        try:
            record = parse_on_failure_record(message.raw)
        except MalformedOnFailureRecordError as exc:
            report.malformed += 1
            self._log.error(
                "malformed on-failure record: preserved in the DLQ, not hydrated",
                extra={
                    "reason": str(exc),
                    "message_source": message.source,
                    "sns_message_id": message.message_id,
                },
            )
            return [self.not_hydrated(message, str(exc))]

        batch = record.batch
        if not self.serves(batch.stream_arn):
            return [self._unserved(message, record, report)]
        reader = self._readers[StreamKind(record.event_source)]
        read = reader.read(
            stream_arn=batch.stream_arn,
            shard_id=batch.shard_id,
            start=batch.start_sequence_number,
            end=batch.end_sequence_number,
            expected=batch.batch_size,
            max_records=RANGE_FACTOR * batch.batch_size,
        )
        self._count(read, report)
        if read.refused is not None:
            return [self._refused(message, record, read.refused.detail, report)]
        reason = record.failure_reason()
        envelopes = [self._hydrated(record, item, reason) for item in read.records]
        for missing in read.missing:
            envelopes.append(self._unavailable(record, missing, reason))
        if read.not_read is not None:
            envelopes.append(self._not_read(record, read.not_read, reason))

        log_keys = {
            "stream_arn": batch.stream_arn,
            "shard_id": batch.shard_id,
            "start_sequence_number": batch.start_sequence_number,
            "end_sequence_number": batch.end_sequence_number,
            "batch_size": batch.batch_size,
            "condition": record.request_context.condition,
            "consumer": record.request_context.function_arn,
            "records_hydrated": len(read.records),
            "get_records_calls": read.stats.get_records,
        }
        if read.missing:
            self._log.warning(
                PAYLOAD_UNAVAILABLE_REASON,
                extra={
                    **log_keys,
                    "missing": [
                        {"start": m.start, "end": m.end, "after": m.after, "count": m.count}
                        for m in read.missing
                    ],
                    "details": [m.detail for m in read.missing],
                },
            )
        if len(read.records) > batch.batch_size:
            self._log.info(
                "the sequence range holds more records than the batch (ParallelizationFactor > 1?):"
                " dead-lettering all of them",
                extra=log_keys,
            )
        self._log.info("on-failure record hydrated", extra=log_keys)
        return envelopes

    def serves(self, stream_arn: str) -> bool:
        """True when the function may read ``stream_arn`` (configured, or an EFO consumer of a
        configured stream: ``<stream ARN>/consumer/<name>:<timestamp>``)."""
        if self._served is None:
            return True
        stream = stream_arn.split("/consumer/", 1)[0]
        return stream in self._served

    # ------------------------------------------------------------------ envelopes

    def _unserved(
        self, message: IncomingMessage, record: OnFailureRecord, report: HydrationReport
    ) -> DlqEnvelope:
        report.malformed += 1
        report.unserved_streams += 1
        reason = (
            f"{UNSERVED_STREAM_REASON} ({record.batch.stream_arn!r:.300}; it serves "
            f"{len(self._served or ())} configured stream(s)): a forged or misrouted record, "
            f"nothing was read; {record.failure_reason()}"
        )
        self._log.error(
            "on-failure record names a stream this function does not serve: preserved in the "
            "DLQ, not hydrated",
            extra={
                "reason": reason,
                "message_source": message.source,
                "sns_message_id": message.message_id,
                "consumer": record.request_context.function_arn,
            },
        )
        return self.not_hydrated(message, reason, ErrorCategory.UNSERVED_STREAM)

    def _refused(
        self,
        message: IncomingMessage,
        record: OnFailureRecord,
        detail: str,
        report: HydrationReport,
    ) -> DlqEnvelope:
        batch = record.batch
        report.malformed += 1
        report.invalid_positions += 1
        reason = (
            f"{REFUSED_POSITION_REASON} (shard {batch.shard_id}, sequence numbers "
            f"{batch.start_sequence_number} to {batch.end_sequence_number} of "
            f"{batch.stream_arn}): a forged or mismatched on-failure record (or a stream deleted "
            f"and re-created under its name since), not expired data; nothing was read. "
            f"{detail}; {record.failure_reason()}"
        )
        self._log.error(
            "on-failure record names a position its stream refuses: preserved in the DLQ, "
            "not hydrated",
            extra={
                "reason": reason,
                "message_source": message.source,
                "sns_message_id": message.message_id,
                "consumer": record.request_context.function_arn,
            },
        )
        return self.not_hydrated(message, reason, ErrorCategory.INVALID_STREAM_POSITION)

    def not_hydrated(
        self,
        message: IncomingMessage,
        reason: str,
        category: ErrorCategory = ErrorCategory.MALFORMED_ON_FAILURE_RECORD,
    ) -> DlqEnvelope:
        digest = hashlib.sha256(message.raw).hexdigest()
        return DlqEnvelope.create(
            event_source=message.source,
            event_source_arn=message.source_arn,
            event_id=message.message_id,
            sequence_number=f"sha256-{digest}",
            error_category=category,
            error_reason=f"{NOT_HYDRATED_REASON}: {reason}",
            consumer=self._function_name,
            payload=message.raw,
            payload_format=PayloadFormat.ON_FAILURE_RECORD,
            hydrated=False,
        )

    @staticmethod
    def _hydrated(record: OnFailureRecord, item: StreamRecord, reason: str) -> DlqEnvelope:
        batch = record.batch
        return DlqEnvelope.create(
            event_source=record.event_source,
            event_source_arn=batch.stream_arn,
            event_id=item.event_id,
            shard_id=batch.shard_id,
            sequence_number=item.sequence_number,
            partition_key=item.partition_key,
            dynamodb_keys=item.dynamodb_keys,
            approximate_arrival_time=item.approximate_arrival,
            error_category=record.reason_code,
            error_reason=reason,
            consumer=record.request_context.function_arn,
            payload=item.payload,
            payload_format=item.payload_format,
            failed_at=record.failed_at,
            hydrated=True,
        )

    @staticmethod
    def _pointer(
        record: OnFailureRecord,
        missing: MissingRange,
        category: ErrorCategory,
        reason: str,
    ) -> DlqEnvelope:
        batch = record.batch
        first = missing.start == batch.start_sequence_number and not missing.after
        return DlqEnvelope.create(
            event_source=record.event_source,
            event_source_arn=batch.stream_arn,
            shard_id=batch.shard_id,
            sequence_number=missing.start,
            end_sequence_number=missing.end,
            after_sequence_number=missing.after,
            missing_count=missing.count,
            approximate_arrival_time=batch.approximate_arrival_of_first_record if first else None,
            error_category=category,
            error_reason=reason,
            consumer=record.request_context.function_arn,
            payload=None,
            failed_at=record.failed_at,
            hydrated=True,
        )

    def _unavailable(
        self, record: OnFailureRecord, missing: MissingRange, reason: str
    ) -> DlqEnvelope:
        count = f"{missing.count} record(s)" if missing.count is not None else "records"
        text = f"{PAYLOAD_UNAVAILABLE_REASON} ({count} gone: {missing.detail}); {reason}"
        return self._pointer(record, missing, ErrorCategory.PAYLOAD_UNAVAILABLE, text)

    def _not_read(self, record: OnFailureRecord, rest: MissingRange, reason: str) -> DlqEnvelope:
        text = (
            f"{NOT_HYDRATED_REASON}: {rest.detail} -- the sequence range holds more records than "
            f"the batch of {record.batch.batch_size}; the replay CLI reads the rest from the "
            f"stream; {reason}"
        )
        return self._pointer(record, rest, record.reason_code, text)

    @staticmethod
    def _count(read: RangeRead, report: HydrationReport) -> None:
        report.records_hydrated += len(read.records)
        report.payload_unavailable += len(read.missing)
        report.records_missing += sum(m.count or 0 for m in read.missing)
        report.ranges_not_read += read.not_read is not None
        report.get_records_calls += read.stats.get_records
        report.get_shard_iterator_calls += read.stats.get_shard_iterator
        report.throttle_retries += read.stats.throttle_retries
        report.iterator_renewals += read.stats.iterator_renewals
        report.empty_pages += read.stats.empty_pages
