"""Field-level encryption in the consumer kit (stream_pipeline.kit.field_encryption): the
sensitive attributes of an item are stored as Encryption SDK messages under the pipeline's field
key, bound to the table and the field, with one KMS call per data key, not per record.

KMS, DynamoDB and SQS are moto (no IAM here: who may decrypt is test_field_encryption_access.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.client
import pytest
from factories import (
    FakeLambdaContext,
    dynamodb_event,
    dynamodb_record,
    kinesis_event_of,
    sequence_numbers,
)
from kit_harness import TABLE, KitAws
from pydantic import BaseModel, ConfigDict

from stream_pipeline.kit import (
    ConfigurationError,
    ConsumerSettings,
    Dependencies,
    DynamoDBSink,
    FieldDecryptor,
    FieldEncryptionError,
    FieldEncryptor,
    StreamConsumer,
    StreamRecord,
)

ADDRESS = "ada.lovelace@example.com"


class Signup(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    pk: str


@dataclass
class Kms:
    client: Any
    key_arn: str
    calls: list[str]


@pytest.fixture
def kms(kit_aws: KitAws, monkeypatch: pytest.MonkeyPatch) -> Kms:
    """A symmetric key on moto, and a record of every KMS operation any client calls (the
    Encryption SDK builds clients of its own)."""
    client = boto3.client("kms")
    key_arn = client.create_key(Description="sensitive fields")["KeyMetadata"]["Arn"]
    calls: list[str] = []
    real = botocore.client.BaseClient._make_api_call

    def spy(self: Any, operation: str, params: Any) -> Any:
        if self.meta.service_model.service_name == "kms":
            calls.append(operation)
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", spy)
    return Kms(client, key_arn, calls)


def signup_consumer() -> StreamConsumer[Signup]:
    consumer: StreamConsumer[Signup] = StreamConsumer(
        name="signups", model=Signup, sink=DynamoDBSink(key=("pk",))
    )

    @consumer.record_handler
    def handle(record: StreamRecord[Signup]) -> dict[str, Any]:
        return record.event.model_dump()

    return consumer


def wire(
    consumer: StreamConsumer[Any],
    kit_aws: KitAws,
    kms: Kms,
    fields: tuple[str, ...] = ("email",),
    *,
    encryptor: bool = True,
) -> None:
    settings = ConsumerSettings(
        dlq_url=kit_aws.queue_url,
        consumer_name="signups",
        table_name=TABLE,
        sensitive_fields=fields,
        field_key_arn=kms.key_arn,
    )
    consumer.set_dependencies(
        Dependencies(
            settings=settings,
            sqs=kit_aws.sqs,
            dynamodb=kit_aws.dynamodb,
            sleep=lambda _: None,
            field_encryptor=FieldEncryptor(kms.key_arn, fields, TABLE) if encryptor else None,
        )
    )


def decryptor(kms: Kms, fields: tuple[str, ...] = ("email",)) -> FieldDecryptor:
    return FieldDecryptor(key_arn=kms.key_arn, fields=fields, table=TABLE)


def test_a_sensitive_field_is_stored_encrypted_and_the_reader_gets_it_back(
    kit_aws: KitAws, kms: Kms
) -> None:
    """GIVEN a consumer whose pipeline declares email sensitive
    WHEN a record with an e-mail address is processed
    THEN the stored email attribute is binary that does not hold the address, the other
    attributes are stored as they were, and FieldDecryptor returns the address.
    """
    consumer = signup_consumer()
    wire(consumer, kit_aws, kms)

    response = kit_aws.invoke(
        consumer, kinesis_event_of([{"pk": "u-1", "email": ADDRESS, "plan": "pro"}])
    )

    assert response == {"batchItemFailures": []}
    stored = kit_aws.items()["u-1"]
    ciphertext = stored["email"].value
    assert isinstance(ciphertext, bytes)
    assert ADDRESS.encode() not in ciphertext
    assert stored["plan"] == "pro"
    assert decryptor(kms).decrypt_item(stored) == {"pk": "u-1", "email": ADDRESS, "plan": "pro"}


def test_values_of_every_json_type_come_back_with_their_type(kit_aws: KitAws, kms: Kms) -> None:
    """GIVEN sensitive fields holding a number, a map with a list and a DynamoDB stream's
    Decimal, and one that is null
    WHEN stored through the kit
    THEN each decrypts to the value of the original type; the null is stored as null.
    """
    consumer = signup_consumer()
    fields = ("age", "address", "score", "phone")
    wire(consumer, kit_aws, kms, fields)
    image = {
        "pk": "u-2",
        "age": 36,
        "address": {"lines": ["12 St James's Sq", "London"], "zip": None},
        "score": 9.5,
        "phone": None,
    }

    response = kit_aws.invoke(consumer, dynamodb_event(dynamodb_record(image)))

    assert response == {"batchItemFailures": []}
    stored = kit_aws.items()["u-2"]
    assert stored["phone"] is None
    assert decryptor(kms, fields).decrypt_item(stored) == image


def test_one_data_key_serves_a_whole_batch(kit_aws: KitAws, kms: Kms) -> None:
    """GIVEN a consumer with one sensitive field
    WHEN two batches of 50 records with e-mail addresses are processed
    THEN KMS is asked for one data key in all (cached per table and field), not one per record.
    """
    consumer = signup_consumer()
    wire(consumer, kit_aws, kms)

    for batch in range(2):
        payloads = [{"pk": f"u-{batch}-{n}", "email": f"{n}@example.com"} for n in range(50)]
        assert kit_aws.invoke(consumer, kinesis_event_of(payloads)) == {"batchItemFailures": []}

    assert kms.calls.count("GenerateDataKey") == 1
    assert "Decrypt" not in kms.calls
    assert len(kit_aws.items()) == 100


def test_a_value_moved_to_another_field_or_table_does_not_decrypt(
    kit_aws: KitAws, kms: Kms
) -> None:
    """GIVEN an item stored with an encrypted email
    WHEN its ciphertext is read as another field, or as the same field of another table
    THEN decryption fails naming the field, not the value: the encryption context binds it.
    """
    consumer = signup_consumer()
    wire(consumer, kit_aws, kms)
    kit_aws.invoke(consumer, kinesis_event_of([{"pk": "u-3", "email": ADDRESS}]))
    stored = kit_aws.items()["u-3"]

    moved = {"pk": "u-3", "backup": stored["email"]}
    with pytest.raises(FieldEncryptionError, match="'backup'") as as_other_field:
        decryptor(kms, ("backup",)).decrypt_item(moved)
    other_table = FieldDecryptor(key_arn=kms.key_arn, fields=("email",), table="other-table")
    with pytest.raises(FieldEncryptionError, match="'email'") as in_other_table:
        other_table.decrypt_item(stored)

    assert ADDRESS not in str(as_other_field.value) + str(in_other_table.value)


def test_kms_refusing_the_data_key_retries_the_record_and_stores_nothing_in_clear(
    kit_aws: KitAws, kms: Kms
) -> None:
    """GIVEN KMS refuses the field key's data key (here: the key does not exist; an
    AccessDenied or a throttle takes the same path)
    WHEN a batch with an e-mail address and one without is processed
    THEN the record with the address is a batch item failure (retried, not dead-lettered)
    and nothing of it is stored; the record without the address is stored.
    """
    missing_key = kms.key_arn.rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000"
    consumer = signup_consumer()
    wire(consumer, kit_aws, Kms(kms.client, missing_key, kms.calls))
    event = kinesis_event_of([{"pk": "u-4", "email": ADDRESS}, {"pk": "u-5"}])

    response = kit_aws.invoke(consumer, event)

    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(event)[0]}]}
    assert "GenerateDataKey" in kms.calls
    assert list(kit_aws.items()) == ["u-5"]
    assert kit_aws.dead_letters() == []


def test_declared_fields_without_an_encryptor_fail_the_batch_instead_of_storing_clear_text(
    kit_aws: KitAws, kms: Kms
) -> None:
    """GIVEN settings with sensitive fields but dependencies without a field encryptor
    WHEN a batch is processed
    THEN the invocation fails with a ConfigurationError and nothing is stored.
    """
    consumer = signup_consumer()
    wire(consumer, kit_aws, kms, encryptor=False)

    with pytest.raises(ConfigurationError, match="refusing to store them in clear"):
        consumer.lambda_handler(
            kinesis_event_of([{"pk": "u-6", "email": ADDRESS}]),
            FakeLambdaContext(),  # type: ignore[arg-type]
        )

    assert kit_aws.items() == {}


def test_a_key_attribute_cannot_be_sensitive(kit_aws: KitAws, kms: Kms) -> None:
    """GIVEN the sink's key attribute declared sensitive
    WHEN a batch is processed
    THEN the invocation fails naming it (an encrypted key could never be found again).
    """
    consumer = signup_consumer()
    wire(consumer, kit_aws, kms, ("pk", "email"))

    with pytest.raises(ConfigurationError, match=r"\['pk'\] are the table's key"):
        consumer.lambda_handler(
            kinesis_event_of([{"pk": "u-7"}]),
            FakeLambdaContext(),  # type: ignore[arg-type]
        )


def test_the_cold_start_builds_the_encryptor_from_the_environment(
    kit_aws: KitAws, kms: Kms, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN the environment modules/pipeline gives a results table writer (TABLE_NAME,
    SENSITIVE_FIELDS, FIELD_ENCRYPTION_KEY_ARN)
    WHEN the consumer is invoked without injected dependencies
    THEN the address is stored encrypted for that table.
    """
    monkeypatch.setenv("DLQ_URL", kit_aws.queue_url)
    monkeypatch.setenv("TABLE_NAME", TABLE)
    monkeypatch.setenv("SENSITIVE_FIELDS", " email , phone ")
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY_ARN", kms.key_arn)
    consumer = signup_consumer()

    response = kit_aws.invoke(consumer, kinesis_event_of([{"pk": "u-8", "email": ADDRESS}]))

    assert response == {"batchItemFailures": []}
    assert consumer.sensitive_fields == ("email", "phone")
    stored = kit_aws.items()["u-8"]
    assert isinstance(stored["email"].value, bytes)
    assert decryptor(kms).decrypt_item(stored)["email"] == ADDRESS


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"SENSITIVE_FIELDS": "email"}, "missing required environment variable(s): FIELD_"),
        (
            {"SENSITIVE_FIELDS": "e mail", "FIELD_ENCRYPTION_KEY_ARN": "arn:aws:kms:k"},
            "SENSITIVE_FIELDS: sensitive field names are 1-255 characters",
        ),
    ],
)
def test_field_encryption_settings_are_checked_at_the_cold_start(
    environment: dict[str, str], message: str
) -> None:
    """GIVEN sensitive fields without their key, or a field name that is no attribute name
    WHEN the settings are read
    THEN a ConfigurationError says what is wrong (the function never stores them in clear).
    """
    env = {"DLQ_URL": "https://sqs/q", "TABLE_NAME": TABLE, **environment}

    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ConsumerSettings.from_env(name="signups", needs_table=True, environ=env)


def test_a_consumer_without_sensitive_fields_does_not_load_the_encryption_sdk() -> None:
    """GIVEN a fresh interpreter
    WHEN the kit and the retail processor are imported (what a cold start does)
    THEN neither the Encryption SDK nor cryptography is loaded: only a consumer that encrypts
    pays for them, on its first encrypted value.
    """
    probe = (
        "import sys, stream_pipeline.kit, stream_processor.app; "
        "print(sorted(m for m in ('aws_encryption_sdk', 'cryptography') if m in sys.modules))"
    )

    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    ).stdout.strip()

    assert loaded == "[]"
