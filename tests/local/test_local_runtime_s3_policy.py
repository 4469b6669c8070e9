"""The runtime's reading of a bucket policy: a TLS-only Deny does not match (AWS clients use
TLS), nor a Deny only about the caller's ARN (one identity in the emulator); any other Deny
still does (stream_pipeline.local.runtime.moto_patches)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from stream_pipeline.local.runtime import moto_patches

BUCKET = "orders-failures"


def _deny(condition: dict[str, Any] | None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": "Deny",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
    }
    if condition is not None:
        statement["Condition"] = condition
    return statement


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        moto_patches.apply()
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_a_tls_only_deny_lets_requests_through(s3: Any) -> None:
    # GIVEN the failure bucket's policy: deny whatever does not come over TLS
    policy = {"Version": "2012-10-17", "Statement": [_deny(moto_patches.INSECURE_TRANSPORT)]}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    # WHEN a claim-check object is written and read back
    s3.put_object(Bucket=BUCKET, Key="claim-check/orders-processor/e-1", Body=b"payload")
    body = s3.get_object(Bucket=BUCKET, Key="claim-check/orders-processor/e-1")["Body"].read()
    # THEN both pass, as they do in AWS over TLS
    assert body == b"payload"


@pytest.mark.parametrize(
    "condition",
    [None, {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}],
    ids=["unconditional", "another-condition"],
)
def test_any_other_deny_still_denies(s3: Any, condition: dict[str, Any] | None) -> None:
    # GIVEN a Deny statement that is not the TLS-only one
    policy = {"Version": "2012-10-17", "Statement": [_deny(condition)]}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    # WHEN an object is written
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    # THEN the policy denies it
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_deny_only_about_the_caller_lets_the_emulators_writes_through(s3: Any) -> None:
    # GIVEN the failure bucket's aws/lambda/ prefix denied to every role but a writer's
    statement = _deny({"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/w"}})
    statement["Resource"] = f"arn:aws:s3:::{BUCKET}/aws/lambda/*"
    s3.put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )
    # WHEN the runtime writes an on-failure object (as Lambda, with the writer's role in AWS)
    s3.put_object(Bucket=BUCKET, Key="aws/lambda/uuid/shard/object", Body=b"{}")
    # THEN it passes: moto cannot tell callers apart, and would otherwise deny every caller
    assert s3.get_object(Bucket=BUCKET, Key="aws/lambda/uuid/shard/object")["Body"].read() == b"{}"


def test_a_deny_about_the_caller_and_something_else_still_denies(s3: Any) -> None:
    # GIVEN a Deny conditioned on the caller and on another key moto does not evaluate
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            _deny(
                {
                    "ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/w"},
                    "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                }
            )
        ],
    }
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    # WHEN an object is written
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    # THEN the policy still denies it, as moto does
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
