"""Accounting for every record the demo (and the end-to-end suite) put on the stream: the
producer's manifest against the results table and the DLQ (:func:`reconcile`), and the e-mail
notifier's e-mails against the purchases (:func:`account_emails`)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from botocore.config import Config

from stream_pipeline.producer.generator import ProducedRecord, RecordKind
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, EnvelopeParseError
from stream_pipeline.runtime.hydration.models import (
    MalformedAsyncInvocationRecordError,
    MalformedOnFailureRecordError,
    parse_async_invocation_record,
    parse_on_failure_record,
)

HYDRATE_FAILED: Final = "HYDRATE_FAILED"
NOTIFIER_SUFFIX: Final = "-notifier"
"""modules/pipeline names the e-mail notifier ``<name>-notifier``."""
SIDE_CONSUMER_SUFFIXES: Final = (NOTIFIER_SUFFIX, "-fraud", "-trending")
"""Consumers that store nothing in the results table (the e-mail notifier, the fraud detector,
the trending aggregator): they dead-letter the poison records of their event types too, which
account for their own outputs (e-mails, flags, windows), not for stored records."""
NOTIFIED_EVENT_TYPES: Final = frozenset({"purchase"})
"""What the local environment's notifier e-mails (its NOTIFY_EVENT_TYPES default)."""
SDK_CONFIG: Final = Config(retries={"max_attempts": 5, "mode": "standard"})


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class ManifestEntry:
    """One record a producer put (a ``sent`` manifest line, or one built by a test)."""

    record_id: str
    expected: str
    """``stored`` or the DLQ error category the consumer must give it."""
    sha256: str
    shard_id: str | None = None
    sequence_number: str | None = None
    dynamodb_keys: Mapping[str, Any] | None = None
    """For DynamoDB stream sources: the item's key, DynamoDB JSON (the envelope's ``Keys``)."""

    @classmethod
    def from_line(cls, line: Mapping[str, Any]) -> ManifestEntry:
        return cls(
            record_id=str(line["id"]),
            expected=str(line["expected"]),
            sha256=str(line["sha256"]),
            shard_id=line.get("shardId"),
            sequence_number=line.get("sequenceNumber"),
        )


def read_manifest(text: str) -> list[ManifestEntry]:
    """The records a producer manifest says were accepted by the stream."""
    entries = []
    for line in text.splitlines():
        if line.strip():
            document = json.loads(line)
            if document.get("status") == "sent":
                entries.append(ManifestEntry.from_line(document))
    return entries


@dataclass(frozen=True)
class DlqMessage:
    message_id: str
    receipt_handle: str
    body: str


def read_dlq(sqs: Any, queue_url: str, *, release: bool = True) -> list[DlqMessage]:
    """Every message in the queue, received once (kept invisible while reading); made visible
    again at the end unless ``release`` is False (the caller deletes or releases them)."""
    messages: dict[str, DlqMessage] = {}
    empty_receives = 0
    while empty_receives < 2:
        response = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=120, WaitTimeSeconds=0
        )
        fresh = [m for m in response.get("Messages", []) if m["MessageId"] not in messages]
        empty_receives = 0 if fresh else empty_receives + 1
        for message in fresh:
            messages[message["MessageId"]] = DlqMessage(
                message["MessageId"], message["ReceiptHandle"], message["Body"]
            )
    if release:
        release_messages(sqs, queue_url, list(messages.values()))
    return list(messages.values())


def _batches(messages: Sequence[DlqMessage]) -> Iterable[Sequence[DlqMessage]]:
    for start in range(0, len(messages), 10):
        yield messages[start : start + 10]


def release_messages(sqs: Any, queue_url: str, messages: Sequence[DlqMessage]) -> None:
    for batch in _batches(messages):
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                for n, m in enumerate(batch)
            ],
        )


def delete_messages(sqs: Any, queue_url: str, messages: Sequence[DlqMessage]) -> None:
    for batch in _batches(messages):
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m.receipt_handle} for n, m in enumerate(batch)
            ],
        )


def scan_items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every item of the results table, plain values (``{"S": x}`` -> ``x``)."""
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            items.append({key: next(iter(value.values())) for key, value in item.items()})
    return items


def emails_sent(ses: Any) -> int:
    """E-mails the emulator's SES has accepted so far (moto counts one per recipient, and the
    notifier sends to one): read before and after a run, the difference is the run's."""
    return int(ses.get_send_quota()["SentLast24Hours"])


def notified_events(records: Iterable[ProducedRecord]) -> set[str]:
    """The ids of the valid events of a notified type (purchases): one e-mail each."""
    ids = set()
    for record in records:
        if record.kind is RecordKind.VALID:
            event = json.loads(record.data)
            if event.get("eventType") in NOTIFIED_EVENT_TYPES:
                ids.add(record.record_id)
    return ids


# --------------------------------------------------------------------------- reconciling


@dataclass
class Reconciliation:
    """Where every record of a manifest ended up."""

    produced: int = 0
    stored: int = 0
    """Records stored (exactly once or more: see ``stored_duplicates``) and not dead-lettered."""
    dead_lettered: Counter[str] = field(default_factory=Counter)
    """Records in the DLQ (and not stored), by reason."""
    lost: list[ManifestEntry] = field(default_factory=list)
    stored_duplicates: int = 0
    """Extra items for an event already stored (items whose eventId appears more than once)."""
    dlq_duplicates: int = 0
    """Records dead-lettered under more than one distinct envelope."""
    stored_and_dead_lettered: list[ManifestEntry] = field(default_factory=list)
    dlq_redeliveries: int = 0
    """DLQ messages repeating an envelope (same ``envelope_id``): the DLQ is at-least-once and
    readers de-duplicate on it. Not a duplicate in effect."""
    without_original_bytes: list[ManifestEntry] = field(default_factory=list)
    """Dead-lettered records whose envelope does not hold the bytes the producer sent."""
    unexpected: list[tuple[ManifestEntry, str]] = field(default_factory=list)
    """Records that ended elsewhere than the manifest's ``expected`` (e.g. a valid event
    dead-lettered because its batch exhausted its retries): not lost, but worth a look."""
    messages: list[DlqMessage] = field(default_factory=list)
    """The DLQ messages that belong to this manifest."""
    items: list[dict[str, Any]] = field(default_factory=list)
    """The stored items that belong to this manifest."""

    @property
    def in_dlq(self) -> int:
        return sum(self.dead_lettered.values())

    @property
    def duplicates(self) -> int:
        return self.stored_duplicates + self.dlq_duplicates + len(self.stored_and_dead_lettered)

    @property
    def ok(self) -> bool:
        return not self.lost and not self.duplicates and not self.without_original_bytes

    def problems(self) -> str:
        """A readable account of what is wrong (empty when ``ok``)."""
        lines = []
        if self.lost:
            lines.append(f"lost: {[e.record_id for e in self.lost[:20]]}")
        if self.stored_duplicates or self.dlq_duplicates:
            lines.append(
                f"duplicates: {self.stored_duplicates} stored, {self.dlq_duplicates} in the DLQ"
            )
        if self.stored_and_dead_lettered:
            ids = [e.record_id for e in self.stored_and_dead_lettered[:20]]
            lines.append(f"both stored and dead-lettered: {ids}")
        if self.without_original_bytes:
            ids = [e.record_id for e in self.without_original_bytes[:20]]
            lines.append(f"dead-lettered without their original bytes: {ids}")
        return "\n".join(lines)


@dataclass
class _DlqHit:
    reason: str
    envelope_id: str
    payload_sha256: str | None


def _ddb_key(keys: Mapping[str, Any] | None) -> str | None:
    return json.dumps(keys, sort_keys=True) if keys else None


def function_name(consumer: str) -> str:
    """The function an envelope's ``consumer`` names: a name, or an ARN (qualifier dropped)."""
    if ":function:" in consumer:
        return consumer.split(":function:", 1)[1].split(":", 1)[0]
    return consumer


def counts_for(consumer: str, wanted: str | None) -> bool:
    """Whether dead letters of ``consumer`` belong to the reconciliation of ``wanted`` (a
    function name or ARN; None: every consumer but an e-mail notifier and a fraud detector)."""
    name = function_name(consumer)
    if wanted is None:
        return not (
            name.endswith(SIDE_CONSUMER_SUFFIXES)
            or name in ("email_notifier", "fraud_detector", "trending_aggregator")
        )
    return name == function_name(wanted)


def _hydrate_failure_ranges(body: str, consumer: str | None) -> list[tuple[str, int, int]]:
    """(shard, first, last) of every batch a failed hydrate invocation was given, for the
    consumers ``consumer`` selects (:func:`counts_for`)."""
    try:
        record = parse_async_invocation_record(body)
        failures = [parse_on_failure_record(m.raw) for m in record.on_failure_messages()]
    except (MalformedAsyncInvocationRecordError, MalformedOnFailureRecordError):
        return []
    return [
        (f.batch.shard_id, int(f.batch.start_sequence_number), int(f.batch.end_sequence_number))
        for f in failures
        if counts_for(f.request_context.function_arn, consumer)
    ]


def _sequence_numbers_readable(envelope: DlqEnvelope) -> bool:
    """ASCII digits only: ``str.isdigit`` alone accepts e.g. a superscript two, which ``int``
    refuses; a forged or damaged envelope must not stop the accounting."""
    numbers = [envelope.sequence_number, envelope.end_sequence_number]
    return all(n is None or (n.isascii() and n.isdigit()) for n in numbers)


def reconcile(
    manifest: Sequence[ManifestEntry],
    items: Iterable[Mapping[str, Any]],
    messages: Iterable[DlqMessage],
    *,
    consumer: str | None = None,
) -> Reconciliation:
    """Match the manifest with the table's items (by eventId) and the DLQ's messages (by stream
    coordinates: shard and sequence number, or range; DynamoDB keys). Items and messages of
    other records are ignored, so scenarios sharing one stack each count only their own. A
    record dead-lettered again after a replay (new coordinates) is therefore reported lost:
    the check errs on the side of failing.

    One DLQ serves every consumer of the pipeline (the envelope's ``consumer`` names the
    function); only the dead letters of ``consumer`` (a function name or ARN) count. By default
    those of every consumer but the e-mail notifier (``<name>-notifier``), which dead-letters
    the purchases it cannot mail, poison records of that type included: those account for
    e-mails, not for stored records (:func:`account_emails`); nor the fraud detector's
    (``<name>-fraud``) and the trending aggregator's (``<name>-trending``), which dead-letter
    the same poison records as the processor."""
    result = Reconciliation(produced=len(manifest))
    by_id: dict[str, list[ManifestEntry]] = defaultdict(list)
    by_coordinates: dict[tuple[str, int], ManifestEntry] = {}
    by_shard: dict[str, list[tuple[int, ManifestEntry]]] = defaultdict(list)
    by_ddb_key: dict[str, ManifestEntry] = {}
    for entry in manifest:
        by_id[entry.record_id].append(entry)
        if entry.shard_id and entry.sequence_number:
            position = (entry.shard_id, int(entry.sequence_number))
            by_coordinates[position] = entry
            by_shard[entry.shard_id].append((int(entry.sequence_number), entry))
        key = _ddb_key(entry.dynamodb_keys)
        if key:
            by_ddb_key[key] = entry

    stored_count: Counter[str] = Counter()
    for item in items:
        event_id = str(item.get("eventId"))
        if event_id in by_id:
            stored_count[event_id] += 1
            result.items.append(dict(item))

    hits: dict[int, list[_DlqHit]] = defaultdict(list)  # id(entry) -> hits
    for message in messages:
        matched: list[ManifestEntry] = []
        try:
            envelope = DlqEnvelope.parse(message.body)
        except EnvelopeParseError:
            for shard, first, last in _hydrate_failure_ranges(message.body, consumer):
                matched += [e for seq, e in by_shard.get(shard, []) if first <= seq <= last]
            for entry in matched:
                hits[id(entry)].append(_DlqHit(HYDRATE_FAILED, message.message_id, None))
            if matched:
                result.messages.append(message)
            continue
        if not counts_for(envelope.consumer, consumer):
            continue
        if envelope.dynamodb_keys:
            found = by_ddb_key.get(_ddb_key(envelope.dynamodb_keys) or "")
            matched = [found] if found else []
        elif not _sequence_numbers_readable(envelope):
            continue  # not one of the manifest's records, whatever else it claims
        elif envelope.shard_id and envelope.end_sequence_number is not None:
            first = int(envelope.sequence_number) + (1 if envelope.after_sequence_number else 0)
            last = int(envelope.end_sequence_number)
            matched = [e for seq, e in by_shard.get(envelope.shard_id, []) if first <= seq <= last]
        elif envelope.shard_id:
            found = by_coordinates.get((envelope.shard_id, int(envelope.sequence_number)))
            matched = [found] if found else []
        if not matched:
            continue
        result.messages.append(message)
        # The original bytes: in the envelope, or in its S3 claim-check object.
        has_bytes = envelope.payload_available or envelope.payload_location is not None
        sha = envelope.payload_sha256 if has_bytes else None
        for entry in matched:
            hits[id(entry)].append(_DlqHit(str(envelope.error_category), envelope.envelope_id, sha))

    counted_ids: set[str] = set()
    for entry in manifest:
        entry_hits = hits.get(id(entry), [])
        stored = stored_count[entry.record_id] > 0
        if entry.record_id not in counted_ids:
            counted_ids.add(entry.record_id)
            result.stored_duplicates += max(0, stored_count[entry.record_id] - 1)
        if stored and entry_hits:
            result.stored_and_dead_lettered.append(entry)
        if stored:
            result.stored += 1
            if entry.expected != "stored":
                result.unexpected.append((entry, "stored"))
            continue
        if not entry_hits:
            result.lost.append(entry)
            continue
        envelopes = {hit.envelope_id for hit in entry_hits}
        result.dlq_duplicates += len(envelopes) - 1
        result.dlq_redeliveries += len(entry_hits) - len(envelopes)
        reason = entry_hits[0].reason
        result.dead_lettered[reason] += 1
        if not any(hit.payload_sha256 == entry.sha256 for hit in entry_hits):
            result.without_original_bytes.append(entry)
        if entry.expected not in {hit.reason for hit in entry_hits}:
            result.unexpected.append((entry, reason))
    return result


@dataclass
class EmailAccounting:
    """The e-mail notifier's side of a run: one e-mail per notified (purchase) event."""

    notified: int = 0
    """Valid events of a notified type the stream accepted: the distinct events to mail."""
    sent: int = 0
    """E-mails SES accepted during the run."""
    dead_lettered: Counter[str] = field(default_factory=Counter)
    """Notified events the notifier dead-lettered (not mailed), by reason."""
    other_dead_lettered: int = 0
    """Other records the filter let through and the notifier dead-lettered: poison records
    whose eventType is a notified one (the processor dead-letters them too)."""

    @property
    def expected(self) -> int:
        """Distinct events that should have been mailed."""
        return self.notified - sum(self.dead_lettered.values())

    @property
    def duplicates(self) -> int:
        """E-mails sent minus distinct events mailed (0: no event mailed twice)."""
        return max(0, self.sent - self.expected)

    @property
    def missing(self) -> int:
        """Events neither mailed nor dead-lettered."""
        return max(0, self.expected - self.sent)

    @property
    def ok(self) -> bool:
        return self.duplicates == 0 and self.missing == 0

    def problems(self) -> str:
        lines = []
        if self.duplicates:
            lines.append(f"{self.duplicates} e-mails more than distinct events to mail")
        if self.missing:
            lines.append(f"{self.missing} events neither e-mailed nor dead-lettered")
        return "\n".join(lines)


def account_emails(
    manifest: Sequence[ManifestEntry],
    notified: Iterable[str],
    sent: int,
    messages: Iterable[DlqMessage],
    notifier: str,
) -> EmailAccounting:
    """``sent`` e-mails against the notified events of ``manifest`` (``notified``: their ids,
    see :func:`notified_events`), less those in the DLQ under the notifier's name."""
    ids = set(notified)
    entries = [entry for entry in manifest if entry.record_id in ids]
    messages = list(messages)
    dead = reconcile(entries, [], messages, consumer=notifier)
    others = [entry for entry in manifest if entry.record_id not in ids]
    return EmailAccounting(
        notified=len(entries),
        sent=sent,
        dead_lettered=dead.dead_lettered,
        other_dead_lettered=reconcile(others, [], messages, consumer=notifier).in_dlq,
    )


# --------------------------------------------------------------------------- output
