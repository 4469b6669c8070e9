"""Configuration of the hydrate function, read once from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

DEFAULT_CONSUMER_NAME: Final = "hydrate"
_BUCKET_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class ConfigurationError(RuntimeError):
    """The function is deployed with a missing or invalid setting."""


@dataclass(frozen=True, slots=True)
class Settings:
    dlq_url: str
    payload_bucket: str | None = None
    """S3 bucket for payloads too large for an SQS message (claim-check); None: such envelopes
    are sent without payload (sha256, length and coordinates kept)."""
    function_name: str = DEFAULT_CONSUMER_NAME
    """This function's name: the ``consumer`` of not-hydrated envelopes (malformed input)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        dlq_url = env.get("DLQ_URL", "").strip()
        if not dlq_url:
            msg = "hydrate: missing required environment variable DLQ_URL (the SQS DLQ's URL)"
            raise ConfigurationError(msg)
        bucket = env.get("PAYLOAD_BUCKET", "").strip() or None
        if bucket is not None and not _BUCKET_NAME.match(bucket):
            msg = (
                "hydrate: environment variable PAYLOAD_BUCKET must be an S3 bucket name "
                f"(not a URI or ARN), got {bucket!r}"
            )
            raise ConfigurationError(msg)
        name = (
            env.get("AWS_LAMBDA_FUNCTION_NAME")
            or env.get("POWERTOOLS_SERVICE_NAME")
            or DEFAULT_CONSUMER_NAME
        )
        return cls(dlq_url=dlq_url, payload_bucket=bucket, function_name=name)
