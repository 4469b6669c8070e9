"""DynamoDB-JSON images (a stream record's NewImage) -> plain JSON documents.

In a stream record (and so in the Lambda event) Binary values are base64 text: ``{"B": "..."}``
and ``{"BS": ["...", ...]}``, at any depth of maps and lists. boto3's TypeDeserializer expects
the bytes an SDK call returns, so they are decoded first, strictly: text that is not base64 is
an undecodable image, never silently different bytes. A document carries them as base64 text
again (canonical padding), as a Kinesis producer would send binary data in JSON.

The stream processor validates a DynamoDB stream record's NewImage through these rules, and the
replay converts images with exactly the same ones, so a replayed DynamoDB stream record becomes
the same event (and item) as the original.
"""

from __future__ import annotations

import base64
import binascii
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


def _binary(text: Any) -> bytes:
    if not isinstance(text, str):
        msg = f"a binary value must be base64 text, not {type(text).__name__}"
        raise TypeError(msg)
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        msg = "a binary value is not valid base64"
        raise ValueError(msg) from exc


def _with_binary_bytes(value: Any) -> Any:
    """The attribute value with its B / BS members (at any depth) as bytes."""
    if not isinstance(value, dict) or len(value) != 1:
        return value  # the deserializer reports what is wrong with it
    ((tag, member),) = value.items()
    if tag == "B":
        return {"B": _binary(member)}
    if tag == "BS" and isinstance(member, list):
        return {"BS": [_binary(item) for item in member]}
    if tag == "M" and isinstance(member, dict):
        return {"M": {key: _with_binary_bytes(item) for key, item in member.items()}}
    if tag == "L" and isinstance(member, list):
        return {"L": [_with_binary_bytes(item) for item in member]}
    return value


def image_to_document(image: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB-JSON image (NewImage) -> the plain document the event model validates."""
    return {
        name: _plain(_DESERIALIZER.deserialize(_with_binary_bytes(value)))
        for name, value in image.items()
    }
