"""The fraud detector's state in DynamoDB and its alerts on SNS.

History table (hash ``userId``, range ``eventKey``, TTL ``expiresAt``):

- one item per event, ``eventKey = <timestamp, 13 digits>#<eventId>``, put only if absent: a
  redelivered or replayed record finds its own item and is not counted twice, and the windows
  are ``Query``s on the key's time prefix (consistent reads: this invocation's own puts count);
- one item per country the user purchased from, ``eventKey = country#<CC>``, holding the event
  time and id of the first purchase from it, lowered atomically (a conditional update) so that
  the first purchase wins whatever order the records arrive in.

Flags table (hash ``userId``, range ``flagKey = <rule>#<window start>``): a flag is put only
if absent; a burst that goes on past the flag's window is the same burst (its window overlaps
the flag's): the flag's ``windowEnd`` follows it instead of a new flag being raised. A flag is
put with ``alert = pending``; the alert is published, then the flag marked ``sent``. A
crash between the put and the publish leaves it ``pending``: the record is retried (the
invocation failed) and the retry, finding a pending flag, publishes again. Alerts are therefore
at least once, and carry ``flagId`` (``<userId>#<flagKey>``) for a subscriber to drop the rare
repeat; a flag is never written twice. SNS standard topics have no deduplication id (FIFO
topics do, but deliver only to SQS FIFO queues).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from fraud_detector.models import FraudEvent
from fraud_detector.rules import Entry, FirstPurchase, Trip

COUNTRY_PREFIX: Final = "country#"
ALERT_PENDING: Final = "pending"
ALERT_SENT: Final = "sent"
CONDITION_FAILED: Final = "ConditionalCheckFailedException"


def _is_condition_failure(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == CONDITION_FAILED)


def event_key(timestamp_ms: int, event_id: str) -> str:
    return f"{timestamp_ms:013d}#{event_id}"


@dataclass(frozen=True, slots=True)
class History:
    dynamodb: Any
    table_name: str
    ttl_seconds: int

    def _expires_at(self, timestamp_ms: int) -> int:
        return timestamp_ms // 1000 + self.ttl_seconds

    def record(self, event: FraudEvent, event_id: str) -> bool:
        """Remember the event; False when it was already there (a redelivery or a replay)."""
        item: dict[str, Any] = {
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
        try:
            self.dynamodb.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(eventKey)",
            )
        except Exception as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    def _query(self, **params: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = self.dynamodb.query(TableName=self.table_name, ConsistentRead=True, **params)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def window(self, user_id: str, start_ms: int, end_ms: int) -> list[Entry]:
        """The user's events with start_ms <= timestamp <= end_ms."""
        items = self._query(
            KeyConditionExpression="userId = :u AND eventKey BETWEEN :lo AND :hi",
            ExpressionAttributeValues={
                ":u": {"S": user_id},
                ":lo": {"S": f"{max(start_ms, 0):013d}"},
                # "<end + 1>" sorts after every "<end>#<id>" and before "<end + 1>#<id>".
                ":hi": {"S": f"{end_ms + 1:013d}"},
            },
            ProjectionExpression="eventKey, eventType, sessionId, currency, amountCents",
        )
        return [
            Entry(
                timestamp=int(item["eventKey"]["S"][:13]),
                event_type=item.get("eventType", {}).get("S", ""),
                session_id=item.get("sessionId", {}).get("S"),
                currency=item.get("currency", {}).get("S"),
                amount_cents=int(item.get("amountCents", {}).get("N", "0")),
            )
            for item in items
        ]

    def note_purchase_country(
        self, user_id: str, country: str, timestamp_ms: int, event_id: str
    ) -> int:
        """Lower the country's first purchase to this one (no-op if earlier); the
        first-purchase time it holds now."""
        try:
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key={"userId": {"S": user_id}, "eventKey": {"S": COUNTRY_PREFIX + country}},
                UpdateExpression="SET firstPurchaseAt = :t, firstEventId = :id, expiresAt = :e",
                ConditionExpression="attribute_not_exists(firstPurchaseAt) OR firstPurchaseAt > :t",
                ExpressionAttributeValues={
                    ":t": {"N": str(timestamp_ms)},
                    ":id": {"S": event_id},
                    ":e": {"N": str(self._expires_at(timestamp_ms))},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as exc:
            if not _is_condition_failure(exc):
                raise
            old = getattr(exc, "response", {}).get("Item", {})
            return int(old.get("firstPurchaseAt", {}).get("N", timestamp_ms))
        return timestamp_ms

    def first_purchases(self, user_id: str) -> dict[str, FirstPurchase]:
        """Country -> the user's first purchase from it."""
        items = self._query(
            KeyConditionExpression="userId = :u AND begins_with(eventKey, :p)",
            ExpressionAttributeValues={":u": {"S": user_id}, ":p": {"S": COUNTRY_PREFIX}},
        )
        return {
            item["eventKey"]["S"].removeprefix(COUNTRY_PREFIX): FirstPurchase(
                int(item["firstPurchaseAt"]["N"]), item.get("firstEventId", {}).get("S", "")
            )
            for item in items
            if "firstPurchaseAt" in item
        }


class FlagOutcome(StrEnum):
    RAISED = "raised"
    """Written now, and its alert published."""
    REPUBLISHED = "republished"
    """Written before, its alert not confirmed: published again."""
    DUPLICATE = "duplicate"
    """Written and alerted before (a redelivery or a replay)."""
    EXTENDED = "extended"
    """A burst already flagged that goes on (its window overlaps the flag's): no new flag,
    the flag's ``windowEnd`` follows the burst."""


@dataclass(frozen=True, slots=True)
class FlagBook:
    dynamodb: Any
    sns: Any
    table_name: str
    topic_arn: str

    def settle(self, trip: Trip, flagged_at: datetime) -> FlagOutcome:
        existing = self._flags(trip)
        current = existing.get(trip.flag_key)
        if current is None:
            ongoing = [
                flag
                for flag in existing.values()
                if int(flag["windowEnd"]["N"]) >= trip.window_start
                and int(flag["windowStart"]["N"]) <= trip.window_end
            ]
            if trip.rule.sliding and ongoing:
                self._extend(ongoing[0], trip.window_end)
                return FlagOutcome.EXTENDED
            if self._put(trip, flagged_at):
                self._alert(trip)
                return FlagOutcome.RAISED
            current = self._get(trip)  # written meanwhile by a concurrent invocation
        if current.get("alert", {}).get("S") == ALERT_PENDING:
            self._alert(trip)
            return FlagOutcome.REPUBLISHED
        return FlagOutcome.DUPLICATE

    def _key(self, trip: Trip) -> dict[str, Any]:
        return {"userId": {"S": trip.user_id}, "flagKey": {"S": trip.flag_key}}

    def _flags(self, trip: Trip) -> dict[str, dict[str, Any]]:
        """The user's flags of this rule, by flag key."""
        flags: dict[str, dict[str, Any]] = {}
        params: dict[str, Any] = {
            "TableName": self.table_name,
            "ConsistentRead": True,
            "KeyConditionExpression": "userId = :u AND begins_with(flagKey, :r)",
            "ExpressionAttributeValues": {
                ":u": {"S": trip.user_id},
                ":r": {"S": f"{trip.rule}#"},
            },
        }
        while True:
            page = self.dynamodb.query(**params)
            flags.update({item["flagKey"]["S"]: item for item in page.get("Items", [])})
            if "LastEvaluatedKey" not in page:
                return flags
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _extend(self, flag: Mapping[str, Any], window_end: int) -> None:
        try:
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key={"userId": flag["userId"], "flagKey": flag["flagKey"]},
                UpdateExpression="SET windowEnd = :end",
                ConditionExpression="windowEnd < :end",
                ExpressionAttributeValues={":end": {"N": str(window_end)}},
            )
        except Exception as exc:
            if not _is_condition_failure(exc):
                raise

    def _get(self, trip: Trip) -> dict[str, Any]:
        response = self.dynamodb.get_item(
            TableName=self.table_name, Key=self._key(trip), ConsistentRead=True
        )
        item: dict[str, Any] = response.get("Item") or {}
        return item

    def _put(self, trip: Trip, flagged_at: datetime) -> bool:
        item: dict[str, Any] = {
            **self._key(trip),
            "rule": {"S": str(trip.rule)},
            "windowStart": {"N": str(trip.window_start)},
            "windowEnd": {"N": str(trip.window_end)},
            "observed": {"S": trip.observed},
            "threshold": {"S": trip.threshold},
            "eventId": {"S": trip.event_id},
            "flaggedAt": {"S": flagged_at.isoformat()},
            "alert": {"S": ALERT_PENDING},
            **{name: {"S": value} for name, value in trip.detail.items()},
        }
        try:
            self.dynamodb.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(flagKey)",
            )
        except Exception as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    def _alert(self, trip: Trip) -> None:
        flag_id = f"{trip.user_id}#{trip.flag_key}"
        message: Mapping[str, Any] = {
            "flagId": flag_id,
            "userId": trip.user_id,
            "rule": str(trip.rule),
            "windowStart": trip.window_start,
            "windowEnd": trip.window_end,
            "observed": trip.observed,
            "threshold": trip.threshold,
            "eventId": trip.event_id,
            **trip.detail,
        }
        response = self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=f"Fraud flag: {trip.rule}",
            Message=json.dumps(message, sort_keys=True),
            MessageAttributes={
                "rule": {"DataType": "String", "StringValue": str(trip.rule)},
                "flagId": {"DataType": "String", "StringValue": flag_id},
            },
        )
        self.dynamodb.update_item(
            TableName=self.table_name,
            Key=self._key(trip),
            UpdateExpression="SET alert = :sent, alertMessageId = :m",
            ExpressionAttributeValues={
                ":sent": {"S": ALERT_SENT},
                ":m": {"S": str(response.get("MessageId", ""))},
            },
        )
