"""The replay CLI against moto: DLQ envelopes (made by the real stream processor and hydrate
function) -> PutRecords into the stream -> the stream processor stores them; failures keep
exactly their messages."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber
from factories import (
    MISSING,
    Intercepted,
    always_raise,
    async_invocation_record,
    client_error,
    encode,
    kinesis_event_from_get_records,
    on_failure_record,
    retail_event,
    sns_event,
)
from rich.console import Console
from stream_harness import (
    Aws,
    Harness,
    HydrateHarness,
    Streams,
    harness_session,
    trusted_args,
    trusted_options,
)

from hydrate import app as hydrate_app
from hydrate.app import DlqSendError
from stream_pipeline.replay import cli as replay
from stream_pipeline.replay.model import HYDRATE_FAILED, Clients, Outcome, ReplayReport, RunOptions
from stream_pipeline.replay.replayer import Replayer
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, ErrorCategory, reason_code


@pytest.fixture
def streams(aws: Aws) -> Streams:
    return Streams.create(aws, harness_session())


@pytest.fixture
def hydrate(streams: Streams, monkeypatch: pytest.MonkeyPatch) -> Iterator[HydrateHarness]:
    monkeypatch.delenv("PAYLOAD_BUCKET", raising=False)
    harness = HydrateHarness(streams)
    harness.configure()
    yield harness
    hydrate_app.set_dependencies(None)


def clients(streams: Streams, *, kinesis: Any = None) -> Clients:
    return Clients(
        sqs=streams.aws.sqs,
        kinesis=kinesis if kinesis is not None else streams.kinesis,
        dynamodbstreams=streams.dynamodbstreams,
        s3=streams.s3,
    )


def run_replay(streams: Streams, *, kinesis: Any = None, **options: Any) -> ReplayReport:
    settings = RunOptions(
        queue_url=streams.aws.queue_url, wait_seconds=0, **{**trusted_options(streams), **options}
    )
    return Replayer(clients(streams, kinesis=kinesis), settings).run()


def run_cli(streams: Streams, *args: str, kinesis: Any = None) -> tuple[int, str]:
    out = io.StringIO()
    console = Console(file=out, width=250, no_color=True)
    code = replay.main(
        [
            "run",
            "--queue-url",
            streams.aws.queue_url,
            "--wait-seconds",
            "0",
            *trusted_args(streams),
            *args,
        ],
        clients=clients(streams, kinesis=kinesis),
        console=console,
        error_console=console,
    )
    return code, out.getvalue()


def run_stats(streams: Streams) -> tuple[int, str]:
    out = io.StringIO()
    code = replay.main(
        ["stats", "--inspect", "--queue-url", streams.aws.queue_url, "--wait-seconds", "0"],
        clients=clients(streams),
        console=Console(file=out, width=250, no_color=True),
    )
    return code, out.getvalue()


def hydrate_failed_batch(
    hydrate: HydrateHarness, streams: Streams, payloads: list[bytes], keys: list[str]
) -> list[str]:
    """Put the records, then let the hydrate function dead-letter their failed batch."""
    numbers = streams.put(payloads, keys)
    hydrate.invoke(
        sns_event(
            on_failure_record(
                start=numbers[0],
                end=numbers[-1],
                batch_size=len(numbers),
                stream_arn=streams.stream_arn,
                shard_id=streams.shard_id,
            )
        )
    )
    return numbers


def stream_tail(streams: Streams, after: str) -> list[tuple[bytes, str]]:
    return [(r["Data"], r["PartitionKey"]) for r in streams.records(after=after)]


def visible_messages(streams: Streams) -> int:
    attributes = streams.aws.sqs.get_queue_attributes(
        QueueUrl=streams.aws.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


# --------------------------------------------------------------------------- round trip


def test_round_trip_puts_records_back_and_the_stream_processor_stores_them(
    aws: Aws, streams: Streams, hydrate: HydrateHarness, harness: Harness
) -> None:
    """GIVEN 3 valid events whose batch exhausted its retries (hydrated into the DLQ) and 2
    valid events the stream processor rejected while MAX_RECORD_BYTES was set too low
    WHEN the DLQ is replayed
    THEN the 5 records are back in the stream with their original bytes and partition keys, the
    DLQ is empty, and the stream processor (limit fixed) stores all 5 from the replayed records;
    a second replay changes nothing.
    """
    failed = [encode(retail_event(userId=f"failed-{n}")) for n in range(3)]
    failed_keys = [f"pk-failed-{n}" for n in range(3)]
    hydrate_failed_batch(hydrate, streams, failed, failed_keys)
    large = [encode(retail_event(userId=f"large-{n}", note="x" * 300)) for n in range(2)]
    large_keys = ["pk-large-0", "pk-large-1"]
    large_numbers = streams.put(large, large_keys)
    harness.configure(max_record_bytes=200)
    rejected = kinesis_event_from_get_records(
        streams.records()[3:], stream_arn=streams.stream_arn, shard_id=streams.shard_id
    )
    assert harness.invoke(rejected) == {"batchItemFailures": []}
    last = large_numbers[-1]

    report = run_replay(streams)

    replayed = streams.records(after=last)
    assert sorted((r["Data"], r["PartitionKey"]) for r in replayed) == sorted(
        zip(failed + large, failed_keys + large_keys, strict=True)
    )
    assert report.counts == {
        "RETRIES_EXHAUSTED": Counter({Outcome.REPLAYED: 3}),
        "OVERSIZED": Counter({Outcome.REPLAYED: 2}),
    }
    assert report.kept == []
    assert report.put_requests == 1
    assert streams.dlq_count() == 0

    harness.configure()
    event = kinesis_event_from_get_records(
        replayed, stream_arn=streams.stream_arn, shard_id=streams.shard_id
    )
    assert harness.invoke(event) == {"batchItemFailures": []}
    assert sorted(item["userId"] for item in aws.items()) == [
        "failed-0",
        "failed-1",
        "failed-2",
        "large-0",
        "large-1",
    ]
    assert streams.dlq_count() == 0

    second = run_replay(streams)

    assert second.counts == {}
    assert second.records_put == 0
    assert len(streams.records(after=last)) == 5


def test_dry_run_changes_nothing(streams: Streams, hydrate: HydrateHarness) -> None:
    """GIVEN 3 hydrated envelopes in the DLQ
    WHEN replayed with --dry-run
    THEN it reports 3 that would be replayed and exits 0, the stream is unchanged and the 3
    messages are still in the DLQ, visible again at once.
    """
    numbers = hydrate_failed_batch(hydrate, streams, [b"a", b"b", b"c"], ["k1", "k2", "k3"])

    code, output = run_cli(streams, "--dry-run", "--no-progress")

    assert code == 0
    assert "dry run" in output
    assert stream_tail(streams, numbers[-1]) == []
    assert visible_messages(streams) == 3
    assert "RETRIES_EXHAUSTED" in output


def test_partial_put_records_failure_keeps_exactly_those_messages(
    streams: Streams, hydrate: HydrateHarness
) -> None:
    """GIVEN 4 envelopes, and a stream that refuses 2 of the records (per-record ErrorCode in
    the PutRecords response)
    WHEN replayed
    THEN the 2 accepted records are in the stream and their messages deleted; exactly the 2
    refused records' messages stay in the DLQ, reported with the error code; exit status 1.
    """
    payloads = [b"r0", b"r1", b"r2", b"r3"]
    keys = ["ok-0", "throttled-1", "ok-2", "throttled-3"]
    numbers = hydrate_failed_batch(hydrate, streams, payloads, keys)

    def refuse_throttled(real: Any, **params: Any) -> Any:
        records = params["Records"]
        passed = [r for r in records if not r["PartitionKey"].startswith("throttled")]
        results = iter(real(**{**params, "Records": passed})["Records"]) if passed else iter(())
        return {
            "FailedRecordCount": len(records) - len(passed),
            "Records": [
                {
                    "ErrorCode": "ProvisionedThroughputExceededException",
                    "ErrorMessage": "Rate exceeded for shard",
                }
                if r["PartitionKey"].startswith("throttled")
                else next(results)
                for r in records
            ],
        }

    kinesis = Intercepted(streams.kinesis, put_records=refuse_throttled)

    code, output = run_cli(streams, "--no-progress", kinesis=kinesis)

    assert code == 1
    assert sorted(stream_tail(streams, numbers[-1])) == [(b"r0", "ok-0"), (b"r2", "ok-2")]
    left = streams.aws.dlq_envelopes()
    assert sorted(e.partition_key or "" for e in left) == ["throttled-1", "throttled-3"]
    assert "ProvisionedThroughputExceededException" in output
    for envelope in left:
        assert envelope.envelope_id in output


# --------------------------------------------------------------------------- what stays


def test_invalid_bodies_and_unreadable_on_failure_records_are_kept_and_reported(
    streams: Streams, hydrate: HydrateHarness
) -> None:
    """GIVEN a message that is not an envelope and a not-hydrated envelope (malformed on-failure
    record)
    WHEN replayed
    THEN neither is put nor deleted; both are reported with why.
    """
    streams.aws.sqs.send_message(QueueUrl=streams.aws.queue_url, MessageBody="hello")
    hydrate.invoke(sns_event("{broken"))
    before = len(streams.records())

    report = run_replay(streams)

    assert len(streams.records()) == before
    assert report.counts == {
        "INVALID_ENVELOPE": Counter({Outcome.KEPT: 1}),
        "MALFORMED_ON_FAILURE_RECORD": Counter({Outcome.KEPT: 1}),
    }
    whys = {item.label: item.why for item in report.kept}
    assert "not valid JSON" in whys["INVALID_ENVELOPE"]
    assert "could not read this on-failure record" in whys["MALFORMED_ON_FAILURE_RECORD"]
    assert visible_messages(streams) == 2


def test_dynamodb_stream_envelope_is_skipped_without_target_and_replayed_with_one(
    aws: Aws, streams: Streams, hydrate: HydrateHarness, harness: Harness
) -> None:
    """GIVEN a hydrated DynamoDB stream record in the DLQ
    WHEN replayed without --target THEN it is kept, reported as skipped;
    WHEN replayed with --target <kinesis stream> THEN its NewImage goes in as plain JSON and the
    stream processor stores the event.
    """
    document = {"pk": "outbox#1", **retail_event(userId="from-ddb")}
    numbers = streams.write_source_items([document])
    hydrate.invoke(
        on_failure_record(
            start=numbers[0],
            end=numbers[0],
            batch_size=1,
            source="dynamodb",
            stream_arn=streams.dynamodb_stream_arn,
            shard_id=streams.dynamodb_shard_id,
        )
    )

    skipped = run_replay(streams)

    (kept,) = skipped.kept
    assert kept.why.startswith("skipped: a DynamoDB stream record cannot be put back")
    assert streams.records() == []

    report = run_replay(streams, target="retail-events")

    assert report.total(Outcome.REPLAYED) == 1
    (record,) = streams.records()
    assert json.loads(record["Data"]) == document
    event = kinesis_event_from_get_records(
        [record], stream_arn=streams.stream_arn, shard_id=streams.shard_id
    )
    assert harness.invoke(event) == {"batchItemFailures": []}
    assert [item["userId"] for item in aws.items()] == ["from-ddb"]


def test_dynamodb_stream_record_with_binary_attributes_is_hydrated_replayed_and_stored(
    aws: Aws, streams: Streams, hydrate: HydrateHarness, harness: Harness
) -> None:
    """GIVEN a DynamoDB stream record whose item has Binary values (a B and, in a map, a BS),
    hydrated into the DLQ after its batch failed
    WHEN replayed with --target <kinesis stream>
    THEN its NewImage goes in as plain JSON with each binary value as base64 text, and the
    stream processor stores the event.
    """
    document = {"pk": "outbox#2", **retail_event(userId="with-binary")}
    binary = {
        "signature": {"B": b"\xde\xad\xbe\xef"},
        "parts": {"M": {"chunks": {"BS": [b"\x00\x01", b"\x02"]}}},
    }
    numbers = streams.write_source_items([document], typed_attributes=binary)
    hydrate.invoke(
        on_failure_record(
            start=numbers[0],
            end=numbers[0],
            batch_size=1,
            source="dynamodb",
            stream_arn=streams.dynamodb_stream_arn,
            shard_id=streams.dynamodb_shard_id,
        )
    )

    report = run_replay(streams, target="retail-events")

    assert report.total(Outcome.REPLAYED) == 1
    (record,) = streams.records()
    replayed = json.loads(record["Data"])
    assert replayed["signature"] == "3q2+7w=="
    assert sorted(replayed["parts"]["chunks"]) == ["AAE=", "Ag=="]
    event = kinesis_event_from_get_records(
        [record], stream_arn=streams.stream_arn, shard_id=streams.shard_id
    )
    assert harness.invoke(event) == {"batchItemFailures": []}
    (item,) = aws.items()
    assert json.loads(item["extra"])["signature"] == "3q2+7w=="


def test_pointer_only_envelope_is_hydrated_from_the_stream(
    streams: Streams, hydrate: HydrateHarness
) -> None:
    """GIVEN a 300 KB record dead-lettered without payload (no PAYLOAD_BUCKET)
    WHEN replayed
    THEN the record is re-read from the stream (AT_SEQUENCE_NUMBER), checked against the
    envelope's sha256, and put back byte for byte with its partition key.
    """
    payload = bytes(range(256)) * 1200
    numbers = hydrate_failed_batch(hydrate, streams, [payload], ["big-key"])
    (envelope,) = streams.aws.dlq_envelopes()
    assert envelope.payload_truncated
    streams.aws.sqs.purge_queue(QueueUrl=streams.aws.queue_url)
    streams.aws.sqs.send_message(QueueUrl=streams.aws.queue_url, MessageBody=envelope.to_json())

    report = run_replay(streams)

    assert report.total(Outcome.REPLAYED) == 1
    assert stream_tail(streams, numbers[-1]) == [(payload, "big-key")]


def test_claim_checked_envelope_is_replayed_from_s3(
    streams: Streams, hydrate: HydrateHarness
) -> None:
    """GIVEN a 300 KB record dead-lettered with its payload in the S3 claim-check bucket
    WHEN replayed THEN the bytes come from S3 (checked) and go back into the stream.
    """
    hydrate.configure(payload_bucket="stream-pipeline-dlq-payloads")
    payload = b"\x01" * 300_000
    numbers = hydrate_failed_batch(hydrate, streams, [payload], ["s3-key"])
    kinesis = Intercepted(streams.kinesis, get_records=lambda real, **params: real(**params))

    report = run_replay(streams, kinesis=kinesis)

    assert report.total(Outcome.REPLAYED) == 1
    assert kinesis.calls == []  # nothing re-read from the stream
    assert stream_tail(streams, numbers[-1]) == [(payload, "s3-key")]


def test_records_gone_from_the_stream_stay_in_the_dlq(
    streams: Streams, hydrate: HydrateHarness
) -> None:
    """GIVEN a payload-unavailable pointer (its records are not in the stream)
    WHEN replayed THEN the pointer stays, reported "payload unavailable"; nothing is put.
    """
    numbers = streams.put([b"only"])
    hydrate.invoke(
        on_failure_record(
            start=str(int(numbers[0]) + 1),
            end=str(int(numbers[0]) + 3),
            batch_size=3,
            stream_arn=streams.stream_arn,
            shard_id=streams.shard_id,
        )
    )

    report = run_replay(streams)

    (kept,) = report.kept
    assert kept.label == "PAYLOAD_UNAVAILABLE"
    assert kept.why.startswith("payload unavailable")
    assert len(streams.records()) == 1


def test_range_pointer_left_by_hydrate_is_read_and_replayed(
    streams: Streams, hydrate: HydrateHarness
) -> None:
    """GIVEN a batch of 1 whose range held 15 records: 10 hydrated, a pointer for the other 5
    WHEN replayed
    THEN all 15 records are put back (the pointer's 5 read from the stream) and the DLQ is
    empty.
    """
    payloads = [f"p{n}".encode() for n in range(15)]
    numbers = streams.put(payloads, [f"k{n}" for n in range(15)])
    hydrate.invoke(
        on_failure_record(
            start=numbers[0],
            end=numbers[-1],
            batch_size=1,
            stream_arn=streams.stream_arn,
            shard_id=streams.shard_id,
        )
    )
    assert streams.dlq_count() == 11

    report = run_replay(streams)

    assert report.records_put == 15
    assert sorted(data for data, _ in stream_tail(streams, numbers[-1])) == sorted(payloads)
    assert streams.dlq_count() == 0


# --------------------------------------------------------------------------- options


def test_reason_filter_replays_only_that_category(
    streams: Streams, hydrate: HydrateHarness, harness: Harness
) -> None:
    """GIVEN a hydrated envelope (RETRIES_EXHAUSTED) and a rejected one (INVALID_JSON)
    WHEN replayed with --reason RETRIES_EXHAUSTED
    THEN only the first is put and deleted; the other is untouched and still visible.
    """
    numbers = hydrate_failed_batch(hydrate, streams, [b'{"a": 1}'], ["k"])
    harness.invoke(
        kinesis_event_from_get_records(
            [{**streams.records()[0], "Data": b"{oops"}],
            stream_arn=streams.stream_arn,
            shard_id=streams.shard_id,
        )
    )

    report = run_replay(streams, reasons=frozenset({"RETRIES_EXHAUSTED"}))

    assert report.counts == {
        "RETRIES_EXHAUSTED": Counter({Outcome.REPLAYED: 1}),
        "INVALID_JSON": Counter({Outcome.FILTERED: 1}),
    }
    assert stream_tail(streams, numbers[-1]) == [(b'{"a": 1}', "k")]
    (left,) = streams.aws.dlq_envelopes()
    assert left.error_category is ErrorCategory.INVALID_JSON


def test_max_handles_at_most_n_messages(streams: Streams, hydrate: HydrateHarness) -> None:
    numbers = hydrate_failed_batch(hydrate, streams, [b"1", b"2", b"3", b"4", b"5"], ["k"] * 5)

    report = run_replay(streams, max_messages=2)

    assert report.total(Outcome.REPLAYED) == 2
    assert len(stream_tail(streams, numbers[-1])) == 2
    assert streams.dlq_count() == 3


def test_duplicate_envelopes_are_put_once_and_all_deleted(
    streams: Streams, hydrate: HydrateHarness
) -> None:
    """GIVEN the same on-failure record hydrated twice (two copies of each envelope)
    WHEN replayed THEN each record is put once and every copy is deleted.
    """
    numbers = streams.put([b"x", b"y"], ["kx", "ky"])
    event = on_failure_record(
        start=numbers[0],
        end=numbers[-1],
        batch_size=2,
        stream_arn=streams.stream_arn,
        shard_id=streams.shard_id,
    )
    hydrate.invoke(event)
    hydrate.invoke(event)

    report = run_replay(streams)

    assert sorted(stream_tail(streams, numbers[-1])) == [(b"x", "kx"), (b"y", "ky")]
    assert report.duplicates == 2
    assert report.total(Outcome.REPLAYED) == 4
    assert streams.dlq_count() == 0


def test_stats_counts_per_reason_and_changes_nothing(
    streams: Streams, hydrate: HydrateHarness
) -> None:
    hydrate_failed_batch(hydrate, streams, [b"1", b"2"], ["k1", "k2"])
    streams.aws.sqs.send_message(QueueUrl=streams.aws.queue_url, MessageBody="junk")
    code, output = run_stats(streams)

    assert code == 0
    lines = output.splitlines()
    (retries,) = [line for line in lines if "RETRIES_EXHAUSTED" in line]
    assert retries.split("│")[2].strip() == "2"  # messages
    assert any("INVALID_ENVELOPE" in line for line in lines)
    assert visible_messages(streams) == 3


def test_envelope_parse_of_replayed_message_matches_original(
    streams: Streams, hydrate: HydrateHarness
) -> None:
    """GIVEN an envelope in the DLQ WHEN replayed THEN the record put is its original_bytes."""
    numbers = hydrate_failed_batch(hydrate, streams, ["é".encode()], ["k"])
    (envelope,) = [DlqEnvelope.parse(body) for body in streams.aws.dlq_bodies()]
    streams.aws.sqs.purge_queue(QueueUrl=streams.aws.queue_url)
    streams.aws.sqs.send_message(QueueUrl=streams.aws.queue_url, MessageBody=envelope.to_json())

    run_replay(streams)

    assert stream_tail(streams, numbers[-1]) == [(envelope.original_bytes(), "k")]


# --------------------------------------------------------------------------- failed hydrate runs


def send_body(streams: Streams, body: dict[str, Any] | str) -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    streams.aws.sqs.send_message(QueueUrl=streams.aws.queue_url, MessageBody=text)


def failed_hydrate_invocation(
    hydrate: HydrateHarness, streams: Streams, payloads: list[bytes], keys: list[str]
) -> tuple[list[str], dict[str, Any]]:
    """Put the records; the hydrate function fails on their batch because the DLQ refuses its
    envelopes; Lambda sends its record of the failed invocation to the DLQ."""
    numbers = streams.put(payloads, keys)
    event = sns_event(
        on_failure_record(
            start=numbers[0],
            end=numbers[-1],
            batch_size=len(numbers),
            stream_arn=streams.stream_arn,
            shard_id=streams.shard_id,
        )
    )
    refused = client_error("AccessDenied", "SendMessageBatch", status=403)
    hydrate.configure(sqs=Intercepted(streams.aws.sqs, send_message_batch=always_raise(refused)))
    with pytest.raises(DlqSendError) as failure:
        hydrate.invoke(event)
    hydrate.configure()
    record = async_invocation_record(event, error_message=str(failure.value))
    send_body(streams, record)
    return numbers, record


def test_failed_hydrate_invocation_is_hydrated_again_replayed_and_deleted(
    aws: Aws, streams: Streams, hydrate: HydrateHarness, harness: Harness
) -> None:
    """GIVEN 3 valid events whose batch exhausted the consumer's retries, and a hydrate function
    that failed on that batch (the DLQ refused its envelopes), so that the DLQ holds only
    Lambda's record of the failed asynchronous invocation
    WHEN the DLQ is replayed
    THEN the 3 records are read back from the stream and put again with their bytes and
    partition keys, in one PutRecords call; the record is deleted, reported under
    HYDRATE_FAILED; the stream processor stores the 3 events from the replayed records.
    """
    payloads = [encode(retail_event(userId=f"async-{n}")) for n in range(3)]
    keys = ["pk-a0", "pk-a1", "pk-a2"]
    numbers, _ = failed_hydrate_invocation(hydrate, streams, payloads, keys)
    assert streams.dlq_count() == 1

    report = run_replay(streams)

    assert report.counts == {HYDRATE_FAILED: Counter({Outcome.REPLAYED: 1})}
    assert report.kept == []
    assert (report.records_put, report.put_requests) == (3, 1)
    assert stream_tail(streams, numbers[-1]) == list(zip(payloads, keys, strict=True))
    assert streams.dlq_count() == 0
    replayed = kinesis_event_from_get_records(
        streams.records(after=numbers[-1]), stream_arn=streams.stream_arn, shard_id=streams.shard_id
    )
    assert harness.invoke(replayed) == {"batchItemFailures": []}
    assert sorted(item["userId"] for item in aws.items()) == ["async-0", "async-1", "async-2"]


def test_records_already_dead_lettered_by_hydrate_are_put_once(
    streams: Streams, hydrate: HydrateHarness
) -> None:
    """GIVEN the hydrate function's envelopes of a batch AND Lambda's record of a failed
    invocation for the same batch (a retry that succeeded after a failed attempt was recorded)
    WHEN replayed THEN each record is put once and all 3 messages are deleted.
    """
    numbers = streams.put([b"x", b"y"], ["kx", "ky"])
    event = sns_event(
        on_failure_record(
            start=numbers[0],
            end=numbers[-1],
            batch_size=2,
            stream_arn=streams.stream_arn,
            shard_id=streams.shard_id,
        )
    )
    hydrate.invoke(event)
    send_body(streams, async_invocation_record(event))

    report = run_replay(streams)

    assert sorted(stream_tail(streams, numbers[-1])) == [(b"x", "kx"), (b"y", "ky")]
    assert report.records_put == 2
    assert report.counts == {
        "RETRIES_EXHAUSTED": Counter({Outcome.REPLAYED: 2}),
        HYDRATE_FAILED: Counter({Outcome.REPLAYED: 1}),
    }
    assert streams.dlq_count() == 0


def test_direct_on_failure_record_in_request_payload_is_replayed(streams: Streams) -> None:
    """GIVEN a failed invocation whose requestPayload is an on-failure record passed directly
    (a manual re-run of the hydrate function) WHEN replayed THEN its records are put back."""
    numbers = streams.put([b"d1", b"d2"], ["k1", "k2"])
    batch = on_failure_record(
        start=numbers[0],
        end=numbers[-1],
        batch_size=2,
        stream_arn=streams.stream_arn,
        shard_id=streams.shard_id,
    )
    send_body(streams, async_invocation_record(batch, condition="EventAgeExceeded"))

    report = run_replay(streams)

    assert report.total(Outcome.REPLAYED) == 1
    assert stream_tail(streams, numbers[-1]) == [(b"d1", "k1"), (b"d2", "k2")]


def test_failed_invocation_whose_records_left_the_stream_is_kept(
    streams: Streams, hydrate: HydrateHarness
) -> None:
    """GIVEN a record of a failed hydrate invocation for a batch of 3 of which only the first
    record is in the stream (the other sequence numbers are past the end of the shard)
    WHEN replayed THEN nothing is put, not even the readable record; the message stays, visible
    again, reported "payload unavailable" with the missing range and the way out; exit 1.
    """
    numbers = streams.put([b"only"])
    last = int(numbers[-1])
    event = sns_event(
        on_failure_record(
            start=str(last),
            end=str(last + 2),
            batch_size=3,
            stream_arn=streams.stream_arn,
            shard_id=streams.shard_id,
        )
    )
    send_body(streams, async_invocation_record(event))

    code, output = run_cli(streams, "--no-progress")

    assert code == 1
    assert stream_tail(streams, numbers[-1]) == []
    assert visible_messages(streams) == 1
    report = run_replay(streams)
    (kept,) = report.kept
    assert kept.label == HYDRATE_FAILED
    assert kept.why.startswith(
        f"payload unavailable: 2 record(s) of shard {streams.shard_id} of {streams.stream_arn} "
        f"from sequence number after {last} to {last + 2} are no longer in the stream ("
    )
    assert "1 record(s) of the batch are still in the stream: invoke the hydrate" in kept.why
    assert kept.why.endswith(
        "hydrate function arn:aws:lambda:eu-west-1:123456789012:function:hydrate:$LATEST failed: "
        "retries exhausted (RetriesExhausted) after 3 attempts: Unhandled: DlqSendError: "
        "1 of 1 DLQ envelope(s) not accepted by SQS"
    )
    assert "HYDRATE_FAILED" in output


def test_failed_invocation_whose_records_were_trimmed_is_kept(streams: Streams) -> None:
    """GIVEN a record of a failed hydrate invocation, and a stream that answers
    TrimmedDataAccessException for the batch's start (retention ran out; botocore Stubber)
    WHEN replayed THEN nothing is put, the message stays, reported "payload unavailable"."""
    batch = on_failure_record(
        start="4964",
        end="4966",
        batch_size=3,
        stream_arn=streams.stream_arn,
        shard_id=streams.shard_id,
    )
    send_body(streams, async_invocation_record(sns_event(batch)))
    kinesis = harness_session().client("kinesis")
    stubber = Stubber(kinesis)
    stubber.add_client_error(
        "get_shard_iterator",
        service_error_code="TrimmedDataAccessException",
        service_message="The operation is trying to access trimmed data",
        expected_params={
            "StreamARN": streams.stream_arn,
            "ShardId": streams.shard_id,
            "ShardIteratorType": "AT_SEQUENCE_NUMBER",
            "StartingSequenceNumber": "4964",
        },
    )

    with stubber:
        report = run_replay(streams, kinesis=kinesis)

    stubber.assert_no_pending_responses()  # read once; nothing put (no put_records stubbed)
    (kept,) = report.kept
    assert kept.why.startswith("payload unavailable: 3 record(s)")
    assert "TrimmedDataAccessException" in kept.why
    assert report.counts == {HYDRATE_FAILED: Counter({Outcome.KEPT: 1})}
    assert visible_messages(streams) == 1


@pytest.mark.parametrize(
    ("body", "why"),
    [
        pytest.param(
            async_invocation_record(sns_event("{broken")),
            "requestPayload holds no readable on-failure record (on-failure record is not valid",
            id="sns-message-not-json",
        ),
        pytest.param(
            async_invocation_record({"Records": [{"EventSource": "aws:sns", "Sns": {}}]}),
            "requestPayload holds no readable on-failure record",
            id="sns-record-without-message",
        ),
        pytest.param(
            async_invocation_record(None),
            "requestPayload holds no readable on-failure record",
            id="request-payload-null",
        ),
        pytest.param(
            async_invocation_record(
                sns_event(on_failure_record(start="1", end="1", batch_size=1)),
                invoke_count="3",
            ),
            "malformed asynchronous invocation record: requestContext.approximateInvokeCount",
            id="invoke-count-as-string",
        ),
        pytest.param(
            async_invocation_record(
                sns_event(on_failure_record(start="1", end="1", batch_size=1)),
                timestamp=MISSING,
            ),
            "malformed asynchronous invocation record: timestamp: Field required",
            id="no-timestamp",
        ),
    ],
)
def test_malformed_failed_invocation_records_are_kept_and_reported(
    streams: Streams, body: dict[str, Any], why: str
) -> None:
    """GIVEN a record of a failed hydrate invocation that cannot be read
    WHEN replayed THEN it is kept (visible again), reported under HYDRATE_FAILED with why;
    nothing is put."""
    send_body(streams, body)

    report = run_replay(streams)

    (kept,) = report.kept
    assert kept.label == HYDRATE_FAILED
    assert why in kept.why
    assert streams.records() == []
    assert visible_messages(streams) == 1


def test_failed_invocation_is_kept_when_one_of_its_records_is_refused(
    streams: Streams, hydrate: HydrateHarness
) -> None:
    """GIVEN a record of a failed hydrate invocation for 3 records, and a stream that refuses
    one of them (per-record ErrorCode)
    WHEN replayed THEN the message stays, naming the error; the next replay (stream healthy)
    puts all 3 again and deletes it.
    """
    payloads = [b"r0", b"r1", b"r2"]
    numbers, _ = failed_hydrate_invocation(hydrate, streams, payloads, ["k0", "k1", "k2"])

    def refuse_r1(real: Any, **params: Any) -> Any:
        records = params["Records"]
        passed = [r for r in records if r["Data"] != b"r1"]
        results = iter(real(**{**params, "Records": passed})["Records"])
        return {
            "FailedRecordCount": 1,
            "Records": [
                {"ErrorCode": "InternalFailure", "ErrorMessage": "Internal service failure."}
                if r["Data"] == b"r1"
                else next(results)
                for r in records
            ],
        }

    first = run_replay(streams, kinesis=Intercepted(streams.kinesis, put_records=refuse_r1))

    (kept,) = first.kept
    assert kept.label == HYDRATE_FAILED
    assert kept.why == "1 of 3 record(s) not put back: PutRecords refused: InternalFailure: " + (
        "Internal service failure."
    )
    assert streams.dlq_count() == 1

    second = run_replay(streams)

    assert second.counts == {HYDRATE_FAILED: Counter({Outcome.REPLAYED: 1})}
    assert sorted(data for data, _ in stream_tail(streams, numbers[-1])) == [
        b"r0",
        b"r0",
        b"r1",
        b"r2",
        b"r2",
    ]
    assert streams.dlq_count() == 0


def test_dry_run_and_reason_filter_for_failed_invocations(
    streams: Streams, hydrate: HydrateHarness
) -> None:
    """GIVEN a record of a failed hydrate invocation
    WHEN replayed with --dry-run THEN it would be replayed (its records were read), nothing is
    put or deleted; WHEN replayed with --reason RETRIES_EXHAUSTED THEN it is filtered out."""
    numbers, _ = failed_hydrate_invocation(hydrate, streams, [b"a", b"b"], ["ka", "kb"])

    code, output = run_cli(streams, "--dry-run", "--no-progress")
    filtered = run_replay(streams, reasons=frozenset({"RETRIES_EXHAUSTED"}))

    assert code == 0
    assert "HYDRATE_FAILED" in output
    assert filtered.counts == {HYDRATE_FAILED: Counter({Outcome.FILTERED: 1})}
    assert stream_tail(streams, numbers[-1]) == []
    assert visible_messages(streams) == 1


def test_stats_counts_failed_invocations_under_their_own_reason(
    streams: Streams, hydrate: HydrateHarness
) -> None:
    """GIVEN a readable and a malformed record of a failed hydrate invocation
    WHEN `replay stats` runs THEN both count under HYDRATE_FAILED: one pointer, one other; the
    oldest failure is the consumer's (the on-failure record's) time; nothing changes."""
    failed_hydrate_invocation(hydrate, streams, [b"1"], ["k"])
    send_body(streams, async_invocation_record(sns_event("{broken")))
    code, output = run_stats(streams)

    assert code == 0
    (row,) = [line for line in output.splitlines() if HYDRATE_FAILED in line]
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    assert cells == [HYDRATE_FAILED, "2", "0", "0", "1", "1", "2025-01-31T12:00:00+00:00"]
    assert streams.stream_arn in output
    assert visible_messages(streams) == 2


# --------------------------------------------------------------------------- team reason codes

INVALID_CURRENCY = reason_code("orders", "INVALID_CURRENCY")


def team_envelopes(streams: Streams, codes: list[str]) -> list[DlqEnvelope]:
    """Put one record per code into the stream (payload ``record-<n>``, key ``k``) and build its
    envelope with that reason code, as a team's consumer would."""
    streams.put([f"record-{n}".encode() for n in range(len(codes))], ["k"] * len(codes))
    event = kinesis_event_from_get_records(
        streams.records()[-len(codes) :], stream_arn=streams.stream_arn, shard_id=streams.shard_id
    )
    return [
        DlqEnvelope.build_from_kinesis_record(
            record, error_category=code, error_reason="rejected by the team", consumer="orders"
        )
        for record, code in zip(event["Records"], codes, strict=True)
    ]


def test_reason_filter_replays_only_a_team_code(streams: Streams) -> None:
    """GIVEN envelopes with a team's code (orders.INVALID_CURRENCY), another team's code and a
    built-in code
    WHEN replayed with --reason orders.INVALID_CURRENCY
    THEN only the team's record is put back and its message deleted; the others are filtered
    out under their own codes and stay in the queue.
    """
    envelopes = team_envelopes(
        streams, [INVALID_CURRENCY, "payments.CARD_DECLINED", ErrorCategory.SCHEMA_VIOLATION]
    )
    for envelope in envelopes:
        send_body(streams, envelope.to_json())

    code, output = run_cli(streams, "--reason", INVALID_CURRENCY, "--no-progress")

    assert code == 0, output
    assert stream_tail(streams, envelopes[-1].sequence_number) == [(b"record-0", "k")]
    rows = {
        cells[0]: cells[1:]
        for line in output.splitlines()
        if (cells := [cell.strip() for cell in line.strip("│ ").split("│")])[0]
        in {INVALID_CURRENCY, "payments.CARD_DECLINED", "SCHEMA_VIOLATION"}
    }
    # columns: messages, replayed, kept, filtered out
    assert rows == {
        INVALID_CURRENCY: ["1", "1", "0", "0"],
        "payments.CARD_DECLINED": ["1", "0", "0", "1"],
        "SCHEMA_VIOLATION": ["1", "0", "0", "1"],
    }
    assert sorted(str(e.error_category) for e in streams.aws.dlq_envelopes()) == [
        "SCHEMA_VIOLATION",
        "payments.CARD_DECLINED",
    ]


def test_forged_message_with_a_malformed_code_is_kept_and_the_run_goes_on(
    streams: Streams,
) -> None:
    """GIVEN a forged message -- a valid envelope but for its reason code (a space and a
    newline) -- between two envelopes with a team's code
    WHEN replayed
    THEN the forged message is kept as INVALID_ENVELOPE, why naming error_category; the two
    other records are put back and their messages deleted.
    """
    first, middle, last = team_envelopes(streams, [INVALID_CURRENCY] * 3)
    forged = json.loads(middle.to_json())
    forged["error_category"] = "orders.INVALID CURRENCY\n"
    for body in (first.to_json(), forged, last.to_json()):
        send_body(streams, body)

    report = run_replay(streams)

    assert report.counts == {
        INVALID_CURRENCY: Counter({Outcome.REPLAYED: 2}),
        "INVALID_ENVELOPE": Counter({Outcome.KEPT: 1}),
    }
    (kept,) = report.kept
    assert kept.why.startswith("malformed DLQ envelope: error_category: ")
    assert "after the dot" in kept.why
    assert sorted(stream_tail(streams, last.sequence_number)) == [
        (b"record-0", "k"),
        (b"record-2", "k"),
    ]
    assert visible_messages(streams) == 1


def test_stats_groups_team_codes_and_codes_of_newer_releases(streams: Streams) -> None:
    """GIVEN envelopes with two teams' codes, a bare code this release does not know (as a newer
    release would write one of its built-ins) and a built-in code
    WHEN `replay stats` runs
    THEN each code has its own row with its message count; nothing changes.
    """
    envelopes = team_envelopes(
        streams,
        [
            INVALID_CURRENCY,
            INVALID_CURRENCY,
            "payments.CARD_DECLINED",
            *[ErrorCategory.OVERSIZED] * 2,
        ],
    )
    # model_copy does not validate: this release's writers refuse a bare code they do not know.
    envelopes[-1] = envelopes[-1].model_copy(update={"error_category": "NEWER_RELEASE_CODE"})
    for envelope in envelopes:
        send_body(streams, envelope.to_json())
    code, output = run_stats(streams)

    assert code == 0
    messages = {
        cells[0]: cells[1]
        for line in output.splitlines()
        if len(cells := [cell.strip() for cell in line.strip("│ ").split("│")]) > 2
        and cells[1].isdigit()
        and not cells[0].isdigit()  # the queue attributes' row (visible, in flight, ...)
    }
    assert messages == {
        INVALID_CURRENCY: "2",
        "payments.CARD_DECLINED": "1",
        "NEWER_RELEASE_CODE": "1",
        "OVERSIZED": "1",
    }
    assert visible_messages(streams) == 5
