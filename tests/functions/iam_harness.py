"""IAM enforced by moto (in-process ``mock_aws``) for roles built from policy statements, with
KMS requests authorized per key (tests/kit/test_field_encryption_access.py, tests/e2e).

How far moto 5.2.5 evaluates identity policies (moto/iam/access_control.py): Action and
Resource, Deny before Allow; conditions only ``StringEquals`` on ``sts:ExternalId`` (others,
like ``kms:EncryptionContext:*`` or ``kms:ViaService``, are not evaluated); and every KMS request
is authorized against the resource ``*``, which no key ARN matches. :func:`enforce_iam` gives
moto the resource AWS authorizes, the ARN of the key the request names, so grants are
evaluated per key as in AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import botocore.client
import botocore.exceptions
import pytest
from moto import settings
from moto.core.responses import ActionAuthenticatorMixin
from moto.kms.models import kms_backends
from moto.kms.responses import KmsResponse

_ASSUMABLE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str

    def use(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make these the environment's credentials: the Encryption SDK's own botocore session
        reads them when it builds its KMS client."""
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", self.access_key_id)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", self.secret_access_key)
        monkeypatch.setenv("AWS_SESSION_TOKEN", self.session_token)


def role_credentials(
    iam: Any, sts: Any, name: str, policies: Sequence[dict[str, Any]]
) -> Credentials:
    """A role holding ``policies`` (policy documents) inline, assumed: its credentials."""
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(_ASSUMABLE))["Role"][
        "Arn"
    ]
    for number, policy in enumerate(policies):
        iam.put_role_policy(
            RoleName=name, PolicyName=f"policy-{number}", PolicyDocument=json.dumps(policy)
        )
    credentials = sts.assume_role(RoleArn=arn, RoleSessionName=name)["Credentials"]
    return Credentials(
        credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
    )


def error_code(error: botocore.exceptions.ClientError) -> str:
    """The error code; moto's authorization answers KMS's JSON protocol in XML, which botocore
    reads as code "403" with the XML as message."""
    code = str(error.response["Error"]["Code"])
    message = str(error.response["Error"].get("Message", ""))
    if code == "403" and "<Code>" in message:
        return message.split("<Code>", 1)[1].split("</Code>", 1)[0]
    return code


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


@contextmanager
def enforce_iam(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """Inside ``mock_aws``: from now on every request is authorized against its caller's
    policies, KMS ones per key. Yields the (operation, "OK" or error code) of every KMS call,
    the Encryption SDK's included (it reports a refusal only as "Unable to decrypt any data
    key")."""
    answers: list[tuple[str, str]] = []
    real = botocore.client.BaseClient._make_api_call

    def record(client: Any, operation: str, params: Any) -> Any:
        if client.meta.service_model.service_name != "kms":
            return real(client, operation, params)
        try:
            response = real(client, operation, params)
        except botocore.exceptions.ClientError as error:
            answers.append((operation, error_code(error)))
            raise
        answers.append((operation, "OK"))
        return response

    with monkeypatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", record)
        patch.setattr(KmsResponse, "_determine_resource", _key_arn_of_request, raising=False)
        patch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
        patch.setattr(ActionAuthenticatorMixin, "request_count", 0)
        yield answers
