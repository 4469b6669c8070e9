"""``stream-pipeline results``: a reader prints what the processor stored, the e-mail address
decrypted. moto DynamoDB and KMS (who may decrypt: tests/kit/test_field_encryption_access.py)."""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

import boto3
import pytest
from factories import kinesis_event_of, retail_event
from stream_harness import TABLE_NAME, Aws, Harness

from stream_pipeline import results
from stream_pipeline.kit import FieldEncryptor

ADDRESS = "dorothy.vaughan@example.com"


@pytest.fixture
def field_key(aws: Aws) -> str:
    return str(boto3.client("kms").create_key()["KeyMetadata"]["Arn"])


def stored_by_processor(harness: Harness, field_key: str, user: str) -> None:
    dependencies = harness.configure()
    dependencies.settings = dataclasses.replace(
        dependencies.settings, sensitive_fields=("email",), field_key_arn=field_key
    )
    dependencies.field_encryptor = FieldEncryptor(field_key, ("email",), TABLE_NAME)
    event = kinesis_event_of([retail_event(userId=user, email=ADDRESS, channel="web")])
    assert harness.invoke(event) == {"batchItemFailures": []}


def run(outputs: dict[str, Any], *args: str) -> tuple[int, list[dict[str, Any]]]:
    printed = io.StringIO()
    document = json.dumps({name: {"value": value} for name, value in outputs.items()})
    status = results.main(
        ["--terraform-outputs", "-", *args], stdin=io.StringIO(document), out=printed
    )
    return status, [json.loads(line) for line in printed.getvalue().splitlines()]


def test_a_reader_prints_the_users_items_with_the_address_decrypted(
    harness: Harness, field_key: str
) -> None:
    """GIVEN the processor stored an event with an e-mail address (encrypted)
    WHEN `stream-pipeline results --user` runs with the environment's outputs
    THEN it prints the user's item with the address in clear and the other fields as stored.
    """
    stored_by_processor(harness, field_key, "reader-1")
    outputs = {
        "results_table_name": TABLE_NAME,
        "field_encryption_key_arn": field_key,
        "sensitive_fields": ["email"],
    }

    status, items = run(outputs, "--user", "reader-1")

    assert status == 0
    (item,) = items
    assert item["email"] == ADDRESS
    assert item["extra"] == '{"channel":"web"}'
    assert item["userId"] == "reader-1"


def test_a_field_that_does_not_decrypt_is_printed_as_null_and_exits_1(
    harness: Harness, field_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN an item whose address was encrypted for this table
    WHEN the outputs name another table's context (the same key): the value is not this
    table's
    THEN the item is printed with email null, stderr names the field (not the value), exit 1.
    """
    stored_by_processor(harness, field_key, "reader-2")
    harness.aws.dynamodb.create_table(
        TableName="copy",
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
    (stored,) = harness.aws.dynamodb.scan(TableName=TABLE_NAME)["Items"]
    harness.aws.dynamodb.put_item(TableName="copy", Item=stored)
    outputs = {
        "results_table_name": "copy",
        "field_encryption_key_arn": field_key,
        "sensitive_fields": ["email"],
    }

    status, items = run(outputs, "--user", "reader-2")

    assert status == 1
    assert items[0]["email"] is None
    error = capsys.readouterr().err
    assert "could not decrypt sensitive field 'email'" in error
    assert ADDRESS not in error


@pytest.mark.parametrize(
    ("outputs", "args", "message"),
    [
        ({}, ["--user", "u"], "no results_table_name"),
        ({"results_table_name": "t", "sensitive_fields": ["email"]}, ["--user", "u"], "no field_"),
        ({"results_table_name": "t"}, ["--user", "u", "--limit", "0"], "--limit is 1-1,000"),
    ],
)
def test_configuration_errors_exit_2(
    outputs: dict[str, Any], args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN outputs without the table, or sensitive fields without their key, or a bad limit
    WHEN the command runs
    THEN it prints nothing, says what is wrong and exits 2.
    """
    status, items = run(outputs, *args)

    assert (status, items) == (2, [])
    assert message in capsys.readouterr().err
