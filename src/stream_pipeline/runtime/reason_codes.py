"""Reason codes: why a record ended in the DLQ (a DLQ envelope's ``error_category``).

A reason code says why the record failed, an open string used only as a label
(logs, the replay's tables and ``--reason`` filter, metric dimensions), never to decide where a
record goes. A code is one of

* a built-in code, an :class:`ErrorCategory` (spelt as ever, e.g. ``SCHEMA_VIOLATION``);
* a team's code, ``namespace.CODE`` (:func:`reason_code`): a lowercase namespace the team
  chooses (``[a-z][a-z0-9-]{0,31}``), a dot, an UPPER_SNAKE code (``[A-Z][A-Z0-9_]{0,63}``),
  e.g. ``orders.INVALID_CURRENCY``;
* when reading only (:meth:`DlqEnvelope.parse`): any other UPPER_SNAKE code
  (``[A-Z][A-Z0-9_]{0,63}``), a built-in of a newer release of this module. Writers of this
  release cannot use one: a bare code a team made up could collide with a later built-in.

Anything else is refused, read or written (see :func:`validate_reason_code`): the code comes from
the queue, so it is untrusted, and the strict pattern keeps it safe as a label (no whitespace,
control characters, markup or unbounded length). The replay's own labels for items that are not
envelopes (:data:`RESERVED_REASON_CODES`) are refused too, so that they keep their meaning. A
built-in code reads back as its :class:`ErrorCategory` member, any other code as a plain ``str``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final


class ErrorCategory(StrEnum):
    """The built-in reason codes: why a record of this pipeline's functions ended in the DLQ.
    A team's own reasons are namespaced codes (:func:`reason_code`), never new members here."""

    DECODE_ERROR = "DECODE_ERROR"
    """The Kinesis ``data`` field is missing or is not valid base64."""
    INVALID_ENCODING = "INVALID_ENCODING"
    """The record bytes are not UTF-8."""
    INVALID_JSON = "INVALID_JSON"
    """The text is not valid JSON (including NaN/Infinity and unpaired surrogate escapes)."""
    NOT_AN_OBJECT = "NOT_AN_OBJECT"
    """Valid JSON, but not a JSON object."""
    SCHEMA_VIOLATION = "SCHEMA_VIOLATION"
    """A JSON object that does not match the event schema."""
    OVERSIZED = "OVERSIZED"
    """The record exceeds the configured record limit, or its stored item would exceed the
    DynamoDB item size limit."""
    MISSING_NEW_IMAGE = "MISSING_NEW_IMAGE"
    """A DynamoDB stream INSERT/MODIFY record without a NewImage (stream view type lacks it)."""
    UNDECODABLE_IMAGE = "UNDECODABLE_IMAGE"
    """A DynamoDB stream NewImage that is not valid DynamoDB-typed JSON."""
    WRITE_REJECTED = "WRITE_REJECTED"
    """DynamoDB rejected this single item as invalid (ValidationException)."""
    RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED"
    """The event source mapping gave up on the record after its retries (the on-failure
    record's condition ``RetryAttemptsExhausted``, or one this release does not know; written by
    the hydrate function)."""
    RECORD_AGE_EXCEEDED = "RECORD_AGE_EXCEEDED"
    """The event source mapping discarded the record because it was older than the mapping's
    maximum record age (the on-failure record's condition ``RecordAgeExceeded``), often before
    any invocation: a consumer lagging behind, not a record the function refused."""
    PAYLOAD_UNAVAILABLE = "PAYLOAD_UNAVAILABLE"
    """The event source mapping gave up on records that could no longer be read from the stream
    (trimmed past retention, stream or shard gone): a range pointer without payload."""
    MALFORMED_ON_FAILURE_RECORD = "MALFORMED_ON_FAILURE_RECORD"
    """The hydrate function received an on-failure record it could not read; the payload is that
    message's original text (format ``on-failure-record``), never a stream record."""
    INVALID_STREAM_POSITION = "INVALID_STREAM_POSITION"
    """The stream refused the position an on-failure record names (Kinesis: a sequence number of
    another shard or stream, not an expired one): the record is forged or mismatched. The
    payload is that record's original text (format ``on-failure-record``); nothing was read."""
    UNSERVED_STREAM = "UNSERVED_STREAM"
    """The hydrate function received an on-failure record naming a stream it is not configured
    for (a forged or misrouted record): nothing was read. The payload is that record's original
    text (format ``on-failure-record``)."""
    NOTIFICATION_REJECTED = "NOTIFICATION_REJECTED"
    """The e-mail notifier could not send the event's notification for a reason no retry fixes:
    the template failed to render, or SES refused the message (``MessageRejected``,
    ``MailFromDomainNotVerifiedException``, ``BadRequestException``). Replay it once the cause
    (template, sender identity, suppression) is fixed; an event without a valid recipient
    address is a ``SCHEMA_VIOLATION`` instead."""


_BUILTIN_CODES: Final = frozenset(category.value for category in ErrorCategory)
_NAMESPACE: Final = re.compile(r"[a-z][a-z0-9-]{0,31}")
_CODE: Final = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_NAMESPACE_RULE: Final = "1 to 32 of a-z, 0-9 and '-', starting with a letter a-z"
_CODE_RULE: Final = "1 to 64 of A-Z, 0-9 and '_', starting with a letter A-Z"
MAX_REASON_CODE_CHARS: Final = 32 + 1 + 64
"""The longest reason code: a 32-character namespace, the dot, a 64-character code."""
RESERVED_REASON_CODES: Final = frozenset(
    {
        "INVALID_ENVELOPE",
        "INVALID_S3_OBJECT",
        "HYDRATE_FAILED",
        "S3_ON_FAILURE",
        "UNTRUSTED_ENVELOPE",
    }
)
"""The replay CLI's labels for what is not an envelope (``stream_pipeline.replay.model``): no
envelope may carry one, or its messages would be counted and filtered as something else."""


class MalformedReasonCodeError(ValueError):
    """The text is not a well-formed reason code; ``str()`` names the rule it breaks."""


def reason_code(namespace: str, code: str) -> str:
    """A team's reason code, ``namespace.CODE``: ``reason_code("orders", "INVALID_CURRENCY")`` is
    ``"orders.INVALID_CURRENCY"``. Raises :class:`MalformedReasonCodeError` (a ValueError)
    naming the part that breaks its rule."""
    if not isinstance(namespace, str) or _NAMESPACE.fullmatch(namespace) is None:
        msg = f"reason code namespace {namespace!r:.40} must be {_NAMESPACE_RULE}"
        raise MalformedReasonCodeError(msg)
    if not isinstance(code, str) or _CODE.fullmatch(code) is None:
        msg = f"reason code {code!r:.70} must be UPPER_SNAKE_CASE: {_CODE_RULE}"
        raise MalformedReasonCodeError(msg)
    return f"{namespace}.{code}"


def validate_reason_code(value: object, *, accept_future_builtins: bool = False) -> str:
    """``value`` as an envelope holds it: the :class:`ErrorCategory` member of a built-in code,
    the string itself for a team's ``namespace.CODE`` -- and, with ``accept_future_builtins``
    (readers), for any other UPPER_SNAKE code, a built-in of a newer release.

    Raises :class:`MalformedReasonCodeError` (a ValueError) naming the rule broken. The message
    never quotes the value: it may come from the queue (any length, any characters).
    """
    if not isinstance(value, str):
        msg = f"a reason code must be a string, not {type(value).__name__}"
        raise MalformedReasonCodeError(msg)
    if value in _BUILTIN_CODES:
        return ErrorCategory(value)
    if not value:
        msg = "a reason code must not be empty"
        raise MalformedReasonCodeError(msg)
    if len(value) > MAX_REASON_CODE_CHARS:
        msg = f"a reason code has at most {MAX_REASON_CODE_CHARS} characters, not {len(value)}"
        raise MalformedReasonCodeError(msg)
    if value in RESERVED_REASON_CODES:
        msg = f"{value} is reserved: the replay labels messages that are not envelopes with it"
        raise MalformedReasonCodeError(msg)
    namespace, dot, code = value.partition(".")
    if dot:
        if _NAMESPACE.fullmatch(namespace) is None:
            msg = f"the namespace of a reason code (before the dot) must be {_NAMESPACE_RULE}"
            raise MalformedReasonCodeError(msg)
        if _CODE.fullmatch(code) is None:
            msg = f"the code of a reason code (after the dot) must be {_CODE_RULE}"
            raise MalformedReasonCodeError(msg)
        return value
    if accept_future_builtins and _CODE.fullmatch(value) is not None:
        return value
    known = "a built-in code" + (" or UPPER_SNAKE_CASE" if accept_future_builtins else "")
    msg = (
        f"a reason code without a namespace must be {known}; a team's code is namespace.CODE, "
        "e.g. orders.INVALID_CURRENCY"
    )
    raise MalformedReasonCodeError(msg)
