"""A consumer's settings, read once (at the cold start) from its environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from stream_pipeline.kit.field_encryption import (
    FIELD_KEY_VARIABLE,
    SENSITIVE_FIELDS_VARIABLE,
    parse_field_names,
)
from stream_pipeline.runtime.claim_check import (
    payload_bucket_from_env,
    payload_key_prefix_from_env,
)
from stream_pipeline.runtime.dlq_mac import mac_key_from_env

KINESIS_MAX_RECORD_BYTES: Final = 1024 * 1024
"""Kinesis' own record limit, the default for MAX_RECORD_BYTES."""


class ConfigurationError(RuntimeError):
    """The function is deployed with a missing or invalid setting."""


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    dlq_url: str
    consumer_name: str
    table_name: str | None = None
    """The DynamoDB sink's table; None for a consumer without a sink."""
    max_record_bytes: int = KINESIS_MAX_RECORD_BYTES
    payload_bucket: str | None = None
    """S3 bucket for the payloads of envelopes too large for an SQS message (claim-check); None:
    such envelopes are sent without payload (sha256, length and coordinates kept)."""
    payload_key_prefix: str = ""
    """Where in the payload bucket the consumer's claim-checks go (``PAYLOAD_KEY_PREFIX``, e.g.
    ``claim-check/orders-processor/``; modules/pipeline grants s3:PutObject there only)."""
    sensitive_fields: tuple[str, ...] = ()
    """Item attributes the sink stores encrypted (``SENSITIVE_FIELDS``, comma-separated;
    :mod:`stream_pipeline.kit.field_encryption`)."""
    field_key_arn: str | None = None
    """The KMS key of those fields (``FIELD_ENCRYPTION_KEY_ARN``): set when there are any."""
    mac_key_arn: str | None = None
    """KMS HMAC key the DLQ envelopes are signed with (``DLQ_MAC_KEY_ARN``); None: unsigned
    (the replay refuses them unless told ``--accept-unsigned``)."""

    @classmethod
    def from_env(
        cls,
        *,
        name: str,
        table_name: str | None = None,
        needs_table: bool = False,
        environ: Mapping[str, str] | None = None,
        required: Sequence[str] = (),
    ) -> ConsumerSettings:
        """Read the settings of consumer ``name``; the error names every missing or invalid
        variable. ``needs_table``: a sink without a table name of its own needs TABLE_NAME.
        ``required``: the consumer's own required variables (read by its ``extras`` hook),
        checked here so that one error names every missing variable, the kit's and its own."""
        env = os.environ if environ is None else environ
        table = table_name or env.get("TABLE_NAME", "").strip() or None
        missing = [] if env.get("DLQ_URL", "").strip() else ["DLQ_URL"]
        if needs_table and table is None:
            missing.append("TABLE_NAME")
        try:
            sensitive_fields = parse_field_names(env.get(SENSITIVE_FIELDS_VARIABLE, ""))
        except ValueError as exc:
            msg = f"{name}: environment variable {SENSITIVE_FIELDS_VARIABLE}: {exc}"
            raise ConfigurationError(msg) from exc
        field_key_arn = env.get(FIELD_KEY_VARIABLE, "").strip() or None
        if sensitive_fields and field_key_arn is None:
            # Storing them in clear instead would defeat the declaration: refuse to start.
            missing.append(FIELD_KEY_VARIABLE)
        missing.extend(
            variable
            for variable in dict.fromkeys(required)
            if variable not in missing and not env.get(variable, "").strip()
        )
        if missing:
            msg = f"{name}: missing required environment variable(s): " + ", ".join(missing)
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
                    f"{name}: environment variable MAX_RECORD_BYTES must be a positive "
                    f"integer (bytes), got {raw_limit!r}"
                )
                raise ConfigurationError(msg)

        try:
            payload_bucket = payload_bucket_from_env(env)
            payload_key_prefix = payload_key_prefix_from_env(env)
            mac_key_arn = mac_key_from_env(env)
        except ValueError as exc:
            msg = f"{name}: {exc}"
            raise ConfigurationError(msg) from exc
        return cls(
            dlq_url=env["DLQ_URL"].strip(),
            consumer_name=env.get("AWS_LAMBDA_FUNCTION_NAME")
            or env.get("POWERTOOLS_SERVICE_NAME")
            or name,
            table_name=table,
            max_record_bytes=max_record_bytes,
            payload_bucket=payload_bucket,
            payload_key_prefix=payload_key_prefix,
            sensitive_fields=sensitive_fields,
            field_key_arn=field_key_arn,
            mac_key_arn=mac_key_arn,
        )
