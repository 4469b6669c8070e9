"""The retail event schema: its bounds, and the id derived for an event without one."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from factories import retail_event
from pydantic import ValidationError

from stream_pipeline.runtime.retail_event import (
    MAX_TIMESTAMP_MS,
    MIN_TIMESTAMP_MS,
    RetailEvent,
    derive_event_id,
)


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


def test_derived_event_id_is_sha256_of_canonical_payload() -> None:
    """GIVEN canonical payload bytes WHEN an id is derived THEN it is 'sha256-' + hex digest."""
    canonical = json.dumps({"b": 1, "a": 2}, sort_keys=True, separators=(",", ":")).encode()

    assert derive_event_id(canonical) == "sha256-" + hashlib.sha256(canonical).hexdigest()
