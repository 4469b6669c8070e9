"""Unit tests of the stream processor: the retail schema, enrichment, keys, item size,
settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from factories import retail_event
from pydantic import ValidationError

from stream_pipeline.kit.dynamodb_sink import item_size_bytes
from stream_pipeline.kit.settings import (
    KINESIS_MAX_RECORD_BYTES,
    ConfigurationError,
    ConsumerSettings,
)
from stream_processor.models import (
    MAX_TIMESTAMP_MS,
    MIN_TIMESTAMP_MS,
    RetailEvent,
    enrich,
    enrichment_for,
    event_key,
)

# --------------------------------------------------------------------------- schema


@pytest.mark.parametrize(
    ("fields", "valid"),
    [
        ({"timestamp": MIN_TIMESTAMP_MS}, True),
        ({"timestamp": MIN_TIMESTAMP_MS - 1}, False),
        ({"timestamp": MAX_TIMESTAMP_MS - 1}, True),
        ({"timestamp": MAX_TIMESTAMP_MS}, False),
        ({"userId": "u" * 256}, True),
        ({"userId": "u" * 257}, False),
        ({"eventType": ""}, True),
        ({"eventType": "e" * 129}, False),
        ({"eventId": "i" * 128}, True),
        ({"eventId": "i" * 129}, False),
        ({"eventId": None}, True),
        ({"sessionId": None}, True),
        ({"sessionId": "s" * 257}, False),
        ({"anything": {"nested": [1, 2.5, None]}}, True),
    ],
)
def test_schema_bounds(fields: dict[str, Any], valid: bool) -> None:
    """GIVEN an event at or beyond a bound WHEN validated THEN accepted exactly up to the bound."""
    document = retail_event(**fields)

    if valid:
        assert RetailEvent.model_validate(document).userId == document["userId"]
    else:
        with pytest.raises(ValidationError):
            RetailEvent.model_validate(document)


# --------------------------------------------------------------------------- enrichment / keys


@pytest.mark.parametrize(
    ("event_type", "expected"),
    [
        ("view", ("viewed", 1)),
        ("add_to_cart", ("added to cart", 5)),
        ("purchase", ("purchased", 10)),
        ("refund", ("interacted with", 1)),
        ("VIEW", ("interacted with", 1)),
        ("", ("interacted with", 1)),
    ],
)
def test_enrichment_rules(event_type: str, expected: tuple[str, int]) -> None:
    """GIVEN an event type WHEN looked up THEN the recipe's action and score (case-sensitive)."""
    assert enrichment_for(event_type) == expected


def test_enrich_builds_item_and_key() -> None:
    """GIVEN a validated event WHEN enriched THEN insight, processedAt and key follow the rules."""
    event = RetailEvent.model_validate(
        retail_event(
            userId="u", productId="p", eventType="purchase", eventId="e", timestamp=MIN_TIMESTAMP_MS
        )
    )

    item = enrich(event, "e", datetime(2025, 1, 1, 1, 2, 3, 456_789, tzinfo=UTC))

    assert item["insight"] == "User u purchased product p"
    assert item["eventScore"] == 10
    assert item["processedAt"] == "2025-01-01T01:02:03.456Z"
    assert item["eventKey"] == f"0{MIN_TIMESTAMP_MS}#e"  # 2000-01-01 has 12 digits
    assert (item["userId"], item["eventIdDerived"]) == ("u", False)


def test_event_key_is_zero_padded_and_sorts_by_time() -> None:
    """GIVEN timestamps of different magnitude WHEN keyed THEN 13 digits, lexical = time order."""
    assert event_key(5, "x") == "0000000000005#x"
    timestamps = [MIN_TIMESTAMP_MS, 1_700_000_000_000, MAX_TIMESTAMP_MS - 1]
    keys = [event_key(ts, "a") for ts in reversed(timestamps)]
    assert sorted(keys) == [event_key(ts, "a") for ts in timestamps]


def test_item_size_counts_names_and_utf8_values() -> None:
    """GIVEN an item WHEN sized THEN UTF-8 bytes of names and strings, 21 per number, 1 per bool,
    binary by length, 3 per map or list plus their members."""
    item = {
        "ab": {"S": "é"},
        "n": {"N": "1"},
        "b": {"BOOL": True},
        "z": {"B": b"\x00\x01"},
        "m": {"M": {"k": {"S": "v"}}},
        "l": {"L": [{"N": "2"}]},
    }

    assert item_size_bytes(item) == (2 + 2) + (1 + 21) + (1 + 1) + (1 + 2) + (1 + 3 + 1 + 1) + (
        1 + 3 + 21
    )


# --------------------------------------------------------------------------- settings


def test_settings_defaults_and_consumer_name_fallbacks() -> None:
    """GIVEN only the required variables WHEN read THEN defaults apply; the consumer name falls
    back from the function name to the service name to a constant."""
    base = {"TABLE_NAME": " t ", "DLQ_URL": "q"}

    def read(environ: dict[str, str]) -> ConsumerSettings:
        return ConsumerSettings.from_env(name="stream_processor", needs_table=True, environ=environ)

    settings = read(base)
    assert (settings.table_name, settings.max_record_bytes) == ("t", KINESIS_MAX_RECORD_BYTES)
    assert settings.consumer_name == "stream_processor"
    assert read({**base, "POWERTOOLS_SERVICE_NAME": "svc"}).consumer_name == "svc"
    both = {**base, "POWERTOOLS_SERVICE_NAME": "svc", "AWS_LAMBDA_FUNCTION_NAME": "fn"}
    assert read(both).consumer_name == "fn"


def test_settings_error_names_missing_variables() -> None:
    """GIVEN an empty environment WHEN read THEN the error lists both required variables."""
    with pytest.raises(ConfigurationError, match="DLQ_URL, TABLE_NAME"):
        ConsumerSettings.from_env(name="stream_processor", needs_table=True, environ={})
