"""Field-level encryption end to end (issue #16, "A record with an e-mail address is stored with
that field encrypted; the reader role decrypts it, the consumer's own role cannot"): the real
``environments/local`` (default ``sensitive_fields = ["email"]``) applied to the local runtime,
the producer's events through the deployed processor, KMS in the emulator.

The emulator's server does not enforce IAM, so who may decrypt is proven on the policies the
applied module rendered (the processor role's inline policies as IAM holds them, the
``results_reader_policy_json`` output), given to roles of an in-process moto that enforces IAM
(tests/functions/iam_harness.py).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from e2e_pipeline import Pipeline
from iam_harness import enforce_iam, role_credentials
from moto import mock_aws

from stream_pipeline.kit import FieldDecryptor, FieldEncryptionError, FieldEncryptor
from stream_pipeline.local.accounting import scan_items
from stream_pipeline.local.stack import local_region
from stream_pipeline.producer.generator import RecordKind, generate_records
from tools.terraform_stage import REPO_ROOT

FIELD_KEY = "<the field key>"


def _stored(pipeline: Pipeline, seed: int, count: int) -> list[tuple[str, dict[str, Any]]]:
    """Put ``count`` valid producer events; (their address, their stored item)."""
    records = [
        record
        for record in generate_records(count * 3, seed=pipeline.seed_base + seed)
        if record.kind is RecordKind.VALID
    ][:count]
    manifest = pipeline.put(records)
    pipeline.drain()
    result = pipeline.reconcile(manifest)
    assert result.stored == count, result
    items = {
        item["eventId"]: item
        for item in scan_items(pipeline.client("dynamodb"), pipeline.outputs["results_table_name"])
    }
    return [(json.loads(r.data)["email"], items[r.record_id]) for r in records]


def _processor_policies(pipeline: Pipeline) -> list[dict[str, Any]]:
    """The processor role's inline policies as the applied module rendered them."""
    iam = pipeline.client("iam")
    role_arn = pipeline.client("lambda").get_function_configuration(
        FunctionName=pipeline.processor
    )["Role"]
    role = role_arn.rsplit("/", 1)[1]
    assert not iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    return [
        iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    ]


def _with_key(policy: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    document = policy if isinstance(policy, str) else json.dumps(policy)
    return dict(json.loads(document.replace(old, new)))


def test_the_email_is_stored_encrypted_and_decrypts_with_the_outputs(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN the local environment with its default sensitive fields
    WHEN three producer events, each with an e-mail address, are processed
    THEN each item holds its address only as ciphertext (no attribute, not extra, shows it),
    and FieldDecryptor built from the environment's outputs gives each address back.
    """
    outputs = pipeline.outputs
    assert outputs["sensitive_fields"] == ["email"]

    stored = _stored(pipeline, seed=16_003, count=3)

    monkeypatch.setenv("AWS_ENDPOINT_URL", pipeline.stack.endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", local_region(REPO_ROOT))
    reader = FieldDecryptor(
        key_arn=outputs["field_encryption_key_arn"],
        fields=outputs["sensitive_fields"],
        table=outputs["results_table_name"],
    )
    for address, item in stored:
        assert isinstance(item["email"], bytes)
        assert address not in json.dumps({k: v for k, v in item.items() if k != "email"})
        assert address.encode() not in item["email"]
        assert reader.decrypt_item(item)["email"] == address


def test_the_rendered_policies_let_the_reader_decrypt_and_not_the_processor(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN the processor role's policies and the reader policy as the applied module rendered
    them, given to roles of an IAM-enforcing moto (the field key's ARN mapped to a key there)
    WHEN the processor role encrypts an address, then each role tries to decrypt it
    THEN the reader role decrypts it and the processor role is denied (AccessDenied), though
    it holds kms:Decrypt on its other keys.
    """
    field_key = pipeline.outputs["field_encryption_key_arn"]
    processor_policies = [
        _with_key(policy, field_key, FIELD_KEY) for policy in _processor_policies(pipeline)
    ]
    reader_policy = _with_key(
        json.loads(pipeline.outputs["results_reader_policy_json"]), field_key, FIELD_KEY
    )
    table = pipeline.outputs["results_table_name"]
    assert any(
        "kms:Decrypt" in json.dumps(statement["Action"])
        for policy in processor_policies
        for statement in policy["Statement"]
    ), "the processor must hold kms:Decrypt on other keys for this test to mean anything"
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", local_region(REPO_ROOT))

    with mock_aws():
        kms, iam, sts = boto3.client("kms"), boto3.client("iam"), boto3.client("sts")
        key = kms.create_key()["KeyMetadata"]["Arn"]
        processor = role_credentials(
            iam, sts, "processor", [_with_key(p, FIELD_KEY, key) for p in processor_policies]
        )
        reader = role_credentials(iam, sts, "reader", [_with_key(reader_policy, FIELD_KEY, key)])

        with enforce_iam(monkeypatch) as kms_answers:
            processor.use(monkeypatch)
            item = FieldEncryptor(key, ("email",), table).encrypt_item({"email": "x@example.com"})
            with pytest.raises(FieldEncryptionError):
                FieldDecryptor(key, ("email",), table).decrypt_item(item)
            reader.use(monkeypatch)
            decrypted = FieldDecryptor(key, ("email",), table).decrypt_item(item)

    assert decrypted["email"] == "x@example.com"
    assert kms_answers == [
        ("GenerateDataKey", "OK"),
        ("Decrypt", "AccessDenied"),
        ("Decrypt", "OK"),
    ]
