"""Builders and a moto harness for the fraud detector: its history and flags tables (the key
schema of modules/fraud-detector), an alert topic with a queue subscribed to read the alerts,
the DLQ, and events. No JSON blobs."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from factories import REGION, FakeLambdaContext, kinesis_event, kinesis_record, retail_event

from fraud_detector import app
from fraud_detector.config import Settings, Thresholds
from stream_pipeline.kit import ConsumerSettings, Dependencies
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope

HISTORY_TABLE = "fraud-history"
FLAGS_TABLE = "fraud-flags"
FRAUD_CONSUMER = "fraud-detector-test"
FIXED_NOW = datetime(2025, 1, 31, 12, 0, 0, tzinfo=UTC)
T0 = 1_700_000_000_000
MINUTE = 60_000


def purchase(user: str = "user-1", *, at: int = T0, **fields: Any) -> dict[str, Any]:
    """A purchase of 10.00 EUR from DE at ``at`` (epoch ms); fields override."""
    defaults = {"country": "DE", "currency": "EUR", "amount": 10.0, "quantity": 1}
    return retail_event(userId=user, eventType="purchase", timestamp=at, **{**defaults, **fields})


def add_to_cart(
    user: str = "user-1", *, at: int = T0, session: str = "session-1", **fields: Any
) -> dict[str, Any]:
    return retail_event(
        userId=user,
        eventType="add_to_cart",
        timestamp=at,
        sessionId=session,
        **{"country": "DE", "currency": "EUR", "amount": 5.0, **fields},
    )


def batch(events: Sequence[dict[str, Any] | bytes]) -> dict[str, Any]:
    """A Kinesis batch of the events, partition key = the user (as the producer puts them)."""
    return kinesis_event(
        *(
            kinesis_record(
                event,
                partition_key=event["userId"] if isinstance(event, dict) else "user-x",
            )
            for event in events
        )
    )


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in item.items()}


@dataclass
class FraudAws:
    dynamodb: Any
    sns: Any
    sqs: Any
    topic_arn: str
    dlq_url: str
    alerts_url: str

    @classmethod
    def create(cls) -> FraudAws:
        session = boto3.session.Session(region_name=REGION)
        dynamodb, sns, sqs = (session.client(name) for name in ("dynamodb", "sns", "sqs"))
        for table, range_key in ((HISTORY_TABLE, "eventKey"), (FLAGS_TABLE, "flagKey")):
            dynamodb.create_table(
                TableName=table,
                KeySchema=[
                    {"AttributeName": "userId", "KeyType": "HASH"},
                    {"AttributeName": range_key, "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "userId", "AttributeType": "S"},
                    {"AttributeName": range_key, "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
        topic_arn = sns.create_topic(Name="fraud-alerts")["TopicArn"]
        alerts_url = sqs.create_queue(QueueName="fraud-alerts-reader")["QueueUrl"]
        alerts_arn = sqs.get_queue_attributes(QueueUrl=alerts_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=alerts_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        dlq_url = sqs.create_queue(QueueName="fraud-dlq")["QueueUrl"]
        return cls(dynamodb, sns, sqs, topic_arn, dlq_url, alerts_url)

    def configure(
        self,
        thresholds: Thresholds | None = None,
        *,
        dynamodb: Any = None,
        sns: Any = None,
    ) -> None:
        """Fresh dependencies (a cold start) on moto, or on the given (intercepted) clients."""
        settings = Settings(
            history_table_name=HISTORY_TABLE,
            flags_table_name=FLAGS_TABLE,
            alert_topic_arn=self.topic_arn,
            thresholds=thresholds or Thresholds(),
        )
        detector = app.Detector.create(
            settings,
            dynamodb=dynamodb or self.dynamodb,
            sns=sns or self.sns,
            sleep=lambda _: None,
        )
        app.consumer.set_dependencies(
            Dependencies(
                settings=ConsumerSettings(dlq_url=self.dlq_url, consumer_name=FRAUD_CONSUMER),
                sqs=self.sqs,
                sleep=lambda _: None,
                clock=lambda: FIXED_NOW,
                extras=detector,
            )
        )

    def counted_dynamodb(self) -> tuple[Any, Counter[str]]:
        """A moto DynamoDB client and its requests by operation, counted once per API call
        (botocore's ``before-call``: retries of a call are not counted again)."""
        calls: Counter[str] = Counter()

        def count(event_name: str, **_: Any) -> None:
            calls[event_name.split(".")[2]] += 1

        client = boto3.session.Session(region_name=REGION).client("dynamodb")
        client.meta.events.register("before-call", count)
        return client, calls

    @staticmethod
    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return dict(app.lambda_handler(event, FakeLambdaContext()))  # type: ignore[arg-type]

    def flags(self) -> list[dict[str, Any]]:
        items = self.dynamodb.scan(TableName=FLAGS_TABLE, ConsistentRead=True)["Items"]
        return [_plain(item) for item in items]

    def flagged(self) -> list[tuple[str, str]]:
        """(userId, rule) of every flag, sorted."""
        return sorted((flag["userId"], flag["rule"]) for flag in self.flags())

    def history(self) -> list[dict[str, Any]]:
        return [_plain(i) for i in self.dynamodb.scan(TableName=HISTORY_TABLE)["Items"]]

    def _drain(self, url: str) -> Iterator[str]:
        while messages := self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300
        ).get("Messages"):
            for message in messages:
                yield message["Body"]

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert published since the last call (each read once)."""
        return [json.loads(body) for body in self._drain(self.alerts_url)]

    def dead_letters(self) -> list[DlqEnvelope]:
        return [DlqEnvelope.parse(body) for body in self._drain(self.dlq_url)]
