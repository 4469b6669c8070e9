"""The DLQ replay end to end, on the session's stack (the real ``environments/local``, the real
functions, the ``stream-pipeline replay`` command line):

* a DLQ holding malformed messages next to good ones: the good ones are put back and stored,
  each malformed one stays with its reason -- lost = 0;
* a targeted redrive of an e-mail notifier failure: it reaches the notifier, which now sends
  the e-mail, and never the stream processor.

Faults come only from configuration: the runtime's ``faults.json`` and mapping settings, and
-- for the notifier -- SES refusing a sender whose identity is gone (moto's MessageRejected).
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_pipeline import Pipeline
from rich.console import Console

from stream_pipeline.local.accounting import (
    ManifestEntry,
    delete_messages,
    emails_sent,
    read_dlq,
    reconcile,
)
from stream_pipeline.producer.generator import ProducedRecord, RecordKind, generate_records
from stream_pipeline.replay import cli as replay
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope

RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED"
NOTIFICATION_REJECTED = "NOTIFICATION_REJECTED"


def _replay(pipeline: Pipeline, *args: str) -> tuple[int, str]:
    """`stream-pipeline replay run ARGS` against the stack; exit status and what it printed."""
    out = io.StringIO()
    console = Console(file=out, width=400, no_color=True)
    code = replay.main(
        [
            "run",
            "--endpoint-url",
            pipeline.stack.endpoint,
            "--region",
            pipeline.outputs["stream_arn"].split(":")[3],
            # What the replay trusts: the environment's stream and envelope MAC key.
            "--stream",
            pipeline.outputs["stream_arn"],
            "--mac-key",
            pipeline.outputs["dlq_mac_key_arn"],
            "--no-progress",
            *args,
        ],
        console=console,
        error_console=console,
    )
    return code, out.getvalue()


def _send(pipeline: Pipeline, body: str) -> str:
    response = pipeline.client("sqs").send_message(
        QueueUrl=pipeline.outputs["dlq_url"], MessageBody=body
    )
    return str(response["MessageId"])


def test_malformed_messages_stay_with_their_reasons_and_the_good_ones_are_replayed(
    clean_faults: Pipeline,
) -> None:
    """GIVEN 12 events dead-lettered by a transient fault (throttled writes exhausting the
    retries) and, in the same DLQ, malformed messages: a copy of one of those envelopes whose
    sequence number is "²" (passes str.isdigit, fails int), one whose payload does not match
    its hash, one with a number where text belongs, and a body that is not JSON
    WHEN the fault is fixed and the DLQ replayed
    THEN exit status 1; each malformed message is listed with its reason and is still in the
    DLQ; all 12 events are stored once and none of them is left in the DLQ: lost = 0."""
    pipeline = clean_faults
    pipeline.update_mapping(MaximumRetryAttempts=1)
    pipeline.faults({pipeline.processor: ["throttle-dynamodb:100"]})
    manifest = pipeline.produce(12, seed=401)
    pipeline.drain()
    exhausted = [dataclasses.replace(e, expected=RETRIES_EXHAUSTED) for e in manifest]
    dead = pipeline.reconcile(exhausted, keep=True)
    assert dead.ok, dead.problems()
    assert dict(dead.dead_lettered) == {RETRIES_EXHAUSTED: 12}
    template = json.loads(DlqEnvelope.parse(dead.messages[0].body).to_json())
    malformed = {
        "superscript sequence number": (
            {**template, "sequence_number": "\N{SUPERSCRIPT TWO}"},
            "sequence_number of a stream record must be 1 to 128 ASCII digits",
        ),
        "payload not matching its hash": (
            {**template, "payload_sha256": "0" * 64},
            "payload_sha256 does not match the payload",
        ),
        "wrong type": (
            {**template, "payload_length": "many"},
            "payload_length: Input should be a valid integer",
        ),
        "not JSON": ("{not json", "DLQ envelope is not valid JSON"),
    }
    sent = {
        _send(pipeline, body if isinstance(body, str) else json.dumps(body)): why
        for body, why in malformed.values()
    }
    sqs = pipeline.client("sqs")
    try:
        pipeline.faults({})  # the cause, fixed
        pipeline.update_mapping(MaximumRetryAttempts=10)
        code, output = _replay(pipeline, "--queue-url", pipeline.outputs["dlq_url"])
        pipeline.drain()

        assert code == 1, output
        lines = output.splitlines()
        for message_id, why in sent.items():
            (line,) = [line for line in lines if message_id in line]
            assert "INVALID_ENVELOPE" in line
            assert why[:60] in " ".join(output.split()), (why, output)
        left = [m for m in read_dlq(sqs, pipeline.outputs["dlq_url"]) if m.message_id in sent]
        assert sorted(m.message_id for m in left) == sorted(sent)
    finally:
        # Out of the queue whatever happened: the stack's accounting, which later scenarios
        # use, parses sequence numbers itself.
        mine = [m for m in read_dlq(sqs, pipeline.outputs["dlq_url"]) if m.message_id in sent]
        delete_messages(sqs, pipeline.outputs["dlq_url"], mine)
    replayed = pipeline.reconcile(manifest)
    assert replayed.ok, replayed.problems()
    assert not replayed.lost
    assert replayed.stored == 12
    assert replayed.in_dlq == 0


# --------------------------------------------------------------------------- targeted redrive


def _purchase(pipeline: Pipeline, seed: int) -> ProducedRecord:
    """One valid purchase from the producer (with its ``email``)."""
    for record in generate_records(500, seed=pipeline.seed_base + seed):
        if record.kind is RecordKind.VALID and json.loads(record.data)["eventType"] == "purchase":
            return record
    raise AssertionError("the producer made no purchase")  # pragma: no cover


@pytest.fixture
def sender_identity_removed(pipeline: Pipeline) -> Iterator[str]:
    """The notifier's SES sender identity deleted (SES then refuses its e-mails with
    MessageRejected, a permanent error: the notifier dead-letters the purchase); yields the
    identity, re-created afterwards whatever happens."""
    notifier = pipeline.outputs.get("email_notifier_function_name")
    if not notifier:
        pytest.fail("environments/local deploys no e-mail notifier")
    variables = pipeline.client("lambda").get_function_configuration(FunctionName=notifier)[
        "Environment"
    ]["Variables"]
    sender = str(variables["SENDER_ADDRESS"])
    sesv2 = pipeline.client("sesv2")
    identities = [i["IdentityName"] for i in sesv2.list_email_identities()["EmailIdentities"]]
    (identity,) = [i for i in identities if i in (sender, sender.rpartition("@")[2])]
    sesv2.delete_email_identity(EmailIdentity=identity)
    try:
        yield identity
    finally:
        names = [i["IdentityName"] for i in sesv2.list_email_identities()["EmailIdentities"]]
        if identity not in names:
            sesv2.create_email_identity(EmailIdentity=identity)


def _terraform_outputs(pipeline: Pipeline, tmp_path: Path) -> str:
    """The stack's outputs as `terraform output -json` prints them (what `make replay` pipes)."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({name: {"value": v} for name, v in pipeline.outputs.items()}))
    return str(path)


def _notifier_dead_letters(pipeline: Pipeline, manifest: list[ManifestEntry], notifier: str) -> Any:
    messages = read_dlq(pipeline.client("sqs"), pipeline.outputs["dlq_url"])
    return reconcile(manifest, [], messages, consumer=notifier)


def test_a_targeted_redrive_of_a_notifier_failure_reaches_the_notifier_only(
    pipeline: Pipeline, sender_identity_removed: str, tmp_path: Path
) -> None:
    """GIVEN a purchase the processor stored but the notifier dead-lettered (SES refused the
    e-mail: the sender identity was gone)
    WHEN the identity is back and the DLQ redriven (`run --mode redrive`, the allowed consumers
    from the environment's terraform outputs)
    THEN the notifier sends the e-mail and its message leaves the DLQ; the stream processor --
    which reads every record of the stream, so a record put back would invoke it -- is not
    invoked again and its table is unchanged; lost = 0."""
    notifier = str(pipeline.outputs["email_notifier_function_name"])
    ses = pipeline.client("ses")
    pipeline.drain()
    before = emails_sent(ses)

    manifest = pipeline.put([_purchase(pipeline, 402)])
    pipeline.drain()

    assert emails_sent(ses) == before
    rejected = _notifier_dead_letters(pipeline, manifest, notifier)
    assert dict(rejected.dead_lettered) == {NOTIFICATION_REJECTED: 1}
    stored = pipeline.reconcile(manifest, keep=True)
    assert stored.ok, stored.problems()
    assert stored.stored == 1
    items = stored.items

    pipeline.client("sesv2").create_email_identity(EmailIdentity=sender_identity_removed)
    invocations = pipeline.function_counters(pipeline.processor).get("invocations", 0)
    code, output = _replay(
        pipeline,
        "--mode",
        "redrive",
        "--terraform-outputs",
        _terraform_outputs(pipeline, tmp_path),
        "--reason",
        NOTIFICATION_REJECTED,
    )
    pipeline.drain()

    assert code == 0, output
    assert "records handed to their consumer: 1 in 1 invocation(s)" in output
    assert emails_sent(ses) == before + 1
    assert pipeline.function_counters(pipeline.processor).get("invocations", 0) == invocations
    redriven = _notifier_dead_letters(pipeline, manifest, notifier)
    assert redriven.in_dlq == 0
    after = pipeline.reconcile(manifest)
    assert after.ok, after.problems()
    assert not after.lost
    assert after.stored == 1
    assert after.items == items
