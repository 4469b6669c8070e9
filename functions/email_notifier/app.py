"""Lambda entry point: Kinesis retail events -> notification e-mails through SES v2, on the
consumer kit (decoding, DLQ envelopes, batch item failures, metrics).

Handler string: ``email_notifier.app.lambda_handler``. See README.md next to this file.

Per record, in stream order: the kit decodes the record and validates :class:`NotifierEvent`
(else ``SCHEMA_VIOLATION``); event types that are not notified are skipped; the notification
fields are validated, the recipient checked against the recipient policy (``policy.py``, else
``email-notifier.RECIPIENT_NOT_ALLOWED``), the template rendered and the e-mail sent once per
event (``notifier.Notifier``), which takes the recipient's rate cap just before sending
(``rate_limit.py``, else ``email-notifier.RECIPIENT_RATE_LIMITED``). ``Reject`` dead-letters the
record with its original bytes; anything else raised makes it a batch item failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from email_notifier.config import NAME, REQUIRED_VARIABLES, Settings
from email_notifier.models import NotificationFields, NotifierEvent
from email_notifier.notifier import (
    NotificationRejectedError,
    Notifier,
    OutgoingEmail,
    RecipientRateLimitedError,
)
from email_notifier.policy import RECIPIENT_NOT_ALLOWED, RecipientNotAllowedError
from email_notifier.rate_limit import RECIPIENT_RATE_LIMITED, RecipientRateLimiter
from email_notifier.templates import TEMPLATES, TemplateError, render, template_values
from stream_pipeline.kit import (
    SKIP,
    ConsumerSettings,
    ErrorCategory,
    Reject,
    StreamConsumer,
    StreamRecord,
    UnsupportedEventError,
)
from stream_pipeline.runtime.decoding import describe_validation_error
from stream_pipeline.runtime.dlq_envelope import KINESIS_SOURCE
from stream_pipeline.runtime.lambda_setup import SDK_CONFIG

__all__ = ["NotifierResources", "UnsupportedEventError", "consumer", "lambda_handler"]

EMAILS_SENT: Final = "EmailsSent"
EMAILS_SKIPPED_DUPLICATE: Final = "EmailsSkippedDuplicate"
EMAILS_FAILED: Final = "EmailsFailed"
EMAILS_RECIPIENT_REFUSED: Final = "EmailsRecipientRefused"
EMAILS_RATE_LIMITED: Final = "EmailsRateLimited"


class TransientNotificationError(Exception):
    """The e-mail was not sent for a reason that may pass (throttling, 5xx, timeout, another
    invocation sending it, DynamoDB or access problems): report the record so it is retried."""


@dataclass(frozen=True, slots=True)
class NotifierResources:
    """The notifier's own dependencies (``consumer.extras``): its settings, and the SES sender
    behind the idempotency table and the per-recipient rate limiter -- built once per execution
    environment (Powertools' idempotency layer configures itself once)."""

    settings: Settings
    notifier: Notifier

    @classmethod
    def create(
        cls,
        settings: Settings,
        *,
        sesv2: Any,
        dynamodb: Any,
        rate_limit_dynamodb: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> NotifierResources:
        """``rate_limit_dynamodb``: the rate limiter's client, by default ``dynamodb``."""
        rate_limiter = RecipientRateLimiter(
            dynamodb=dynamodb if rate_limit_dynamodb is None else rate_limit_dynamodb,
            table_name=settings.rate_limit_table_name,
            max_emails=settings.rate_limit_max_emails,
            window_seconds=settings.rate_limit_window_seconds,
            clock=clock,
        )
        return cls(
            settings=settings,
            notifier=Notifier(
                sesv2=sesv2,
                dynamodb=dynamodb,
                sender_address=settings.sender_address,
                configuration_set_name=settings.configuration_set_name,
                table_name=settings.idempotency_table_name,
                expires_after_seconds=settings.idempotency_expires_after_seconds,
                rate_limiter=rate_limiter,
            ),
        )

    @classmethod
    def from_env(cls, _: ConsumerSettings | None = None) -> NotifierResources:
        """The kit's ``extras`` hook: called at the cold start, after the kit's settings."""
        return cls.create(
            Settings.from_env(),
            sesv2=boto3.client("sesv2", config=SDK_CONFIG),
            dynamodb=boto3.client("dynamodb", config=SDK_CONFIG),
        )


consumer: StreamConsumer[NotifierEvent] = StreamConsumer(
    name=NAME,
    model=NotifierEvent,
    event_sources=(KINESIS_SOURCE,),
    required_env=REQUIRED_VARIABLES,
    extras=NotifierResources.from_env,
    counters=(
        EMAILS_SENT,
        EMAILS_SKIPPED_DUPLICATE,
        EMAILS_FAILED,
        EMAILS_RECIPIENT_REFUSED,
        EMAILS_RATE_LIMITED,
    ),
)
logger = consumer.logger


@consumer.record_handler
def record_handler(
    record: StreamRecord[NotifierEvent], lambda_context: LambdaContext | None = None
) -> object:
    resources: NotifierResources = consumer.extras
    event = record.event
    if event.eventType not in resources.settings.notify_event_types:
        return SKIP
    event_id = event.eventId or record.derived_id
    log_keys = {**record.origin.log_keys(), "event_id": event_id, "event_type": event.eventType}
    try:
        notify(record, event_id, resources, lambda_context, log_keys)
    except Exception:  # Reject (dead-lettered) and transient errors (retried) alike
        consumer.count(EMAILS_FAILED)
        raise
    return None


def notify(
    record: StreamRecord[NotifierEvent],
    event_id: str,
    resources: NotifierResources,
    lambda_context: LambdaContext | None,
    log_keys: dict[str, Any],
) -> None:
    event = record.event
    template = TEMPLATES[event.eventType]
    try:
        fields = NotificationFields.model_validate(record.document)
    except ValidationError as exc:
        raise Reject(ErrorCategory.SCHEMA_VIOLATION, describe_validation_error(exc)) from exc
    try:
        destination = resources.settings.recipient_policy.destination(fields.email)
    except RecipientNotAllowedError as exc:
        consumer.count(EMAILS_RECIPIENT_REFUSED)
        raise Reject(RECIPIENT_NOT_ALLOWED, str(exc)) from exc
    try:
        rendered = render(template, template_values(event, event_id, fields))
    except TemplateError as exc:
        raise Reject(ErrorCategory.NOTIFICATION_REJECTED, str(exc)) from exc

    # The cap counts the record's own recipient (not the simulator's address that replaced it).
    policy = resources.settings.recipient_policy
    capped = None if policy.exempt_from_rate_cap(fields.email) else fields.email
    notifier = resources.notifier
    # Bounds an in-progress idempotency record by this invocation's remaining time.
    notifier.register_lambda_context(lambda_context)
    try:
        result = notifier.send(OutgoingEmail.of(event_id, destination, rendered, capped))
    except RecipientRateLimitedError as exc:
        consumer.count(EMAILS_RATE_LIMITED)
        raise Reject(RECIPIENT_RATE_LIMITED, _rate_limited_reason(resources.settings)) from exc
    except NotificationRejectedError as exc:
        raise Reject(
            ErrorCategory.NOTIFICATION_REJECTED, f"SES refused the e-mail: {exc.reason}"
        ) from exc
    except Exception as exc:
        logger.warning(
            "e-mail not sent; reporting the record for retry",
            extra={**log_keys, "error": repr(exc)},
        )
        raise TransientNotificationError(repr(exc)) from exc
    if result.duplicate:
        consumer.count(EMAILS_SKIPPED_DUPLICATE)
        logger.info("e-mail already sent for this event; skipped", extra=log_keys)
        return
    consumer.count(EMAILS_SENT)
    if not result.recorded:
        logger.warning(
            "e-mail sent, but its idempotency record could not be completed: a replay of "
            "this event after the in-progress record expires would send it again",
            extra={**log_keys, "message_id": result.message_id},
        )
    else:
        logger.info("e-mail sent", extra={**log_keys, "message_id": result.message_id})


def _rate_limited_reason(settings: Settings) -> str:
    return (
        f"the recipient has had {settings.rate_limit_max_emails} e-mails in the current "
        f"{settings.rate_limit_window_seconds}-second window (the notifier's rate cap); "
        "nothing was sent: replay the record once the window has passed if it is genuine"
    )


lambda_handler = consumer.lambda_handler
