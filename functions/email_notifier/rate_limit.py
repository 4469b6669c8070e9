"""Per-recipient rate cap: at most ``max_emails`` e-mails to one recipient per fixed window of
``window_seconds``, enforced atomically across concurrent invocations with one DynamoDB
conditional ``UpdateItem`` per e-mail.

One item per recipient and window (table: hash key ``id`` (S), TTL on ``expiration``):

* ``id``: ``<sha256 of the normalised address>#<window number>`` -- the address itself is never
  stored. Normalised: lowercase, ``+tag`` dropped from the local part, so ``Bob+1@`` and
  ``bob+2@`` count against the same mailbox;
* ``sent`` (N): e-mails admitted in the window; ``events`` (SS): their event ids, so a
  redelivered record (ESM retry, bisect, replay) is admitted again without counting twice;
* ``expiration``: the end of the next window, after which DynamoDB's TTL deletes the item.

The update adds the event only if it is not counted yet and ``sent`` is below the cap. When the
condition fails, the item as it was tells which: the event already counted (admit: the send is
idempotent anyway), or the cap reached (refuse). The notifier takes the cap inside its
idempotent section (``notifier.py``), just before ``SendEmail``: an event already sent is never
counted again, in any window. An e-mail SES then refuses, or whose send fails and is retried in a
later window, has used a slot (conservative). Fixed windows let up to twice the cap through across
a window boundary; the cap bounds a flood, it is not a precise quota.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from botocore.exceptions import ClientError

from email_notifier.policy import NAMESPACE
from stream_pipeline.kit import reason_code
from stream_pipeline.runtime.aws_errors import error_code

RECIPIENT_RATE_LIMITED: Final = reason_code(NAMESPACE, "RECIPIENT_RATE_LIMITED")
"""The recipient has had its cap of e-mails in the current window: not sent, dead-lettered."""

_CONDITION: Final = "attribute_not_exists(sent) OR (sent < :max AND NOT contains(events, :event))"
_UPDATE: Final = (
    "ADD events :events, sent :one SET expiration = if_not_exists(expiration, :expires)"
)


def recipient_key(address: str) -> str:
    """SHA-256 (hex) of the address, lowercased and without a ``+tag`` in its local part."""
    local, _, domain = address.lower().rpartition("@")
    mailbox = local.split("+", 1)[0] or local
    return hashlib.sha256(f"{mailbox}@{domain}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class RecipientRateLimiter:
    dynamodb: Any
    table_name: str
    max_emails: int
    window_seconds: int
    clock: Callable[[], float] = time.time

    def admit(self, recipient: str, event_id: str) -> bool:
        """True: ``event_id`` may be e-mailed to ``recipient`` (counted now, or counted before
        in this window); False: the recipient's cap for this window is reached. DynamoDB errors
        other than the failed condition propagate (transient: the record is retried)."""
        window = int(self.clock() // self.window_seconds)
        key = {"id": {"S": f"{recipient_key(recipient)}#{window}"}}
        try:
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression=_UPDATE,
                ConditionExpression=_CONDITION,
                ExpressionAttributeValues={
                    ":events": {"SS": [event_id]},
                    ":event": {"S": event_id},
                    ":one": {"N": "1"},
                    ":max": {"N": str(self.max_emails)},
                    ":expires": {"N": str((window + 2) * self.window_seconds)},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            item = exc.response.get("Item")
            if item is None:  # a store that does not return the old item: read it
                item = self.dynamodb.get_item(
                    TableName=self.table_name, Key=key, ConsistentRead=True
                ).get("Item", {})
            # The set only grows within a window, so an event seen here was counted.
            return event_id in item.get("events", {}).get("SS", [])
        return True
