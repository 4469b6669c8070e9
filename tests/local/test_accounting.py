"""The zero-loss accounting (stream_pipeline.local.accounting) reads every DLQ message of the
stack, forged and damaged ones included: one of them must not stop the count."""

from __future__ import annotations

import hashlib

import pytest

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
    return DlqMessage(f"m-{consumer}-{sequence_number}", f"r-{sequence_number}", envelope.to_json())


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


@pytest.mark.parametrize("side_consumer", ["orders-trending", "orders-fraud"])
def test_a_side_consumers_dead_letter_of_a_record_is_not_a_second_one(side_consumer: str) -> None:
    # GIVEN a poison record both the processor and a side consumer (the trending aggregator, the
    # fraud detector) dead-lettered: each consumer of the stream rejects it on its own
    sequence_number = "7"
    entry = ManifestEntry(
        record_id="e-1",
        expected="SCHEMA_VIOLATION",
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
        shard_id=SHARD,
        sequence_number=sequence_number,
    )
    messages = [
        _dead_lettered(sequence_number),
        _dead_lettered(sequence_number, consumer=side_consumer),
    ]

    # WHEN the default accounting (the results-table consumers) reconciles the manifest
    default = reconcile([entry], items=[], messages=messages)
    # AND the side consumer's own accounting does
    own = reconcile([entry], items=[], messages=messages, consumer=side_consumer)

    # THEN each counts the record once in the DLQ, from its own consumer's message
    assert (default.lost, default.dlq_duplicates, default.in_dlq) == ([], 0, 1)
    assert [m.message_id for m in default.messages] == [messages[0].message_id]
    assert (own.lost, own.dlq_duplicates, own.in_dlq) == ([], 0, 1)
    assert [m.message_id for m in own.messages] == [messages[1].message_id]
