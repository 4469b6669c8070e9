"""The canaries of ``stream-pipeline verify`` (:mod:`stream_pipeline.verify`): the records a run
puts, and the outcome each one has been seen to reach so far."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from stream_pipeline.local.accounting import ManifestEntry
from stream_pipeline.producer.generator import ProducedRecord, RecordKind

STORED: Final = "stored"
NOTIFIED_TYPE: Final = "purchase"
NOTIFIER_KEY_PREFIX: Final = "email_notifier"
"""functions/email_notifier/notifier.py: IDEMPOTENCY_KEY_PREFIX."""
NOTIFIER_TEMPLATE: Final = "order-confirmation"
"""functions/email_notifier/templates.py: the purchase template's name (part of the key)."""
DEFAULT_RECIPIENT: Final = "success@simulator.amazonses.com"
"""SES' mailbox simulator: accepted even by an account in the SES sandbox, delivers nothing."""


# --------------------------------------------------------------------------- canaries


@dataclass(frozen=True)
class Canary:
    """One record the run puts, and where it must end."""

    name: str
    record: ProducedRecord
    table_key: Mapping[str, str] | None
    """The results table item the processor writes for it (None: a poison record)."""
    notify: bool = False
    """True: the e-mail notifier must send one e-mail for it."""

    @property
    def record_id(self) -> str:
        return self.record.record_id

    @property
    def expected(self) -> str:
        return self.record.kind.expected


def notifier_idempotency_key(event_id: str) -> str:
    """The e-mail notifier's idempotency record id for ``event_id``: Powertools' key,
    ``<prefix>#`` + md5 of the JSON of ``[event_id, template]`` (sort_keys, default
    separators), as functions/email_notifier/notifier.py configures it."""
    digest = hashlib.md5(  # noqa: S324 -- Powertools' key hash, not a security use
        json.dumps([event_id, NOTIFIER_TEMPLATE], sort_keys=True).encode()
    ).hexdigest()
    return f"{NOTIFIER_KEY_PREFIX}#{digest}"


def make_canaries(
    run_id: str, *, now_ms: int, notify: bool, recipient: str = DEFAULT_RECIPIENT
) -> list[Canary]:
    """A valid view, a poison record (JSON cut short) and a purchase, on one partition key
    (one shard, in this order), each id and the user id carrying ``run_id``."""
    user = f"verify-{run_id}"

    def event(kind: str, event_type: str, offset: int, **extra: Any) -> tuple[str, dict[str, Any]]:
        event_id = f"{user}-{kind}"
        timestamp = now_ms + offset
        document = {
            "eventId": event_id,
            "userId": user,
            "eventType": event_type,
            "productId": "VERIFY-CANARY",
            "timestamp": timestamp,
            **extra,
        }
        return event_id, document

    def encoded(document: Mapping[str, Any]) -> bytes:
        return json.dumps(document, separators=(",", ":")).encode()

    def key(document: Mapping[str, Any]) -> dict[str, str]:
        return {
            "userId": str(document["userId"]),
            "eventKey": f"{int(document['timestamp']):013d}#{document['eventId']}",
        }

    valid_id, valid = event("valid", "view", 0)
    poison_id, poison = event("poison", "view", 1)
    purchase_id, purchase = event(
        "purchase", NOTIFIED_TYPE, 2, email=recipient, quantity=1, priceCents=100
    )
    return [
        Canary(
            "valid", ProducedRecord(user, encoded(valid), RecordKind.VALID, valid_id), key(valid)
        ),
        # Not JSON: the closing brace is missing. The notifier's filter never matches it.
        Canary(
            "poison",
            ProducedRecord(user, encoded(poison)[:-1], RecordKind.BAD_JSON, poison_id),
            None,
        ),
        Canary(
            "purchase",
            ProducedRecord(user, encoded(purchase), RecordKind.VALID, purchase_id),
            key(purchase),
            notify=notify,
        ),
    ]


# --------------------------------------------------------------------------- observing


@dataclass
class Outcome:
    """Where one canary has been seen so far."""

    canary: Canary
    entry: ManifestEntry
    stored: bool = False
    dead_letters: dict[str, str] = field(default_factory=dict)
    """Processor dead letters: envelope id -> reason."""
    in_range: list[str] = field(default_factory=list)
    """Reasons of range envelopes that cover the record (not removed by the run)."""
    email_sent: bool = False
    email_dead_letter: str | None = None

    @property
    def dead_lettered(self) -> bool:
        return bool(self.dead_letters or self.in_range)

    @property
    def settled(self) -> bool:
        processed = self.stored or self.dead_lettered
        mailed = not self.canary.notify or self.email_sent or self.email_dead_letter is not None
        return processed and mailed

    @property
    def reasons(self) -> list[str]:
        return sorted({*self.dead_letters.values(), *self.in_range})

    def problems(self) -> list[str]:
        """What is wrong with where it ended (empty: as expected)."""
        problems = []
        if not self.stored and not self.dead_lettered:
            problems.append("lost: neither stored nor in the DLQ")
        elif self.canary.expected == STORED and not self.stored:
            problems.append(f"dead-lettered ({', '.join(self.reasons)}), expected stored")
        elif self.canary.expected != STORED and self.stored:
            problems.append(f"stored, expected dead-lettered as {self.canary.expected}")
        elif self.canary.expected != STORED and self.canary.expected not in self.reasons:
            problems.append(
                f"dead-lettered as {', '.join(self.reasons)}, not {self.canary.expected}"
            )
        if self.stored and self.dead_lettered:
            problems.append("both stored and dead-lettered")
        if self.canary.notify and not self.email_sent:
            if self.email_dead_letter:
                problems.append(f"e-mail not sent: dead-lettered ({self.email_dead_letter})")
            else:
                problems.append("e-mail not sent, and not dead-lettered by the notifier")
        return problems

    def where(self) -> str:
        places = []
        if self.stored:
            places.append("stored in the results table")
        if self.dead_letters:
            places.append(f"DLQ ({', '.join(sorted(set(self.dead_letters.values())))})")
        if self.in_range:
            places.append(f"DLQ range envelope ({', '.join(sorted(set(self.in_range)))})")
        if self.canary.notify:
            if self.email_sent:
                places.append("e-mail sent")
            elif self.email_dead_letter:
                places.append(f"e-mail dead-lettered ({self.email_dead_letter})")
            else:
                places.append("no e-mail")
        return "; ".join(places) or "nowhere"
