"""Lambda entry point: Kinesis retail events -> notification e-mails through SES v2.

Handler string: ``email_notifier.app.lambda_handler``. See README.md next to this file.

Per record (Powertools ``BatchProcessor``, in stream order): decode the record with the shared
``stream_pipeline.runtime.retail_event`` rules, skip event types that are not notified,
validate the notification fields, render the template, send once per event
(``notifier.Notifier``). Permanent errors go to the shared DLQ envelope; everything else raised
makes the record a batch item failure.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import single_metric
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from email_notifier.config import Settings
from email_notifier.models import NotificationFields
from email_notifier.notifier import NotificationRejectedError, Notifier, OutgoingEmail
from email_notifier.templates import TEMPLATES, TemplateError, render, template_values
from stream_pipeline.runtime.aws_errors import RetryPolicy
from stream_pipeline.runtime.deferred_batch import DeferredBatchProcessor
from stream_pipeline.runtime.dlq_envelope import (
    KINESIS_SOURCE,
    DlqEnvelope,
    EnvelopeError,
    ErrorCategory,
)
from stream_pipeline.runtime.dlq_publisher import DlqPublisher, PayloadBucket
from stream_pipeline.runtime.lambda_setup import SDK_CONFIG, ColdStartSingleton, powertools
from stream_pipeline.runtime.retail_event import (
    DecodedEvent,
    EventRejectedError,
    decode_kinesis_record,
    describe_validation_error,
)

logger, tracer, metrics = powertools()


class UnsupportedEventError(ValueError):
    """The function was wired to something other than one Kinesis stream."""


class DlqSendFailedError(Exception):
    """The record's envelope did not reach the DLQ: report the record so it is retried."""


class TransientNotificationError(Exception):
    """The e-mail was not sent for a reason that may pass (throttling, 5xx, timeout, another
    invocation sending it, DynamoDB or access problems): report the record so it is retried."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Dependencies:
    """Everything the handler needs from the outside world; tests replace it."""

    settings: Settings
    sesv2: Any
    dynamodb: Any
    sqs: Any
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random
    clock: Callable[[], datetime] = _utc_now
    dlq_policy: RetryPolicy = field(default_factory=lambda: RetryPolicy(max_attempts=3))
    s3: Any = None
    """Only with a payload bucket (settings.payload_bucket): the claim-check's PutObject."""
    notifier: Notifier = field(init=False)

    def __post_init__(self) -> None:
        # Built once per execution environment: the idempotency layer configures itself once.
        self.notifier = Notifier(
            sesv2=self.sesv2,
            dynamodb=self.dynamodb,
            sender_address=self.settings.sender_address,
            configuration_set_name=self.settings.configuration_set_name,
            table_name=self.settings.idempotency_table_name,
            expires_after_seconds=self.settings.idempotency_expires_after_seconds,
        )

    @classmethod
    def from_env(cls) -> Dependencies:
        settings = Settings.from_env()
        return cls(
            settings=settings,
            sesv2=boto3.client("sesv2", config=SDK_CONFIG),
            dynamodb=boto3.client("dynamodb", config=SDK_CONFIG),
            sqs=boto3.client("sqs", config=SDK_CONFIG),
            s3=boto3.client("s3", config=SDK_CONFIG) if settings.payload_bucket else None,
        )


_dependencies: ColdStartSingleton[Dependencies] = ColdStartSingleton(Dependencies.from_env)
get_dependencies = _dependencies.get
set_dependencies = _dependencies.set


@dataclass(slots=True)
class BatchReport:
    sent: int = 0
    duplicates: int = 0
    failed: int = 0
    """Records of a notified type whose e-mail was not sent (dead-lettered or to be retried)."""
    skipped: int = 0
    dead_lettered: Counter[str] = field(default_factory=Counter)
    """Records dead-lettered, by reason code (the metric dimension ``ErrorCategory``)."""
    dlq_retries: int = 0


def require_kinesis(records: Sequence[Any]) -> None:
    sources = {
        record.get("eventSource") if isinstance(record, dict) else None for record in records
    }
    if sources != {KINESIS_SOURCE}:
        msg = (
            "email_notifier expects records from a Kinesis stream (eventSource aws:kinesis); "
            f"got {sorted(map(str, sources))}"
        )
        raise UnsupportedEventError(msg)


def _log_keys(raw: dict[str, Any]) -> dict[str, Any]:
    kinesis = raw.get("kinesis") or {}
    return {"record_event_id": raw.get("eventID"), "sequence_number": kinesis.get("sequenceNumber")}


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record to dead-letter: sent with the batch's other dead letters (see ``settle``)."""

    envelope: DlqEnvelope
    log_keys: dict[str, Any]


Outcome = str | DeadLetter
"""What the record handler made of a record: ``sent``, ``duplicate``, ``skipped``, or a
``DeadLetter`` still to send."""


class RecordHandler:
    """The per-record work of one invocation; raises only when the record must be retried.

    E-mails are sent per record (one SendEmail each); DLQ envelopes are only built here and sent
    together by :meth:`settle`, a few SendMessageBatch requests for the whole batch."""

    def __init__(self, dependencies: Dependencies, report: BatchReport) -> None:
        self._deps = dependencies
        self._settings = dependencies.settings
        self._report = report
        self._publisher = DlqPublisher(
            dependencies.sqs,
            dependencies.settings.dlq_url,
            policy=dependencies.dlq_policy,
            sleep=dependencies.sleep,
            rand=dependencies.rand,
            payload_bucket=(
                PayloadBucket(dependencies.s3, dependencies.settings.payload_bucket)
                if dependencies.settings.payload_bucket is not None
                else None
            ),
        )

    def __call__(self, record: KinesisStreamRecord) -> Outcome:
        raw: dict[str, Any] = record.raw_event
        try:
            return self._handle(raw)
        except (DlqSendFailedError, TransientNotificationError):
            raise  # logged where they happen
        except Exception as exc:
            logger.error(
                "unexpected error while handling record; reporting it for retry",
                extra={**_log_keys(raw), "error": repr(exc)},
            )
            raise

    def _handle(self, raw: dict[str, Any]) -> Outcome:
        try:
            decoded = decode_kinesis_record(raw)
        except EventRejectedError as exc:
            return self._dead_letter(raw, exc.category, exc.reason)
        event = decoded.event
        if event.eventType not in self._settings.notify_event_types:
            self._report.skipped += 1
            return "skipped"

        log_keys = {**_log_keys(raw), "event_id": decoded.event_id, "event_type": event.eventType}
        try:
            outcome = self._notify(raw, decoded, log_keys)
        except Exception:
            self._report.failed += 1
            raise
        if isinstance(outcome, DeadLetter):
            self._report.failed += 1
        return outcome

    def _notify(
        self, raw: dict[str, Any], decoded: DecodedEvent, log_keys: dict[str, Any]
    ) -> Outcome:
        template = TEMPLATES[decoded.event.eventType]
        try:
            fields = NotificationFields.model_validate(decoded.event.model_extra or {})
        except ValidationError as exc:
            return self._dead_letter(
                raw, ErrorCategory.SCHEMA_VIOLATION, describe_validation_error(exc)
            )
        try:
            rendered = render(template, template_values(decoded, fields))
        except TemplateError as exc:
            return self._dead_letter(raw, ErrorCategory.NOTIFICATION_REJECTED, str(exc))

        email = OutgoingEmail.of(decoded.event_id, fields.email, rendered)
        try:
            result = self._deps.notifier.send(email)
        except NotificationRejectedError as exc:
            return self._dead_letter(
                raw, ErrorCategory.NOTIFICATION_REJECTED, f"SES refused the e-mail: {exc.reason}"
            )
        except Exception as exc:
            logger.warning(
                "e-mail not sent; reporting the record for retry",
                extra={**log_keys, "error": repr(exc)},
            )
            raise TransientNotificationError(repr(exc)) from exc
        if result.duplicate:
            self._report.duplicates += 1
            logger.info("e-mail already sent for this event; skipped", extra=log_keys)
            return "duplicate"
        self._report.sent += 1
        if not result.recorded:
            logger.warning(
                "e-mail sent, but its idempotency record could not be completed: a replay of "
                "this event after the in-progress record expires would send it again",
                extra={**log_keys, "message_id": result.message_id},
            )
        else:
            logger.info("e-mail sent", extra={**log_keys, "message_id": result.message_id})
        return "sent"

    def _dead_letter(self, raw: dict[str, Any], category: ErrorCategory, reason: str) -> DeadLetter:
        log_keys = {**_log_keys(raw), "error_category": category.value, "reason": reason}
        try:
            envelope = DlqEnvelope.build_from_kinesis_record(
                raw,
                error_category=category,
                error_reason=reason,
                consumer=self._settings.consumer_name,
                failed_at=self._deps.clock(),
            )
        except EnvelopeError as exc:
            msg = f"cannot build DLQ envelope: {exc}"
            raise DlqSendFailedError(msg) from exc
        return DeadLetter(envelope, log_keys)

    def settle(self, outcomes: Sequence[Outcome]) -> list[BaseException | None]:
        """Send the batch's dead letters in one publish (SendMessageBatch, 10 per request);
        a dead letter the DLQ did not accept makes its record a batch item failure."""
        letters = [(i, o) for i, o in enumerate(outcomes) if isinstance(o, DeadLetter)]
        errors: list[BaseException | None] = [None] * len(outcomes)
        if not letters:
            return errors
        published = self._publisher.publish([letter.envelope for _, letter in letters])
        self._report.dlq_retries += published.retry_requests
        for position, (index, letter) in enumerate(letters):
            failure = published.failures.get(position)
            if failure is not None:
                logger.warning(
                    "DLQ send failed; reporting record for retry",
                    extra={**letter.log_keys, "dlq_error": failure},
                )
                errors[index] = DlqSendFailedError(failure)
                continue
            self._report.dead_lettered[str(letter.envelope.error_category)] += 1
            logger.warning("record sent to DLQ", extra=letter.log_keys)
        return errors


def _emit_metrics(report: BatchReport, received: int, failures: int) -> None:
    count = MetricUnit.Count
    metrics.add_metric(name="RecordsReceived", unit=count, value=received)
    metrics.add_metric(name="EmailsSent", unit=count, value=report.sent)
    metrics.add_metric(name="EmailsSkippedDuplicate", unit=count, value=report.duplicates)
    metrics.add_metric(name="EmailsFailed", unit=count, value=report.failed)
    metrics.add_metric(name="RecordsSkipped", unit=count, value=report.skipped)
    metrics.add_metric(
        name="RecordsSentToDlq", unit=count, value=sum(report.dead_lettered.values())
    )
    metrics.add_metric(name="BatchItemFailures", unit=count, value=failures)
    metrics.add_metric(name="DlqSendRetries", unit=count, value=report.dlq_retries)
    for code, value in sorted(report.dead_lettered.items()):
        with single_metric(
            name="RecordsSentToDlqByCategory",
            unit=count,
            value=value,
            namespace=metrics.namespace,
        ) as metric:
            metric.add_dimension(name="ErrorCategory", value=code)


def process_batch(
    event: dict[str, Any], context: LambdaContext | None, dependencies: Dependencies
) -> PartialItemFailureResponse:
    records: list[dict[str, Any]] = event.get("Records") or []
    report = BatchReport()
    if not records:
        logger.info("empty batch")
        _emit_metrics(report, received=0, failures=0)
        return {"batchItemFailures": []}
    require_kinesis(records)
    dependencies.notifier.register_lambda_context(context)

    handler = RecordHandler(dependencies, report)
    processor = DeferredBatchProcessor(EventType.KinesisDataStreams, handler.settle)
    response = process_partial_response(
        event=event, record_handler=handler, processor=processor, context=context
    )
    failures = len(response["batchItemFailures"])
    _emit_metrics(report, received=len(records), failures=failures)
    logger.info(
        "batch done",
        extra={
            "records": len(records),
            "sent": report.sent,
            "duplicates": report.duplicates,
            "skipped": report.skipped,
            "failed": report.failed,
            "dead_lettered": {str(key): value for key, value in report.dead_lettered.items()},
            "batch_item_failures": failures,
        },
    )
    return response


@logger.inject_lambda_context(correlation_id_path="Records[0].eventID", clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_batch(event, context, get_dependencies())
