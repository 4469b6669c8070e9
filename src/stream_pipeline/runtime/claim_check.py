"""S3 claim-check for payloads that do not fit in an SQS message.

A function writes the record's original bytes to ``s3://<bucket>/<prefix><envelope_id>`` and
sends the envelope without payload, pointing at that object (``payload_location``). The key ends
with the envelope id, which is derived from the record's coordinates: writing the same record
twice (a retried invocation) overwrites the same object with the same bytes. The prefix
(``PAYLOAD_KEY_PREFIX``, empty for the hydrate function) gives each consumer a key space of its
own, so that its role may put objects there and nowhere else. The replay CLI reads the object
back (wherever ``payload_location`` points) and checks it against the envelope's sha256 and
length.

Objects are never deleted by this code: the bucket's lifecycle rule expires them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, Final

from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, PayloadUnavailableError

S3_SCHEME: Final = "s3://"
PAYLOAD_BUCKET_VARIABLE: Final = "PAYLOAD_BUCKET"
PAYLOAD_KEY_PREFIX_VARIABLE: Final = "PAYLOAD_KEY_PREFIX"
_BUCKET_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_KEY_PREFIX: Final = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,127}/){1,8}$")
"""1 to 8 folders of S3's safe characters, each ending with '/': ``claim-check/orders-processor/``
for instance."""


def payload_bucket_from_env(env: Mapping[str, str]) -> str | None:
    """The function's payload bucket (``PAYLOAD_BUCKET``), None when unset; ValueError when it
    is not a bucket name (a URI or an ARN is a deployment mistake worth failing on)."""
    bucket = env.get(PAYLOAD_BUCKET_VARIABLE, "").strip() or None
    if bucket is not None and not _BUCKET_NAME.match(bucket):
        msg = (
            f"environment variable {PAYLOAD_BUCKET_VARIABLE} must be an S3 bucket name "
            f"(not a URI or ARN), got {bucket!r}"
        )
        raise ValueError(msg)
    return bucket


def payload_key_prefix_from_env(env: Mapping[str, str]) -> str:
    """The function's claim-check key prefix (``PAYLOAD_KEY_PREFIX``), "" when unset;
    ValueError when it is not folders ending with '/' (a key prefix the role's policy grants)."""
    prefix = env.get(PAYLOAD_KEY_PREFIX_VARIABLE, "").strip()
    if prefix and not _KEY_PREFIX.match(prefix):
        msg = (
            f"environment variable {PAYLOAD_KEY_PREFIX_VARIABLE} must be 1 to 8 folders of "
            f"A-Z, a-z, 0-9, '.', '_' and '-', each ending with '/' (e.g. "
            f"claim-check/orders-processor/), got {prefix!r}"
        )
        raise ValueError(msg)
    return prefix


def s3_uri(bucket: str, key: str) -> str:
    return f"{S3_SCHEME}{bucket}/{key}"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)``; ValueError for anything else."""
    if not uri.startswith(S3_SCHEME):
        msg = f"not an s3:// URI: {uri!r}"
        raise ValueError(msg)
    bucket, _, key = uri[len(S3_SCHEME) :].partition("/")
    if not bucket or not key:
        msg = f"s3 URI needs a bucket and a key: {uri!r}"
        raise ValueError(msg)
    return bucket, key


def store_payload(
    client: Any, bucket: str, envelope: DlqEnvelope, *, key_prefix: str = ""
) -> DlqEnvelope:
    """PutObject of the envelope's payload at ``<key_prefix><envelope id>``; returns the pointer
    envelope (payload left out).

    Errors from S3 propagate: the caller must not send the pointer without the object.
    """
    payload = envelope.original_bytes()
    key = f"{key_prefix}{envelope.envelope_id}"
    client.put_object(
        Bucket=bucket,
        Key=key,
        Body=payload,
        ContentType="application/octet-stream",
        Metadata={
            "envelope-id": envelope.envelope_id,
            "payload-sha256": str(envelope.payload_sha256),
        },
    )
    return envelope.with_payload_location(s3_uri(bucket, key))


def fetch_payload(client: Any, envelope: DlqEnvelope) -> bytes:
    """The claim-checked bytes, verified; PayloadUnavailableError if they do not match.

    S3 errors (missing object, access denied) propagate as botocore exceptions.
    """
    if envelope.payload_location is None:
        msg = f"envelope {envelope.envelope_id} has no payload_location"
        raise PayloadUnavailableError(msg)
    bucket, key = parse_s3_uri(envelope.payload_location)
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        payload: bytes = body.read()
    finally:
        body.close()
    if len(payload) != envelope.payload_length or (
        hashlib.sha256(payload).hexdigest() != envelope.payload_sha256
    ):
        msg = (
            f"{envelope.payload_location} does not hold the payload of envelope "
            f"{envelope.envelope_id} (length or sha256 differ)"
        )
        raise PayloadUnavailableError(msg)
    return payload
