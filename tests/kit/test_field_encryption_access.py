"""Who can read a sensitive field: the reader role decrypts it, the consumer role that stored it
cannot. IAM is enforced by moto for assumed-role credentials.

The roles hold the KMS statements modules/pipeline renders (asserted statement by statement
against the plan in modules/pipeline/tests/pipeline.tftest.hcl, run
"sensitive_fields_encrypt_only_for_writers_decrypt_only_for_readers"): the consumer's
stream-consumer UseKeys grant (Decrypt and GenerateDataKey on the stream and results table
keys), the hydrating DLQ's key, and EncryptSensitiveFields (GenerateDataKey only on the field
key); the reader's DecryptResultsViaDynamoDB and DecryptSensitiveFields.

How far moto 5.2.5 evaluates them (moto/iam/access_control.py): Action and Resource of identity
policies, Deny before Allow; conditions only ``StringEquals`` on ``sts:ExternalId`` (the
encryption-context conditions are not evaluated: the plan test asserts them); and every KMS
request is authorized against the resource ``*``, which no key ARN matches. The fixture gives
moto the resource AWS authorizes, the ARN of the key the request names, so that the grants are
evaluated per key as in AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.client
import botocore.exceptions
import pytest
from moto import mock_aws, settings
from moto.core.responses import ActionAuthenticatorMixin
from moto.kms.models import kms_backends
from moto.kms.responses import KmsResponse

from stream_pipeline.kit import FieldDecryptor, FieldEncryptionError, FieldEncryptor

TABLE = "orders-results"
ADDRESS = "grace.hopper@example.com"
ASSUME_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}


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


@dataclass
class Keys:
    field: str
    results: str
    stream: str
    dlq: str


@dataclass
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str

    def use(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make these the environment's credentials: the Encryption SDK's botocore session
        reads them when its KMS client is built."""
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", self.access_key_id)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", self.secret_access_key)
        monkeypatch.setenv("AWS_SESSION_TOKEN", self.session_token)


def _key_arn_of_request(self: KmsResponse) -> str:
    """The ARN of the key a KMS request names (KeyId: an ARN, a key id or an alias)."""
    key_id = json.loads(self.body or "{}").get("KeyId")
    if not key_id:
        return "*"
    backend = kms_backends[self.current_account][self.region]
    try:
        return str(backend.describe_key(key_id).arn)
    except Exception:  # an unknown key: moto answers NotFound
        return "*"


def error_code(error: botocore.exceptions.ClientError) -> str:
    """The error code; moto's authorization answers KMS's JSON protocol in XML, which botocore
    reads as code "403" with the XML as message."""
    code = str(error.response["Error"]["Code"])
    message = str(error.response["Error"].get("Message", ""))
    if code == "403" and "<Code>" in message:
        return message.split("<Code>", 1)[1].split("</Code>", 1)[0]
    return code


def role(iam: Any, sts: Any, name: str, statements: list[dict[str, Any]]) -> Credentials:
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(ASSUME_LAMBDA))[
        "Role"
    ]["Arn"]
    iam.put_role_policy(
        RoleName=name,
        PolicyName="policy",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    credentials = sts.assume_role(RoleArn=arn, RoleSessionName=name)["Credentials"]
    return Credentials(
        credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
    )


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
        consumer = role(iam, sts, "orders-processor", [use_keys, use_dlq_key, encrypt])
        via_dynamodb = {
            "Sid": "DecryptResultsViaDynamoDB",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [keys.results],
            "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"}},
        }
        decrypt = decrypt_sensitive_fields(keys.field)
        reader = role(iam, sts, "orders-reader", [via_dynamodb, decrypt])

        answers: list[tuple[str, str]] = []
        real = botocore.client.BaseClient._make_api_call

        def record(self: Any, operation: str, params: Any) -> Any:
            if self.meta.service_model.service_name != "kms":
                return real(self, operation, params)
            try:
                response = real(self, operation, params)
            except botocore.exceptions.ClientError as error:
                answers.append((operation, error_code(error)))
                raise
            answers.append((operation, "OK"))
            return response

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
        monkeypatch.setattr(KmsResponse, "_determine_resource", _key_arn_of_request, raising=False)
        monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
        monkeypatch.setattr(ActionAuthenticatorMixin, "request_count", 0)
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
