"""The kit's DynamoDB sink: a handler's plain item -> a BatchWriteItem put, once per key.

Idempotent by construction: the item's key comes from the event (never from where the record
sits in the stream), so a record delivered again (ESM retry, bisection, replay from the DLQ)
rewrites the same item, and records of one batch sharing a key are written once (the last in
stream order wins).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from boto3.dynamodb.types import TypeSerializer
from pydantic import BaseModel

from stream_pipeline.kit.field_encryption import FieldEncryptor
from stream_pipeline.runtime.decoding import RecordRejectedError
from stream_pipeline.runtime.dynamodb_writer import AttributeValue, Item, ItemKey, item_key
from stream_pipeline.runtime.reason_codes import ErrorCategory

DYNAMODB_MAX_ITEM_BYTES: Final = 400 * 1024
TABLE_NAME_VARIABLE: Final = "TABLE_NAME"
_SERIALIZER: Final = TypeSerializer()


def to_attribute_value(value: Any) -> AttributeValue:
    """A plain Python value -> DynamoDB's typed form. The common types take a fast path (this
    runs for every attribute of every item); sets and the rest go through boto3's serializer."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is bool:
        return {"BOOL": value}
    if kind is int or kind is Decimal:
        return {"N": str(value)}
    if kind is float:
        if not math.isfinite(value):
            msg = f"a number must be finite, not {value}"
            raise ValueError(msg)
        return {"N": str(Decimal(repr(value)))}
    if value is None:
        return {"NULL": True}
    if kind is dict:
        return {"M": {str(name): to_attribute_value(member) for name, member in value.items()}}
    if kind is list or kind is tuple:
        return {"L": [to_attribute_value(member) for member in value]}
    if kind is bytes or kind is bytearray:
        return {"B": bytes(value)}
    serialized: AttributeValue = _SERIALIZER.serialize(value)
    return serialized


def _size(value: AttributeValue) -> int:
    ((tag, member),) = value.items()
    if tag == "S":
        return len(member.encode())
    if tag == "N":
        return 21
    if tag == "B":
        return len(member)
    if tag == "M":
        return 3 + sum(len(name.encode()) + _size(item) for name, item in member.items())
    if tag == "L":
        return 3 + sum(_size(item) for item in member)
    if tag in {"SS", "NS", "BS"}:
        return sum(_size({tag[0]: item}) for item in member)
    return 1  # BOOL, NULL


def item_size_bytes(item: Item) -> int:
    """Upper bound of DynamoDB's item size (names + values; numbers counted at 21 bytes)."""
    return sum(len(name.encode()) + _size(value) for name, value in item.items())


def _text_bytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def to_item(document: Mapping[str, Any]) -> tuple[Item, int]:
    """A plain mapping -> a DynamoDB item and :func:`item_size_bytes` of it, in one pass (this
    runs for every record: the common flat attributes take a fast path)."""
    item: Item = {}
    size = 0
    for key, value in document.items():
        name = key if type(key) is str else str(key)
        size += _text_bytes(name)
        kind = type(value)
        if kind is str:
            item[name] = {"S": value}
            size += _text_bytes(value)
        elif kind is int:
            item[name] = {"N": str(value)}
            size += 21
        elif kind is bool:
            item[name] = {"BOOL": value}
            size += 1
        else:
            attribute = to_attribute_value(value)
            item[name] = attribute
            size += _size(attribute)
    return item, size


@dataclass(frozen=True, slots=True)
class DynamoDBSink:
    """Where a consumer's handler results go: one DynamoDB table, keyed by ``key``.

    ``key``: the table's key attribute names, hash key first (one or two). ``table_name``:
    the table; None (the default) reads it from the ``TABLE_NAME`` environment variable at
    the cold start.
    """

    key: Sequence[str]
    table_name: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.key, str) or not 1 <= len(self.key) <= 2:
            msg = "DynamoDBSink key is the table's key attribute names: (hash,) or (hash, range)"
            raise ValueError(msg)
        object.__setattr__(self, "key", tuple(self.key))

    def resolve_table(self, environ: Mapping[str, str] | None = None) -> str | None:
        env = os.environ if environ is None else environ
        return self.table_name or env.get(TABLE_NAME_VARIABLE, "").strip() or None

    def item(self, value: Any, encryptor: FieldEncryptor | None = None) -> tuple[Item, ItemKey]:
        """The handler's result as a DynamoDB item and its key; a result DynamoDB can never
        store raises :class:`RecordRejectedError` (the record is dead-lettered).
        ``encryptor``: the pipeline's sensitive fields are encrypted first (a KMS failure
        propagates: the record is retried, never stored in clear)."""
        if type(value) is not dict:
            if isinstance(value, BaseModel):
                value = value.model_dump(mode="python")
            elif not isinstance(value, Mapping):
                msg = (
                    "a record handler writing to a DynamoDBSink returns a mapping (the item) "
                    f"or None, not {type(value).__name__}"
                )
                raise TypeError(msg)
        if encryptor is not None:
            value = encryptor.encrypt_item(value)
        try:
            item, size = to_item(value)
        except (TypeError, ValueError) as exc:
            raise RecordRejectedError(
                ErrorCategory.WRITE_REJECTED, f"item is not storable in DynamoDB: {exc}"
            ) from exc
        try:
            key = item_key(item, self.key)  # type: ignore[arg-type]
        except KeyError as exc:
            raise RecordRejectedError(
                ErrorCategory.WRITE_REJECTED, f"item has no key attribute {exc}"
            ) from exc
        if size > DYNAMODB_MAX_ITEM_BYTES:
            raise RecordRejectedError(
                ErrorCategory.OVERSIZED,
                f"stored item would be about {size} bytes; DynamoDB's limit is "
                f"{DYNAMODB_MAX_ITEM_BYTES}",
            )
        return item, key
