"""Configuration of the e-mail notifier, read once from the environment (the cold start)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Final

from email_notifier.models import InvalidAddressError, check_address
from email_notifier.templates import TEMPLATES
from stream_pipeline.runtime.claim_check import payload_bucket_from_env

DEFAULT_CONSUMER_NAME: Final = "email_notifier"
DEFAULT_EXPIRES_AFTER_SECONDS: Final = 30 * 24 * 60 * 60
"""2592000 s = 30 days: longer than the stream's default retention (24 h, at most 365 days when
raised) and the DLQ's (at most 14 days) plus time to replay, see README.md."""
DEFAULT_NOTIFY_EVENT_TYPES: Final = frozenset({"purchase"})
REQUIRED_VARIABLES: Final = ("SENDER_ADDRESS", "IDEMPOTENCY_TABLE_NAME", "DLQ_URL")


class ConfigurationError(RuntimeError):
    """The function is deployed with a missing or invalid setting."""


@dataclass(frozen=True, slots=True)
class Settings:
    sender_address: str
    """SES ``FromEmailAddress``: ``shop@example.com`` or ``Shop <shop@example.com>``."""
    idempotency_table_name: str
    dlq_url: str
    configuration_set_name: str | None = None
    idempotency_expires_after_seconds: int = DEFAULT_EXPIRES_AFTER_SECONDS
    notify_event_types: frozenset[str] = DEFAULT_NOTIFY_EVENT_TYPES
    consumer_name: str = DEFAULT_CONSUMER_NAME
    """The ``consumer`` of the DLQ envelopes: the Lambda function's name."""
    payload_bucket: str | None = None
    """S3 bucket for the payloads of envelopes too large for an SQS message (claim-check)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; the error names every missing or invalid variable."""
        env = os.environ if environ is None else environ
        missing = [name for name in REQUIRED_VARIABLES if not env.get(name, "").strip()]
        if missing:
            msg = "email_notifier: missing required environment variable(s): " + ", ".join(missing)
            raise ConfigurationError(msg)

        try:
            payload_bucket = payload_bucket_from_env(env)
        except ValueError as exc:
            msg = f"email_notifier: {exc}"
            raise ConfigurationError(msg) from exc
        consumer = (
            env.get("AWS_LAMBDA_FUNCTION_NAME")
            or env.get("POWERTOOLS_SERVICE_NAME")
            or DEFAULT_CONSUMER_NAME
        )
        return cls(
            sender_address=_sender(env["SENDER_ADDRESS"]),
            idempotency_table_name=env["IDEMPOTENCY_TABLE_NAME"].strip(),
            dlq_url=env["DLQ_URL"].strip(),
            configuration_set_name=env.get("CONFIGURATION_SET_NAME", "").strip() or None,
            idempotency_expires_after_seconds=_expires_after(
                env.get("IDEMPOTENCY_EXPIRES_AFTER_SECONDS", "")
            ),
            notify_event_types=_event_types(env.get("NOTIFY_EVENT_TYPES", "")),
            consumer_name=consumer,
            payload_bucket=payload_bucket,
        )


def _sender(raw: str) -> str:
    value = raw.strip()
    if "\r" in value or "\n" in value:
        msg = "email_notifier: environment variable SENDER_ADDRESS must be one line"
        raise ConfigurationError(msg)
    _, address = parseaddr(value)
    try:
        check_address(address)
    except InvalidAddressError as exc:
        msg = (
            "email_notifier: environment variable SENDER_ADDRESS must be an e-mail address "
            f"(name@domain or 'Name <name@domain>'), got {value!r}: the address {exc}"
        )
        raise ConfigurationError(msg) from exc
    return value


def _expires_after(raw: str) -> int:
    text = raw.strip()
    if not text:
        return DEFAULT_EXPIRES_AFTER_SECONDS
    try:
        seconds = int(text)
    except ValueError:
        seconds = 0
    if seconds <= 0:
        msg = (
            "email_notifier: environment variable IDEMPOTENCY_EXPIRES_AFTER_SECONDS must be a "
            f"positive integer (seconds), got {raw!r}"
        )
        raise ConfigurationError(msg)
    return seconds


def _event_types(raw: str) -> frozenset[str]:
    types = frozenset(part.strip() for part in raw.split(",") if part.strip())
    if not types:
        return DEFAULT_NOTIFY_EVENT_TYPES
    unknown = sorted(types - TEMPLATES.keys())
    if unknown:
        msg = (
            "email_notifier: environment variable NOTIFY_EVENT_TYPES names event type(s) "
            f"without an e-mail template: {', '.join(unknown)}; templates exist for: "
            f"{', '.join(sorted(TEMPLATES))}"
        )
        raise ConfigurationError(msg)
    return types
