"""The e-mail notifier's own configuration, read once from the environment (the cold start).

The DLQ (``DLQ_URL``), the claim-check bucket and prefix (``PAYLOAD_BUCKET``,
``PAYLOAD_KEY_PREFIX``) and the envelopes' ``consumer`` name are the consumer kit's settings
(``stream_pipeline.kit.ConsumerSettings``); the kit checks :data:`REQUIRED_VARIABLES` together
with its own, so that the cold start's error names every missing variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Final

from email_notifier.models import InvalidAddressError, check_address
from email_notifier.policy import ANY_DOMAIN, SIMULATOR_MAILBOXES, RecipientPolicy
from email_notifier.templates import TEMPLATES
from stream_pipeline.kit import ConfigurationError

NAME: Final = "email_notifier"
"""The consumer's name: in errors, and the envelopes' ``consumer`` outside Lambda."""
DEFAULT_EXPIRES_AFTER_SECONDS: Final = 30 * 24 * 60 * 60
"""2592000 s = 30 days: longer than the stream's default retention (24 h, at most 365 days when
raised) and the DLQ's (at most 14 days) plus time to replay, see README.md."""
DEFAULT_NOTIFY_EVENT_TYPES: Final = frozenset({"purchase"})
DEFAULT_RATE_LIMIT_MAX_EMAILS: Final = 5
DEFAULT_RATE_LIMIT_WINDOW_SECONDS: Final = 3600
RATE_LIMIT_MAX_EMAILS_RANGE: Final = (1, 1000)
"""The item of one recipient's window holds the event ids it admitted: 1,000 ids of at most 128
characters stay well inside DynamoDB's 400 KB item limit."""
RATE_LIMIT_WINDOW_SECONDS_RANGE: Final = (60, 604_800)
REQUIRED_VARIABLES: Final = (
    "SENDER_ADDRESS",
    "IDEMPOTENCY_TABLE_NAME",
    "CONFIGURATION_SET_NAME",
    "ALLOWED_RECIPIENT_DOMAINS",
    "RATE_LIMIT_TABLE_NAME",
)
"""The notifier's own required variables (the kit requires DLQ_URL). No default recipient
policy, rate table or configuration set: a deployment that forgot one must not mail anyone."""

__all__ = ["ConfigurationError", "Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    sender_address: str
    """SES ``FromEmailAddress``: ``shop@example.com`` or ``Shop <shop@example.com>``."""
    idempotency_table_name: str
    rate_limit_table_name: str
    recipient_policy: RecipientPolicy
    configuration_set_name: str | None = None
    """Required in the environment; None only for a Settings built in code (tests)."""
    rate_limit_max_emails: int = DEFAULT_RATE_LIMIT_MAX_EMAILS
    rate_limit_window_seconds: int = DEFAULT_RATE_LIMIT_WINDOW_SECONDS
    idempotency_expires_after_seconds: int = DEFAULT_EXPIRES_AFTER_SECONDS
    notify_event_types: frozenset[str] = DEFAULT_NOTIFY_EVENT_TYPES

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; the error names every missing or invalid variable."""
        env = os.environ if environ is None else environ
        missing = [name for name in REQUIRED_VARIABLES if not env.get(name, "").strip()]
        if missing:
            msg = f"{NAME}: missing required environment variable(s): " + ", ".join(missing)
            raise ConfigurationError(msg)
        return cls(
            sender_address=_sender(env["SENDER_ADDRESS"]),
            idempotency_table_name=env["IDEMPOTENCY_TABLE_NAME"].strip(),
            rate_limit_table_name=env["RATE_LIMIT_TABLE_NAME"].strip(),
            recipient_policy=RecipientPolicy.of(
                _domains(env["ALLOWED_RECIPIENT_DOMAINS"]),
                _simulator(env.get("MAILBOX_SIMULATOR", "")),
            ),
            configuration_set_name=env["CONFIGURATION_SET_NAME"].strip(),
            rate_limit_max_emails=_bounded(
                env,
                "RATE_LIMIT_MAX_EMAILS",
                DEFAULT_RATE_LIMIT_MAX_EMAILS,
                RATE_LIMIT_MAX_EMAILS_RANGE,
            ),
            rate_limit_window_seconds=_bounded(
                env,
                "RATE_LIMIT_WINDOW_SECONDS",
                DEFAULT_RATE_LIMIT_WINDOW_SECONDS,
                RATE_LIMIT_WINDOW_SECONDS_RANGE,
            ),
            idempotency_expires_after_seconds=_expires_after(
                env.get("IDEMPOTENCY_EXPIRES_AFTER_SECONDS", "")
            ),
            notify_event_types=_event_types(env.get("NOTIFY_EVENT_TYPES", "")),
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


_DOMAIN: Final = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}")


def _domains(raw: str) -> list[str]:
    domains = [part.strip().lower() for part in raw.split(",") if part.strip()]
    if domains == [ANY_DOMAIN]:
        return domains
    invalid = [domain for domain in domains if not _DOMAIN.fullmatch(domain)]
    if not domains or invalid:
        msg = (
            "email_notifier: environment variable ALLOWED_RECIPIENT_DOMAINS must be a "
            "comma-separated list of domain names (example.com,shop.example), or * alone for "
            f"every domain; got {raw!r}"
        )
        raise ConfigurationError(msg)
    return domains


def _simulator(raw: str) -> str | None:
    mailbox = raw.strip().lower()
    if not mailbox:
        return None
    if mailbox not in SIMULATOR_MAILBOXES:
        msg = (
            "email_notifier: environment variable MAILBOX_SIMULATOR must be empty or one of "
            f"{', '.join(sorted(SIMULATOR_MAILBOXES))}, got {raw!r}"
        )
        raise ConfigurationError(msg)
    return mailbox


def _bounded(env: Mapping[str, str], name: str, default: int, bounds: tuple[int, int]) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    low, high = bounds
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        msg = (
            f"email_notifier: environment variable {name} must be a whole number from {low} "
            f"to {high}, got {text!r}"
        )
        raise ConfigurationError(msg)
    return value
