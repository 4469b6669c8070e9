"""Test harness for the stream processor: moto resources, handler invocation, EMF parsing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from factories import FakeLambdaContext

from common.dlq_envelope import DlqEnvelope
from stream_processor import app
from stream_processor.aws_errors import RetryPolicy
from stream_processor.config import Settings

TABLE_NAME = "retail-events-enriched"
QUEUE_NAME = "stream-processor-dlq"
CONSUMER = "stream-processor-test"
FIXED_NOW = datetime(2025, 1, 31, 12, 0, 0, 123_000, tzinfo=UTC)

_deserializer = TypeDeserializer()


@dataclass
class Aws:
    """moto-backed target table and DLQ."""

    dynamodb: Any
    sqs: Any
    table_name: str
    queue_url: str

    def items(self) -> list[dict[str, Any]]:
        paginator = self.dynamodb.get_paginator("scan")
        return [
            {name: _deserializer.deserialize(value) for name, value in item.items()}
            for page in paginator.paginate(TableName=self.table_name)
            for item in page["Items"]
        ]

    def dlq_bodies(self) -> list[str]:
        bodies: list[str] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300
            ).get("Messages", [])
            if not messages:
                return bodies
            bodies.extend(message["Body"] for message in messages)

    def dlq_envelopes(self) -> list[DlqEnvelope]:
        return [DlqEnvelope.parse(body) for body in self.dlq_bodies()]


@dataclass
class Harness:
    """Invokes the real handler with injected clients, a recording sleep and a fixed clock."""

    aws: Aws
    sleeps: list[float] = field(default_factory=list)
    context: FakeLambdaContext = field(default_factory=FakeLambdaContext)

    def configure(
        self,
        *,
        dynamodb: Any = None,
        sqs: Any = None,
        max_record_bytes: int | None = None,
        write_policy: RetryPolicy | None = None,
        table_name: str | None = None,
    ) -> app.Dependencies:
        settings = Settings(
            table_name=table_name or self.aws.table_name,
            dlq_url=self.aws.queue_url,
            consumer_name=CONSUMER,
            **({"max_record_bytes": max_record_bytes} if max_record_bytes else {}),
        )
        dependencies = app.Dependencies(
            settings=settings,
            dynamodb=dynamodb if dynamodb is not None else self.aws.dynamodb,
            sqs=sqs if sqs is not None else self.aws.sqs,
            sleep=self.sleeps.append,
            rand=lambda: 0.5,
            clock=lambda: FIXED_NOW,
            write_policy=write_policy or RetryPolicy(),
        )
        app.set_dependencies(dependencies)
        return dependencies

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = dict(app.lambda_handler(event, self.context))
        return response

    def failed_sequence_numbers(self, event: dict[str, Any]) -> list[str]:
        return [entry["itemIdentifier"] for entry in self.invoke(event)["batchItemFailures"]]


def emf_metrics(captured_stdout: str) -> dict[str, list[tuple[float, dict[str, str]]]]:
    """Metric name -> [(value, dimensions)] from the EMF lines printed by Powertools."""
    found: dict[str, list[tuple[float, dict[str, str]]]] = {}
    for line in captured_stdout.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            dimension_names = {name for group in directive["Dimensions"] for name in group}
            dimensions = {name: blob[name] for name in dimension_names}
            for metric in directive["Metrics"]:
                values = blob[metric["Name"]]
                for value in values if isinstance(values, list) else [values]:
                    found.setdefault(metric["Name"], []).append((float(value), dimensions))
    return found
