"""`stream-pipeline verify` (the console script `make verify ENV=<env>` runs) against the
environments' stack: environments/local applied to the local runtime, its outputs given as
`terraform output -json` gives them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_pipeline import Pipeline

from stream_pipeline.local.accounting import emails_sent
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, EnvelopeParseError
from stream_pipeline.verify_canaries import notifier_idempotency_key

CLI = Path(sys.executable).with_name("stream-pipeline")


def _verify(pipeline: Pipeline, *args: str) -> subprocess.CompletedProcess[str]:
    outputs = {name: {"value": value} for name, value in pipeline.outputs.items()}
    return subprocess.run(
        [
            str(CLI),
            "verify",
            "--terraform-outputs",
            "-",
            "--endpoint-url",
            pipeline.stack.endpoint,
            "--poll-interval",
            "0.5",
            "--dlq-interval",
            "1",
            *args,
        ],
        input=json.dumps(outputs),
        capture_output=True,
        text=True,
        env=os.environ.copy(),  # the suite's dummy credentials
        check=False,
        timeout=600,
    )


def _left_behind(pipeline: Pipeline, run: str) -> dict[str, Any]:
    """Everything of run ``run`` still in the table, the idempotency table and the DLQ."""
    user = f"verify-{run}"
    dynamodb = pipeline.client("dynamodb")
    items = dynamodb.query(
        TableName=pipeline.outputs["results_table_name"],
        KeyConditionExpression="userId = :u",
        ExpressionAttributeValues={":u": {"S": user}},
        ConsistentRead=True,
    )["Items"]
    records = dynamodb.get_item(
        TableName=pipeline.outputs["email_notifier_idempotency_table_name"],
        Key={"id": {"S": notifier_idempotency_key(f"{user}-purchase")}},
        ConsistentRead=True,
    )
    sqs = pipeline.client("sqs")
    url = pipeline.outputs["dlq_url"]
    own, seen = [], []
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30
    ).get("Messages", []):
        seen += messages
        for message in messages:
            try:
                envelope = DlqEnvelope.parse(message["Body"])
            except EnvelopeParseError:
                continue
            if envelope.partition_key == user:
                own.append(envelope.envelope_id)
    for message in seen:  # other scenarios' messages stay theirs
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return {"items": items, "idempotency": "Item" in records, "dlq": own}


@pytest.fixture
def restore_mapping(clean_faults: Pipeline) -> Iterator[dict[str, Any]]:
    """The processor's mapping as deployed; its on-failure destination is put back afterwards
    (``clean_faults`` puts back the rest and the faults)."""
    mapping = clean_faults.client("lambda").get_event_source_mapping(UUID=clean_faults.mapping_uuid)
    yield mapping
    clean_faults.update_mapping(DestinationConfig=mapping["DestinationConfig"])


def test_verify_reports_every_canary_and_leaves_nothing_behind(pipeline: Pipeline) -> None:
    """GIVEN the deployed local stack (processor, e-mail notifier, DLQ, hydrate)
    WHEN `stream-pipeline verify` runs with the environment's outputs
    THEN it exits 0, reporting the valid event and the purchase stored, the poison record in
    the DLQ as INVALID_JSON and the purchase's e-mail sent (moto's SES recorded one more);
    AND nothing of the run is left: no item, no idempotency record, no DLQ message."""
    run = uuid.uuid4().hex[:8]
    sent_before = emails_sent(pipeline.client("ses"))

    result = _verify(pipeline, "--run-id", run, "--timeout", "180")

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for name in ("valid", "poison", "purchase"):
        assert f"verify-{run}-{name}" in out
    assert "DLQ (INVALID_JSON)" in out
    assert "e-mail sent" in out
    assert "FAILED" not in out
    assert emails_sent(pipeline.client("ses")) == sent_before + 1
    assert _left_behind(pipeline, run) == {"items": [], "idempotency": False, "dlq": []}


def test_verify_names_a_record_the_pipeline_lost(
    clean_faults: Pipeline, restore_mapping: dict[str, Any]
) -> None:
    """GIVEN the processor's DynamoDB writes all throttled, one retry, and an on-failure
    destination that does not exist (AWS drops the failed batch: the records are lost)
    WHEN `stream-pipeline verify` runs with a deadline
    THEN it exits 1 and names the valid canary and the purchase as lost;
    AND still removes what the run wrote (the poison record's DLQ message, the e-mail's
    idempotency record)."""
    pipeline = clean_faults
    run = uuid.uuid4().hex[:8]
    region, account = pipeline.outputs["stream_arn"].split(":")[3:5]
    pipeline.update_mapping(
        MaximumRetryAttempts=1,
        DestinationConfig={
            "OnFailure": {"Destination": f"arn:aws:sns:{region}:{account}:gone-{run}"}
        },
    )
    pipeline.faults({pipeline.processor: ["throttle-dynamodb:100"]})

    result = _verify(pipeline, "--run-id", run, "--timeout", "30")

    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert f"FAILED verify-{run}-valid: lost" in out
    assert f"FAILED verify-{run}-purchase: lost" in out
    assert f"FAILED verify-{run}-poison" not in out
    pipeline.drain()
    assert _left_behind(pipeline, run) == {"items": [], "idempotency": False, "dlq": []}
