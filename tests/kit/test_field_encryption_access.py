"""Who can read a sensitive field: the reader role decrypts it, the consumer role that stored it
cannot.

The roles hold the KMS statements modules/pipeline renders (asserted statement by statement
against the plan in modules/pipeline/tests/pipeline.tftest.hcl, run
"sensitive_fields_encrypt_only_for_writers_decrypt_only_for_readers"): the consumer's
stream-consumer UseKeys grant (Decrypt and GenerateDataKey on the stream and results table
keys), the hydrating DLQ's key, and EncryptSensitiveFields (GenerateDataKey only on the field
key); the reader's DecryptResultsViaDynamoDB and DecryptSensitiveFields.

IAM is enforced by moto for the assumed roles, KMS requests authorized per key
(tests/functions/iam_harness.py says how far moto evaluates policies: not the conditions).
tests/e2e/test_field_encryption_e2e.py repeats the proof with the policies modules/pipeline
renders when applied.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from iam_harness import Credentials, enforce_iam, role_credentials
from moto import mock_aws

from stream_pipeline.kit import FieldDecryptor, FieldEncryptionError, FieldEncryptor

TABLE = "orders-results"
ADDRESS = "grace.hopper@example.com"


def encrypt_sensitive_fields(field_key: str) -> dict[str, Any]:
    return {
        "Sid": "EncryptSensitiveFields",
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey"],
        "Resource": [field_key],
        "Condition": {
            "StringEquals": {
                "kms:EncryptionContext:table": [TABLE],
                "kms:EncryptionContext:field": ["email"],
            }
        },
    }


def decrypt_sensitive_fields(field_key: str) -> dict[str, Any]:
    return {
        "Sid": "DecryptSensitiveFields",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": [field_key],
        "Condition": {
            "StringEquals": {
                "kms:EncryptionContext:table": TABLE,
                "kms:EncryptionContext:field": ["email"],
            }
        },
    }


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


@dataclass
class Keys:
    field: str
    results: str
    stream: str
    dlq: str


@dataclass
class Account:
    keys: Keys
    consumer: Credentials
    reader: Credentials
    kms_answers: list[tuple[str, str]]
    """(operation, "OK" or the error code) of every KMS call, the Encryption SDK's included
    (it reports a refusal only as "Unable to decrypt any data key")."""


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    """Keys and the two roles created without authorization, then IAM enforced for every
    request, KMS ones authorized against the key they name."""
    with mock_aws():
        kms, iam, sts = boto3.client("kms"), boto3.client("iam"), boto3.client("sts")
        keys = Keys(*(kms.create_key(Description=name)["KeyMetadata"]["Arn"] for name in "fsrd"))
        use_keys = {
            "Sid": "UseKeys",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": sorted([keys.stream, keys.results]),
        }
        use_dlq_key = {**use_keys, "Sid": "UseHydratingDlqKey", "Resource": [keys.dlq]}
        encrypt = encrypt_sensitive_fields(keys.field)
        consumer = role_credentials(
            iam, sts, "orders-processor", [policy(use_keys, use_dlq_key, encrypt)]
        )
        via_dynamodb = {
            "Sid": "DecryptResultsViaDynamoDB",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [keys.results],
            "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"}},
        }
        decrypt = decrypt_sensitive_fields(keys.field)
        reader = role_credentials(iam, sts, "orders-reader", [policy(via_dynamodb, decrypt)])

        with enforce_iam(monkeypatch) as answers:
            yield Account(keys, consumer, reader, answers)


def stored_by_consumer(account: Account, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What the kit hands DynamoDB for an item with an e-mail address, encrypted with the
    consumer role's credentials."""
    account.consumer.use(monkeypatch)
    encryptor = FieldEncryptor(key_arn=account.keys.field, fields=("email",), table=TABLE)
    return encryptor.encrypt_item({"userId": "u-1", "email": ADDRESS})


def test_the_reader_role_decrypts_what_the_consumer_role_stored(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN an item whose email the consumer role encrypted (GenerateDataKey allowed)
    WHEN the reader role decrypts it with the reader policy
    THEN it gets the address.
    """
    item = stored_by_consumer(account, monkeypatch)
    assert isinstance(item["email"], bytes)

    account.reader.use(monkeypatch)
    reader = FieldDecryptor(key_arn=account.keys.field, fields=("email",), table=TABLE)

    assert reader.decrypt_item(item)["email"] == ADDRESS
    assert account.kms_answers == [("GenerateDataKey", "OK"), ("Decrypt", "OK")]


def test_the_consumer_role_cannot_decrypt_what_it_stored(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN an item whose email the consumer role encrypted
    WHEN the consumer role tries to decrypt it, through the kit and with KMS Decrypt itself
    THEN both are refused: its kms:Decrypt grants name other keys, never the field key.
    """
    item = stored_by_consumer(account, monkeypatch)
    consumer_as_reader = FieldDecryptor(key_arn=account.keys.field, fields=("email",), table=TABLE)

    with pytest.raises(FieldEncryptionError, match="could not decrypt sensitive field 'email'"):
        consumer_as_reader.decrypt_item(item)

    assert account.kms_answers[-1] == ("Decrypt", "AccessDenied")
    kms = boto3.session.Session().client("kms")
    with pytest.raises(kms.exceptions.ClientError, match="AccessDenied"):
        kms.decrypt(KeyId=account.keys.field, CiphertextBlob=b"\x01" * 64)
    # Its own grants still work: the refusal is the field key's, not a broken role.
    assert kms.generate_data_key(KeyId=account.keys.results, KeySpec="AES_256")["Plaintext"]


def test_the_reader_role_cannot_encrypt_with_the_field_key(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN the reader role
    WHEN it tries to produce a sensitive value (GenerateDataKey on the field key)
    THEN it is refused: readers cannot forge stored values.
    """
    account.reader.use(monkeypatch)
    forger = FieldEncryptor(key_arn=account.keys.field, fields=("email",), table=TABLE)

    with pytest.raises(FieldEncryptionError, match="could not encrypt sensitive field 'email'"):
        forger.encrypt_item({"userId": "u-1", "email": "mallory@example.com"})

    assert account.kms_answers == [("GenerateDataKey", "AccessDenied")]
