"""The producer CLI: realistic events the consumer accepts, poison records it rejects for the
intended reason, PutRecords batching and retries, rate limiting, the manifest, the CLI surface.

Kinesis is moto (fresh streams, modest sizes: moto's PutRecords slows down as a shard fills) or
a botocore Stubber where a response must be scripted (partial failures). No real sleeping: every
wait goes through an injected ``sleep``/``clock``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from pydantic import ValidationError
from rich.console import Console

from email_notifier.models import NotificationFields, NotifierEvent
from email_notifier.templates import TEMPLATES, render, template_values
from stream_pipeline.cli_common import MAX_BYTES_PER_PUT, put_records_batches
from stream_pipeline.kit.records import RecordDecoder, StreamRecord
from stream_pipeline.kit.settings import KINESIS_MAX_RECORD_BYTES
from stream_pipeline.producer import cli as producer
from stream_pipeline.producer.generator import (
    POISON_KINDS,
    ProducedRecord,
    RecordKind,
    generate_records,
)
from stream_pipeline.producer.sender import TokenBucket, produce
from stream_pipeline.runtime.aws_errors import RetryPolicy
from stream_pipeline.runtime.decoding import RecordRejectedError
from stream_processor import app
from stream_processor.models import RetailEvent
from tools.terraform_stage import REPO_ROOT

REGION = "eu-west-1"
START_MS = 1_750_000_000_000  # 2025-06-15T15:06:40Z
NO_JITTER_POLICY = RetryPolicy(max_attempts=4, base_delay=0.1, max_delay=5.0)


class FakeTime:
    """A clock that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto, with fake credentials and region; nothing from the developer's shell."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        yield


@pytest.fixture
def kinesis(aws_env: None) -> Any:
    return boto3.client("kinesis", region_name=REGION)


def fresh_stream(client: Any, name: str, shards: int = 2) -> str:
    client.create_stream(StreamName=name, ShardCount=shards)
    return name


def record_put_calls(client: Any) -> list[list[dict[str, Any]]]:
    """The Records parameter of every PutRecords call the client makes (botocore hook)."""
    calls: list[list[dict[str, Any]]] = []

    def on_call(params: dict[str, Any], **_: Any) -> None:
        calls.append(params["Records"])

    client.meta.events.register("provide-client-params.kinesis.PutRecords", on_call)
    return calls


def stored_records(client: Any, stream: str) -> dict[tuple[str, str], bytes]:
    """(shard id, sequence number) -> data, for every record of the stream."""
    found: dict[tuple[str, str], bytes] = {}
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        iterator = client.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while True:
            page = client.get_records(ShardIterator=iterator, Limit=10_000)
            if not page["Records"]:
                break
            for item in page["Records"]:
                found[(shard["ShardId"], item["SequenceNumber"])] = item["Data"]
            iterator = page["NextShardIterator"]
    return found


def prepare(record: ProducedRecord) -> StreamRecord[RetailEvent] | RecordRejectedError:
    """The stream processor's own decoding and record handler, on the record as Lambda
    delivers it: the decoded record, or the rejection that dead-letters it."""
    decoder: RecordDecoder[RetailEvent] = RecordDecoder(RetailEvent, KINESIS_MAX_RECORD_BYTES)
    raw = {
        "eventSource": "aws:kinesis",
        "eventSourceARN": f"arn:aws:kinesis:{REGION}:123456789012:stream/s",
        "eventID": "shardId-000000000000:1",
        "kinesis": {
            "sequenceNumber": "1",
            "partitionKey": record.partition_key,
            "data": base64.b64encode(record.data).decode(),
        },
    }
    try:
        decoded = decoder.kinesis(raw, datetime(2025, 6, 15, tzinfo=UTC))
        app.record_handler(decoded)
    except RecordRejectedError as exc:
        return exc
    return decoded


# --------------------------------------------------------------------------- generated records


def test_valid_events_are_realistic_and_match_the_consumer_schema() -> None:
    """GIVEN 3,000 generated events (no poison)
    WHEN validated with the retail processor's RetailEvent, decoding and record handler
    THEN every one is valid and stored; eventId is a uuid4; the partition key is the userId;
    timestamps are epoch ms from the start, never going back; the mix is about 70/20/10; there
    are hundreds of users and sessions of several events; carts and purchases name products.
    """
    records = list(generate_records(3_000, seed=7, start_ms=START_MS))

    events = [RetailEvent.model_validate(json.loads(r.data)) for r in records]

    assert {r.kind for r in records} == {RecordKind.VALID}
    assert all(isinstance(prepare(r), StreamRecord) for r in records[:300])
    assert all(uuid.UUID(e.eventId or "").version == 4 for e in events)
    assert [r.record_id for r in records] == [e.eventId for e in events]
    assert all(r.partition_key == e.userId for r, e in zip(records, events, strict=True))
    timestamps = [e.timestamp for e in events]
    assert timestamps == sorted(timestamps)
    assert timestamps[0] >= START_MS
    assert timestamps[-1] < START_MS + 3_600_000
    mix = Counter(e.eventType for e in events)
    assert set(mix) == {"view", "add_to_cart", "purchase"}
    assert 0.67 <= mix["view"] / 3_000 <= 0.73
    assert 0.17 <= mix["add_to_cart"] / 3_000 <= 0.23
    assert 0.08 <= mix["purchase"] / 3_000 <= 0.12
    assert len({r.partition_key for r in records}) > 500
    sessions = Counter(e.sessionId for e in events)
    assert 1.5 < 3_000 / len(sessions) < 20
    purchase = next(json.loads(r.data) for r in records if b'"purchase"' in r.data)
    assert purchase["quantity"] >= 1
    assert purchase["priceCents"] > 0


def test_each_poison_kind_is_rejected_by_the_consumer_for_its_reason() -> None:
    """GIVEN 1,000 records, all poison
    WHEN each goes through the stream processor's own record preparation
    THEN each is rejected (never stored) with the category its kind promises, and the reason is
    the intended one: not UTF-8, not JSON, a field of the wrong type or missing, not an object.
    """
    records = list(generate_records(1_000, seed=11, poison_rate=1.0, start_ms=START_MS))

    outcomes = [(record, prepare(record)) for record in records]

    assert {r.kind for r in records} == set(POISON_KINDS)
    assert all(r.record_id.startswith("poison-") for r in records)
    for record, outcome in outcomes:
        assert isinstance(outcome, RecordRejectedError), record
        assert outcome.code == record.kind.expected, (record, outcome.reason)
        if record.kind is RecordKind.NOT_UTF8:
            assert outcome.reason.startswith("not UTF-8")
        elif record.kind is RecordKind.BAD_JSON:
            assert outcome.reason.startswith("not valid JSON")
        elif record.kind is RecordKind.WRONG_TYPE:
            assert any(f in outcome.reason for f in ("timestamp:", "userId:")), outcome.reason
            assert "Field required" not in outcome.reason
        elif record.kind is RecordKind.MISSING_FIELD:
            assert outcome.reason.endswith("Field required"), outcome.reason
        else:
            assert outcome.reason.startswith("JSON value is ")
            with pytest.raises(ValidationError):
                RetailEvent.model_validate(json.loads(record.data))


def test_every_event_carries_its_users_address_and_purchases_are_notifiable() -> None:
    """GIVEN 2,000 generated events
    WHEN their email field is read, and the purchases go through the e-mail notifier's own
    field validation and template
    THEN every event's address is <userId>@example.com (the same user, the same address, run
    after run), and every purchase renders an order confirmation to that address.
    """
    records = list(generate_records(2_000, seed=9, start_ms=START_MS))
    documents = [json.loads(r.data) for r in records]

    assert all(d["email"] == f"{d['userId']}@example.com" for d in documents)
    again = [json.loads(r.data)["email"] for r in generate_records(2_000, seed=9)]
    assert again == [d["email"] for d in documents]
    purchases = [d for d in documents if d["eventType"] == "purchase"]
    assert len(purchases) > 100
    for document in purchases:
        event = NotifierEvent.model_validate(document)
        fields = NotificationFields.model_validate(document)
        assert event.eventId is not None
        rendered = render(TEMPLATES["purchase"], template_values(event, event.eventId, fields))
        assert fields.email == document["email"]
        assert document["productId"] in rendered.text


def test_poison_records_carry_no_address() -> None:
    """GIVEN 1,000 poison records
    WHEN their bytes are searched for an address (UTF-8 and UTF-16 alike)
    THEN none holds one: poison records are built from the event without its email field, so
    they are exactly what they were before events had one.
    """
    records = list(generate_records(1_000, seed=11, poison_rate=1.0, start_ms=START_MS))

    for record in records:
        assert b"@example.com" not in record.data, record
        assert "@example.com".encode("utf-16-le") not in record.data, record


def test_poison_rate_sets_the_share_of_poison_records() -> None:
    records = list(generate_records(4_000, seed=3, poison_rate=0.25, start_ms=START_MS))
    poison = [r for r in records if r.kind is not RecordKind.VALID]

    assert 0.22 <= len(poison) / 4_000 <= 0.28
    assert set(Counter(r.kind for r in poison)) == set(POISON_KINDS)
    assert not any(r.kind is not RecordKind.VALID for r in generate_records(500, seed=3))


def test_the_same_seed_gives_the_same_records() -> None:
    def run(seed: int) -> list[ProducedRecord]:
        return list(generate_records(200, seed=seed, poison_rate=0.3, start_ms=START_MS))

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_generator_refuses_a_poison_rate_outside_0_1() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        next(generate_records(1, poison_rate=1.5))


# --------------------------------------------------------------------------- batching


def test_1000_events_take_2_put_records_requests(kinesis: Any) -> None:
    """GIVEN a fresh 2-shard stream (moto) WHEN 1,000 events are produced as fast as possible
    THEN exactly 2 PutRecords requests of 500 records are made and the stream holds the 1,000
    records, byte for byte."""
    stream = fresh_stream(kinesis, "retail-1000")
    calls = record_put_calls(kinesis)
    records = list(generate_records(1_000, seed=1, start_ms=START_MS))

    report = produce(kinesis, stream, records)

    assert [len(call) for call in calls] == [500, 500]
    assert (report.requests, report.total_sent, report.total_failed) == (2, 1_000, 0)
    assert sorted(stored_records(kinesis, stream).values()) == sorted(r.data for r in records)


def test_requests_stay_under_5_mib_and_oversized_records_are_not_sent(kinesis: Any) -> None:
    """GIVEN 12 records of 900 KiB and one of 1 MiB + 1 byte
    WHEN produced THEN requests carry 5, 5 and 2 records (each at most 5 MiB, data plus keys);
    the oversized record is never sent and is reported failed (RecordTooLarge)."""
    stream = fresh_stream(kinesis, "retail-big", shards=1)
    calls = record_put_calls(kinesis)
    big = [
        ProducedRecord(f"user-{n}", bytes([n]) * (900 * 1024), RecordKind.VALID, f"big-{n}")
        for n in range(12)
    ]
    too_big = ProducedRecord("user-x", b"x" * (1024 * 1024 + 1), RecordKind.VALID, "too-big")

    report = produce(kinesis, stream, [*big[:6], too_big, *big[6:]])

    assert [len(call) for call in calls] == [5, 5, 2]
    for call in calls:
        assert sum(len(r["Data"]) + len(r["PartitionKey"]) for r in call) <= MAX_BYTES_PER_PUT
    assert report.total_sent == 12
    assert report.failure_reasons == Counter({"RecordTooLarge": 1})
    assert "user-x" not in {r["PartitionKey"] for call in calls for r in call}


def test_batches_are_cut_at_500_records_or_5_mib_whichever_first() -> None:
    small = list(range(1_201))
    sizes = [len(batch) for batch in put_records_batches(small, lambda _: 100)]
    large = [len(batch) for batch in put_records_batches(range(11), lambda _: 1024 * 1024)]

    assert sizes == [500, 500, 201]
    assert large == [5, 5, 1]


# --------------------------------------------------------------------------- retries


def _entry(record: ProducedRecord) -> dict[str, Any]:
    return {"Data": record.data, "PartitionKey": record.partition_key}


def _ok(number: int) -> dict[str, str]:
    return {"SequenceNumber": str(number), "ShardId": "shardId-000000000000"}


THROTTLED = {
    "ErrorCode": "ProvisionedThroughputExceededException",
    "ErrorMessage": "Rate exceeded for shard shardId-000000000000",
}


def test_partial_failure_resends_only_the_failed_entries(aws_env: None) -> None:
    """GIVEN a response where 2 of 4 entries failed (per-entry ErrorCode), then success
    WHEN produced THEN the second request carries exactly those 2 records, after one backoff
    wait within the first retry's bounds; all 4 are reported sent."""
    client = boto3.client("kinesis", region_name=REGION)
    records = list(generate_records(4, seed=9, start_ms=START_MS))
    stubber = Stubber(client)
    stubber.add_response(
        "put_records",
        {"FailedRecordCount": 2, "Records": [_ok(1), THROTTLED, _ok(2), THROTTLED]},
        {"StreamName": "s", "Records": [_entry(r) for r in records]},
    )
    stubber.add_response(
        "put_records",
        {"Records": [_ok(3), _ok(4)]},
        {"StreamName": "s", "Records": [_entry(records[1]), _entry(records[3])]},
    )
    time_ = FakeTime()

    with stubber:
        report = produce(client, "s", records, policy=NO_JITTER_POLICY, sleep=time_.sleep)

    stubber.assert_no_pending_responses()
    assert (report.total_sent, report.total_failed, report.requests, report.retried) == (4, 0, 2, 2)
    assert report.entry_errors == Counter({"ProvisionedThroughputExceededException": 2})
    (wait,) = time_.sleeps
    assert 0.05 <= wait <= 0.1


def test_exhausted_retries_are_reported_and_the_exit_status_is_1(
    aws_env: None, tmp_path: Path
) -> None:
    """GIVEN a stream that keeps refusing one of 2 records
    WHEN the CLI runs with --max-attempts 3
    THEN that record is sent 3 times (alone after the first request), with exponentially
    growing waits; it is reported failed with its error code, in the summary and the manifest;
    the exit status is 1."""
    client = boto3.client("kinesis", region_name=REGION)
    records = list(generate_records(2, seed=4, start_ms=START_MS))
    stubber = Stubber(client)
    stubber.add_response(
        "put_records",
        {"FailedRecordCount": 1, "Records": [_ok(1), THROTTLED]},
        {"StreamName": "s", "Records": [_entry(r) for r in records]},
    )
    for _ in range(2):
        stubber.add_response(
            "put_records",
            {"FailedRecordCount": 1, "Records": [THROTTLED]},
            {"StreamName": "s", "Records": [_entry(records[1])]},
        )
    time_ = FakeTime()
    manifest = tmp_path / "manifest.jsonl"
    out = io.StringIO()
    argv = ["--stream-name", "s", "--count", "2", "--seed", "4", "--max-attempts", "3"]

    with stubber:
        code = producer.main(
            [*argv, "--manifest", str(manifest), "--no-progress"],
            client=client,
            console=Console(file=out, width=200, no_color=True),
            error_console=Console(file=out, width=200, no_color=True),
            sleep=time_.sleep,
            clock=time_.clock,
            start_ms=START_MS,
        )

    stubber.assert_no_pending_responses()
    assert code == 1
    first, second = time_.sleeps
    assert 0.05 <= first <= 0.1
    assert 0.1 <= second <= 0.2
    output = out.getvalue()
    assert "sent: 1 (0 poison); failed: 1; PutRecords requests: 3" in output
    assert "records given up on: ProvisionedThroughputExceededException x1" in output
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert [(line["id"], line["status"]) for line in lines] == [
        (records[0].record_id, "sent"),
        (records[1].record_id, "failed"),
    ]
    assert lines[1]["error"].endswith("(after 3 attempts)")


def test_permanent_entry_errors_are_not_retried(aws_env: None) -> None:
    client = boto3.client("kinesis", region_name=REGION)
    (record,) = generate_records(1, seed=2, start_ms=START_MS)
    stubber = Stubber(client)
    disabled = {"ErrorCode": "KMSDisabledException", "ErrorMessage": "key disabled"}
    stubber.add_response("put_records", {"FailedRecordCount": 1, "Records": [disabled]})
    time_ = FakeTime()

    with stubber:
        report = produce(client, "s", [record], sleep=time_.sleep)

    assert (report.requests, report.total_failed, time_.sleeps) == (1, 1, [])
    assert report.failure_reasons == Counter({"KMSDisabledException": 1})


def test_a_missing_stream_stops_the_run_with_exit_status_2(kinesis: Any) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, no_color=True)

    code = producer.main(
        ["--stream-name", "no-such-stream", "--count", "3", "--no-progress"],
        client=kinesis,
        console=console,
        error_console=console,
    )

    assert code == 2
    assert "error: PutRecords to no-such-stream failed: ResourceNotFoundException" in out.getvalue()


# --------------------------------------------------------------------------- rate limiting


def test_rate_is_limited_with_a_token_bucket_on_the_injected_clock(kinesis: Any) -> None:
    """GIVEN --rate 100 events/s and a fake clock that only moves when the producer sleeps
    WHEN 1,000 events are produced
    THEN requests carry half a second's worth (50); by the time of each request at most
    50 + 100 * elapsed records were sent; the total wait is (1,000 - 50) / 100 = 9.5 s."""
    stream = fresh_stream(kinesis, "retail-rate")
    time_ = FakeTime()
    start = time_.now
    sent_at: list[tuple[float, int]] = []
    calls = record_put_calls(kinesis)
    kinesis.meta.events.register(
        "provide-client-params.kinesis.PutRecords",
        lambda params, **_: sent_at.append((time_.now - start, len(params["Records"]))),
    )

    report = produce(
        kinesis,
        stream,
        generate_records(1_000, seed=1, start_ms=START_MS),
        rate=100,
        sleep=time_.sleep,
        clock=time_.clock,
    )

    assert report.total_sent == 1_000
    assert {len(call) for call in calls} == {50}
    total = 0
    for elapsed, count in sent_at:
        total += count
        assert total <= 50 + 100 * elapsed + 1e-6
    assert sum(time_.sleeps) == pytest.approx(9.5)
    assert report.elapsed_seconds == pytest.approx(9.5)
    assert report.events_per_second == pytest.approx(1_000 / 9.5)


def test_token_bucket_waits_only_for_the_missing_tokens() -> None:
    time_ = FakeTime()
    bucket = TokenBucket(10, 5, clock=time_.clock, sleep=time_.sleep)

    bucket.acquire(5)  # starts full
    bucket.acquire(5)  # empty: waits 0.5 s
    time_.now += 0.2  # 2 tokens saved up
    bucket.acquire(3)  # waits for 1

    assert time_.sleeps == [pytest.approx(0.5), pytest.approx(0.1)]


# --------------------------------------------------------------------------- manifest


def test_manifest_accounts_for_every_record_with_its_hash_and_position(
    kinesis: Any, tmp_path: Path
) -> None:
    """GIVEN 60 records, half of them poison, produced with --manifest
    WHEN the manifest is read THEN it has one line per record: its id, kind, expected outcome,
    partition key, sha256 and length of its bytes, and where the stream stored it -- and the
    stream holds exactly those bytes at those positions."""
    stream = fresh_stream(kinesis, "retail-manifest")
    records = list(generate_records(60, seed=21, poison_rate=0.5, start_ms=START_MS))
    path = tmp_path / "manifest.jsonl"

    with path.open("w", encoding="utf-8") as manifest:
        report = produce(kinesis, stream, records, manifest=manifest)

    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert report.total_sent == 60
    assert {line["id"] for line in lines} == {r.record_id for r in records}
    stored = stored_records(kinesis, stream)
    by_id = {r.record_id: r for r in records}
    for line in lines:
        record = by_id[line["id"]]
        assert line["kind"] == record.kind.value
        assert line["expected"] == record.kind.expected
        assert line["partitionKey"] == record.partition_key
        assert line["sha256"] == hashlib.sha256(record.data).hexdigest()
        assert line["length"] == len(record.data)
        assert line["status"] == "sent"
        assert stored[(line["shardId"], line["sequenceNumber"])] == record.data
    kinds = Counter(line["expected"] for line in lines)
    assert kinds["stored"] == report.sent["valid"]
    assert 0 < kinds["stored"] < 60


# --------------------------------------------------------------------------- CLI


def run(*argv: str, stdin: str = "", **kwargs: Any) -> tuple[int, str]:
    out = io.StringIO()
    console = Console(file=out, width=200, no_color=True)
    code = producer.main(
        list(argv), console=console, error_console=console, stdin=io.StringIO(stdin), **kwargs
    )
    return code, out.getvalue()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--poison-rate", "2"], "argument --poison-rate: must be a number from 0 to 1"),
        (["--poison-rate", "-0.1"], "argument --poison-rate: must be a number from 0 to 1"),
        (["--poison-rate", "lots"], "argument --poison-rate: must be a number from 0 to 1"),
        (["--rate", "-5"], "argument --rate: must be events per second, 0 or more"),
        (["--rate", "inf"], "argument --rate: must be events per second, 0 or more"),
        (["--count", "0"], "argument --count: must be a whole number of at least 1, got '0'"),
        (["--users", "1.5"], "argument --users: must be a whole number of at least 1"),
    ],
)
def test_argument_errors_are_clear(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        producer.main(["--stream-name", "s", *argv])

    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_without_a_stream_it_says_how_to_name_one() -> None:
    code, output = run("--count", "1")

    assert code == 2
    assert "no stream: pass --stream-name NAME, or --terraform-outputs FILE" in output


def test_unknown_profile_is_reported_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))

    code, output = run("--stream-name", "s", "--profile", "no-such-profile", "--no-progress")

    assert code == 2
    assert "The config profile (no-such-profile) could not be found" in output


def test_stream_comes_from_terraform_outputs_on_stdin(kinesis: Any, tmp_path: Path) -> None:
    """GIVEN `terraform output -json` with stream_name on stdin (what a make target pipes)
    WHEN the CLI produces 20 events with 20 % poison THEN they are in that stream; exit 0."""
    stream = fresh_stream(kinesis, "retail-from-outputs", shards=1)
    outputs = {"stream_name": {"value": stream, "type": "string", "sensitive": False}}

    code, output = run(
        "--terraform-outputs",
        "-",
        "--count",
        "20",
        "--poison-rate",
        "0.2",
        "--seed",
        "1",
        "--no-progress",
        stdin=json.dumps(outputs),
    )

    assert code == 0, output
    assert "sent: 20 (" in output
    assert "PutRecords requests: 1" in output
    assert "seed 1" in output
    assert len(stored_records(kinesis, stream)) == 20


def test_module_runs_from_the_repository_root() -> None:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("stream-pipeline")), "produce", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )

    assert result.returncode == 0, result.stderr
    for option in ("--poison-rate", "--rate", "--manifest", "--terraform-outputs", "--profile"):
        assert option in result.stdout
