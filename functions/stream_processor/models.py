"""The enrichment rules and the stored DynamoDB item (the event schema itself is
``stream_pipeline.runtime.retail_event.RetailEvent``, shared with the other consumers).

Item key scheme (table: hash key ``userId`` (S), range key ``eventKey`` (S)):

``eventKey = <timestamp as 13 zero-padded digits> + "#" + <eventId>``

* distinct events never overwrite each other: two events of one user in the same millisecond
  differ in ``eventId``;
* the same event delivered again (ESM retry, bisect, replay with a new sequence number)
  rewrites the same item -- the key does not depend on where the record sits in the stream;
* the fixed-width prefix keeps ``begins_with``/``between`` time-range queries on ``eventKey``.

Events without ``eventId`` get a derived one
(``stream_pipeline.runtime.retail_event.derive_event_id``):
``"sha256-" + sha256(canonical JSON of the decoded payload)`` where canonical JSON = sorted keys,
no whitespace, UTF-8. Identical payloads without an ``eventId`` are therefore treated as the same
event (they are indistinguishable).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from stream_pipeline.runtime.retail_event import RetailEvent, derive_event_id

DYNAMODB_MAX_ITEM_BYTES: Final = 400 * 1024

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]
ItemKey = tuple[str, str]


# event type -> (action, score); everything else is "interacted with", 1.
ENRICHMENT_RULES: Final[dict[str, tuple[str, int]]] = {
    "view": ("viewed", 1),
    "add_to_cart": ("added to cart", 5),
    "purchase": ("purchased", 10),
}
DEFAULT_ENRICHMENT: Final = ("interacted with", 1)


def enrichment_for(event_type: str) -> tuple[str, int]:
    return ENRICHMENT_RULES.get(event_type, DEFAULT_ENRICHMENT)


def event_key(timestamp_ms: int, event_id: str) -> str:
    return f"{timestamp_ms:013d}#{event_id}"


def iso_utc(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2025-01-31T12:00:00.123Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class EnrichedEvent:
    user_id: str
    event_id: str
    event_id_derived: bool
    event_type: str
    product_id: str
    timestamp: int
    session_id: str | None
    action: str
    event_score: int
    insight: str
    processed_at: str
    extra_json: str | None
    """Fields outside the schema, as canonical JSON (kept verbatim, not interpreted)."""

    @property
    def event_key(self) -> str:
        return event_key(self.timestamp, self.event_id)

    @property
    def key(self) -> ItemKey:
        return (self.user_id, self.event_key)

    def to_item(self) -> Item:
        """The DynamoDB item in low-level AttributeValue form."""
        item: Item = {
            "userId": {"S": self.user_id},
            "eventKey": {"S": self.event_key},
            "eventId": {"S": self.event_id},
            "eventIdDerived": {"BOOL": self.event_id_derived},
            "eventType": {"S": self.event_type},
            "productId": {"S": self.product_id},
            "timestamp": {"N": str(self.timestamp)},
            "action": {"S": self.action},
            "eventScore": {"N": str(self.event_score)},
            "insight": {"S": self.insight},
            "processedAt": {"S": self.processed_at},
        }
        if self.session_id is not None:
            item["sessionId"] = {"S": self.session_id}
        if self.extra_json is not None:
            item["extra"] = {"S": self.extra_json}
        return item


def enrich(event: RetailEvent, canonical_payload: bytes, processed_at: datetime) -> EnrichedEvent:
    """Apply the enrichment rules. ``canonical_payload`` feeds the derived event id."""
    action, score = enrichment_for(event.eventType)
    extra = event.model_extra or {}
    return EnrichedEvent(
        user_id=event.userId,
        event_id=event.eventId or derive_event_id(canonical_payload),
        event_id_derived=event.eventId is None,
        event_type=event.eventType,
        product_id=event.productId,
        timestamp=event.timestamp,
        session_id=event.sessionId,
        action=action,
        event_score=score,
        insight=f"User {event.userId} {action} product {event.productId}",
        processed_at=iso_utc(processed_at),
        extra_json=(
            json.dumps(extra, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            if extra
            else None
        ),
    )


def item_size_bytes(item: Item) -> int:
    """Upper bound of the DynamoDB item size (names + values; numbers counted at 21 bytes)."""
    total = 0
    for name, value in item.items():
        total += len(name.encode())
        if "S" in value:
            total += len(value["S"].encode())
        elif "N" in value:
            total += 21
        elif "BOOL" in value or "NULL" in value:
            total += 1
        else:  # pragma: no cover - to_item() only produces S, N and BOOL
            msg = f"unsupported attribute type for size estimate: {sorted(value)}"
            raise ValueError(msg)
    return total
