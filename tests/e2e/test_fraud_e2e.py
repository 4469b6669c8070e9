"""The fraud detector end to end: the real ``environments/local`` (its ``fraud`` consumer reads
its own enhanced fan-out consumer, filtered on purchases and add-to-carts, with the module's
default thresholds), the real ``fraud_detector`` function, the producer's planted fraudulent
users.

Each planted (user, rule) is flagged exactly once and alerted once, although every batch of
the planted users' events is delivered twice (the runtime's ``crash-once-per-batch``: the
worker dies after the handler ran, before answering, so the retry finds its own writes; only
for those events: with bisect on, every crash splits the batch, and a whole run would take
many minutes of worker restarts), and although their records are put into the stream again (a
replay); no clean user is flagged; the poison records it reads are dead-lettered by it;
lost = 0.
"""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_pipeline import Pipeline

from stream_pipeline.local.accounting import (
    DlqMessage,
    ManifestEntry,
    delete_messages,
    function_name,
    read_dlq,
    read_manifest,
    release_messages,
)
from stream_pipeline.local.fraud_report import account_fraud, planted_fraud, read_flags
from stream_pipeline.producer.generator import (
    FraudRule,
    ProducedRecord,
    RecordKind,
    generate_records,
    poison_bytes,
)
from stream_pipeline.producer.sender import produce
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, EnvelopeParseError

pytestmark = pytest.mark.xdist_group("e2e")

EVENT_TYPES = ("purchase", "add_to_cart")


class Fraud:
    """What a scenario observes of the deployed detector."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.name = str(pipeline.outputs["consumer_function_names"]["fraud"])
        self.flags_table = str(pipeline.outputs["fraud_flags_table_name"])
        self.topic_arn = str(pipeline.outputs["fraud_alert_topic_arn"])

    @property
    def mapping(self) -> dict[str, Any]:
        awslambda = self.pipeline.client("lambda")
        (mapping,) = [
            m
            for m in awslambda.list_event_source_mappings()["EventSourceMappings"]
            if m["FunctionArn"].endswith(f":function:{self.name}")
        ]
        return dict(mapping)

    def flags(self) -> list[dict[str, Any]]:
        return read_flags(self.pipeline.client("dynamodb"), self.flags_table)


class AlertReader:
    """An SQS queue subscribed to the alert topic (raw delivery): the alerts published."""

    def __init__(self, pipeline: Pipeline, topic_arn: str, name: str) -> None:
        self.sqs = pipeline.client("sqs")
        self.url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
        self.subscription = pipeline.client("sns").subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        self.pipeline = pipeline

    def read(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = []
        while messages := self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, VisibilityTimeout=300
        ).get("Messages"):
            alerts += [json.loads(message["Body"]) for message in messages]
        return alerts

    def close(self) -> None:
        self.pipeline.client("sns").unsubscribe(SubscriptionArn=self.subscription)
        self.sqs.delete_queue(QueueUrl=self.url)


@pytest.fixture
def fraud(pipeline: Pipeline) -> Iterator[Fraud]:
    if "fraud" not in pipeline.outputs.get("consumer_function_names", {}):
        pytest.fail("environments/local deploys no fraud detector")
    pipeline.drain()
    yield Fraud(pipeline)
    pipeline.faults({})


def _put(pipeline: Pipeline, records: list[ProducedRecord]) -> tuple[list[ManifestEntry], str]:
    """PutRecords through the producer: the accepted records and the manifest's text."""
    text = io.StringIO()
    report = produce(
        pipeline.client("kinesis"), pipeline.outputs["stream_name"], records, manifest=text
    )
    assert report.total_failed == 0, report.failure_reasons
    return read_manifest(text.getvalue()), text.getvalue()


def _poison_purchases(records: list[ProducedRecord], count: int) -> list[ProducedRecord]:
    """``count`` purchases of the run made poison (a wrong type: still JSON with
    ``eventType: purchase``, so the detector's filter lets them through)."""
    rng = random.Random(len(records))
    purchases = [
        json.loads(r.data)
        for r in records
        if r.kind is RecordKind.VALID and not r.planted and b'"eventType":"purchase"' in r.data
    ]
    return [
        ProducedRecord(
            event["userId"],
            poison_bytes(RecordKind.WRONG_TYPE, event, rng),
            RecordKind.WRONG_TYPE,
            f"poison-fraud-{event['eventId']}",
        )
        for event in purchases[:count]
    ]


def _take_fraud_dead_letters(
    pipeline: Pipeline, fraud: Fraud, manifest: list[ManifestEntry]
) -> list[DlqEnvelope]:
    """The detector's DLQ envelopes of ``manifest``'s records (deleted: the next scenario
    starts from a queue without them); the other messages are released."""
    sqs, url = pipeline.client("sqs"), pipeline.outputs["dlq_url"]
    messages = read_dlq(sqs, url, release=False)
    positions = {(e.shard_id, e.sequence_number) for e in manifest}
    mine: list[DlqMessage] = []
    envelopes: list[DlqEnvelope] = []
    for message in messages:
        try:
            envelope = DlqEnvelope.parse(message.body)
        except EnvelopeParseError:
            continue  # not an envelope: not the detector's
        if (
            function_name(envelope.consumer) == fraud.name
            and (envelope.shard_id, envelope.sequence_number) in positions
        ):
            mine.append(message)
            envelopes.append(envelope)
    delete_messages(sqs, url, mine)
    release_messages(sqs, url, [m for m in messages if m not in mine])
    return envelopes


def test_the_deployed_detector_reads_its_own_filtered_efo_consumer(fraud: Fraud) -> None:
    """GIVEN the applied environments/local THEN the detector's mapping reads an enhanced
    fan-out consumer, is filtered on purchases and add-to-carts, with partial batch responses,
    bisect, bounded retries and the pipeline's on-failure destination."""
    mapping = fraud.mapping
    processor = fraud.pipeline.client("lambda").get_event_source_mapping(
        UUID=fraud.pipeline.mapping_uuid
    )

    assert "/consumer/" in mapping["EventSourceArn"]
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert patterns == [{"data": {"eventType": list(EVENT_TYPES)}}]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 <= mapping["MaximumRetryAttempts"] <= 10
    assert mapping["DestinationConfig"] == processor["DestinationConfig"]


def test_planted_fraud_is_flagged_exactly_once_under_redelivery_and_replay(
    pipeline: Pipeline, fraud: Fraud
) -> None:
    # GIVEN a run of 1,000 events with 3 % poison, one planted fraudulent user per rule and a
    # few poison purchases; the ordinary traffic put and processed first, and a queue reading
    # the alert topic
    alerts = AlertReader(pipeline, fraud.topic_arn, f"fraud-alerts-{pipeline.seed_base}")
    records = list(
        generate_records(1_000, seed=pipeline.seed_base + 701, poison_rate=0.03, plant_fraud=True)
    )
    planted_records = [r for r in records if r.planted]
    ordinary = [r for r in records if not r.planted]
    poison = _poison_purchases(records, 3)
    try:
        ordinary_manifest, ordinary_text = _put(pipeline, [*ordinary, *poison])
        pipeline.drain()

        # WHEN the planted users' events arrive while every batch the detector handles is
        # delivered twice (the worker dies after the handler ran, its writes done, before
        # answering: the mapping retries the batch)
        pipeline.faults({fraud.name: ["crash-once-per-batch"]})
        crashes = pipeline.function_counters(fraud.name).get("worker_crashes", 0)
        planted_manifest, planted_text = _put(pipeline, planted_records)
        pipeline.drain()

        # THEN each planted (user, rule) is flagged once and alerted once; no one else is
        manifest = [*ordinary_manifest, *planted_manifest]
        planted, users = planted_fraud(ordinary_text + planted_text)
        assert len(planted) == len(FraudRule)
        result = account_fraud(planted, users, fraud.flags())
        assert result.ok, result.problems()
        assert pipeline.function_counters(fraud.name).get("worker_crashes", 0) > crashes
        first_alerts = alerts.read()
        assert Counter(a["flagId"] for a in first_alerts) == Counter(
            f"{f['userId']}#{f['flagKey']}" for f in result.flags
        )
        assert {f["alert"] for f in result.flags} == {"sent"}

        # AND the poison records of its event types are dead-lettered by it, nothing else
        poison_ids = {e.record_id for e in manifest if e.expected != "stored"}
        dead = _take_fraud_dead_letters(pipeline, fraud, manifest)
        by_position = {(e.shard_id, e.sequence_number): e for e in manifest}
        dead_ids = {by_position[(d.shard_id, d.sequence_number)].record_id for d in dead}
        assert {r.record_id for r in poison} <= dead_ids <= poison_ids
        # (for the reason the processor gives them: both are kit consumers)
        assert all(
            d.error_category == by_position[(d.shard_id, d.sequence_number)].expected for d in dead
        )

        # AND every record is stored once or in the DLQ: lost = 0
        stored = pipeline.reconcile(manifest)
        assert stored.ok, stored.problems()
        assert stored.lost == []

        # WHEN the planted users' records are put into the stream again (a replay), the
        # redelivery fault lifted
        pipeline.faults({})
        replayed, _ = _put(pipeline, planted_records)
        pipeline.drain()

        # THEN still one flag per planted (user, rule), no second alert, nothing lost
        again = account_fraud(planted, users, fraud.flags())
        assert again.ok, again.problems()
        assert alerts.read() == []
        restored = pipeline.reconcile(replayed)
        assert restored.ok, restored.problems()
        assert {r.kind for r in planted_records} == {RecordKind.VALID}
    finally:
        alerts.close()
