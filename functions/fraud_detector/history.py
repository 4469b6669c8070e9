"""The fraud detector's history table in DynamoDB (hash ``userId``, range ``eventKey``, TTL
``expiresAt``), read and written once per batch (see ``batch.py``):

- one item per event, ``eventKey = <timestamp, 13 digits>#<eventId>``. Its content is a
  function of the event alone, so writing it again (a redelivery, a replay) rewrites the same
  item: the batch's new events are put with unconditional BatchWriteItem requests, and an
  event is counted once because the windows are sets of keys, never counters. Windows are
  queries on the key's time prefix (consistent reads: earlier batches' writes count);
- one item per country the user purchased from, ``eventKey = country#<CC>``, holding the event
  time and id of the first purchase from it, lowered atomically (a conditional update) so that
  the first purchase wins whatever order the records arrive in.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from botocore.exceptions import ClientError

from fraud_detector.models import FraudEvent
from fraud_detector.rules import Entry, FirstPurchase
from stream_pipeline.runtime.aws_errors import RetryPolicy, error_code
from stream_pipeline.runtime.dynamodb_writer import DynamoBatchWriter, Item, ItemKey
from stream_pipeline.runtime.request_pool import SHARED_POOL, RequestPool

COUNTRY_PREFIX: Final = "country#"
CONDITION_FAILED: Final = "ConditionalCheckFailedException"
KEY_ATTRIBUTES: Final = ("userId", "eventKey")
FIRST_PAGE_ITEMS: Final = 200
"""The first page of a user's read: enough for the countries and a busy window; a page still
above the window tells a replay's read (events later than the batch's) from a live one."""
PROJECTION: Final = (
    "eventKey, eventType, sessionId, currency, amountCents, firstPurchaseAt, firstEventId"
)


def is_condition_failure(exc: Exception) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) == CONDITION_FAILED


def event_key(timestamp_ms: int, event_id: str) -> str:
    return f"{timestamp_ms:013d}#{event_id}"


def _time_key(timestamp_ms: int) -> str:
    return f"{max(timestamp_ms, 0):013d}"


def entry_of(event: FraudEvent) -> Entry:
    return Entry(
        timestamp=event.timestamp,
        event_type=event.eventType,
        session_id=event.sessionId,
        currency=event.currency,
        amount_cents=event.amount_cents(),
    )


def _entry(item: Mapping[str, Any]) -> Entry:
    return Entry(
        timestamp=int(item["eventKey"]["S"][:13]),
        event_type=item.get("eventType", {}).get("S", ""),
        session_id=item.get("sessionId", {}).get("S"),
        currency=item.get("currency", {}).get("S"),
        amount_cents=int(item.get("amountCents", {}).get("N", "0")),
    )


@dataclass(slots=True)
class Stored:
    """What the table holds for one user: events of a time range by key, first purchases."""

    events: dict[str, Entry] = field(default_factory=dict)
    firsts: dict[str, FirstPurchase] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class History:
    dynamodb: Any
    table_name: str
    ttl_seconds: int
    sleep: Callable[[float], None] = time.sleep
    pool: RequestPool = SHARED_POOL
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    def _expires_at(self, timestamp_ms: int) -> int:
        return timestamp_ms // 1000 + self.ttl_seconds

    def item(self, event: FraudEvent, event_id: str) -> Item:
        """The event's item: the same for every delivery of the event."""
        item: Item = {
            "userId": {"S": event.userId},
            "eventKey": {"S": event_key(event.timestamp, event_id)},
            "eventType": {"S": event.eventType},
            "amountCents": {"N": str(event.amount_cents())},
            "expiresAt": {"N": str(self._expires_at(event.timestamp))},
        }
        if event.sessionId is not None:
            item["sessionId"] = {"S": event.sessionId}
        if event.currency is not None:
            item["currency"] = {"S": event.currency}
        return item

    def write(self, items: Iterable[Item]) -> set[str]:
        """Put the items (BatchWriteItem, retried); the users whose items are not all stored."""
        by_key: dict[ItemKey, Item] = {
            (item["userId"]["S"], item["eventKey"]["S"]): item for item in items
        }
        writer = DynamoBatchWriter(
            self.dynamodb,
            self.table_name,
            policy=self.policy,
            sleep=self.sleep,
            rand=random.random,
            key_attributes=KEY_ATTRIBUTES,
            pool=self.pool,
        )
        return {str(key[0]) for key in writer.write(by_key).failures}

    def _query(self, **params: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = self.dynamodb.query(TableName=self.table_name, ConsistentRead=True, **params)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def read(self, user_id: str, start_ms: int, end_ms: int) -> Stored:
        """The user's events with start_ms <= timestamp <= end_ms and first purchases.

        One Query, newest first, from the top of the user's keys (``country#`` sorts after
        every digit) down to start_ms. Live, nothing of the user is later than the batch: that
        is the window and the countries. When the first page is still above the window (a
        replay or a rewind: the user's later history is there), the window is queried on its
        own rather than reading the later history through."""
        stored = Stored()
        hi = _time_key(end_ms + 1)  # sorts after every "<end>#<id>", before "<end + 1>#<id>"
        params: dict[str, Any] = {
            "KeyConditionExpression": "userId = :u AND eventKey >= :lo",
            "ExpressionAttributeValues": {":u": {"S": user_id}, ":lo": {"S": _time_key(start_ms)}},
            "ProjectionExpression": PROJECTION,
            "ScanIndexForward": False,
            "Limit": FIRST_PAGE_ITEMS,
        }
        while True:
            page = self.dynamodb.query(TableName=self.table_name, ConsistentRead=True, **params)
            items = page.get("Items", [])
            for item in items:
                key = item["eventKey"]["S"]
                if key.startswith(COUNTRY_PREFIX):
                    if "firstPurchaseAt" in item:
                        stored.firsts[key.removeprefix(COUNTRY_PREFIX)] = FirstPurchase(
                            int(item["firstPurchaseAt"]["N"]),
                            item.get("firstEventId", {}).get("S", ""),
                        )
                elif key < hi:
                    stored.events[key] = _entry(item)
            if "LastEvaluatedKey" not in page:
                return stored
            last = items[-1]["eventKey"]["S"] if items else ""
            if last[:1].isdigit() and last >= hi:
                stored.events.update(self._window(user_id, start_ms, hi))
                return stored
            if last[:1].isdigit():
                params.pop("Limit", None)  # inside the window: the rest of it, in full pages
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _window(self, user_id: str, start_ms: int, hi: str) -> dict[str, Entry]:
        items = self._query(
            KeyConditionExpression="userId = :u AND eventKey BETWEEN :lo AND :hi",
            ExpressionAttributeValues={
                ":u": {"S": user_id},
                ":lo": {"S": _time_key(start_ms)},
                ":hi": {"S": hi},
            },
            ProjectionExpression=PROJECTION,
        )
        return {item["eventKey"]["S"]: _entry(item) for item in items}

    def note_purchase_country(
        self, user_id: str, country: str, first: FirstPurchase
    ) -> FirstPurchase:
        """Lower the country's first purchase to ``first`` (no-op if earlier); the first
        purchase it holds now."""
        try:
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key={"userId": {"S": user_id}, "eventKey": {"S": COUNTRY_PREFIX + country}},
                UpdateExpression="SET firstPurchaseAt = :t, firstEventId = :id, expiresAt = :e",
                ConditionExpression="attribute_not_exists(firstPurchaseAt) OR firstPurchaseAt > :t",
                ExpressionAttributeValues={
                    ":t": {"N": str(first.timestamp)},
                    ":id": {"S": first.event_id},
                    ":e": {"N": str(self._expires_at(first.timestamp))},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as exc:
            if not is_condition_failure(exc):
                raise
            old = getattr(exc, "response", {}).get("Item", {})
            return FirstPurchase(
                int(old.get("firstPurchaseAt", {}).get("N", first.timestamp)),
                old.get("firstEventId", {}).get("S", first.event_id),
            )
        return first
