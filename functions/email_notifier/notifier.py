"""Send one rendered e-mail with SES v2, at most once per event (Powertools idempotency).

The send is wrapped in Powertools' ``idempotent_function`` with a ``DynamoDBPersistenceLayer``
(default attributes: key ``id``, TTL ``expiration``, ``status``, ``data``,
``in_progress_expiration``). The idempotency key is ``email_notifier#`` + md5 of the JSON list
``[<event id>, <template name>]``: the event id is ``eventId`` or, without one, the id derived
from the payload (the consumer kit's ``StreamRecord.derived_id``), so an ESM retry, a second copy in
the same batch and a replay from the DLQ all map to the same record. The key does not depend on
the Lambda function's name or on this module's layout, so renaming either does not re-send anything.

Outcomes of :meth:`Notifier.send`:

* ``SendResult(duplicate=False)`` -- SES accepted the e-mail now;
* ``SendResult(duplicate=True)`` -- a completed, unexpired record exists: nothing is sent;
* :class:`NotificationRejectedError` -- SES refused the message for a reason no retry fixes
  (:data:`PERMANENT_SES_ERRORS`). The in-progress record was deleted by Powertools, so a replay
  after fixing the cause sends it;
* :class:`NotificationInProgressError` -- another invocation holds the record (in progress):
  transient, the record is retried by the event source mapping;
* :class:`RecipientRateLimitedError` -- the recipient's rate cap refused the e-mail
  (``rate_limit.py``). The cap is taken *inside* the idempotent section, just before
  ``SendEmail``: an event already sent (a completed record) is answered from the table and never
  counted again, whatever window its redelivery falls in. Powertools deletes the in-progress
  record, so a replay once the window has passed sends it;
* anything else raised (throttling, 5xx, timeouts, DynamoDB errors, access denied) is transient
  or a deployment error: the caller reports the record for retry. Powertools has deleted the
  in-progress record, so the retry sends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from email_notifier.rate_limit import RecipientRateLimiter
from email_notifier.templates import RenderedEmail
from stream_pipeline.runtime.aws_errors import describe_client_error, error_code

IDEMPOTENCY_KEY_PREFIX: Final = "email_notifier"
IDEMPOTENCY_KEY_JMESPATH: Final = "[event_id, template]"

PERMANENT_SES_ERRORS: Final = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "BadRequestException",
    }
)
"""SES v2 SendEmail errors that no retry of the same request fixes: dead-letter the record.
Everything else (``TooManyRequestsException``, ``LimitExceededException``,
``SendingPausedException``, ``AccountSuspendedException``, ``NotFoundException``, 5xx,
timeouts) leaves the record in the stream (batch item failure), see README.md."""


class NotificationRejectedError(Exception):
    """SES refused the message permanently; ``reason`` is SES' code and message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RecipientRateLimitedError(Exception):
    """The recipient had its cap of e-mails in the current window: nothing was sent."""


class NotificationInProgressError(Exception):
    """Another invocation is sending this event's e-mail right now (idempotency record in
    progress): retry later."""


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One e-mail to send; ``event_id`` and ``template`` form the idempotency key."""

    event_id: str
    template: str
    recipient: str
    """Where it goes (``SendEmail``'s ``ToAddresses``)."""
    subject: str
    text: str
    html: str
    capped_recipient: str | None = None
    """Whose rate cap it counts against (the record's own address, when the mailbox simulator
    replaced it in ``recipient``); None: not capped."""

    @classmethod
    def of(
        cls,
        event_id: str,
        recipient: str,
        rendered: RenderedEmail,
        capped_recipient: str | None = None,
    ) -> OutgoingEmail:
        return cls(
            event_id=event_id,
            template=rendered.template,
            recipient=recipient,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            capped_recipient=capped_recipient,
        )


@dataclass(frozen=True, slots=True)
class SendResult:
    message_id: str | None
    """SES' MessageId (for a duplicate: the one stored when it was sent)."""
    duplicate: bool = False
    """True: the e-mail had been sent before; nothing was sent now."""
    recorded: bool = True
    """False: SES accepted the e-mail but the idempotency record could not be completed."""


def _mark_duplicate(response: Any, idempotent_data: DataRecord) -> Any:
    """Powertools calls this only when it returns a stored response instead of sending."""
    stored = dict(response) if isinstance(response, dict) else {}
    return {**stored, "duplicate": True}


def _content(text: str) -> dict[str, str]:
    return {"Data": text, "Charset": "UTF-8"}


class Notifier:
    """SES v2 ``SendEmail`` behind a DynamoDB idempotency record."""

    def __init__(
        self,
        *,
        sesv2: Any,
        dynamodb: Any,
        sender_address: str,
        configuration_set_name: str | None,
        table_name: str,
        expires_after_seconds: int,
        key_prefix: str = IDEMPOTENCY_KEY_PREFIX,
        rate_limiter: RecipientRateLimiter | None = None,
    ) -> None:
        self._sesv2 = sesv2
        self._rate_limiter = rate_limiter
        self._sender = sender_address
        self._configuration_set = configuration_set_name
        self._accepted: dict[tuple[str, str], str] = {}
        self.config = IdempotencyConfig(
            event_key_jmespath=IDEMPOTENCY_KEY_JMESPATH,
            raise_on_no_idempotency_key=True,
            expires_after_seconds=expires_after_seconds,
            response_hook=_mark_duplicate,
        )
        self.persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=dynamodb)
        self._send_once: Callable[..., Any] = idempotent_function(
            self._send,
            data_keyword_argument="email",
            persistence_store=self.persistence,
            config=self.config,
            key_prefix=key_prefix,
        )

    def register_lambda_context(self, context: LambdaContext | None) -> None:
        """Lets Powertools bound an in-progress record by the invocation's remaining time, so
        a record left by a timed-out invocation blocks retries only until that deadline."""
        if context is not None:
            self.config.register_lambda_context(context)

    def send(self, email: OutgoingEmail) -> SendResult:
        key = (email.event_id, email.template)
        self._accepted.pop(key, None)
        try:
            response = self._send_once(email=email)
        except IdempotencyAlreadyInProgressError as exc:
            raise NotificationInProgressError(str(exc)) from exc
        except IdempotencyPersistenceLayerError:
            message_id = self._accepted.pop(key, None)
            if message_id is None:
                raise
            # SES accepted the e-mail; only marking the record completed failed. Retrying the
            # record would send it a second time once the in-progress record expires.
            return SendResult(message_id=message_id, recorded=False)
        except ClientError as exc:
            if error_code(exc) in PERMANENT_SES_ERRORS:
                raise NotificationRejectedError(describe_client_error(exc)) from exc
            raise
        finally:
            self._accepted.pop(key, None)
        stored = response if isinstance(response, dict) else {}
        message_id = stored.get("messageId")
        return SendResult(
            message_id=message_id if isinstance(message_id, str) else None,
            duplicate=bool(stored.get("duplicate")),
        )

    def _send(self, email: OutgoingEmail) -> dict[str, str]:
        if (
            email.capped_recipient is not None
            and self._rate_limiter is not None
            and not self._rate_limiter.admit(email.capped_recipient, email.event_id)
        ):
            raise RecipientRateLimitedError
        params: dict[str, Any] = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": [email.recipient]},
            "Content": {
                "Simple": {
                    "Subject": _content(email.subject),
                    "Body": {"Text": _content(email.text), "Html": _content(email.html)},
                }
            },
        }
        if self._configuration_set:
            params["ConfigurationSetName"] = self._configuration_set
        response = self._sesv2.send_email(**params)
        message_id = str(response.get("MessageId", ""))
        self._accepted[(email.event_id, email.template)] = message_id
        return {"messageId": message_id, "template": email.template}
