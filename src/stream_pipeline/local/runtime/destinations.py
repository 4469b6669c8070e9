"""Clients for the emulator, and delivery of records to on-failure / on-success destinations."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from typing import Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline.local.runtime.model import arn_region, arn_service

LOG = logging.getLogger("local_runtime.destinations")

LAMBDA_NAMESPACE: Final = "AWS/Lambda"
DESTINATION_DELIVERY_FAILURES: Final = "DestinationDeliveryFailures"
ITERATOR_AGE: Final = "IteratorAge"

DUMMY_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=5,
    read_timeout=60,
    s3={"addressing_style": "path"},
)


class Clients:
    """boto3 clients for the emulator, one per (service, region), created thread-safely."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._session = boto3.session.Session(**DUMMY_CREDENTIALS)
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def get(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._session.client(
                    service, region_name=region, endpoint_url=self.endpoint, config=CLIENT_CONFIG
                )
                self._clients[key] = client
            return client


class DeliveryError(RuntimeError):
    """A record could not be delivered to its destination (``str()`` says why)."""


def send(
    clients: Clients,
    destination_arn: str,
    record: dict[str, Any],
    *,
    s3_key: str | None = None,
    s3_body: dict[str, Any] | None = None,
) -> None:
    """SNS publish, SQS send or S3 put object, according to the destination ARN's service."""
    service, region = arn_service(destination_arn), arn_region(destination_arn)
    text = json.dumps(record)
    try:
        if service == "sqs":
            parts = destination_arn.split(":")
            sqs = clients.get("sqs", region)
            url = sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])
            sqs.send_message(QueueUrl=url["QueueUrl"], MessageBody=text)
        elif service == "sns":
            clients.get("sns", region).publish(TopicArn=destination_arn, Message=text)
        elif service == "s3":
            if s3_key is None:
                msg = f"an S3 destination needs an object key: {destination_arn}"
                raise DeliveryError(msg)
            bucket = destination_arn.split(":::", 1)[-1]
            clients.get("s3", region or "us-east-1").put_object(
                Bucket=bucket,
                Key=s3_key,
                Body=json.dumps(s3_body if s3_body is not None else record).encode("utf-8"),
                ContentType="application/json",
            )
        else:
            msg = f"destination type {service!r} is not supported locally: {destination_arn}"
            raise DeliveryError(msg)
    except (ClientError, BotoCoreError) as exc:
        msg = f"could not deliver to {destination_arn}: {exc}"
        raise DeliveryError(msg) from exc


def report_delivery_failure(clients: Clients, function_arn: str) -> None:
    """What Lambda does when it cannot write a record to a destination: one
    ``AWS/Lambda`` ``DestinationDeliveryFailures`` datapoint for the function (dimension
    ``FunctionName``; Sum per period is what an alarm watches)."""
    _put_function_metric(clients, function_arn, DESTINATION_DELIVERY_FAILURES, 1.0, "Count")


def report_iterator_age(clients: Clients, function_arn: str, age_ms: float) -> None:
    """What Lambda publishes for every stream batch it invokes a function with: ``AWS/Lambda``
    ``IteratorAge``, the age of the batch's last record when it was read, in milliseconds
    (dimension ``FunctionName``). ``stream-pipeline rewind`` watches it to know its consumer
    has caught up."""
    _put_function_metric(
        clients, function_arn, ITERATOR_AGE, max(0.0, float(age_ms)), "Milliseconds"
    )


def _put_function_metric(
    clients: Clients, function_arn: str, metric: str, value: float, unit: str
) -> None:
    """One ``AWS/Lambda`` datapoint of the function. A metric that cannot be written is
    logged: the runtime carries on, as Lambda does."""
    parts = function_arn.split(":")
    name, region = parts[6], arn_region(function_arn)
    try:
        clients.get("cloudwatch", region).put_metric_data(
            Namespace=LAMBDA_NAMESPACE,
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": name}],
                    "Timestamp": datetime.now(UTC),
                    "Value": value,
                    "Unit": unit,
                }
            ],
        )
    except (ClientError, BotoCoreError) as exc:
        LOG.error("%s: %s not published: %s", name, metric, exc)
