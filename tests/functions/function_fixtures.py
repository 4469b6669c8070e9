"""Fixtures of the tests that run the Lambda functions and their shared runtime
(tests/functions, tests/runtime, tests/replay): isolated AWS environment, moto resources,
harness. Each of those folders' conftest.py imports the ones it uses."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import boto3
import pytest
from factories import REGION
from moto import mock_aws
from stream_harness import CONSUMER, QUEUE_NAME, TABLE_NAME, Aws, Harness

from stream_processor import app

_AWS_VARIABLES_TO_CLEAR = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_CLOUDWATCH",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "TABLE_NAME",
    "DLQ_URL",
    "MAX_RECORD_BYTES",
    "LAMBDA_TASK_ROOT",
)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No real AWS, no emulator endpoint from the developer's shell, no cached dependencies."""
    for name in _AWS_VARIABLES_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", CONSUMER)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", CONSUMER)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    app.consumer.set_dependencies(None)
    yield
    app.consumer.set_dependencies(None)


@functools.cache
def _fixture_session() -> boto3.session.Session:
    """One session for the fixtures' clients: botocore caches service models per session,
    which makes creating clients for every test cheap. Credentials come from the (fake)
    environment set above, and moto intercepts every request."""
    return boto3.session.Session(region_name=REGION)


@pytest.fixture
def aws() -> Iterator[Aws]:
    """A moto-backed target table (userId/eventKey) and DLQ."""
    with mock_aws():
        dynamodb = _fixture_session().client("dynamodb")
        sqs = _fixture_session().client("sqs")
        dynamodb.create_table(
            TableName=TABLE_NAME,
            KeySchema=[
                {"AttributeName": "userId", "KeyType": "HASH"},
                {"AttributeName": "eventKey", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "userId", "AttributeType": "S"},
                {"AttributeName": "eventKey", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        queue_url = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
        yield Aws(dynamodb=dynamodb, sqs=sqs, table_name=TABLE_NAME, queue_url=queue_url)


@pytest.fixture
def harness(aws: Aws) -> Harness:
    """The real handler wired to moto, with a recording sleep and a fixed clock."""
    harness = Harness(aws=aws)
    harness.configure()
    return harness
