"""The shared decoding rules (stream_pipeline.runtime.decoding): the id derived for an event
without one."""

from __future__ import annotations

import hashlib
import json

from stream_pipeline.runtime.decoding import canonical_json_bytes, derive_event_id


def test_derived_event_id_is_sha256_of_canonical_payload() -> None:
    """GIVEN canonical payload bytes WHEN an id is derived THEN it is 'sha256-' + hex digest."""
    canonical = json.dumps({"b": 1, "a": 2}, sort_keys=True, separators=(",", ":")).encode()

    assert derive_event_id(canonical) == "sha256-" + hashlib.sha256(canonical).hexdigest()


def test_canonical_payload_ignores_key_order_and_whitespace() -> None:
    """GIVEN the same document with its keys in another order
    WHEN made canonical THEN the bytes, and so the derived ids, are equal (UTF-8, not escaped)."""
    first = canonical_json_bytes({"b": 1, "a": {"y": "é", "x": [1, 2]}})
    second = canonical_json_bytes({"a": {"x": [1, 2], "y": "é"}, "b": 1})

    assert first == second == '{"a":{"x":[1,2],"y":"é"},"b":1}'.encode()
    assert derive_event_id(first) == derive_event_id(second)
