"""The e-mail notifier end to end: the real ``environments/local`` (its notifier reads its own
enhanced fan-out consumer, filtered on ``eventType = purchase``), the real ``email_notifier``
function, SES in the emulator (moto counts every e-mail it accepts: ``GetSendQuota``'s
``SentLast24Hours``).

Scenarios run one after the other on the session's stack and drain before they count, so the
difference of the SES count before and after a scenario is that scenario's e-mails. Their seeds
(5xx) are their own among all e2e scenarios (test_scenario_seeds.py): a purchase another scenario
already put, with the same eventId, would be an idempotent duplicate the notifier does not mail
again, and its user's address would share the per-recipient rate cap.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from e2e_pipeline import Pipeline

from stream_pipeline.local.accounting import (
    ManifestEntry,
    account_emails,
    delete_messages,
    emails_sent,
    notified_events,
    read_dlq,
    reconcile,
    release_messages,
)
from stream_pipeline.local.runtime.client import read_state
from stream_pipeline.producer.generator import ProducedRecord, RecordKind, generate_records
from stream_pipeline.replay import cli as replay

RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED"
RECIPIENT_NOT_ALLOWED = "email-notifier.RECIPIENT_NOT_ALLOWED"
RECIPIENT_RATE_LIMITED = "email-notifier.RECIPIENT_RATE_LIMITED"
LOCAL_RATE_CAP = 5
"""environments/local keeps the module's default cap: 5 e-mails per recipient and hour."""


def _event(pipeline: Pipeline, seed: int, event_type: str) -> ProducedRecord:
    """One valid event of ``event_type`` from the producer (its schema, an ``email``)."""
    for record in generate_records(500, seed=pipeline.seed_base + seed):
        if record.kind is RecordKind.VALID and json.loads(record.data)["eventType"] == event_type:
            return record
    raise AssertionError(f"the producer made no {event_type} event")  # pragma: no cover


def _purchases_to(pipeline: Pipeline, seed: int, email: str, count: int) -> list[ProducedRecord]:
    """``count`` distinct purchases (their own eventIds) by one user, all naming ``email``."""
    template = json.loads(_event(pipeline, seed, "purchase").data)
    records = []
    for n in range(count):
        event = {**template, "eventId": f"{template['eventId']}-{n}", "email": email}
        data = json.dumps(event).encode()
        records.append(ProducedRecord(template["userId"], data, RecordKind.VALID, event["eventId"]))
    return records


class Notifier:
    """What a scenario observes of the deployed notifier."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.name = str(pipeline.outputs["email_notifier_function_name"])

    def emails_sent(self) -> int:
        return emails_sent(self.pipeline.client("ses"))

    @property
    def mapping_uuid(self) -> str:
        mappings = self.pipeline.client("lambda").list_event_source_mappings()
        (mapping,) = [
            m
            for m in mappings["EventSourceMappings"]
            if m["FunctionArn"].endswith(f":function:{self.name}")
        ]
        return str(mapping["UUID"])

    def mapping_counters(self) -> dict[str, int]:
        state = read_state(self.pipeline.stack.state_dir) or {}
        mappings = state.get("counters", {}).get("mappings", {})
        return dict(mappings.get(self.mapping_uuid, {}))

    def invocations(self) -> int:
        return self.pipeline.function_counters(self.name).get("invocations", 0)

    def take_dead_letters(self, manifest: list[ManifestEntry]) -> dict[str, int]:
        """The notifier's DLQ messages for ``manifest``'s records, by reason; deleted, so the
        next scenario starts from a queue without them."""
        sqs, url = self.pipeline.client("sqs"), self.pipeline.outputs["dlq_url"]
        messages = read_dlq(sqs, url, release=False)
        result = reconcile(manifest, [], messages, consumer=self.name)
        own = {m.message_id for m in result.messages}
        delete_messages(sqs, url, result.messages)
        release_messages(sqs, url, [m for m in messages if m.message_id not in own])
        return dict(result.dead_lettered)


@pytest.fixture
def notifier(pipeline: Pipeline) -> Notifier:
    if not pipeline.outputs.get("email_notifier_function_name"):
        pytest.fail("environments/local deploys no e-mail notifier")
    pipeline.drain()
    return Notifier(pipeline)


def _not_dead_lettered_by_the_notifier(
    pipeline: Pipeline, notifier: Notifier, manifest: list[ManifestEntry], sent: int
) -> None:
    messages = read_dlq(pipeline.client("sqs"), pipeline.outputs["dlq_url"])
    ids = {entry.record_id for entry in manifest}
    emails = account_emails(manifest, ids, sent, messages, notifier.name)
    assert sum(emails.dead_lettered.values()) == 0, emails.dead_lettered
    assert emails.ok, emails.problems()


def test_the_deployed_notifier_reads_its_own_filtered_efo_consumer(notifier: Notifier) -> None:
    """GIVEN the applied environments/local THEN the notifier's mapping reads the EFO consumer
    the pipeline output names, filtered on purchases, with partial batch responses, bisect,
    bounded retries and the on-failure topic the processor uses too."""
    awslambda = notifier.pipeline.client("lambda")
    mapping = awslambda.get_event_source_mapping(UUID=notifier.mapping_uuid)
    processor = awslambda.get_event_source_mapping(UUID=notifier.pipeline.mapping_uuid)

    assert mapping["EventSourceArn"] == notifier.pipeline.outputs["email_notifier_efo_consumer_arn"]
    assert "/consumer/" in mapping["EventSourceArn"]
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert patterns == [{"data": {"eventType": ["purchase"]}}]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 <= mapping["MaximumRetryAttempts"] <= 10
    assert mapping["DestinationConfig"] == processor["DestinationConfig"]


def test_a_purchase_sends_one_email(pipeline: Pipeline, notifier: Notifier) -> None:
    """GIVEN the deployed stack WHEN one purchase event is put THEN SES accepted exactly one
    e-mail, the notifier dead-lettered nothing, and the processor stored the event."""
    purchase = _event(pipeline, 501, "purchase")
    before = notifier.emails_sent()

    manifest = pipeline.put([purchase])
    pipeline.drain()

    sent = notifier.emails_sent() - before
    assert sent == 1
    assert notified_events([purchase]) == {purchase.record_id}
    _not_dead_lettered_by_the_notifier(pipeline, notifier, manifest, sent)
    stored = pipeline.reconcile(manifest)
    assert stored.ok, stored.problems()
    assert stored.stored == 1


def test_a_view_never_invokes_the_notifier(pipeline: Pipeline, notifier: Notifier) -> None:
    """GIVEN the deployed stack WHEN one view event is put THEN the notifier's mapping filters
    it out (records_filtered_out + 1), the function is not invoked and no e-mail is sent, while
    the processor stores the event."""
    view = _event(pipeline, 502, "view")
    before = notifier.emails_sent()
    invocations = notifier.invocations()
    filtered = notifier.mapping_counters().get("records_filtered_out", 0)

    manifest = pipeline.put([view])
    pipeline.drain()

    assert notifier.emails_sent() == before
    assert notifier.invocations() == invocations
    assert notifier.mapping_counters().get("records_filtered_out", 0) == filtered + 1
    stored = pipeline.reconcile(manifest)
    assert stored.ok, stored.problems()
    assert stored.stored == 1


def test_a_purchase_put_twice_and_replayed_sends_one_email(
    clean_faults: Pipeline, notifier: Notifier
) -> None:
    """GIVEN the processor failing every write with one retry (its batches end in the shared
    DLQ) WHEN the same purchase is put twice THEN one e-mail is sent; WHEN the fault is fixed
    and the DLQ replayed (both copies go back into the stream, where both consumers read them)
    THEN the processor stores the event once and the notifier, idempotent, sends nothing more."""
    pipeline = clean_faults
    purchase = _event(pipeline, 503, "purchase")
    pipeline.update_mapping(MaximumRetryAttempts=1)
    pipeline.faults({pipeline.processor: ["throttle-dynamodb:100"]})
    before = notifier.emails_sent()

    manifest = pipeline.put([purchase]) + pipeline.put([purchase])
    pipeline.drain()

    assert notifier.emails_sent() - before == 1
    exhausted = [dataclasses.replace(e, expected=RETRIES_EXHAUSTED) for e in manifest]
    dead = pipeline.reconcile(exhausted, keep=True)
    assert dead.ok, dead.problems()
    assert dict(dead.dead_lettered) == {RETRIES_EXHAUSTED: 2}

    pipeline.faults({})  # the cause, fixed
    pipeline.update_mapping(MaximumRetryAttempts=10)
    assert _replay(pipeline) == 0
    pipeline.drain()

    sent = notifier.emails_sent() - before
    assert sent == 1
    _not_dead_lettered_by_the_notifier(pipeline, notifier, manifest[:1], sent)
    replayed = pipeline.reconcile(manifest)
    assert replayed.ok, replayed.problems()
    assert replayed.in_dlq == 0
    assert [item["eventId"] for item in replayed.items] == [purchase.record_id]


def _replay(pipeline: Pipeline) -> int:
    arguments = [
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
    return replay.main(arguments)


def test_every_send_names_the_configuration_set_the_stack_created(notifier: Notifier) -> None:
    """GIVEN the applied environments/local THEN the notifier's CONFIGURATION_SET_NAME is the
    SES configuration set the module created, and its recipient policy and rate cap are set."""
    awslambda = notifier.pipeline.client("lambda")
    variables = awslambda.get_function_configuration(FunctionName=notifier.name)["Environment"][
        "Variables"
    ]

    name = variables["CONFIGURATION_SET_NAME"]
    assert name == notifier.name  # <name>-notifier
    configuration_set = notifier.pipeline.client("sesv2").get_configuration_set(
        ConfigurationSetName=name
    )
    assert configuration_set["ConfigurationSetName"] == name
    assert variables["ALLOWED_RECIPIENT_DOMAINS"] == "example.com"
    assert variables["MAILBOX_SIMULATOR"] == "success"
    assert variables["RATE_LIMIT_MAX_EMAILS"] == str(LOCAL_RATE_CAP)


def test_a_recipient_outside_the_policy_is_refused_to_the_dlq(
    pipeline: Pipeline, notifier: Notifier
) -> None:
    """GIVEN the local policy (example.com only) WHEN a purchase names a recipient at another
    domain THEN no e-mail is sent, the notifier dead-letters it as
    email-notifier.RECIPIENT_NOT_ALLOWED, and the processor still stores the event."""
    (refused,) = _purchases_to(pipeline, 504, "someone@elsewhere.example", 1)
    before = notifier.emails_sent()

    manifest = pipeline.put([refused])
    pipeline.drain()

    assert notifier.emails_sent() == before
    assert notifier.take_dead_letters(manifest) == {RECIPIENT_NOT_ALLOWED: 1}
    stored = pipeline.reconcile(manifest)
    assert stored.ok, stored.problems()
    assert stored.stored == 1


def test_a_flood_to_one_address_is_capped(pipeline: Pipeline, notifier: Notifier) -> None:
    """GIVEN the local cap (5 e-mails per recipient and hour) WHEN 12 distinct purchases name
    one address THEN 5 e-mails are sent, the other 7 are dead-lettered as
    email-notifier.RECIPIENT_RATE_LIMITED (every purchase mailed or in the DLQ with its
    reason), and the processor stores all 12."""
    address = f"flood-{pipeline.seed_base}@example.com"  # a recipient no other run has used
    flood = _purchases_to(pipeline, 505, address, 12)
    before = notifier.emails_sent()

    manifest = pipeline.put(flood)
    pipeline.drain()

    sent = notifier.emails_sent() - before
    assert sent == LOCAL_RATE_CAP
    messages = read_dlq(pipeline.client("sqs"), pipeline.outputs["dlq_url"])
    emails = account_emails(manifest, notified_events(flood), sent, messages, notifier.name)
    assert emails.ok, emails.problems()
    assert notifier.take_dead_letters(manifest) == {RECIPIENT_RATE_LIMITED: 12 - LOCAL_RATE_CAP}
    stored = pipeline.reconcile(manifest)
    assert stored.ok, stored.problems()
    assert stored.stored == 12
