"""Zero loss, end to end: the real ``environments/local`` (terraform apply against the local
runtime), real functions, faults injected only through the runtime's configuration.

For every scenario, every record the producer put is stored exactly once, or sits in the DLQ
with its original bytes: lost = 0, duplicates = 0 (``stream_pipeline.local.accounting.reconcile``
against the
producer's manifest; DLQ messages repeating one ``envelope_id`` are the DLQ's documented
at-least-once delivery, which readers de-duplicate, and are not counted as duplicates).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import uuid
from typing import Any

from e2e_pipeline import Pipeline

from stream_pipeline.local.accounting import ManifestEntry, Reconciliation
from stream_pipeline.producer.generator import ProducedRecord, RecordKind, generate_records
from stream_pipeline.replay import cli as replay
from stream_pipeline.runtime.dlq_envelope import canonical_json

RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED"
RECORD_AGE_EXCEEDED = "RECORD_AGE_EXCEEDED"


def assert_zero_loss(result: Reconciliation, produced: int) -> None:
    assert result.produced == produced
    assert result.ok, result.problems()
    assert not result.lost
    assert result.duplicates == 0
    assert result.stored + result.in_dlq == produced


def assert_as_expected(result: Reconciliation) -> None:
    """Each record ended where its kind says: valid events stored, poison dead-lettered with
    the error category the producer predicted."""
    assert result.unexpected == [], [(e.record_id, e.expected, got) for e, got in result.unexpected]


def expecting(manifest: list[ManifestEntry], outcome: str) -> list[ManifestEntry]:
    return [dataclasses.replace(entry, expected=outcome) for entry in manifest]


def test_poison_records_are_dead_lettered_and_their_neighbours_stored(pipeline: Pipeline) -> None:
    """GIVEN the deployed stack WHEN 400 events with 10 % poison records of every kind are put
    THEN each poison record is in the DLQ with its category and original bytes, and every good
    neighbour is stored once."""
    manifest = pipeline.produce(400, seed=101, poison_rate=0.10)
    pipeline.drain()

    result = pipeline.reconcile(manifest)

    assert_zero_loss(result, 400)
    assert_as_expected(result)
    poison = [e for e in manifest if e.expected != "stored"]
    assert poison
    assert result.in_dlq == len(poison)
    assert result.stored == 400 - len(poison)


def test_dynamodb_throttling_on_a_fifth_of_the_calls_loses_nothing(
    clean_faults: Pipeline,
) -> None:
    """GIVEN throttle-dynamodb:20 on the processor (20 % of its DynamoDB calls fail with
    ProvisionedThroughputExceededException) WHEN 300 events (2 % poison) are put THEN every
    event is stored once anyway (writer retries, then the mapping's) and poison is in the DLQ."""
    pipeline = clean_faults
    pipeline.faults({pipeline.processor: ["throttle-dynamodb:20"]})
    manifest = pipeline.produce(300, seed=102, poison_rate=0.02)
    pipeline.drain()

    result = pipeline.reconcile(manifest)

    assert_zero_loss(result, 300)
    assert_as_expected(result)
    log = pipeline.stack.state_dir / "functions" / f"{pipeline.processor}.log"
    assert '"BatchWriteRetries"' in log.read_text(), "the throttling fault did not bite"


def test_a_consumer_crashing_mid_batch_loses_nothing(clean_faults: Pipeline) -> None:
    """GIVEN crash-once-per-batch on the processor (its worker exits after the handler ran,
    before answering: a function error, so the batch is bisected and each half delivered again,
    down to single records, which are retried) WHEN 24 events (15 % poison) are put THEN each
    event is stored once and each poison record is in the DLQ under one envelope (the repeated
    DLQ messages carry the same envelope_id)."""
    pipeline = clean_faults
    crashes = pipeline.function_counters(pipeline.processor).get("worker_crashes", 0)
    pipeline.faults({pipeline.processor: ["crash-once-per-batch"]})
    manifest = pipeline.produce(24, seed=103, poison_rate=0.15)
    pipeline.drain()

    result = pipeline.reconcile(manifest)

    assert pipeline.function_counters(pipeline.processor).get("worker_crashes", 0) > crashes
    assert_zero_loss(result, 24)
    assert_as_expected(result)


def _exhaust_retries(pipeline: Pipeline) -> None:
    """Every DynamoDB write of the processor throttled and one retry: a batch goes to the
    on-failure path (SNS -> hydrate -> DLQ) within seconds. Undone by ``clean_faults``."""
    pipeline.update_mapping(MaximumRetryAttempts=1)
    pipeline.faults({pipeline.processor: ["throttle-dynamodb:100"]})


def test_hydrate_failing_transiently_still_dead_letters_the_exhausted_batch(
    clean_faults: Pipeline,
) -> None:
    """GIVEN a batch that exhausts its retries AND the hydrate function failing on its next
    invocation (raise-on-invocation) WHEN 20 events are put THEN Lambda's asynchronous retry of
    hydrate puts all 20, re-read from the stream, into the DLQ with their original bytes."""
    pipeline = clean_faults
    before = pipeline.function_counters(pipeline.hydrate)
    _exhaust_retries(pipeline)
    pipeline.faults(
        {
            pipeline.processor: ["throttle-dynamodb:100"],
            pipeline.hydrate: [f"raise-on-invocation:{before.get('invocations', 0) + 1}"],
        }
    )
    manifest = pipeline.produce(20, seed=104)
    pipeline.drain()

    result = pipeline.reconcile(expecting(manifest, RETRIES_EXHAUSTED))

    after = pipeline.function_counters(pipeline.hydrate)
    assert after.get("function_errors", 0) > before.get("function_errors", 0)
    assert after.get("async_retries", 0) > before.get("async_retries", 0)
    assert_zero_loss(result, 20)
    assert_as_expected(result)
    assert dict(result.dead_lettered) == {RETRIES_EXHAUSTED: 20}


def test_the_same_records_delivered_twice_are_stored_once(pipeline: Pipeline) -> None:
    """GIVEN 30 records (two of them poison) WHEN the same bytes are put twice THEN each event
    is one item, and each copy of a poison record is dead-lettered (its own coordinates)."""
    records = list(generate_records(28, seed=pipeline.seed_base + 105))
    poison = generate_records(200, seed=pipeline.seed_base + 1105, poison_rate=0.5)
    records += [r for r in poison if r.kind != RecordKind.VALID][:2]
    first = pipeline.put(records)
    second = pipeline.put(records)
    pipeline.drain()

    result = pipeline.reconcile(first + second)

    assert_zero_loss(result, 60)
    assert_as_expected(result)
    assert len(result.items) == 28
    assert result.in_dlq == 4


def test_records_older_than_the_maximum_record_age_end_in_the_dlq(
    clean_faults: Pipeline,
) -> None:
    """GIVEN a paused mapping WHEN 15 events are put, wait, and the mapping resumes with a
    maximum record age of 1 s THEN the mapping discards them (RecordAgeExceeded) and hydrate
    dead-letters all 15 with their original bytes, labelled RECORD_AGE_EXCEEDED (not retries
    exhausted): none is lost."""
    pipeline = clean_faults
    pipeline.update_mapping(Enabled=False)
    manifest = pipeline.produce(15, seed=106)
    time.sleep(2.0)  # the records are now older than the age set below
    pipeline.update_mapping(MaximumRecordAgeInSeconds=1, Enabled=True)
    pipeline.drain()

    result = pipeline.reconcile(expecting(manifest, RECORD_AGE_EXCEEDED))

    assert_zero_loss(result, 15)
    assert_as_expected(result)
    assert dict(result.dead_lettered) == {RECORD_AGE_EXCEEDED: 15}


def _replay(pipeline: Pipeline) -> int:
    return replay.main(
        [
            "run",
            "--queue-url",
            pipeline.outputs["dlq_url"],
            "--endpoint-url",
            pipeline.stack.endpoint,
            "--region",
            pipeline.outputs["stream_arn"].split(":")[3],
            # What the replay trusts: the environment's stream and envelope MAC key.
            "--stream",
            pipeline.outputs["stream_arn"],
            "--mac-key",
            pipeline.outputs["dlq_mac_key_arn"],
            "--reason",
            RETRIES_EXHAUSTED,
            "--no-progress",
        ]
    )


def test_dlq_replay_round_trip(clean_faults: Pipeline) -> None:
    """GIVEN 25 events dead-lettered by a transient fault (throttled writes exhausting the
    retries) WHEN the fault is fixed and the DLQ replayed THEN all 25 are stored once and the
    DLQ holds none of them; a second replay changes nothing."""
    pipeline = clean_faults
    _exhaust_retries(pipeline)
    manifest = pipeline.produce(25, seed=107)
    pipeline.drain()
    dead = pipeline.reconcile(expecting(manifest, RETRIES_EXHAUSTED), keep=True)
    assert_zero_loss(dead, 25)
    assert dict(dead.dead_lettered) == {RETRIES_EXHAUSTED: 25}

    pipeline.faults({})  # the cause, fixed
    pipeline.update_mapping(MaximumRetryAttempts=10)
    assert _replay(pipeline) == 0
    pipeline.drain()

    replayed = pipeline.reconcile(manifest)
    assert_zero_loss(replayed, 25)
    assert_as_expected(replayed)
    assert replayed.stored == 25
    assert replayed.in_dlq == 0
    items = sorted(replayed.items, key=lambda item: str(item["eventKey"]))

    assert _replay(pipeline) == 0
    pipeline.drain()
    again = pipeline.reconcile(manifest)
    assert sorted(again.items, key=lambda item: str(item["eventKey"])) == items
    assert again.in_dlq == 0


def _dynamodb_event(n: int, run: str) -> dict[str, Any]:
    return {
        "pk": {"S": f"{run}-{n}"},
        "eventId": {"S": f"ddb-{run}-{n}"},
        "userId": {"S": f"user-{n % 5}"},
        "eventType": {"S": "purchase" if n % 4 == 0 else "view"},
        "productId": {"S": f"P{n:05d}"},
        "timestamp": {"N": str(1_700_000_000_000 + n)},
    }


def _manifest_entry(image: dict[str, Any], expected: str) -> ManifestEntry:
    return ManifestEntry(
        record_id=image["eventId"]["S"],
        expected=expected,
        sha256=hashlib.sha256(canonical_json(image)).hexdigest(),
        dynamodb_keys={"pk": image["pk"]},
    )


def test_a_dynamodb_stream_source_loses_nothing(pipeline: Pipeline) -> None:
    """GIVEN a table with a stream, and a second stream_processor function with the deployed
    one's configuration (role, handler, environment: the same results table and DLQ) and
    mapping settings, reading that stream WHEN 27 events and 3 poison items are written THEN
    each event is stored once and each poison item is in the DLQ with its NewImage."""
    awslambda = pipeline.client("lambda")
    dynamodb = pipeline.client("dynamodb")
    run = uuid.uuid4().hex[:8]
    table = f"e2e-ddb-source-{run}"
    stream_arn = pipeline.stream_table(table)
    function = pipeline.processor_clone(f"ddb-{run}")
    uuid_ = awslambda.create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=function,
        StartingPosition="TRIM_HORIZON",
        **pipeline.mapping_settings(),
    )["UUID"]
    try:
        manifest = []
        for n in range(30):
            image = _dynamodb_event(n, run)
            expected = "stored"
            if n % 10 == 3:
                del image["userId"]
                expected = "SCHEMA_VIOLATION"
            elif n % 10 == 7:
                image["timestamp"] = {"S": "yesterday"}
                expected = "SCHEMA_VIOLATION"
            dynamodb.put_item(TableName=table, Item=image)
            manifest.append(_manifest_entry(image, expected))
        pipeline.drain()

        result = pipeline.reconcile(manifest)
    finally:
        awslambda.delete_event_source_mapping(UUID=uuid_)
        awslambda.delete_function(FunctionName=function)

    assert_zero_loss(result, 30)
    assert_as_expected(result)
    assert result.stored == 24
    assert dict(result.dead_lettered) == {"SCHEMA_VIOLATION": 6}


def test_manifest_accounting_sees_a_missing_record(pipeline: Pipeline) -> None:
    """The accounting itself: a record nobody put is reported lost (the suite cannot pass
    by matching nothing)."""
    phantom = ProducedRecord(
        "pk", json.dumps({"eventId": "phantom"}).encode(), RecordKind.VALID, "phantom"
    )
    entry = ManifestEntry(
        record_id=phantom.record_id,
        expected="stored",
        sha256=hashlib.sha256(phantom.data).hexdigest(),
        shard_id="shardId-000000000000",
        sequence_number="999999999",
    )
    result = pipeline.reconcile([entry], keep=True)
    assert [e.record_id for e in result.lost] == ["phantom"]
    assert not result.ok
