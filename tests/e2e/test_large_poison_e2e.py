"""A poison record too large for an SQS message keeps its bytes, end to end: the real
``environments/local`` (failure bucket on, as in every environment) and the session's stack.

The processor rejects a ~300 KB record (valid for Kinesis, not for its schema); its DLQ envelope
cannot hold the payload, so the kit claim-checks it to the failure bucket under the processor's
own prefix and sends a pointer. The bytes are then recovered from S3 alone: nothing here reads
the stream, so they outlive the stream's copy (retention, or a stream deleted by mistake).
"""

from __future__ import annotations

import hashlib
import json

from e2e_pipeline import Pipeline

from stream_pipeline.producer.generator import ProducedRecord, RecordKind
from stream_pipeline.runtime.claim_check import fetch_payload, parse_s3_uri
from stream_pipeline.runtime.dlq_envelope import SQS_MAX_MESSAGE_BYTES, DlqEnvelope

POISON_BYTES = 300 * 1024


def large_poison_record(record_id: str) -> ProducedRecord:
    """A JSON object of about 300 KB without ``userId`` (SCHEMA_VIOLATION): under Kinesis' 1 MiB
    record limit, over what an SQS message can carry. A view, so the e-mail notifier's filter
    keeps it away from the notifier: the processor alone dead-letters it."""
    document = {
        "eventId": record_id,
        "eventType": "view",
        "productId": "P-large",
        "timestamp": "2025-01-31T12:00:00Z",
        "notes": "",
    }
    padding = POISON_BYTES - len(json.dumps(document).encode())
    data = json.dumps({**document, "notes": "n" * padding}).encode()
    return ProducedRecord("large-poison", data, RecordKind.MISSING_FIELD, record_id)


def test_a_300_kb_poison_record_is_recovered_from_s3_without_the_stream(
    pipeline: Pipeline,
) -> None:
    """GIVEN the deployed stack with its failure bucket
    WHEN a 300 KB poison record is put on the stream
    THEN it is in the DLQ exactly once as SCHEMA_VIOLATION, pointer-only, its payload_location
    in the failure bucket under the processor's claim-check prefix; the S3 object, read without
    any stream call, holds exactly the bytes put (the envelope's and the producer's sha256 and
    length); lost = 0.
    """
    record = large_poison_record(f"large-poison-{pipeline.seed_base}")
    assert len(record.data) == POISON_BYTES
    manifest = pipeline.put([record])
    pipeline.drain()

    result = pipeline.reconcile(manifest, keep=True)
    (message,) = result.messages
    envelope = DlqEnvelope.parse(message.body)
    bucket = str(pipeline.outputs["failure_bucket_name"])
    s3 = pipeline.client("s3")
    # The bucket keeps its TLS-only policy (the runtime reads it as AWS does over TLS).
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert {"Bool": {"aws:SecureTransport": "false"}} in [
        s.get("Condition") for s in policy["Statement"]
    ]
    try:
        assert envelope.error_category == "SCHEMA_VIOLATION"
        assert envelope.consumer == pipeline.processor
        assert (envelope.payload_available, envelope.payload_truncated) == (False, True)
        assert envelope.size_bytes() < SQS_MAX_MESSAGE_BYTES
        assert envelope.payload_location == (
            f"s3://{bucket}/claim-check/{pipeline.processor}/{envelope.envelope_id}"
        )

        recovered = fetch_payload(s3, envelope)  # S3 only: verifies sha256 and length

        assert recovered == record.data
        assert hashlib.sha256(recovered).hexdigest() == envelope.payload_sha256
        assert envelope.payload_sha256 == manifest[0].sha256
        assert envelope.payload_length == POISON_BYTES
    finally:
        result = pipeline.reconcile(manifest)
        s3.delete_object(Bucket=bucket, Key=parse_s3_uri(str(envelope.payload_location))[1])

    assert result.produced == 1
    assert result.lost == []
    assert (result.in_dlq, result.stored) == (1, 0)
    assert result.duplicates == 0
    assert dict(result.dead_lettered) == {"SCHEMA_VIOLATION": 1}
    assert result.ok, result.problems
