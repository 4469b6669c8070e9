"""The fraud detector's flags in DynamoDB and its alerts on SNS (the history: ``history.py``).

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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from fraud_detector.history import is_condition_failure
from fraud_detector.rules import Trip

ALERT_PENDING: Final = "pending"
ALERT_SENT: Final = "sent"


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
            if not is_condition_failure(exc):
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
            if is_condition_failure(exc):
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
