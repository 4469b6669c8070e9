"""The retail event (the schema of the recipe's stream) and the enriched item stored for it.

Item key scheme (table: hash key ``userId`` (S), range key ``eventKey`` (S)):

``eventKey = <timestamp as 13 zero-padded digits> + "#" + <eventId>``

* distinct events never overwrite each other: two events of one user in the same millisecond
  differ in ``eventId``;
* the same event delivered again (ESM retry, bisect, replay with a new sequence number)
  rewrites the same item -- the key does not depend on where the record sits in the stream;
* the fixed-width prefix keeps ``begins_with``/``between`` time-range queries on ``eventKey``.

Events without ``eventId`` get the kit's derived one (``StreamRecord.derived_id``):
``"sha256-" + sha256(canonical JSON of the decoded payload)``. Identical payloads without an
``eventId`` are therefore treated as the same event (they are indistinguishable).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MIN_TIMESTAMP_MS: Final = 946_684_800_000
"""2000-01-01T00:00:00Z. Also rejects epoch *seconds* sent by mistake."""
MAX_TIMESTAMP_MS: Final = 4_102_444_800_000
"""2100-01-01T00:00:00Z (exclusive); keeps the key prefix at 13 digits."""
ITEM_KEY: Final = ("userId", "eventKey")


class RetailEvent(BaseModel):
    """One customer interaction as produced into the stream. Unknown fields are kept."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    userId: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    eventType: Annotated[str, StringConstraints(max_length=128)]
    productId: Annotated[str, StringConstraints(max_length=256)]
    timestamp: Annotated[int, Field(ge=MIN_TIMESTAMP_MS, lt=MAX_TIMESTAMP_MS)]
    """Epoch milliseconds."""
    eventId: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    sessionId: Annotated[str, StringConstraints(max_length=256)] | None = None


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


def enrich(
    event: RetailEvent,
    event_id: str,
    processed_at: datetime,
    sensitive_fields: Collection[str] = (),
) -> dict[str, Any]:
    """The stored item: the event, its enrichment and its key. ``event_id``: the event's
    ``eventId``, or the derived id when it has none. ``sensitive_fields``: fields outside the
    schema (e.g. ``email``) kept as attributes of their own instead of inside ``extra``, where
    the kit's sink encrypts them."""
    action, score = enrichment_for(event.eventType)
    item: dict[str, Any] = {
        "userId": event.userId,
        "eventKey": event_key(event.timestamp, event_id),
        "eventId": event_id,
        "eventIdDerived": event.eventId is None,
        "eventType": event.eventType,
        "productId": event.productId,
        "timestamp": event.timestamp,
        "action": action,
        "eventScore": score,
        "insight": f"User {event.userId} {action} product {event.productId}",
        "processedAt": iso_utc(processed_at),
    }
    if event.sessionId is not None:
        item["sessionId"] = event.sessionId
    extra = dict(event.model_extra or {})
    for name in sensitive_fields:
        # Never an item key or an enrichment attribute: the schema does not declare them.
        if name in extra and name not in item:
            item[name] = extra.pop(name)
    if extra:
        # Fields outside the schema, kept verbatim as canonical JSON (not interpreted).
        item["extra"] = json.dumps(extra, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return item
