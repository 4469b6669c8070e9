"""Forged and altered DLQ messages end to end, on the session's stack (the real
``environments/local``: its HMAC key, its functions signing their envelopes, the
``stream-pipeline replay`` command line given the environment's terraform outputs):

* a message planted in the DLQ naming another stream of the account, with chosen bytes, and a
  genuine envelope altered after signing stay in the DLQ with their reasons; nothing is written
  to the other stream;
* the genuine envelopes next to them are replayed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

from e2e_pipeline import Pipeline
from rich.console import Console

from stream_pipeline.local.accounting import (
    DlqMessage,
    ManifestEntry,
    delete_messages,
    function_name,
    read_dlq,
)
from stream_pipeline.replay import cli as replay
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, EnvelopeParseError, ErrorCategory

CHOSEN_BYTES = b'{"transfer":"attacker","amount":1000000}'


def _replay_with_outputs(pipeline: Pipeline, tmp_path: Path) -> tuple[int, str]:
    """`make replay ENV=local REPLAY_ARGS=run`: the CLI given `terraform output -json` only."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({name: {"value": v} for name, v in pipeline.outputs.items()}))
    out = io.StringIO()
    console = Console(file=out, width=400, no_color=True)
    code = replay.main(
        [
            "run",
            "--terraform-outputs",
            str(path),
            "--endpoint-url",
            pipeline.stack.endpoint,
            "--region",
            pipeline.outputs["stream_arn"].split(":")[3],
            "--wait-seconds",
            "0",
            "--no-progress",
        ],
        console=console,
        error_console=console,
    )
    return code, out.getvalue()


def _other_stream(pipeline: Pipeline) -> str:
    """Another stream of the account: what a forged message would have the replay write to."""
    kinesis = pipeline.client("kinesis")
    name = f"payments-{pipeline.seed_base}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    return str(
        kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    )


def _records_of(pipeline: Pipeline, stream_arn: str) -> list[bytes]:
    kinesis = pipeline.client("kinesis")
    (shard,) = kinesis.list_shards(StreamARN=stream_arn)["Shards"]
    iterator = kinesis.get_shard_iterator(
        StreamARN=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return [
        r["Data"]
        for r in kinesis.get_records(ShardIterator=iterator, StreamARN=stream_arn)["Records"]
    ]


def _dead_letters_of(messages: list[DlqMessage], manifest: list[ManifestEntry]) -> list[DlqMessage]:
    """The envelopes of ``manifest``'s records (by stream position), whichever consumer wrote
    them. The queue is the stack's: it may also hold earlier scenarios' messages -- the fraud
    detector's and the trending aggregator's dead letters of their poison records, which their
    reconciliations leave, or what a failed scenario left -- which are not this scenario's to
    count."""
    positions = {(e.shard_id, e.sequence_number) for e in manifest}
    own = []
    for message in messages:
        try:
            envelope = DlqEnvelope.parse(message.body)
        except EnvelopeParseError:
            continue  # not an envelope: not a dead letter of a record of the stream
        if (envelope.shard_id, envelope.sequence_number) in positions:
            own.append(message)
    return own


def test_forged_and_altered_messages_stay_and_genuine_ones_are_replayed(
    clean_faults: Pipeline, tmp_path: Path
) -> None:
    """GIVEN poison records the deployed stream processor dead-lettered (envelopes it signed with
    the environment's HMAC key; the other consumers' envelopes of the same records too, and
    whatever earlier scenarios on the stack left in the queue, which is not counted), a message
    planted in the DLQ naming another stream with chosen bytes, and a copy of a genuine envelope
    whose payload was replaced after signing (its sha256 and length made to match)
    WHEN the DLQ is replayed with the environment's outputs (streams and MAC key from them)
    THEN exit status 1; the planted and the altered message are listed as refused and are still
    in the DLQ; the other stream holds nothing; every genuine message left the queue (replayed:
    the processor rejects the poison again and dead-letters it anew)."""
    pipeline = clean_faults
    sqs = pipeline.client("sqs")
    queue = pipeline.outputs["dlq_url"]
    manifest = pipeline.produce(3, seed=1601, poison_rate=1.0)
    pipeline.drain()
    genuine = _dead_letters_of(read_dlq(sqs, queue), manifest)
    consumers = {function_name(json.loads(m.body)["consumer"]) for m in genuine}
    assert pipeline.processor in consumers, "the processor dead-lettered nothing"
    assert all(json.loads(m.body).get("envelope_mac") for m in genuine), "unsigned envelopes"

    other = _other_stream(pipeline)
    forged = DlqEnvelope.create(
        event_source="aws:kinesis",
        event_source_arn=other,
        shard_id="shardId-000000000000",
        sequence_number="1",
        partition_key="p",
        error_category=ErrorCategory.RETRIES_EXHAUSTED,
        error_reason="retries exhausted",
        consumer=pipeline.processor,
        payload=CHOSEN_BYTES,
    )
    altered = json.loads(genuine[0].body)
    altered["payload_b64"] = base64.b64encode(CHOSEN_BYTES).decode()
    altered["payload_sha256"] = hashlib.sha256(CHOSEN_BYTES).hexdigest()
    altered["payload_length"] = len(CHOSEN_BYTES)
    planted = {
        str(sqs.send_message(QueueUrl=queue, MessageBody=body)["MessageId"])
        for body in (forged.to_json(), json.dumps(altered))
    }
    try:
        code, output = _replay_with_outputs(pipeline, tmp_path)
        pipeline.drain()

        assert code == 1, output
        flat = " ".join(output.split())
        for message_id in planted:
            (line,) = [line for line in output.splitlines() if message_id in line]
            assert "UNTRUSTED_ENVELOPE" in line, output
        assert "refused: unsigned: it carries no envelope_mac" in flat
        assert "refused: forged or altered" in flat
        left = {m.message_id for m in read_dlq(sqs, queue)}
        assert planted <= left
        assert not {m.message_id for m in genuine} & left
        assert _records_of(pipeline, other) == []
    finally:
        # The stack's later scenarios reconcile the DLQ: leave nothing of this one in it.
        delete_messages(sqs, queue, read_dlq(sqs, queue, release=False))
