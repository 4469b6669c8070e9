"""A moto table (hash key ``pk``) and DLQ, and a consumer's dependencies on them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from factories import FakeLambdaContext
from moto import mock_aws

from stream_pipeline.kit import ConsumerSettings, Dependencies, StreamConsumer
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope

TABLE = "kit-items"


@dataclass
class KitAws:
    dynamodb: Any
    sqs: Any
    queue_url: str

    def wire(self, consumer: StreamConsumer[Any], **settings: Any) -> None:
        """Give ``consumer`` clients on moto (no backoff sleeps)."""
        consumer.set_dependencies(
            Dependencies(
                settings=ConsumerSettings(
                    dlq_url=self.queue_url,
                    consumer_name="kit-test",
                    table_name=TABLE,
                    **settings,
                ),
                sqs=self.sqs,
                dynamodb=self.dynamodb,
                sleep=lambda _: None,
            )
        )

    @staticmethod
    def invoke(consumer: StreamConsumer[Any], event: dict[str, Any]) -> dict[str, Any]:
        return dict(consumer.lambda_handler(event, FakeLambdaContext()))

    def items(self) -> dict[Any, dict[str, Any]]:
        deserializer = TypeDeserializer()
        return {
            deserializer.deserialize(item["pk"]): {
                name: deserializer.deserialize(value) for name, value in item.items()
            }
            for item in self.dynamodb.scan(TableName=TABLE)["Items"]
        }

    def dead_letters(self) -> list[DlqEnvelope]:
        envelopes: list[DlqEnvelope] = []
        while messages := self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300
        ).get("Messages"):
            envelopes += [DlqEnvelope.parse(message["Body"]) for message in messages]
        return envelopes


@pytest.fixture
def kit_aws() -> Iterator[KitAws]:
    with mock_aws():
        dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield KitAws(dynamodb, sqs, sqs.create_queue(QueueName="kit-dlq")["QueueUrl"])


def window_event(
    records: list[dict[str, Any]],
    state: dict[str, Any] | None = None,
    *,
    final: bool = False,
    terminated_early: bool = False,
    start: str = "2025-01-31T12:00:00Z",
    end: str = "2025-01-31T12:05:00Z",
) -> dict[str, Any]:
    """A Kinesis event with tumbling window properties, shaped as in the Lambda developer guide
    ("Using tumbling windows", KinesisTimeWindowEvent)."""
    return {
        "Records": records,
        "window": {"start": start, "end": end},
        "state": state if state is not None else {},
        "shardId": "shardId-000000000006",
        "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/lambda-stream",
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": terminated_early,
    }
