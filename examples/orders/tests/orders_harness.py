"""Harness of the orders validator's tests: its handler on moto, through the kit, as Lambda
calls it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from factories import FakeLambdaContext
from moto import mock_aws

from orders_validator import app
from stream_pipeline.kit import ConsumerSettings, Dependencies
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope


@dataclass
class OrdersAws:
    """The validator wired to a moto orders table and DLQ."""

    dynamodb: Any
    sqs: Any
    queue_url: str
    table: str = "orders"

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return dict(app.lambda_handler(event, FakeLambdaContext()))

    def orders(self) -> dict[str, dict[str, Any]]:
        deserializer = TypeDeserializer()
        items = self.dynamodb.scan(TableName=self.table)["Items"]
        return {
            item["orderId"]["S"]: {k: deserializer.deserialize(v) for k, v in item.items()}
            for item in items
        }

    def dead_letters(self) -> list[DlqEnvelope]:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
        return [DlqEnvelope.parse(m["Body"]) for m in messages.get("Messages", [])]


@pytest.fixture
def orders_aws() -> Iterator[OrdersAws]:
    with mock_aws():
        dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        aws = OrdersAws(dynamodb, sqs, sqs.create_queue(QueueName="orders-dlq")["QueueUrl"])
        dynamodb.create_table(
            TableName=aws.table,
            KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        settings = ConsumerSettings(
            dlq_url=aws.queue_url, consumer_name="orders-validator", table_name=aws.table
        )
        app.consumer.set_dependencies(
            Dependencies(settings=settings, sqs=sqs, dynamodb=dynamodb, sleep=lambda _: None)
        )
        try:
            yield aws
        finally:
            app.consumer.set_dependencies(None)
