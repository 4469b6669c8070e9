"""Each message's outcome is independent of the others: whatever a message holds, it is kept
with a readable reason and the valid message next to it is replayed (moto)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from factories import kinesis_event_from_get_records
from stream_harness import Aws, Streams, harness_session, trusted_options

from stream_pipeline.replay.model import (
    INVALID_ENVELOPE,
    Clients,
    Outcome,
    RunOptions,
    parse_envelope,
)
from stream_pipeline.replay.replayer import Replayer
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, EnvelopeParseError, ErrorCategory
from stream_pipeline.runtime.hydration.reader import ShardRangeReader, StreamKind

SUPERSCRIPT_TWO = "\N{SUPERSCRIPT TWO}"
"""Passes str.isdigit(), fails int(): it once aborted a whole replay run."""


@pytest.fixture
def streams(aws: Aws) -> Streams:
    return Streams.create(aws, harness_session())


def clients(streams: Streams) -> Clients:
    return Clients(
        sqs=streams.aws.sqs,
        kinesis=streams.kinesis,
        dynamodbstreams=streams.dynamodbstreams,
        s3=streams.s3,
    )


def envelopes(streams: Streams, count: int) -> list[DlqEnvelope]:
    """``count`` records put into the stream (payload ``record-<n>``, key ``k<n>``), each as the
    stream processor dead-letters it (payload in the envelope)."""
    streams.put([f"record-{n}".encode() for n in range(count)], [f"k{n}" for n in range(count)])
    event = kinesis_event_from_get_records(
        streams.records()[-count:], stream_arn=streams.stream_arn, shard_id=streams.shard_id
    )
    return [
        DlqEnvelope.build_from_kinesis_record(
            record,
            error_category=ErrorCategory.SCHEMA_VIOLATION,
            error_reason="rejected",
            consumer="stream-processor",
        )
        for record in event["Records"]
    ]


def send(streams: Streams, body: str) -> None:
    streams.aws.sqs.send_message(QueueUrl=streams.aws.queue_url, MessageBody=body)


def edited(envelope: DlqEnvelope, edit: Callable[[dict[str, Any]], object]) -> str:
    document = json.loads(envelope.to_json())
    edit(document)
    return json.dumps(document)


def visible(streams: Streams) -> int:
    attributes = streams.aws.sqs.get_queue_attributes(
        QueueUrl=streams.aws.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def stream_tail(streams: Streams, after: str) -> list[tuple[bytes, str]]:
    return [(r["Data"], r["PartitionKey"]) for r in streams.records(after=after)]


def _pointer_with_superscript_number(document: dict[str, Any]) -> None:
    document.update(
        payload_b64=None,
        payload_available=False,
        payload_truncated=True,
        sequence_number=SUPERSCRIPT_TWO,
    )


def _set(**fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.update(fields)


def _drop(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.pop(name)


BAD_ENVELOPES = [
    pytest.param(
        _pointer_with_superscript_number,
        "sequence_number of a stream record must be 1 to 128 ASCII digits",
        id="pointer-sequence-number-superscript",
    ),
    pytest.param(
        _set(sequence_number=SUPERSCRIPT_TWO),
        "sequence_number of a stream record must be 1 to 128 ASCII digits",
        id="sequence-number-superscript",
    ),
    pytest.param(
        _set(sequence_number="\N{ARABIC-INDIC DIGIT ONE}2"),
        "sequence_number of a stream record must be 1 to 128 ASCII digits",
        id="sequence-number-arabic-indic-digit",
    ),
    pytest.param(
        _set(end_sequence_number="9" * 129),
        "end_sequence_number of a stream record must be 1 to 128 ASCII digits",
        id="end-sequence-number-too-long",
    ),
    pytest.param(
        _set(sequence_number=42),
        "sequence_number: Input should be a valid string",
        id="sequence-number-as-integer",
    ),
    pytest.param(
        _set(payload_length="three"),
        "payload_length: Input should be a valid integer",
        id="payload-length-as-text",
    ),
    pytest.param(_drop("consumer"), "consumer: Field required", id="no-consumer"),
    pytest.param(_drop("failed_at"), "failed_at: Field required", id="no-failed-at"),
    pytest.param(
        _set(payload_sha256="0" * 64),
        "payload_sha256 does not match the payload",
        id="payload-hash-mismatch",
    ),
    pytest.param(
        _set(payload_b64="bm90IHRoZSBzYW1lIGJ5dGVz"),
        "payload_length 8 != actual length 18",
        id="payload-replaced",
    ),
    pytest.param(
        _set(envelope_version=True),
        "unsupported DLQ envelope_version True",
        id="envelope-version-true",
    ),
]


@pytest.mark.parametrize(("edit", "why"), BAD_ENVELOPES)
def test_a_malformed_envelope_is_kept_with_its_reason_and_its_neighbours_are_replayed(
    streams: Streams, edit: Callable[[dict[str, Any]], None], why: str
) -> None:
    """GIVEN a valid envelope, a malformed one (bad sequence number, wrong type, missing field,
    payload not matching its hash, ...) and another valid one, in that order
    WHEN the DLQ is replayed
    THEN both valid records are put back and their messages deleted; the malformed message
    stays (visible again), reported as INVALID_ENVELOPE with a reason naming what is wrong.
    """
    first, middle, last = envelopes(streams, 3)
    for body in (first.to_json(), edited(middle, edit), last.to_json()):
        send(streams, body)

    report = Replayer(
        clients(streams),
        RunOptions(queue_url=streams.aws.queue_url, wait_seconds=0, **trusted_options(streams)),
    ).run()

    assert report.counts == {
        "SCHEMA_VIOLATION": Counter({Outcome.REPLAYED: 2}),
        INVALID_ENVELOPE: Counter({Outcome.KEPT: 1}),
    }
    (kept,) = report.kept
    assert why in kept.why
    assert stream_tail(streams, last.sequence_number) == [(b"record-0", "k0"), (b"record-2", "k2")]
    assert visible(streams) == 1


NOT_ENVELOPES = [
    pytest.param("hello {", "DLQ envelope is not valid JSON", id="not-json"),
    pytest.param("", "DLQ envelope is not valid JSON", id="empty"),
    pytest.param("[1, 2]", "DLQ envelope must be a JSON object, got list", id="json-array"),
    pytest.param('"text"', "DLQ envelope must be a JSON object, got str", id="json-string"),
    pytest.param("null", "DLQ envelope must be a JSON object, got NoneType", id="json-null"),
    pytest.param("[" * 50_000, "DLQ envelope is not valid JSON", id="nested-too-deep"),
    pytest.param(
        json.dumps({"envelope_version": 1, "junk": "x" * 200_000}),
        "malformed DLQ envelope",
        id="huge-body",
    ),
    pytest.param(
        "\N{SUPERSCRIPT TWO}", "DLQ envelope is not valid JSON", id="superscript-digit-body"
    ),
]


@pytest.mark.parametrize(("body", "why"), NOT_ENVELOPES)
def test_a_body_that_is_no_envelope_is_kept_and_the_run_goes_on(
    streams: Streams, body: str, why: str
) -> None:
    """GIVEN a body that is not an envelope at all (not JSON, another JSON type, nested too
    deep, 200 KB of junk) between two valid envelopes
    WHEN replayed THEN it stays with its reason, and both valid records are put back."""
    first, last = envelopes(streams, 2)
    for text in (first.to_json(), body, last.to_json()):
        send(streams, text)

    report = Replayer(
        clients(streams),
        RunOptions(queue_url=streams.aws.queue_url, wait_seconds=0, **trusted_options(streams)),
    ).run()

    (kept,) = report.kept
    assert (kept.label, why in kept.why) == (INVALID_ENVELOPE, True), kept.why
    assert report.total(Outcome.REPLAYED) == 2
    assert stream_tail(streams, last.sequence_number) == [(b"record-0", "k0"), (b"record-1", "k1")]
    assert visible(streams) == 1


def test_an_unexpected_error_on_one_message_does_not_abort_the_run(streams: Streams) -> None:
    """GIVEN a pointer-only envelope whose stream read fails in a way nobody foresaw (the
    reader raises a plain ValueError), between two envelopes with their payload
    WHEN replayed
    THEN that message stays, reported with the error, and both others are put back."""
    first, middle, last = envelopes(streams, 3)
    pointer = middle.without_payload()
    for envelope in (first, pointer, last):
        send(streams, envelope.to_json())

    class BrokenReader:
        def read(self, **_: Any) -> Any:
            msg = "something no one foresaw"
            raise ValueError(msg)

    def reader(kind: StreamKind) -> ShardRangeReader:
        return BrokenReader()  # type: ignore[return-value]

    report = Replayer(
        clients(streams),
        RunOptions(queue_url=streams.aws.queue_url, wait_seconds=0, **trusted_options(streams)),
        reader=reader,
    ).run()

    (kept,) = report.kept
    assert kept.why == (
        "not replayable: unexpected error while reading it (ValueError: something no one foresaw)"
    )
    assert report.total(Outcome.REPLAYED) == 2
    assert stream_tail(streams, last.sequence_number) == [(b"record-0", "k0"), (b"record-2", "k2")]
    assert visible(streams) == 1


@pytest.mark.parametrize(
    "number", ["0", "7", "49590338271490256608559692538361571095921575989136588898"]
)
def test_ascii_sequence_numbers_still_parse(streams: Streams, number: str) -> None:
    """GIVEN an envelope whose sequence number is ASCII digits (the emulator's short ones, AWS's
    56-digit ones) WHEN the replay parses it THEN it reads; with a superscript digit it does
    not."""
    (envelope,) = envelopes(streams, 1)
    document = json.loads(envelope.to_json())

    parsed = parse_envelope(json.dumps({**document, "sequence_number": number}))

    assert parsed.sequence_number == number
    with pytest.raises(EnvelopeParseError, match="ASCII digits"):
        parse_envelope(json.dumps({**document, "sequence_number": number + SUPERSCRIPT_TWO}))
