"""The stream processor with the pipeline's sensitive fields (issue #16: "A record with an e-mail
address is stored with that field encrypted; the reader role decrypts it [...]; nothing in the
function logs shows it"). Who may decrypt: tests/kit/test_field_encryption_access.py.

moto DynamoDB, SQS and KMS; the processor's real handler.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import logging
from collections.abc import Iterator

import boto3
import pytest
from factories import MISSING, kinesis_event_of, retail_event, sequence_numbers
from stream_harness import TABLE_NAME, Aws, Harness

from stream_pipeline.kit import FieldDecryptor, FieldEncryptor
from stream_processor import app

ADDRESS = "katherine.johnson@example.com"


@pytest.fixture
def field_key(aws: Aws) -> str:
    """A KMS key on the same moto as the harness' table and DLQ."""
    return str(boto3.client("kms").create_key()["KeyMetadata"]["Arn"])


@pytest.fixture
def function_logs() -> Iterator[io.StringIO]:
    """What the processor's Powertools logger writes (its JSON lines, as CloudWatch Logs gets
    them), at DEBUG, for one test."""
    logger = app.consumer.logger
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_handler.formatter)
    level = logger.log_level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield buffer
    logger.setLevel(level)
    logger.removeHandler(handler)


def encrypting(harness: Harness, key_arn: str, fields: tuple[str, ...] = ("email",)) -> None:
    """The processor as modules/pipeline deploys it with sensitive_fields = fields."""
    dependencies = harness.configure()
    dependencies.settings = dataclasses.replace(
        dependencies.settings, sensitive_fields=fields, field_key_arn=key_arn
    )
    dependencies.field_encryptor = FieldEncryptor(key_arn, fields, TABLE_NAME)


def test_the_email_is_stored_encrypted_and_the_rest_of_the_item_unchanged(
    harness: Harness, aws: Aws, field_key: str
) -> None:
    """GIVEN the processor with email declared sensitive
    WHEN a retail event with an e-mail address and another field outside the schema arrives
    THEN the item holds the address only as binary ciphertext in its own attribute, extra keeps
    the other field, the enriched attributes are those of an event without the address, and
    the reader's FieldDecryptor gives the address back.
    """
    encrypting(harness, field_key)
    event = retail_event(eventId="e-1", email=ADDRESS, userAgent="Mozilla/5.0")

    assert harness.invoke(kinesis_event_of([event])) == {"batchItemFailures": []}

    (item,) = aws.items()
    ciphertext = item["email"].value
    assert isinstance(ciphertext, bytes)
    assert ADDRESS.encode() not in ciphertext
    assert ADDRESS not in repr(item)
    assert item["extra"] == '{"userAgent":"Mozilla/5.0"}'
    assert item["insight"] == "User user-1 viewed product P0001"
    reader = FieldDecryptor(key_arn=field_key, fields=("email",), table=TABLE_NAME)
    assert reader.decrypt_item(item)["email"] == ADDRESS


def test_without_sensitive_fields_the_email_stays_in_extra_as_before(
    harness: Harness, aws: Aws
) -> None:
    """GIVEN the processor deployed with sensitive_fields = []
    WHEN an event with an e-mail address arrives
    THEN it is stored as before this feature: inside extra, in clear (what the variable says).
    """
    harness.configure()

    harness.invoke(kinesis_event_of([retail_event(email=ADDRESS)]))

    (item,) = aws.items()
    assert item["extra"] == f'{{"email":"{ADDRESS}"}}'
    assert "email" not in item


def test_nothing_the_function_logs_shows_the_address(
    harness: Harness,
    aws: Aws,
    field_key: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    function_logs: io.StringIO,
) -> None:
    """GIVEN the processor with email declared sensitive, its loggers and the encryption
    libraries' at DEBUG
    WHEN it processes a batch with a valid event, an invalid one (dead-lettered) and, with the
    key unusable, a batch whose KMS call fails (retried), each with an e-mail address
    THEN neither its output (Powertools' JSON logs, EMF) nor any log record holds an address;
    the DLQ still holds the invalid record's original bytes (replay needs them).
    """
    caplog.set_level(logging.DEBUG)
    for noisy in ("botocore", "boto3", "urllib3"):
        # The SDK's own wire logging is off in Lambda; at DEBUG it prints request bodies.
        caplog.set_level(logging.WARNING, logger=noisy)
    encrypting(harness, field_key)
    valid = retail_event(email="first." + ADDRESS)
    invalid = retail_event(email="second." + ADDRESS, productId=MISSING)

    first = harness.invoke(kinesis_event_of([valid, invalid]))
    encrypting(harness, field_key.rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000")
    unusable = kinesis_event_of([retail_event(email="third." + ADDRESS)])
    second = harness.invoke(unusable)

    output = capsys.readouterr()
    logs = function_logs.getvalue() + output.out + output.err + caplog.text
    assert first == {"batchItemFailures": []}
    assert second == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(unusable)[0]}]}
    assert "record sent to DLQ" in logs
    assert "reporting it for retry" in logs
    assert "could not encrypt sensitive field 'email'" in logs
    assert "@example.com" not in logs
    assert "example.com" not in logs
    (envelope,) = aws.dlq_envelopes()
    assert b"second." + ADDRESS.encode() in base64.b64decode(envelope.payload_b64 or "")
