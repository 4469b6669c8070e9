"""The replay CLI's S3 source against moto: objects of an S3 on-failure destination (built with
the local emulator's event factory, stream_pipeline/local/runtime/events.py, from records really
put into the moto stream) -> PutRecords into the stream -> the stream processor stores them; an
object is deleted only when all of its records were accepted."""

from __future__ import annotations

import io
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from factories import (
    ACCOUNT,
    CONSUMER_FUNCTION_ARN,
    REGION,
    Intercepted,
    client_error,
    encode,
    kinesis_event_from_get_records,
    on_failure_record,
    retail_event,
    sns_event,
)
from rich.console import Console
from stream_harness import (
    FIXED_NOW,
    Aws,
    Harness,
    HydrateHarness,
    Streams,
    harness_session,
    trusted_args,
    trusted_options,
)

from hydrate import app as hydrate_app
from stream_pipeline.local.runtime import events
from stream_pipeline.replay import cli as replay
from stream_pipeline.replay.bucket import BucketReplayer, parse_failure_object, payload_envelopes
from stream_pipeline.replay.model import (
    DYNAMODB_SKIPPED,
    INVALID_S3_OBJECT,
    S3_ON_FAILURE,
    Clients,
    Outcome,
    ReplayReport,
    RunOptions,
)

FAILURE_BUCKET = "stream-pipeline-failures"
MAPPING_UUID = "0f6e7c3a-7d1b-4d5e-9a43-5a3c2b1e0d9f"
CONSUMER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/stream-processor"
FAILED_AT = FIXED_NOW.timestamp()


@pytest.fixture
def streams(aws: Aws) -> Streams:
    return Streams.create(aws, harness_session())


@pytest.fixture
def bucket(streams: Streams) -> str:
    """The failure bucket, versioned like modules/hydrating-dlq's."""
    streams.s3.create_bucket(
        Bucket=FAILURE_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    streams.s3.put_bucket_versioning(
        Bucket=FAILURE_BUCKET, VersioningConfiguration={"Status": "Enabled"}
    )
    return FAILURE_BUCKET


@pytest.fixture
def hydrate(streams: Streams, monkeypatch: pytest.MonkeyPatch) -> Iterator[HydrateHarness]:
    monkeypatch.delenv("PAYLOAD_BUCKET", raising=False)
    harness = HydrateHarness(streams)
    harness.configure()
    yield harness
    hydrate_app.set_dependencies(None)


# --------------------------------------------------------------------------- helpers


def clients(streams: Streams, *, kinesis: Any = None, s3: Any = None) -> Clients:
    return Clients(
        sqs=streams.aws.sqs,
        kinesis=kinesis if kinesis is not None else streams.kinesis,
        dynamodbstreams=streams.dynamodbstreams,
        s3=s3 if s3 is not None else streams.s3,
    )


def run_bucket(
    streams: Streams, *, kinesis: Any = None, s3: Any = None, page_size: int = 1000, **options: Any
) -> ReplayReport:
    settings = RunOptions(bucket=FAILURE_BUCKET, **{**trusted_options(streams), **options})
    replayer = BucketReplayer(
        clients(streams, kinesis=kinesis, s3=s3), settings, page_size=page_size
    )
    return replayer.run()


def run_cli(streams: Streams, *args: str, kinesis: Any = None, s3: Any = None) -> tuple[int, str]:
    out = io.StringIO()
    console = Console(file=out, width=250, no_color=True)
    code = replay.main(
        [
            *args,
            *(trusted_args(streams) if args[:1] == ("run",) else []),
            "--bucket",
            FAILURE_BUCKET,
            "--no-progress",
        ],
        clients=clients(streams, kinesis=kinesis, s3=s3),
        console=console,
        error_console=console,
    )
    return code, out.getvalue()


def discarded(streams: Streams, payloads: list[bytes], keys: list[str]) -> list[Any]:
    """Put the records; return them as the event source mapping delivered them (its batch)."""
    numbers = set(streams.put(payloads, keys))
    return [
        events.kinesis_record(
            item,
            shard_id=streams.shard_id,
            stream_arn=streams.stream_arn,
            region=REGION,
            role=CONSUMER_ROLE,
        )
        for item in streams.records()
        if item["SequenceNumber"] in numbers
    ]


def discarded_items(
    streams: Streams,
    documents: list[dict[str, Any]],
    typed_attributes: dict[str, Any] | None = None,
) -> list[Any]:
    """Write the items (with ``typed_attributes`` added to each, in DynamoDB's typed form) into
    the source table; return their DynamoDB stream records as the event source mapping
    delivered them (its batch)."""
    streams.write_source_items(documents, typed_attributes=typed_attributes)
    iterator = streams.dynamodbstreams.get_shard_iterator(
        StreamArn=streams.dynamodb_stream_arn,
        ShardId=streams.dynamodb_shard_id,
        ShardIteratorType="TRIM_HORIZON",
    )["ShardIterator"]
    items = streams.dynamodbstreams.get_records(ShardIterator=iterator)["Records"]
    return [
        events.dynamodb_record(item, stream_arn=streams.dynamodb_stream_arn, region=REGION)
        for item in items
    ]


def vanished(streams: Streams, count: int) -> list[Any]:
    """A batch of ``count`` records whose sequence numbers the shard does not hold (past its
    end: gone from the stream, as after the retention period)."""
    last = max((int(item["SequenceNumber"]) for item in streams.records()), default=0)
    return [
        events.kinesis_record(
            {
                "SequenceNumber": str(last + offset),
                "Data": b"gone",
                "PartitionKey": "gone",
                "ApproximateArrivalTimestamp": FIXED_NOW,
            },
            shard_id=streams.shard_id,
            stream_arn=streams.stream_arn,
            region=REGION,
            role=CONSUMER_ROLE,
        )
        for offset in range(1, count + 1)
    ]


def write_object(
    streams: Streams,
    records: list[Any],
    *,
    kind: str = "kinesis",
    payload: bool = True,
    edit: Callable[[dict[str, Any]], Any] | None = None,
) -> str:
    """What Lambda writes to an S3 on-failure destination for the discarded batch ``records``
    (``payload=False``: the on-failure record alone; ``edit`` changes the document)."""
    shard_id = streams.shard_id if kind == "kinesis" else streams.dynamodb_shard_id
    stream_arn = streams.stream_arn if kind == "kinesis" else streams.dynamodb_stream_arn
    record = events.stream_on_failure_record(
        kind=kind,
        request_id=str(uuid.uuid4()),
        function_arn=CONSUMER_FUNCTION_ARN,
        condition="RetryAttemptsExhausted",
        invoke_count=3,
        response_context=events.response_context("Unhandled"),
        shard_id=shard_id,
        stream_arn=stream_arn,
        records=records,
        now=FAILED_AT,
    )
    body: Any = events.s3_on_failure_body(record, records) if payload else record
    if edit is not None:
        body = edit(body)
    return put_object(streams, json.dumps(body).encode(), shard_id=shard_id)


def put_object(streams: Streams, body: bytes, *, shard_id: str = "shardId-000000000000") -> str:
    key = events.s3_on_failure_key(MAPPING_UUID, shard_id, FAILED_AT)
    streams.s3.put_object(Bucket=FAILURE_BUCKET, Key=key, Body=body, ContentType="application/json")
    return key


def object_keys(streams: Streams) -> list[str]:
    listed = streams.s3.list_objects_v2(Bucket=FAILURE_BUCKET)
    return sorted(item["Key"] for item in listed.get("Contents") or [])


def stream_tail(streams: Streams, after: str) -> list[tuple[bytes, str]]:
    return [(r["Data"], r["PartitionKey"]) for r in streams.records(after=after)]


def last_number(records: list[Any]) -> str:
    return str(records[-1].sequence_number)


# --------------------------------------------------------------------------- round trip


def test_round_trip_puts_the_records_back_and_the_stream_processor_stores_them(
    aws: Aws, streams: Streams, bucket: str, harness: Harness
) -> None:
    """GIVEN two batches of valid events (3 and 2 records) that the event source mapping
    discarded into its S3 on-failure destination (versioned bucket)
    WHEN the bucket is replayed
    THEN the 5 records are back in the stream with their original bytes and partition keys, in
    one PutRecords call, both objects are deleted (a delete marker each: the noncurrent versions
    stay until the lifecycle expires them), and the stream processor stores all 5 from the
    replayed records; a second replay changes nothing.
    """
    first = [encode(retail_event(userId=f"s3-{n}")) for n in range(3)]
    second = [encode(retail_event(userId=f"s3-{n}")) for n in range(3, 5)]
    first_keys = ["pk-0", "pk-1", "pk-2"]
    second_keys = ["pk-3", "pk-4"]
    batch = discarded(streams, first, first_keys)
    write_object(streams, batch)
    other = discarded(streams, second, second_keys)
    write_object(streams, other)
    last = last_number(other)

    report = run_bucket(streams)

    replayed = streams.records(after=last)
    assert sorted((r["Data"], r["PartitionKey"]) for r in replayed) == sorted(
        zip(first + second, first_keys + second_keys, strict=True)
    )
    assert report.counts == {S3_ON_FAILURE: Counter({Outcome.REPLAYED: 2})}
    assert report.kept == []
    assert (report.records_put, report.put_requests) == (5, 1)
    assert object_keys(streams) == []
    versions = streams.s3.list_object_versions(Bucket=FAILURE_BUCKET)
    assert len(versions["DeleteMarkers"]) == 2
    assert len(versions["Versions"]) == 2

    event = kinesis_event_from_get_records(
        replayed, stream_arn=streams.stream_arn, shard_id=streams.shard_id
    )
    assert harness.invoke(event) == {"batchItemFailures": []}
    assert sorted(item["userId"] for item in aws.items()) == [f"s3-{n}" for n in range(5)]

    again = run_bucket(streams)

    assert again.counts == {}
    assert again.records_put == 0
    assert len(streams.records(after=last)) == 5


def test_original_bytes_and_partition_keys_come_from_the_payload(
    streams: Streams, bucket: str
) -> None:
    """GIVEN an object whose batch holds binary, non-ASCII and maximum-length partition keys
    WHEN replayed THEN each record goes back byte for byte with its partition key, taken from
    the object's payload: nothing is read from the stream."""
    payloads = [bytes(range(256)), "é€".encode(), b'{"not": "checked"}']
    keys = ["bin", "ключ", "k" * 256]
    batch = discarded(streams, payloads, keys)
    write_object(streams, batch)
    kinesis = Intercepted(streams.kinesis, get_records=lambda real, **params: real(**params))

    report = run_bucket(streams, kinesis=kinesis)

    assert report.total(Outcome.REPLAYED) == 1
    assert kinesis.calls == []
    assert stream_tail(streams, last_number(batch)) == list(zip(payloads, keys, strict=True))


def test_an_object_of_more_than_500_records_is_put_in_several_calls(
    streams: Streams, bucket: str
) -> None:
    """GIVEN an object whose batch holds 750 records (PutRecords takes at most 500)
    WHEN replayed THEN all 750 go back, in order, in 2 PutRecords calls; the object is deleted."""
    payloads = [f"record-{n}".encode() for n in range(750)]
    keys = [f"k{n % 7}" for n in range(750)]
    batch = discarded(streams, payloads, keys)
    write_object(streams, batch)

    report = run_bucket(streams)

    assert (report.records_put, report.put_requests) == (750, 2)
    assert stream_tail(streams, last_number(batch)) == list(zip(payloads, keys, strict=True))
    assert object_keys(streams) == []


# --------------------------------------------------------------------------- what stays


def test_partial_put_records_failure_keeps_the_object(streams: Streams, bucket: str) -> None:
    """GIVEN two objects, and a stream that refuses one record of the second (per-record
    ErrorCode in the PutRecords response)
    WHEN replayed THEN the first object is deleted; the second stays, reported with the error
    code, exit status 1; the next replay (stream healthy) puts its records again and deletes it.
    """
    accepted = discarded(streams, [b"r0", b"r1"], ["ok-0", "ok-1"])
    write_object(streams, accepted)
    refused = discarded(streams, [b"r2", b"r3"], ["ok-2", "throttled-3"])
    kept_key = write_object(streams, refused)
    last = last_number(refused)

    def refuse_throttled(real: Any, **params: Any) -> Any:
        records = params["Records"]
        passed = [r for r in records if not r["PartitionKey"].startswith("throttled")]
        results = iter(real(**{**params, "Records": passed})["Records"])
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

    code, output = run_cli(
        streams, "run", kinesis=Intercepted(streams.kinesis, put_records=refuse_throttled)
    )

    assert code == 1
    assert sorted(stream_tail(streams, last)) == [(b"r0", "ok-0"), (b"r1", "ok-1"), (b"r2", "ok-2")]
    assert object_keys(streams) == [kept_key]
    assert "left in the bucket" in output
    assert kept_key in output
    assert "ProvisionedThroughputExceededException" in output

    report = run_bucket(streams)

    assert report.counts == {S3_ON_FAILURE: Counter({Outcome.REPLAYED: 1})}
    assert object_keys(streams) == []
    assert sorted(data for data, _ in stream_tail(streams, last)) == [
        b"r0",
        b"r1",
        b"r2",
        b"r2",
        b"r3",
    ]


def test_dry_run_changes_nothing(streams: Streams, bucket: str) -> None:
    """GIVEN an object WHEN replayed with --dry-run THEN it would be replayed (exit 0), the
    stream is unchanged and the object is still there."""
    batch = discarded(streams, [b"a", b"b"], ["k1", "k2"])
    key = write_object(streams, batch)

    code, output = run_cli(streams, "run", "--dry-run")

    assert code == 0
    assert "dry run" in output
    assert "S3 on-failure replay" in output
    (row,) = [line for line in output.splitlines() if S3_ON_FAILURE in line]
    assert [cell.strip() for cell in row.strip("│ ").split("│")] == [
        S3_ON_FAILURE,
        "1",
        "1",
        "0",
        "0",
    ]
    assert stream_tail(streams, last_number(batch)) == []
    assert object_keys(streams) == [key]


def test_malformed_and_unreadable_objects_are_kept_and_reported(
    streams: Streams, bucket: str
) -> None:
    """GIVEN next to a valid object: an object that is not JSON, a JSON array, an on-failure
    record with a count sent as a string, one without batch info, and one GetObject refuses
    WHEN replayed THEN the valid object is replayed; every other one stays, reported with a
    readable reason; the run does not stop; exit status 1.
    """
    good = discarded(streams, [b"good"], ["k"])
    write_object(streams, good)
    not_json = put_object(streams, b"\x00 not json")
    array = put_object(streams, b"[1, 2]")

    def count_as_text(body: dict[str, Any]) -> dict[str, Any]:
        body["requestContext"]["approximateInvokeCount"] = "3"
        return body

    def without_batch_info(body: dict[str, Any]) -> dict[str, Any]:
        del body["KinesisBatchInfo"]
        return body

    text_count = write_object(streams, good, edit=count_as_text)
    no_batch = write_object(streams, good, edit=without_batch_info)
    denied = write_object(streams, good)

    def refuse_one(real: Any, **params: Any) -> Any:
        if params["Key"] == denied:
            raise client_error("AccessDenied", "GetObject", status=403, message="Access Denied")
        return real(**params)

    s3 = Intercepted(streams.s3, get_object=refuse_one)

    code, output = run_cli(streams, "run", s3=s3)
    report = run_bucket(streams, s3=s3)  # the valid object is gone now: only the kept ones

    assert code == 1
    whys = {item.message_id: (item.label, item.why) for item in report.kept}
    assert whys[not_json][0] == INVALID_S3_OBJECT
    assert whys[not_json][1].startswith("not replayable: the object is not valid JSON")
    assert whys[array] == (
        INVALID_S3_OBJECT,
        "not replayable: the object is a JSON array, not a JSON object",
    )
    assert whys[text_count] == (
        INVALID_S3_OBJECT,
        "not replayable: malformed on-failure record: requestContext.approximateInvokeCount: "
        "Input should be a valid integer",
    )
    assert whys[no_batch][0] == INVALID_S3_OBJECT
    assert "expected exactly one of KinesisBatchInfo or DDBStreamBatchInfo" in whys[no_batch][1]
    assert whys[denied] == (S3_ON_FAILURE, "cannot be read now: AccessDenied: Access Denied")
    assert report.counts == {
        INVALID_S3_OBJECT: Counter({Outcome.KEPT: 4}),
        S3_ON_FAILURE: Counter({Outcome.KEPT: 1}),
    }
    assert sorted(object_keys(streams)) == sorted([not_json, array, text_count, no_batch, denied])
    for key in (not_json, array, text_count, no_batch, denied):
        assert key in output
    assert stream_tail(streams, last_number(good)) == [(b"good", "k")]


def _without_payload(body: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if name != "payload"}


def _null_payload(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "payload": None}


def _cut_payload(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "payload": {"Records": body["payload"]["Records"][:1]}}


def _data_not_base64(body: dict[str, Any]) -> dict[str, Any]:
    body["payload"]["Records"][1]["kinesis"]["data"] = "not base64!"
    return body


def _superscript_sequence_number(body: dict[str, Any]) -> dict[str, Any]:
    # "²".isdigit() is True and int("²") raises: it once aborted the whole run.
    body["payload"]["Records"][1]["kinesis"]["sequenceNumber"] = "\N{SUPERSCRIPT TWO}"
    return body


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(_without_payload, id="no-payload"),
        pytest.param(_null_payload, id="payload-null"),
        pytest.param(_cut_payload, id="payload-cut"),
        pytest.param(_data_not_base64, id="record-data-damaged"),
        pytest.param(_superscript_sequence_number, id="record-sequence-number-superscript"),
    ],
)
def test_object_without_a_usable_payload_is_read_back_from_the_stream(
    streams: Streams, bucket: str, edit: Callable[[dict[str, Any]], Any]
) -> None:
    """GIVEN an object whose payload is missing, null, cut or damaged (a record's sequence
    number "²", not ASCII digits, included)
    WHEN replayed THEN its batch is read back from the stream (the hydrate function's reader),
    every record is put with its original bytes and partition key, and the object deleted."""
    payloads = [b"\x01first", b"\x02second", b"\x03third"]
    keys = ["k1", "k2", "k3"]
    batch = discarded(streams, payloads, keys)
    write_object(streams, batch, edit=edit)
    kinesis = Intercepted(streams.kinesis, get_records=lambda real, **params: real(**params))

    report = run_bucket(streams, kinesis=kinesis)

    assert report.counts == {S3_ON_FAILURE: Counter({Outcome.REPLAYED: 1})}
    assert kinesis.calls != []
    assert stream_tail(streams, last_number(batch)) == list(zip(payloads, keys, strict=True))
    assert object_keys(streams) == []


def test_records_gone_from_the_stream_keep_the_object(streams: Streams, bucket: str) -> None:
    """GIVEN an object without payload for a batch of 3 that the stream no longer holds
    WHEN replayed THEN nothing is put, the object stays, reported "payload unavailable" with
    the missing range and the consumer's failure; exit status 1."""
    streams.put([b"still here"])
    batch = vanished(streams, 3)
    key = write_object(streams, batch, payload=False)
    before = len(streams.records())

    code, output = run_cli(streams, "run")
    report = run_bucket(streams)

    assert code == 1
    assert len(streams.records()) == before
    assert object_keys(streams) == [key]
    (kept,) = report.kept
    assert (kept.message_id, kept.label) == (key, S3_ON_FAILURE)
    assert kept.why.startswith(
        f"payload unavailable: the object holds no payload, and 3 record(s) of shard "
        f"{streams.shard_id} of {streams.stream_arn} from sequence number "
        f"{batch[0].sequence_number} to {batch[-1].sequence_number} are no longer in the stream"
    )
    assert kept.why.endswith(
        "retries exhausted (RetryAttemptsExhausted) after 3 attempts: Unhandled"
    )
    assert "payload unavailable" in output


def test_object_is_kept_when_it_cannot_be_deleted(streams: Streams, bucket: str) -> None:
    """GIVEN an object and a bucket that refuses DeleteObjects for it
    WHEN replayed THEN its records are put, the object stays, reported "not deleted"."""
    batch = discarded(streams, [b"x"], ["k"])
    key = write_object(streams, batch)

    def refuse(real: Any, **params: Any) -> Any:
        return {
            "Errors": [
                {"Key": item["Key"], "Code": "AccessDenied", "Message": "Access Denied"}
                for item in params["Delete"]["Objects"]
            ]
        }

    report = run_bucket(streams, s3=Intercepted(streams.s3, delete_objects=refuse))

    (kept,) = report.kept
    assert kept.why.startswith(
        "its records were put into the stream but the object was not deleted "
        "(AccessDenied: Access Denied)"
    )
    assert stream_tail(streams, last_number(batch)) == [(b"x", "k")]
    assert object_keys(streams) == [key]


def test_dynamodb_object_is_skipped_without_target_and_replayed_with_one(
    aws: Aws, streams: Streams, bucket: str, harness: Harness
) -> None:
    """GIVEN an object of a DynamoDB stream mapping (DDBStreamBatchInfo)
    WHEN replayed without --target THEN it stays, reported as skipped, nothing is read or put;
    WHEN replayed with --target <kinesis stream> THEN its NewImage goes in as plain JSON, the
    object is deleted and the stream processor stores the event.
    """
    document = {"pk": "outbox#1", **retail_event(userId="from-ddb")}
    batch = discarded_items(streams, [document])
    key = write_object(streams, batch, kind="dynamodb")

    skipped = run_bucket(streams)

    (kept,) = skipped.kept
    assert (kept.message_id, kept.why) == (key, DYNAMODB_SKIPPED)
    assert streams.records() == []

    report = run_bucket(streams, target="retail-events")

    assert report.counts == {S3_ON_FAILURE: Counter({Outcome.REPLAYED: 1})}
    (record,) = streams.records()
    assert json.loads(record["Data"]) == document
    assert object_keys(streams) == []
    event = kinesis_event_from_get_records(
        [record], stream_arn=streams.stream_arn, shard_id=streams.shard_id
    )
    assert harness.invoke(event) == {"batchItemFailures": []}
    assert [item["userId"] for item in aws.items()] == ["from-ddb"]


def test_dynamodb_object_with_binary_attributes_is_replayed_and_stored(
    aws: Aws, streams: Streams, bucket: str, harness: Harness
) -> None:
    """GIVEN an object of a DynamoDB stream mapping whose item has Binary values (a B and, in a
    map, a BS)
    WHEN replayed with --target <kinesis stream>
    THEN its NewImage goes in as plain JSON with each binary value as base64 text, the object is
    deleted, and the stream processor stores the event.
    """
    document = {"pk": "outbox#3", **retail_event(userId="s3-binary")}
    binary = {
        "signature": {"B": b"\xde\xad\xbe\xef"},
        "parts": {"M": {"chunks": {"BS": [b"\x00\x01", b"\x02"]}}},
    }
    batch = discarded_items(streams, [document], typed_attributes=binary)
    write_object(streams, batch, kind="dynamodb")

    report = run_bucket(streams, target="retail-events")

    assert report.counts == {S3_ON_FAILURE: Counter({Outcome.REPLAYED: 1})}
    (record,) = streams.records()
    replayed = json.loads(record["Data"])
    assert replayed["signature"] == "3q2+7w=="
    assert sorted(replayed["parts"]["chunks"]) == ["AAE=", "Ag=="]
    assert object_keys(streams) == []
    event = kinesis_event_from_get_records(
        [record], stream_arn=streams.stream_arn, shard_id=streams.shard_id
    )
    assert harness.invoke(event) == {"batchItemFailures": []}
    (item,) = aws.items()
    assert json.loads(item["extra"])["signature"] == "3q2+7w=="


def test_dynamodb_object_without_payload_is_read_back_from_its_stream(
    streams: Streams, bucket: str
) -> None:
    """GIVEN an object of a DynamoDB stream mapping without payload
    WHEN replayed with --target THEN the record is read back from the DynamoDB stream and its
    NewImage put as plain JSON; the object is deleted."""
    document = {"pk": "outbox#2", **retail_event(userId="ddb-no-payload")}
    batch = discarded_items(streams, [document])
    write_object(streams, batch, kind="dynamodb", payload=False)

    report = run_bucket(streams, target=streams.stream_arn)

    assert report.counts == {S3_ON_FAILURE: Counter({Outcome.REPLAYED: 1})}
    (record,) = streams.records()
    assert json.loads(record["Data"]) == document
    assert object_keys(streams) == []


# --------------------------------------------------------------------------- options, sources


def test_listing_is_paginated_and_max_limits_the_objects(streams: Streams, bucket: str) -> None:
    """GIVEN 5 objects and ListObjectsV2 pages of 2 keys
    WHEN replayed with --max 4 THEN 2 pages are listed, 4 objects replayed and deleted, 1 stays;
    WHEN replayed again THEN the last one goes too."""
    batches = [discarded(streams, [f"p{n}".encode()], [f"k{n}"]) for n in range(5)]
    for batch in batches:
        write_object(streams, batch)
    listings: list[dict[str, Any]] = []
    streams.s3.meta.events.register(
        "before-parameter-build.s3.ListObjectsV2", lambda params, **_: listings.append(params)
    )

    report = run_bucket(streams, page_size=2, max_messages=4)

    assert report.counts == {S3_ON_FAILURE: Counter({Outcome.REPLAYED: 4})}
    assert len(listings) == 2
    assert len(object_keys(streams)) == 1
    rest = run_bucket(streams, page_size=2)
    assert rest.counts == {S3_ON_FAILURE: Counter({Outcome.REPLAYED: 1})}
    replayed = sorted(data for data, _ in stream_tail(streams, batches[-1][0].sequence_number))
    assert replayed == [f"p{n}".encode() for n in range(5)]


def test_reason_filter_leaves_the_objects_untouched(streams: Streams, bucket: str) -> None:
    """GIVEN an object WHEN replayed with --reason RETRIES_EXHAUSTED THEN it is filtered out
    (not read, not deleted); WHEN replayed with --reason S3_ON_FAILURE THEN it is replayed."""
    batch = discarded(streams, [b"f"], ["k"])
    key = write_object(streams, batch)

    filtered = run_bucket(streams, reasons=frozenset({"RETRIES_EXHAUSTED"}))
    chosen = run_bucket(streams, reasons=frozenset({S3_ON_FAILURE}))

    assert filtered.counts == {S3_ON_FAILURE: Counter({Outcome.FILTERED: 1})}
    assert chosen.counts == {S3_ON_FAILURE: Counter({Outcome.REPLAYED: 1})}
    assert key not in object_keys(streams)


def test_queue_and_bucket_are_replayed_in_one_run(
    streams: Streams, bucket: str, hydrate: HydrateHarness
) -> None:
    """GIVEN a DLQ envelope (hydrated) and a failure bucket object
    WHEN `replay run --queue-url ... --bucket ...` THEN both are replayed, each reported in its
    own table, the DLQ and the bucket are empty; exit status 0."""
    numbers = streams.put([b"from-dlq"], ["kq"])
    hydrate.invoke(
        sns_event(
            on_failure_record(
                start=numbers[0],
                end=numbers[0],
                batch_size=1,
                stream_arn=streams.stream_arn,
                shard_id=streams.shard_id,
            )
        )
    )
    batch = discarded(streams, [b"from-s3"], ["ks"])
    write_object(streams, batch)

    code, output = run_cli(
        streams, "run", "--queue-url", streams.aws.queue_url, "--wait-seconds", "0"
    )

    assert code == 0
    assert "DLQ replay" in output
    assert "S3 on-failure replay: s3://stream-pipeline-failures/aws/lambda/" in output
    assert sorted(stream_tail(streams, last_number(batch))) == [
        (b"from-dlq", "kq"),
        (b"from-s3", "ks"),
    ]
    assert streams.dlq_count() == 0
    assert object_keys(streams) == []


def test_stats_counts_objects_and_changes_nothing(streams: Streams, bucket: str) -> None:
    """GIVEN an object with payload (2 records), one without (3 records) and one that is not
    JSON WHEN `replay stats --bucket` runs THEN the table counts them (objects, records, payload
    in object, pointer only, other) with the oldest failure and the stream; nothing changes."""
    write_object(streams, discarded(streams, [b"1", b"2"], ["k1", "k2"]))
    write_object(streams, discarded(streams, [b"3", b"4", b"5"], ["k"] * 3), payload=False)
    put_object(streams, b"junk")
    before = object_keys(streams)

    code, output = run_cli(streams, "stats")

    assert code == 0
    assert "S3 on-failure objects: s3://stream-pipeline-failures/aws/lambda/" in output
    rows = {
        cells[0]: cells[1:]
        for line in output.splitlines()
        if line.startswith("│")
        for cells in [[cell.strip() for cell in line.strip("│ ").split("│")]]
    }
    oldest = datetime.fromtimestamp(FAILED_AT, UTC).replace(microsecond=123_000).isoformat()
    assert rows[S3_ON_FAILURE] == ["2", "5", "1", "1", "0", oldest]
    assert rows[INVALID_S3_OBJECT] == ["1", "0", "0", "0", "1", "-"]
    assert f"2  {streams.stream_arn}" in output
    assert object_keys(streams) == before


@pytest.mark.parametrize(
    ("condition", "code"),
    [("RecordAgeExceeded", "RECORD_AGE_EXCEEDED"), ("RetryAttemptsExhausted", "RETRIES_EXHAUSTED")],
)
def test_envelopes_of_an_object_are_labelled_by_its_condition(
    streams: Streams, bucket: str, condition: str, code: str
) -> None:
    # GIVEN an S3 on-failure object whose batch was discarded for ``condition``
    def set_condition(body: dict[str, Any]) -> dict[str, Any]:
        body["requestContext"]["condition"] = condition
        return body

    key = write_object(streams, discarded(streams, [b"a"], ["k"]), edit=set_condition)
    body = streams.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    # WHEN its records become envelopes
    envelopes, problem = payload_envelopes(parse_failure_object(body))
    # THEN they carry the code of that condition (what the hydrate function gives them too)
    assert problem is None
    assert [str(e.error_category) for e in envelopes] == [code]
