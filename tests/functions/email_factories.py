"""Builders and a harness for the e-mail notifier tests: purchase events, moto resources (SES v2
identity, idempotency table, DLQ), handler invocation, failure injection. No JSON blobs."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from factories import ACCOUNT, REGION, FakeLambdaContext, Intercepted, retail_event
from moto.ses.models import ses_backends

from email_notifier import app
from email_notifier.config import Settings
from email_notifier.notifier import IDEMPOTENCY_KEY_PREFIX
from email_notifier.policy import RecipientPolicy
from stream_pipeline.kit import ConsumerSettings, Dependencies
from stream_pipeline.runtime.aws_errors import RetryPolicy
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope

SENDER_IDENTITY = "orders@shop.example"
SENDER_ADDRESS = f"Example Shop <{SENDER_IDENTITY}>"
IDEMPOTENCY_TABLE = "email-notifier-idempotency"
RATE_LIMIT_TABLE = "email-notifier-rate-limit"
CONFIGURATION_SET = "email-notifier-test"
ALLOWED_DOMAINS = ("example.com", "shop.example")
NOTIFIER_QUEUE = "email-notifier-dlq"
NOTIFIER_CONSUMER = "email-notifier-test"
ORDER_CONFIRMATION = "order-confirmation"
FIXED_NOW = datetime(2025, 1, 31, 12, 0, 0, 123_000, tzinfo=UTC)

ENVIRONMENT_VARIABLES = (
    "SENDER_ADDRESS",
    "CONFIGURATION_SET_NAME",
    "ALLOWED_RECIPIENT_DOMAINS",
    "MAILBOX_SIMULATOR",
    "RATE_LIMIT_TABLE_NAME",
    "RATE_LIMIT_MAX_EMAILS",
    "RATE_LIMIT_WINDOW_SECONDS",
    "IDEMPOTENCY_TABLE_NAME",
    "IDEMPOTENCY_EXPIRES_AFTER_SECONDS",
    "NOTIFY_EVENT_TYPES",
    "DLQ_URL",
    "PAYLOAD_BUCKET",
    "PAYLOAD_KEY_PREFIX",
    "POWERTOOLS_IDEMPOTENCY_DISABLED",
)


def purchase_event(**fields: Any) -> dict[str, Any]:
    """A notifiable purchase (fresh eventId); keyword arguments override fields (``MISSING``
    from factories removes one)."""
    defaults: dict[str, Any] = {
        "eventType": "purchase",
        "userId": "user-7",
        "productId": "P0042",
        "productName": "Espresso cup",
        "quantity": 2,
        "priceCents": 1_299,
        "currency": "EUR",
        "email": "user-7@example.com",
    }
    return retail_event(**{**defaults, **fields})


def view_event(**fields: Any) -> dict[str, Any]:
    """A view (not notified by default), with an address so only its type keeps it unsent."""
    return retail_event(**{"eventType": "view", "email": "user-7@example.com", **fields})


def idempotency_key(event_id: str, template: str = ORDER_CONFIRMATION) -> str:
    """The documented key: prefix + md5 of the JSON list [event id, template name]."""
    digest = hashlib.md5(json.dumps([event_id, template]).encode(), usedforsecurity=False)
    return f"{IDEMPOTENCY_KEY_PREFIX}#{digest.hexdigest()}"


@dataclass(frozen=True)
class SentEmail:
    """One e-mail as moto's SES backend stored it (the HTML part is its ``body``)."""

    source: str
    to: list[str]
    subject: str
    html: str


@functools.cache
def notifier_session() -> boto3.session.Session:
    return boto3.session.Session(region_name=REGION)


@dataclass
class NotifierAws:
    """moto-backed SES v2 (verified sender), idempotency and rate-limit tables, and DLQ."""

    sesv2: Any
    dynamodb: Any
    sqs: Any
    queue_url: str
    table_name: str = IDEMPOTENCY_TABLE
    rate_limit_table_name: str = RATE_LIMIT_TABLE

    @classmethod
    def create(cls) -> NotifierAws:
        session = notifier_session()
        sesv2 = session.client("sesv2")
        dynamodb = session.client("dynamodb")
        sqs = session.client("sqs")
        sesv2.create_email_identity(EmailIdentity=SENDER_IDENTITY)
        for table in (IDEMPOTENCY_TABLE, RATE_LIMIT_TABLE):
            dynamodb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        queue_url = sqs.create_queue(QueueName=NOTIFIER_QUEUE)["QueueUrl"]
        return cls(sesv2=sesv2, dynamodb=dynamodb, sqs=sqs, queue_url=queue_url)

    def sent(self) -> list[SentEmail]:
        backend = ses_backends[ACCOUNT][REGION]
        return [
            SentEmail(
                source=message.source,
                to=list(message.destinations.get("ToAddresses", [])),
                subject=message.subject,
                html=message.body,
            )
            for message in backend.sent_messages
        ]

    def dlq_envelopes(self) -> list[DlqEnvelope]:
        envelopes: list[DlqEnvelope] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300
            ).get("Messages", [])
            if not messages:
                return envelopes
            envelopes.extend(DlqEnvelope.parse(message["Body"]) for message in messages)

    def idempotency_items(self) -> dict[str, dict[str, Any]]:
        """id -> item (low-level attribute values)."""
        items = self.dynamodb.scan(TableName=self.table_name, ConsistentRead=True)["Items"]
        return {item["id"]["S"]: item for item in items}

    def rate_limit_items(self) -> dict[str, dict[str, Any]]:
        """id -> item of the rate-limit table (low-level attribute values)."""
        items = self.dynamodb.scan(TableName=self.rate_limit_table_name, ConsistentRead=True)
        return {item["id"]["S"]: item for item in items["Items"]}

    def put_idempotency_record(
        self, key: str, *, status: str, in_progress_until_ms: int, expires_at: int
    ) -> None:
        self.dynamodb.put_item(
            TableName=self.table_name,
            Item={
                "id": {"S": key},
                "status": {"S": status},
                "in_progress_expiration": {"N": str(in_progress_until_ms)},
                "expiration": {"N": str(expires_at)},
            },
        )

    def expire(self, key: str) -> None:
        """Move a record's expiry into the past, as if its TTL had run out (DynamoDB deletes
        expired items only eventually; Powertools ignores them at once)."""
        self.dynamodb.update_item(
            TableName=self.table_name,
            Key={"id": {"S": key}},
            UpdateExpression="SET expiration = :past",
            ExpressionAttributeValues={":past": {"N": "1"}},
        )


def recording(real: Any) -> Intercepted:
    """The SES client, with every SendEmail request recorded in ``calls`` (then really sent)."""
    return Intercepted(real, send_email=lambda call_real, **params: call_real(**params))


def failing_first(times: int, error: Exception) -> Callable[..., Any]:
    """An ``Intercepted`` handler: the first ``times`` calls raise ``error``, later ones pass."""
    remaining = [times]

    def handler(call_real: Callable[..., Any], **params: Any) -> Any:
        if remaining[0] > 0:
            remaining[0] -= 1
            raise error
        return call_real(**params)

    return handler


@dataclass
class NotifierHarness:
    """Invokes the real handler with injected clients, a recording sleep and a fixed clock."""

    aws: NotifierAws
    sleeps: list[float] = field(default_factory=list)
    context: FakeLambdaContext = field(
        default_factory=lambda: FakeLambdaContext(
            function_name=NOTIFIER_CONSUMER,
            invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{NOTIFIER_CONSUMER}",
        )
    )
    ses: Intercepted | None = None
    now: float = FIXED_NOW.timestamp()
    """The rate limiter's clock (epoch seconds); tests move it to change windows."""

    def configure(
        self,
        *,
        sesv2: Any = None,
        dynamodb: Any = None,
        rate_limit_dynamodb: Any = None,
        sqs: Any = None,
        **settings: Any,
    ) -> Dependencies:
        """Fresh dependencies (as after a cold start); ``settings`` override the notifier's
        ``Settings``; ``dynamodb`` is the idempotency table's client, ``rate_limit_dynamodb``
        the rate limiter's. The kit's settings name the DLQ and the envelopes' consumer."""
        self.ses = recording(sesv2 if sesv2 is not None else self.aws.sesv2)
        resources = app.NotifierResources.create(
            Settings(
                **{
                    "sender_address": SENDER_ADDRESS,
                    "idempotency_table_name": self.aws.table_name,
                    "rate_limit_table_name": self.aws.rate_limit_table_name,
                    "recipient_policy": RecipientPolicy.of(ALLOWED_DOMAINS),
                    "configuration_set_name": CONFIGURATION_SET,
                    **settings,
                }
            ),
            sesv2=self.ses,
            dynamodb=dynamodb if dynamodb is not None else self.aws.dynamodb,
            rate_limit_dynamodb=(
                rate_limit_dynamodb if rate_limit_dynamodb is not None else self.aws.dynamodb
            ),
            clock=lambda: self.now,
        )
        dependencies = Dependencies(
            settings=ConsumerSettings(dlq_url=self.aws.queue_url, consumer_name=NOTIFIER_CONSUMER),
            sqs=sqs if sqs is not None else self.aws.sqs,
            sleep=self.sleeps.append,
            rand=lambda: 0.5,
            clock=lambda: FIXED_NOW,
            dlq_policy=RetryPolicy(max_attempts=3),
            extras=resources,
        )
        app.consumer.set_dependencies(dependencies)
        return dependencies

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return dict(app.lambda_handler(event, self.context))  # type: ignore[arg-type]

    def failed_sequence_numbers(self, event: dict[str, Any]) -> list[str]:
        return [entry["itemIdentifier"] for entry in self.invoke(event)["batchItemFailures"]]

    def send_requests(self) -> list[dict[str, Any]]:
        """Every SendEmail request made since the last ``configure`` (accepted or not)."""
        assert self.ses is not None
        return [params for name, params in self.ses.calls if name == "send_email"]
