"""Configuration of the hydrate function, read once from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from stream_pipeline.runtime.claim_check import payload_bucket_from_env
from stream_pipeline.runtime.dlq_mac import mac_key_from_env

DEFAULT_CONSUMER_NAME: Final = "hydrate"
SOURCE_STREAMS_VARIABLE: Final = "SOURCE_STREAM_ARNS"
"""Comma-separated ARNs of the streams (Kinesis, DynamoDB) whose on-failure records it serves."""
_STREAM_ARN: Final = re.compile(
    r"arn:aws[a-z-]*:(?:kinesis:[a-z0-9-]+:[0-9]{12}:stream/[A-Za-z0-9_.-]{1,128}|"
    r"dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}/stream/[0-9A-Za-z:._-]{1,64})"
)


class ConfigurationError(RuntimeError):
    """The function is deployed with a missing or invalid setting."""


@dataclass(frozen=True, slots=True)
class Settings:
    dlq_url: str
    streams: frozenset[str]
    """The stream ARNs it serves (``SOURCE_STREAM_ARNS``): an on-failure record naming any other
    is dead-lettered as ``UNSERVED_STREAM``, never read."""
    payload_bucket: str | None = None
    """S3 bucket for payloads too large for an SQS message (claim-check); None: such envelopes
    are sent without payload (sha256, length and coordinates kept)."""
    function_name: str = DEFAULT_CONSUMER_NAME
    """This function's name: the ``consumer`` of not-hydrated envelopes (malformed input)."""
    mac_key_arn: str | None = None
    """KMS HMAC key its envelopes are signed with (``DLQ_MAC_KEY_ARN``); None: unsigned."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        dlq_url = env.get("DLQ_URL", "").strip()
        if not dlq_url:
            msg = "hydrate: missing required environment variable DLQ_URL (the SQS DLQ's URL)"
            raise ConfigurationError(msg)
        try:
            bucket = payload_bucket_from_env(env)
            mac_key_arn = mac_key_from_env(env)
        except ValueError as exc:
            msg = f"hydrate: {exc}"
            raise ConfigurationError(msg) from exc
        streams = frozenset(
            part.strip() for part in env.get(SOURCE_STREAMS_VARIABLE, "").split(",") if part.strip()
        )
        if not streams:
            msg = (
                f"hydrate: missing required environment variable {SOURCE_STREAMS_VARIABLE} (the "
                "ARNs of the streams it serves, comma-separated)"
            )
            raise ConfigurationError(msg)
        bad = sorted(arn for arn in streams if not _STREAM_ARN.fullmatch(arn))
        if bad:
            msg = (
                f"hydrate: {SOURCE_STREAMS_VARIABLE} must hold Kinesis or DynamoDB stream ARNs, "
                f"got {', '.join(repr(arn[:200]) for arn in bad)}"
            )
            raise ConfigurationError(msg)
        name = (
            env.get("AWS_LAMBDA_FUNCTION_NAME")
            or env.get("POWERTOOLS_SERVICE_NAME")
            or DEFAULT_CONSUMER_NAME
        )
        return cls(
            dlq_url=dlq_url,
            streams=streams,
            payload_bucket=bucket,
            function_name=name,
            mac_key_arn=mac_key_arn,
        )
