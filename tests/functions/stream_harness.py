"""Test harness for the Lambda functions: moto resources, handler invocation, EMF parsing."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from factories import REGION, FakeLambdaContext, typed

from hydrate import app as hydrate_app
from hydrate.config import Settings as HydrateSettings
from stream_pipeline.kit import ConsumerSettings, Dependencies
from stream_pipeline.runtime.aws_errors import RetryPolicy
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope
from stream_processor import app

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
        s3: Any = None,
        payload_bucket: str | None = None,
        payload_key_prefix: str = "",
        kms: Any = None,
        mac_key_arn: str | None = None,
    ) -> Dependencies:
        settings = ConsumerSettings(
            table_name=table_name or self.aws.table_name,
            dlq_url=self.aws.queue_url,
            consumer_name=CONSUMER,
            payload_bucket=payload_bucket,
            payload_key_prefix=payload_key_prefix,
            mac_key_arn=mac_key_arn,
            **({"max_record_bytes": max_record_bytes} if max_record_bytes else {}),
        )
        dependencies = Dependencies(
            settings=settings,
            dynamodb=dynamodb if dynamodb is not None else self.aws.dynamodb,
            sqs=sqs if sqs is not None else self.aws.sqs,
            sleep=self.sleeps.append,
            rand=lambda: 0.5,
            clock=lambda: FIXED_NOW,
            write_policy=write_policy or RetryPolicy(),
            s3=s3,
            mac_kms=kms,
        )
        app.consumer.set_dependencies(dependencies)
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


# --------------------------------------------------------------------------- hydrate + replay

STREAM_NAME = "retail-events"
SOURCE_TABLE_NAME = "retail-events-outbox"
PAYLOAD_BUCKET = "stream-pipeline-dlq-payloads"
HYDRATE_FUNCTION = "hydrate-test"


@functools.cache
def harness_session() -> boto3.session.Session:
    """One session for the hydrate/replay fixtures' clients (cached service models)."""
    return boto3.session.Session(region_name=REGION)


@dataclass
class Streams:
    """moto-backed Kinesis stream (one shard), DynamoDB source table with a stream, S3 bucket, on
    top of the target table and DLQ of :class:`Aws`."""

    aws: Aws
    kinesis: Any
    dynamodbstreams: Any
    s3: Any
    stream_arn: str
    shard_id: str
    dynamodb_stream_arn: str
    dynamodb_shard_id: str

    @classmethod
    def create(cls, aws: Aws, session: Any) -> Streams:
        kinesis = session.client("kinesis")
        kinesis.create_stream(StreamName=STREAM_NAME, ShardCount=1)
        summary = kinesis.describe_stream_summary(StreamName=STREAM_NAME)
        stream_arn = summary["StreamDescriptionSummary"]["StreamARN"]
        (shard,) = kinesis.list_shards(StreamARN=stream_arn)["Shards"]
        table = aws.dynamodb.create_table(
            TableName=SOURCE_TABLE_NAME,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]
        # moto 5.2.5 does not route botocore's account-based DynamoDB Streams endpoint
        # (<account>.streams-ddb.<region>.amazonaws.com): use the regional one.
        dynamodbstreams = session.client(
            "dynamodbstreams", config=Config(account_id_endpoint_mode="disabled")
        )
        description = dynamodbstreams.describe_stream(StreamArn=table["LatestStreamArn"])
        (ddb_shard,) = description["StreamDescription"]["Shards"]
        s3 = session.client("s3")
        s3.create_bucket(
            Bucket=PAYLOAD_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        return cls(
            aws=aws,
            kinesis=kinesis,
            dynamodbstreams=dynamodbstreams,
            s3=s3,
            stream_arn=stream_arn,
            shard_id=shard["ShardId"],
            dynamodb_stream_arn=table["LatestStreamArn"],
            dynamodb_shard_id=ddb_shard["ShardId"],
        )

    def put(
        self, payloads: Sequence[bytes], partition_keys: Sequence[str] | None = None
    ) -> list[str]:
        """PutRecords (500 per call); returns the sequence numbers, in order."""
        keys = list(partition_keys) if partition_keys is not None else ["user-1"] * len(payloads)
        numbers: list[str] = []
        for start in range(0, len(payloads), 500):
            response = self.kinesis.put_records(
                StreamARN=self.stream_arn,
                Records=[
                    {"Data": data, "PartitionKey": key}
                    for data, key in zip(
                        payloads[start : start + 500], keys[start : start + 500], strict=True
                    )
                ],
            )
            assert response["FailedRecordCount"] == 0
            numbers.extend(record["SequenceNumber"] for record in response["Records"])
        return numbers

    def records(self, after: str | None = None) -> list[dict[str, Any]]:
        """Every record of the shard (after a sequence number), as GetRecords returns them."""
        position: dict[str, str] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": after}
            if after
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = self.kinesis.get_shard_iterator(
            StreamARN=self.stream_arn, ShardId=self.shard_id, **position
        )["ShardIterator"]
        found: list[dict[str, Any]] = []
        while True:
            page = self.kinesis.get_records(
                ShardIterator=iterator, Limit=10_000, StreamARN=self.stream_arn
            )
            if not page["Records"]:
                return found
            found.extend(page["Records"])
            iterator = page["NextShardIterator"]

    def write_source_items(
        self,
        documents: Sequence[Mapping[str, Any]],
        typed_attributes: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """PutItem into the source table (each document typed, plus ``typed_attributes`` as
        given: binary values as bytes); returns the stream sequence numbers, in order."""
        for document in documents:
            item = {**typed(document), **(typed_attributes or {})}
            self.aws.dynamodb.put_item(TableName=SOURCE_TABLE_NAME, Item=item)
        iterator = self.dynamodbstreams.get_shard_iterator(
            StreamArn=self.dynamodb_stream_arn,
            ShardId=self.dynamodb_shard_id,
            ShardIteratorType="TRIM_HORIZON",
        )["ShardIterator"]
        page = self.dynamodbstreams.get_records(ShardIterator=iterator, Limit=1000)
        return [record["dynamodb"]["SequenceNumber"] for record in page["Records"]]

    def dlq_count(self) -> int:
        attributes = self.aws.sqs.get_queue_attributes(
            QueueUrl=self.aws.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


@dataclass
class HydrateHarness:
    """Invokes the real hydrate handler with injected clients and a recording sleep."""

    streams: Streams
    sleeps: list[float] = field(default_factory=list)
    context: FakeLambdaContext = field(
        default_factory=lambda: FakeLambdaContext(function_name=HYDRATE_FUNCTION)
    )

    def configure(
        self,
        *,
        kinesis: Any = None,
        dynamodbstreams: Any = None,
        sqs: Any = None,
        s3: Any = None,
        payload_bucket: str | None = None,
        page_limit: int | None = None,
        served_streams: frozenset[str] | None = None,
        kms: Any = None,
        mac_key_arn: str | None = None,
    ) -> hydrate_app.Dependencies:
        dependencies = hydrate_app.Dependencies(
            settings=HydrateSettings(
                dlq_url=self.streams.aws.queue_url,
                streams=(
                    served_streams
                    if served_streams is not None
                    else frozenset({self.streams.stream_arn, self.streams.dynamodb_stream_arn})
                ),
                payload_bucket=payload_bucket,
                function_name=HYDRATE_FUNCTION,
                mac_key_arn=mac_key_arn,
            ),
            kms=kms,
            kinesis=kinesis if kinesis is not None else self.streams.kinesis,
            dynamodbstreams=(
                dynamodbstreams if dynamodbstreams is not None else self.streams.dynamodbstreams
            ),
            sqs=sqs if sqs is not None else self.streams.aws.sqs,
            s3=s3 if s3 is not None else self.streams.s3,
            sleep=self.sleeps.append,
            rand=lambda: 0.5,
            page_limit=page_limit,
        )
        hydrate_app.set_dependencies(dependencies)
        return dependencies

    def invoke(self, event: Any) -> dict[str, int]:
        return hydrate_app.lambda_handler(event, self.context)  # type: ignore[arg-type]


def trusted_options(streams: Streams) -> dict[str, Any]:
    """RunOptions fields of a replay configured for the fixtures' streams and accepting unsigned
    envelopes (the functions under test here sign nothing: no DLQ_MAC_KEY_ARN)."""
    return {
        "streams": frozenset({streams.stream_arn, streams.dynamodb_stream_arn}),
        "buckets": frozenset({PAYLOAD_BUCKET}),
        "accept_unsigned": True,
    }


def trusted_args(streams: Streams) -> list[str]:
    """The command-line flags of :func:`trusted_options`."""
    return [
        "--stream",
        f"{streams.stream_arn},{streams.dynamodb_stream_arn}",
        "--payload-bucket",
        PAYLOAD_BUCKET,
        "--accept-unsigned",
    ]
