"""Configuration of the hydrate function, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from stream_pipeline.runtime.claim_check import payload_bucket_from_env

DEFAULT_CONSUMER_NAME: Final = "hydrate"


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
        try:
            bucket = payload_bucket_from_env(env)
        except ValueError as exc:
            msg = f"hydrate: {exc}"
            raise ConfigurationError(msg) from exc
        name = (
            env.get("AWS_LAMBDA_FUNCTION_NAME")
            or env.get("POWERTOOLS_SERVICE_NAME")
            or DEFAULT_CONSUMER_NAME
        )
        return cls(dlq_url=dlq_url, payload_bucket=bucket, function_name=name)
