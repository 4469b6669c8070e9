"""DynamoDB-JSON images (a stream record's NewImage) -> plain JSON documents.

The stream processor validates a DynamoDB stream record's NewImage through these rules, and the
replay converts images with exactly the same ones, so a replayed DynamoDB stream record becomes
the same event (and item) as the original.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any, Final

from boto3.dynamodb.types import Binary, TypeDeserializer

_DESERIALIZER: Final = TypeDeserializer()


def _plain(value: Any) -> Any:
    """DynamoDB-deserialised value -> JSON-compatible value (what a Kinesis producer sends)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            # TypeDeserializer turns malformed numbers ({"N": "abc"}) into NaN instead of failing.
            msg = f"number is not finite: {value}"
            raise ValueError(msg)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Binary):
        return base64.b64encode(value.value).decode("ascii")
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, set | frozenset):
        return sorted(_plain(member) for member in value)
    if isinstance(value, dict):
        return {key: _plain(member) for key, member in value.items()}
    if isinstance(value, list):
        return [_plain(member) for member in value]
    return value


def image_to_document(image: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB-JSON image (NewImage) -> the plain document the event model validates."""
    return {name: _plain(_DESERIALIZER.deserialize(value)) for name, value in image.items()}
