"""How a stream record's bytes become a JSON document, and the permanent rejections on the way.

Every consumer decodes the same way, so they accept and reject the same records for the same
reasons:

* :func:`decode_kinesis_data` -- Lambda's base64 ``data`` field -> the record's bytes;
* :func:`parse_json_payload` -- bytes -> a JSON value (UTF-8, standard JSON only);
* :func:`canonical_json_bytes` -- a JSON value -> canonical JSON (sorted keys, no whitespace,
  UTF-8), which :func:`derive_event_id` hashes into an id for events that carry none.

Each step raises :class:`RecordRejectedError` with a reason code and a reason that names what is
wrong, never the offending values (they may be large or personal).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any, Final, NoReturn

from pydantic import ValidationError

from stream_pipeline.runtime.reason_codes import ErrorCategory, validate_reason_code

DERIVED_EVENT_ID_PREFIX: Final = "sha256-"


class RecordRejectedError(ValueError):
    """The record can never be processed: a permanent error, dead-lettered with ``code``.

    ``code`` is a built-in :class:`ErrorCategory` or a team's ``namespace.CODE``
    (:func:`~stream_pipeline.runtime.reason_codes.reason_code`); a malformed code raises
    :class:`~stream_pipeline.runtime.reason_codes.MalformedReasonCodeError` here, where the
    mistake is made, rather than when the envelope is built.
    """

    def __init__(self, code: str, reason: str) -> None:
        self.code = validate_reason_code(code)
        self.reason = reason
        super().__init__(f"{self.code}: {reason}")


def describe_validation_error(exc: ValidationError) -> str:
    """Field-by-field summary without the offending values (they may be large or personal)."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in error["loc"]) or "<event>"
        problems.append(f"{location}: {error['msg']}")
    return "; ".join(problems)


def derive_event_id(canonical_payload: bytes) -> str:
    """A deterministic id for an event without one: ``sha256-`` + the hex digest of its
    canonical JSON. Identical payloads get the same id (they are indistinguishable)."""
    return DERIVED_EVENT_ID_PREFIX + hashlib.sha256(canonical_payload).hexdigest()


def _reject_constant(name: str) -> NoReturn:
    msg = f"non-standard JSON constant {name}"
    raise ValueError(msg)


# One decoder and one encoder for every record: json.loads/json.dumps with options build a new
# one per call, a measurable share of the per-record CPU (docs/performance.md).
_JSON_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant)
_CANONICAL_ENCODER: Final = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def decode_kinesis_data(data: object, *, max_bytes: int | None = None) -> bytes:
    """The bytes of a Lambda Kinesis record's ``data`` field (base64), at most ``max_bytes``."""
    if not isinstance(data, str):
        raise RecordRejectedError(ErrorCategory.DECODE_ERROR, "record has no base64 data field")
    try:
        payload = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RecordRejectedError(
            ErrorCategory.DECODE_ERROR, f"data is not valid base64: {exc}"
        ) from exc
    if max_bytes is not None and len(payload) > max_bytes:
        raise RecordRejectedError(
            ErrorCategory.OVERSIZED, f"record is {len(payload)} bytes, limit is {max_bytes}"
        )
    return payload


def parse_json_payload(payload: bytes) -> Any:
    """UTF-8 text holding one standard JSON value (``NaN``/``Infinity`` are rejected)."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordRejectedError(ErrorCategory.INVALID_ENCODING, f"not UTF-8: {exc}") from exc
    try:
        return _JSON_DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        raise RecordRejectedError(ErrorCategory.INVALID_JSON, f"not valid JSON: {exc}") from exc


def canonical_json_bytes(document: Any) -> bytes:
    """``document`` as canonical JSON: sorted keys, no whitespace, UTF-8."""
    try:
        return _CANONICAL_ENCODER.encode(document).encode("utf-8")
    except (ValueError, RecursionError) as exc:
        # e.g. "\ud800": valid JSON syntax, but not representable as UTF-8 / in DynamoDB.
        raise RecordRejectedError(
            ErrorCategory.INVALID_JSON, f"unrepresentable text: {exc}"
        ) from exc
