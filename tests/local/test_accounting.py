"""The zero-loss accounting (stream_pipeline.local.accounting) reads every DLQ message of the
stack, forged and damaged ones included: one of them must not stop the count."""

from __future__ import annotations

import hashlib

from stream_pipeline.local.accounting import DlqMessage, ManifestEntry, reconcile
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope

SHARD = "shardId-000000000000"
PAYLOAD = b'{"eventId": "e-1"}'


def _dead_lettered(sequence_number: str, consumer: str = "orders-processor") -> DlqMessage:
    envelope = DlqEnvelope.create(
        event_source="aws:kinesis",
        sequence_number=sequence_number,
        shard_id=SHARD,
        error_category="SCHEMA_VIOLATION",
        error_reason="eventType is missing",
        consumer=consumer,
        payload=PAYLOAD,
    )
    return DlqMessage(f"m-{sequence_number}", f"r-{sequence_number}", envelope.to_json())


def test_a_sequence_number_int_refuses_is_skipped_and_the_good_message_still_counts() -> None:
    # GIVEN a record the consumer dead-lettered, and next to it in the DLQ an envelope whose
    # sequence number passes str.isdigit() but not int() (a superscript two)
    entry = ManifestEntry(
        record_id="e-1",
        expected="SCHEMA_VIOLATION",
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
        shard_id=SHARD,
        sequence_number="49590338271490256608559692538361571095921575989136588898",
    )
    messages = [_dead_lettered("\N{SUPERSCRIPT TWO}"), _dead_lettered(entry.sequence_number or "")]

    # WHEN the accounting reconciles the manifest with the queue
    result = reconcile([entry], items=[], messages=messages)

    # THEN the record is accounted for in the DLQ, and the damaged envelope is not its
    assert result.lost == []
    assert [m.message_id for m in result.messages] == [messages[1].message_id]


def test_the_fraud_detectors_dead_letters_do_not_count_as_a_second_envelope() -> None:
    # GIVEN a poison purchase dead-lettered by the processor and by the fraud detector, which
    # reads purchases too (the shared DLQ)
    entry = ManifestEntry(
        record_id="e-1",
        expected="SCHEMA_VIOLATION",
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
        shard_id=SHARD,
        sequence_number="7",
    )
    messages = [_dead_lettered("7"), _dead_lettered("7", consumer="orders-fraud")]

    # WHEN reconciled for the stored records (every consumer but the side ones)
    result = reconcile([entry], items=[], messages=messages)

    # THEN in the DLQ once: the processor's envelope
    assert result.ok, result.problems()
    assert result.dlq_duplicates == 0
    assert [m.message_id for m in result.messages] == [messages[0].message_id]
