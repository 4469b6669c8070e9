"""Configuration of the stream processor, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from stream_pipeline.runtime.claim_check import payload_bucket_from_env

KINESIS_MAX_RECORD_BYTES: Final = 1024 * 1024
"""Kinesis' own record limit, the default for MAX_RECORD_BYTES."""

DEFAULT_CONSUMER_NAME: Final = "stream_processor"
REQUIRED_VARIABLES: Final = ("TABLE_NAME", "DLQ_URL")


class ConfigurationError(RuntimeError):
    """The function is deployed with a missing or invalid setting."""


@dataclass(frozen=True, slots=True)
class Settings:
    table_name: str
    dlq_url: str
    max_record_bytes: int = KINESIS_MAX_RECORD_BYTES
    consumer_name: str = DEFAULT_CONSUMER_NAME
    payload_bucket: str | None = None
    """S3 bucket for the payloads of envelopes too large for an SQS message (claim-check); None:
    such envelopes are sent without payload (sha256, length and coordinates kept)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; the error names every missing or invalid variable."""
        env = os.environ if environ is None else environ
        missing = [name for name in REQUIRED_VARIABLES if not env.get(name, "").strip()]
        if missing:
            msg = "stream_processor: missing required environment variable(s): " + ", ".join(
                missing
            )
            raise ConfigurationError(msg)

        raw_limit = env.get("MAX_RECORD_BYTES", "").strip()
        max_record_bytes = KINESIS_MAX_RECORD_BYTES
        if raw_limit:
            try:
                max_record_bytes = int(raw_limit)
            except ValueError:
                max_record_bytes = 0
            if max_record_bytes <= 0:
                msg = (
                    "stream_processor: environment variable MAX_RECORD_BYTES must be a positive "
                    f"integer (bytes), got {raw_limit!r}"
                )
                raise ConfigurationError(msg)

        try:
            payload_bucket = payload_bucket_from_env(env)
        except ValueError as exc:
            msg = f"stream_processor: {exc}"
            raise ConfigurationError(msg) from exc
        consumer = (
            env.get("AWS_LAMBDA_FUNCTION_NAME")
            or env.get("POWERTOOLS_SERVICE_NAME")
            or DEFAULT_CONSUMER_NAME
        )
        return cls(
            table_name=env["TABLE_NAME"].strip(),
            dlq_url=env["DLQ_URL"].strip(),
            max_record_bytes=max_record_bytes,
            consumer_name=consumer,
            payload_bucket=payload_bucket,
        )
