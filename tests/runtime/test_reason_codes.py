"""Reason codes (``error_category``): the built-in codes serialise exactly as before, a team's
namespaced code round-trips, a well-formed unknown code parses, malformed codes are refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from factories import DYNAMODB_STREAM_ARN, SHARD_ID, dynamodb_record, kinesis_record
from pydantic import ValidationError

from stream_pipeline.runtime.dlq_envelope import (
    MAX_REASON_CODE_CHARS,
    RESERVED_REASON_CODES,
    DlqEnvelope,
    EnvelopeParseError,
    ErrorCategory,
    MalformedReasonCodeError,
    reason_code,
    validate_reason_code,
)

FAILED_AT = datetime(2025, 2, 1, 8, 30, tzinfo=UTC)
RECORDED_BUILTIN_ENVELOPES = Path(__file__).parents[1] / "data" / "dlq_envelopes_builtin.json"
"""``to_json()`` of :func:`_builtin_envelopes`, recorded before reason codes were opened: the
format of an envelope with a built-in code must not change by a byte (a built-in code added
since is recorded next to them when it is added)."""


def _builtin_envelopes() -> dict[str, DlqEnvelope]:
    """One Kinesis envelope per built-in code, plus the other shapes (DynamoDB, range pointer,
    claim-check) the recorded file holds."""
    envelopes = {
        f"kinesis-{category}": DlqEnvelope.build_from_kinesis_record(
            kinesis_record(b'{"userId": ""}', sequence_number="42", partition_key="pk-9"),
            error_category=category,
            error_reason="userId: too short",
            consumer="stream-processor",
            failed_at=FAILED_AT,
        )
        for category in ErrorCategory
    }
    envelopes["dynamodb-SCHEMA_VIOLATION"] = DlqEnvelope.build_from_dynamodb_record(
        dynamodb_record({"userId": ""}, sequence_number="000000000000000000042"),
        error_category=ErrorCategory.SCHEMA_VIOLATION,
        error_reason="userId: too short",
        consumer="stream-processor",
        failed_at=FAILED_AT,
    )
    envelopes["range-PAYLOAD_UNAVAILABLE"] = DlqEnvelope.create(
        event_source="aws:dynamodb",
        event_source_arn=DYNAMODB_STREAM_ARN,
        shard_id=SHARD_ID,
        sequence_number="10",
        end_sequence_number="12",
        after_sequence_number=True,
        missing_count=2,
        error_category=ErrorCategory.PAYLOAD_UNAVAILABLE,
        error_reason="payload unavailable: expired from stream",
        consumer="hydrate",
        payload=None,
        failed_at=FAILED_AT,
        hydrated=True,
    )
    envelopes["claim-check-RETRIES_EXHAUSTED"] = DlqEnvelope.build_from_kinesis_record(
        kinesis_record(b"x" * 64, sequence_number="43", partition_key="pk-9"),
        error_category=ErrorCategory.RETRIES_EXHAUSTED,
        error_reason="retries exhausted",
        consumer="stream-processor",
        failed_at=FAILED_AT,
        hydrated=True,
    ).with_payload_location("s3://payloads/dlq/43")
    return envelopes


def _team_envelope(code: str) -> DlqEnvelope:
    return DlqEnvelope.build_from_kinesis_record(
        kinesis_record(b'{"currency": "XYZ"}', sequence_number="7", partition_key="order-1"),
        error_category=code,
        error_reason="currency XYZ is not accepted",
        consumer="orders-consumer",
        failed_at=FAILED_AT,
    )


def _with_code(code: Any) -> str:
    """The JSON of a valid envelope whose error_category is replaced (as a forger could)."""
    document = json.loads(_team_envelope("orders.INVALID_CURRENCY").to_json())
    document["error_category"] = code
    return json.dumps(document)


# --------------------------------------------------------------------------- built-in codes


def test_builtin_envelopes_serialise_exactly_as_recorded() -> None:
    """GIVEN envelopes with every built-in code (and the other envelope shapes)
    WHEN serialised
    THEN the JSON is byte for byte the one recorded before codes were opened; parsed back, the
    code is the ErrorCategory member again.
    """
    recorded = json.loads(RECORDED_BUILTIN_ENVELOPES.read_text())
    envelopes = _builtin_envelopes()

    assert {name: envelope.to_json() for name, envelope in envelopes.items()} == recorded
    for name, text in recorded.items():
        parsed = DlqEnvelope.parse(text)
        assert parsed == envelopes[name]
        assert type(parsed.error_category) is ErrorCategory


def test_builtin_code_given_as_text_is_the_member() -> None:
    """GIVEN a built-in code written as plain text WHEN validated THEN it is the member, so
    identity checks (``is ErrorCategory.X``) keep working for code written before."""
    assert validate_reason_code("PAYLOAD_UNAVAILABLE") is ErrorCategory.PAYLOAD_UNAVAILABLE
    assert _team_envelope("OVERSIZED").error_category is ErrorCategory.OVERSIZED


# --------------------------------------------------------------------------- team codes


def test_reason_code_builds_a_namespaced_code() -> None:
    assert reason_code("orders", "INVALID_CURRENCY") == "orders.INVALID_CURRENCY"
    longest = reason_code("o" + "-" * 31, "C" + "_9" * 31 + "Z")
    assert len(longest) == MAX_REASON_CODE_CHARS
    assert validate_reason_code(longest) == longest


@pytest.mark.parametrize(
    ("namespace", "code", "message"),
    [
        ("Orders", "INVALID_CURRENCY", "namespace 'Orders' must be 1 to 32 of a-z"),
        ("", "INVALID_CURRENCY", "namespace '' must be"),
        ("o" * 33, "INVALID_CURRENCY", "namespace 'ooo"),
        ("1orders", "INVALID_CURRENCY", "starting with a letter a-z"),
        ("orders.eu", "INVALID_CURRENCY", "namespace 'orders.eu'"),
        ("orders", "invalid_currency", "must be UPPER_SNAKE_CASE"),
        ("orders", "INVALID CURRENCY", "'INVALID CURRENCY' must be UPPER_SNAKE_CASE"),
        ("orders", "C" * 65, "must be UPPER_SNAKE_CASE: 1 to 64"),
        ("orders", "_INVALID", "starting with a letter A-Z"),
    ],
)
def test_reason_code_refuses_a_malformed_part(namespace: str, code: str, message: str) -> None:
    """GIVEN a namespace or code that breaks its rule WHEN building the team's code THEN a
    ValueError names the part and the rule."""
    with pytest.raises(MalformedReasonCodeError, match=message) as raised:
        reason_code(namespace, code)
    assert isinstance(raised.value, ValueError)


def test_team_code_round_trips_through_json() -> None:
    """GIVEN an envelope built with a team's code (reason_code)
    WHEN serialised and parsed back
    THEN it is equal and its code is that plain string.
    """
    envelope = _team_envelope(reason_code("orders", "INVALID_CURRENCY"))

    parsed = DlqEnvelope.parse(envelope.to_json())

    assert parsed == envelope
    assert parsed.error_category == "orders.INVALID_CURRENCY"
    assert type(parsed.error_category) is str
    assert '"error_category":"orders.INVALID_CURRENCY"' in envelope.to_json()


def test_claim_check_copy_keeps_a_code_of_a_newer_release() -> None:
    """GIVEN an envelope read with a bare code this release does not know
    WHEN its payload is moved to a claim-check location
    THEN the copy keeps the code (the copy is re-validated as read, not as written)."""
    parsed = DlqEnvelope.parse(_with_code("NEWER_RELEASE_CODE"))

    moved = parsed.with_payload_location("s3://payloads/dlq/7")

    assert moved.error_category == "NEWER_RELEASE_CODE"


# --------------------------------------------------------------------------- reading and writing


def test_well_formed_unknown_code_parses() -> None:
    """GIVEN envelope JSON with a bare UPPER_SNAKE code this release does not know (a newer
    release's built-in) WHEN parsed THEN it reads, the code kept as written."""
    parsed = DlqEnvelope.parse(_with_code("CURRENCY_FEED_DOWN"))

    assert parsed.error_category == "CURRENCY_FEED_DOWN"


def test_writers_refuse_a_bare_code_they_do_not_know() -> None:
    """GIVEN a bare code that is not a built-in WHEN building an envelope with it THEN it is
    refused, pointing at namespace.CODE: a made-up bare code could collide with a later
    built-in."""
    with pytest.raises(ValidationError, match="error_category") as raised:
        _team_envelope("INVALID_CURRENCY")
    assert "a team's code is namespace.CODE" in str(raised.value)


MALFORMED_CODES = [
    pytest.param("", "must not be empty", id="empty"),
    pytest.param("X" * (MAX_REASON_CODE_CHARS + 1), "at most 97 characters, not 98", id="long"),
    pytest.param("o" * 33 + ".X", "namespace of a reason code", id="long-namespace"),
    pytest.param("orders." + "X" * 65, "code of a reason code", id="long-code"),
    pytest.param("INVALID CURRENCY", "without a namespace", id="space"),
    pytest.param("INVALID_CURRENCY\n", "without a namespace", id="trailing-newline"),
    pytest.param("orders.INVALID\u0000", "after the dot", id="control-character"),
    pytest.param("invalid_currency", "without a namespace", id="lowercase-bare"),
    pytest.param("orders.invalid_currency", "after the dot", id="lowercase-code"),
    pytest.param("Orders.INVALID_CURRENCY", "before the dot", id="uppercase-namespace"),
    pytest.param(".INVALID_CURRENCY", "before the dot", id="empty-namespace"),
    pytest.param("orders.", "after the dot", id="empty-code"),
    pytest.param("orders.eu.INVALID", "after the dot", id="two-dots"),
    pytest.param("ÉCHEC", "without a namespace", id="non-ascii"),
    pytest.param("orders.[bold]X", "after the dot", id="markup"),
    pytest.param(42, "Input should be a valid string", id="number"),
    pytest.param(None, "Input should be a valid string", id="null"),
    *(
        pytest.param(code, "is reserved", id=f"reserved-{code}")
        for code in sorted(RESERVED_REASON_CODES)
    ),
]


@pytest.mark.parametrize(("code", "message"), MALFORMED_CODES)
def test_malformed_code_is_refused_naming_the_field(code: Any, message: str) -> None:
    """GIVEN envelope JSON whose error_category is malformed (what a forged message could hold)
    WHEN parsed
    THEN EnvelopeParseError names error_category and the rule broken, never quoting the value.
    """
    with pytest.raises(EnvelopeParseError, match="error_category") as raised:
        DlqEnvelope.parse(_with_code(code))

    assert message in str(raised.value)
    if isinstance(code, str) and code and code not in RESERVED_REASON_CODES:
        assert code not in str(raised.value)
