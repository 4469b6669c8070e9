"""Stream processor, end to end through ``lambda_handler`` against moto DynamoDB + SQS."""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from typing import Any

import boto3
import pytest
from factories import (
    ARRIVAL_EPOCH_SECONDS,
    BASE_TIMESTAMP_MS,
    DYNAMODB_STREAM_ARN,
    KINESIS_STREAM_ARN,
    MISSING,
    REGION,
    SHARD_ID,
    dynamodb_event,
    dynamodb_record,
    encode,
    kinesis_event,
    kinesis_event_of,
    kinesis_record,
    retail_event,
    sequence_numbers,
    typed,
)
from stream_harness import (
    CONSUMER,
    FIXED_NOW,
    PAYLOAD_BUCKET,
    Aws,
    Harness,
    emf_metrics,
    harness_session,
)

from stream_pipeline.kit import ConfigurationError, UnsupportedEventError
from stream_pipeline.runtime.claim_check import fetch_payload
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, ErrorCategory, PayloadFormat
from stream_pipeline.runtime.dlq_publisher import STREAM_ONLY_NOTE
from stream_processor import app

# --------------------------------------------------------------------------- happy path


@pytest.mark.parametrize(
    ("event_type", "action", "score"),
    [
        ("view", "viewed", 1),
        ("add_to_cart", "added to cart", 5),
        ("purchase", "purchased", 10),
        ("wishlist", "interacted with", 1),
    ],
)
def test_valid_event_is_stored_enriched(
    harness: Harness, aws: Aws, event_type: str, action: str, score: int
) -> None:
    """GIVEN one valid event of a type
    WHEN the handler processes it
    THEN one item holds the recipe's action, score and insight, and nothing is retried or DLQ'd.
    """
    event = retail_event(userId="u-42", eventType=event_type, productId="P-7", eventId="e-1")

    response = harness.invoke(kinesis_event_of([event]))

    assert response == {"batchItemFailures": []}
    (item,) = aws.items()
    assert item["userId"] == "u-42"
    assert item["eventKey"] == f"{BASE_TIMESTAMP_MS:013d}#e-1"
    assert item["eventType"] == event_type
    assert item["action"] == action
    assert item["eventScore"] == score
    assert item["insight"] == f"User u-42 {action} product P-7"
    assert item["processedAt"] == "2025-01-31T12:00:00.123Z"
    assert item["timestamp"] == BASE_TIMESTAMP_MS
    assert item["eventIdDerived"] is False
    assert aws.dlq_bodies() == []


def test_extra_fields_are_kept_and_session_is_stored(harness: Harness, aws: Aws) -> None:
    """GIVEN an event with fields outside the schema
    WHEN it is processed
    THEN it is valid, and the extra fields are stored verbatim as canonical JSON.
    """
    event = retail_event(userAgent="Mozilla/5.0", ipAddress="192.168.1.9", sessionId="s-9")

    assert harness.invoke(kinesis_event_of([event])) == {"batchItemFailures": []}

    (item,) = aws.items()
    assert item["sessionId"] == "s-9"
    assert json.loads(item["extra"]) == {"userAgent": "Mozilla/5.0", "ipAddress": "192.168.1.9"}


def test_mixed_batch_stores_valid_and_dead_letters_invalid(harness: Harness, aws: Aws) -> None:
    """GIVEN valid and invalid records interleaved
    WHEN the batch is processed
    THEN valid ones are stored, invalid ones are in the DLQ, and nothing is reported for retry.
    """
    event = kinesis_event_of(
        [
            retail_event(userId="a"),
            b"not json",
            retail_event(userId="b"),
            [1, 2],
            retail_event(userId="c"),
        ]
    )

    assert harness.invoke(event) == {"batchItemFailures": []}

    assert sorted(item["userId"] for item in aws.items()) == ["a", "b", "c"]
    categories = sorted(envelope.error_category for envelope in aws.dlq_envelopes())
    assert categories == [ErrorCategory.INVALID_JSON, ErrorCategory.NOT_AN_OBJECT]


def test_empty_batch_is_a_no_op(harness: Harness, aws: Aws) -> None:
    """GIVEN an event without records WHEN handled THEN no failures and no writes."""
    assert harness.invoke({"Records": []}) == {"batchItemFailures": []}
    assert aws.items() == []


# --------------------------------------------------------------------------- permanent errors

_VALID = retail_event()


def _with(**fields: Any) -> bytes:
    return encode({**_VALID, **fields})


def _without(name: str) -> bytes:
    return encode({key: value for key, value in _VALID.items() if key != name})


PERMANENT_CASES = [
    pytest.param(b"", ErrorCategory.INVALID_JSON, id="empty-record"),
    pytest.param(b"\xff\xfe\xfa garbage", ErrorCategory.INVALID_ENCODING, id="not-utf8"),
    pytest.param(b'{"userId": "u", ', ErrorCategory.INVALID_JSON, id="truncated-json"),
    pytest.param(b"\xef\xbb\xbf{}", ErrorCategory.INVALID_JSON, id="utf8-bom"),
    pytest.param(_with(timestamp=float("nan")), ErrorCategory.INVALID_JSON, id="nan-constant"),
    pytest.param(_with(userId="\ud800"), ErrorCategory.INVALID_JSON, id="unpaired-surrogate"),
    pytest.param(b"[1, 2, 3]", ErrorCategory.NOT_AN_OBJECT, id="json-array"),
    pytest.param(b'"just a string"', ErrorCategory.NOT_AN_OBJECT, id="json-string"),
    pytest.param(b"null", ErrorCategory.NOT_AN_OBJECT, id="json-null"),
    pytest.param(_without("userId"), ErrorCategory.SCHEMA_VIOLATION, id="missing-userId"),
    pytest.param(_without("timestamp"), ErrorCategory.SCHEMA_VIOLATION, id="missing-timestamp"),
    pytest.param(_with(userId=""), ErrorCategory.SCHEMA_VIOLATION, id="empty-userId"),
    pytest.param(_with(userId="u" * 257), ErrorCategory.SCHEMA_VIOLATION, id="userId-too-long"),
    pytest.param(_with(productId="p" * 257), ErrorCategory.SCHEMA_VIOLATION, id="productId-long"),
    pytest.param(_with(eventType=7), ErrorCategory.SCHEMA_VIOLATION, id="eventType-not-str"),
    pytest.param(_with(eventId=""), ErrorCategory.SCHEMA_VIOLATION, id="empty-eventId"),
    pytest.param(
        _with(timestamp=1_700_000_000), ErrorCategory.SCHEMA_VIOLATION, id="timestamp-in-seconds"
    ),
    pytest.param(
        _with(timestamp=4_102_444_800_000), ErrorCategory.SCHEMA_VIOLATION, id="timestamp-2100"
    ),
    pytest.param(
        _with(timestamp=str(BASE_TIMESTAMP_MS)),
        ErrorCategory.SCHEMA_VIOLATION,
        id="timestamp-as-string",
    ),
    pytest.param(_with(timestamp=True), ErrorCategory.SCHEMA_VIOLATION, id="timestamp-bool"),
    pytest.param(
        _with(timestamp=BASE_TIMESTAMP_MS + 0.5),
        ErrorCategory.SCHEMA_VIOLATION,
        id="timestamp-fraction",
    ),
]


@pytest.mark.parametrize(("payload", "category"), PERMANENT_CASES)
def test_permanent_error_goes_to_dlq_with_bytes_and_coordinates(
    harness: Harness, aws: Aws, payload: bytes, category: ErrorCategory
) -> None:
    """GIVEN a record that can never be processed
    WHEN the handler sees it
    THEN it is NOT reported for retry, nothing is stored, and the DLQ holds one envelope with the
    original bytes, the record's coordinates, the category and a reason.
    """
    record = kinesis_record(payload, partition_key="pk-1")

    response = harness.invoke(kinesis_event(record))

    assert response == {"batchItemFailures": []}
    assert aws.items() == []
    (envelope,) = aws.dlq_envelopes()
    assert envelope.error_category is category
    assert envelope.error_reason
    assert envelope.original_bytes() == payload
    assert envelope.payload_format is PayloadFormat.RAW
    assert envelope.payload_sha256 == hashlib.sha256(payload).hexdigest()
    assert envelope.event_source == "aws:kinesis"
    assert envelope.event_source_arn == KINESIS_STREAM_ARN
    assert envelope.shard_id == SHARD_ID
    assert envelope.sequence_number == record["kinesis"]["sequenceNumber"]
    assert envelope.partition_key == "pk-1"
    assert envelope.approximate_arrival_time is not None
    assert envelope.approximate_arrival_time.timestamp() == ARRIVAL_EPOCH_SECONDS
    assert envelope.consumer == CONSUMER
    assert envelope.failed_at == FIXED_NOW
    assert envelope.hydrated is False
    assert envelope.payload_available is True
    assert envelope.payload_truncated is False


def test_schema_violation_reason_names_fields_but_not_values(harness: Harness, aws: Aws) -> None:
    """GIVEN an event with a bad userId and a bad timestamp
    WHEN it is dead-lettered
    THEN the reason names both fields and does not echo the (possibly personal) values.
    """
    payload = _with(userId="", timestamp="secret-value")

    harness.invoke(kinesis_event(kinesis_record(payload)))

    (envelope,) = aws.dlq_envelopes()
    assert "userId" in envelope.error_reason
    assert "timestamp" in envelope.error_reason
    assert "secret-value" not in envelope.error_reason


def test_undecodable_base64_keeps_the_delivered_text(harness: Harness, aws: Aws) -> None:
    """GIVEN a record whose data field is not base64
    WHEN it is processed
    THEN it is a DECODE_ERROR and the envelope keeps the field's text as delivered.
    """
    record = kinesis_record(raw_data="%%% not base64 %%%")

    assert harness.invoke(kinesis_event(record)) == {"batchItemFailures": []}

    (envelope,) = aws.dlq_envelopes()
    assert envelope.error_category is ErrorCategory.DECODE_ERROR
    assert envelope.payload_format is PayloadFormat.KINESIS_DATA_FIELD
    assert envelope.original_bytes() == b"%%% not base64 %%%"


def test_record_over_configured_limit_is_oversized(harness: Harness, aws: Aws) -> None:
    """GIVEN MAX_RECORD_BYTES=512 and a valid 600-byte event
    WHEN it is processed
    THEN it is dead-lettered as OVERSIZED with its full bytes (the envelope still fits in SQS).
    """
    harness.configure(max_record_bytes=512)
    payload = _with(padding="x" * 500)
    assert len(payload) > 512

    assert harness.invoke(kinesis_event(kinesis_record(payload))) == {"batchItemFailures": []}

    (envelope,) = aws.dlq_envelopes()
    assert envelope.error_category is ErrorCategory.OVERSIZED
    assert "512" in envelope.error_reason
    assert envelope.original_bytes() == payload
    assert aws.items() == []


def test_with_a_payload_bucket_an_oversized_record_keeps_its_bytes_in_s3(
    harness: Harness, aws: Aws
) -> None:
    """GIVEN a payload bucket (PAYLOAD_BUCKET) and two records too large for an SQS message in
    their envelope, one of them invalid JSON
    WHEN processed
    THEN each is dead-lettered as a pointer to s3://<bucket>/<envelope id>, which holds its
    original bytes (the replay checks them against sha256 and length), and nothing is retried.
    """
    s3 = harness_session().client("s3")
    s3.create_bucket(
        Bucket=PAYLOAD_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    harness.configure(s3=s3, payload_bucket=PAYLOAD_BUCKET)
    payloads = [_with(notes="n" * 420_000), b"{" + b"x" * 300_000]

    response = harness.invoke(kinesis_event(*(kinesis_record(p) for p in payloads)))

    assert response == {"batchItemFailures": []}
    envelopes = sorted(aws.dlq_envelopes(), key=lambda e: e.sequence_number)
    assert [e.error_category for e in envelopes] == [
        ErrorCategory.OVERSIZED,
        ErrorCategory.INVALID_JSON,
    ]
    for envelope, payload in zip(envelopes, payloads, strict=True):
        assert envelope.payload_location == f"s3://{PAYLOAD_BUCKET}/{envelope.envelope_id}"
        assert fetch_payload(s3, envelope) == payload


def test_claim_checks_go_under_the_consumer_key_prefix(harness: Harness, aws: Aws) -> None:
    """GIVEN a payload bucket and the consumer's key prefix (PAYLOAD_KEY_PREFIX, the only keys
    modules/pipeline lets its role put) and a record too large for an SQS message
    WHEN processed
    THEN its bytes are at s3://<bucket>/<prefix><envelope id> and nothing else is in the bucket.
    """
    s3 = harness_session().client("s3")
    s3.create_bucket(
        Bucket=PAYLOAD_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    harness.configure(
        s3=s3, payload_bucket=PAYLOAD_BUCKET, payload_key_prefix="claim-check/orders-processor/"
    )
    payload = b"{" + b"x" * 300_000

    assert harness.invoke(kinesis_event(kinesis_record(payload))) == {"batchItemFailures": []}

    (envelope,) = aws.dlq_envelopes()
    key = f"claim-check/orders-processor/{envelope.envelope_id}"
    assert envelope.payload_location == f"s3://{PAYLOAD_BUCKET}/{key}"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=PAYLOAD_BUCKET)["Contents"]] == [key]
    assert fetch_payload(s3, envelope) == payload


def test_without_a_payload_bucket_the_pointer_says_the_bytes_live_only_in_the_stream(
    harness: Harness, aws: Aws
) -> None:
    """GIVEN no payload bucket (the failure bucket explicitly off) and a record too large for an
    SQS message in its envelope
    WHEN processed
    THEN it is dead-lettered pointer-only, and its reason keeps the cause and says the bytes
    live only in the stream until its retention ends; it is not retried.
    """
    payload = b"{" + b"x" * 300_000

    assert harness.invoke(kinesis_event(kinesis_record(payload))) == {"batchItemFailures": []}

    (envelope,) = aws.dlq_envelopes()
    assert envelope.error_category is ErrorCategory.INVALID_JSON
    assert (envelope.payload_truncated, envelope.payload_location) == (True, None)
    assert envelope.error_reason.endswith(f"; {STREAM_ONLY_NOTE}")
    assert "the bytes live only in the stream until its retention ends" in STREAM_ONLY_NOTE
    assert envelope.error_reason.startswith("not valid JSON: ")


@pytest.mark.parametrize("prefix", ["/claim-check/", "claim-check", "a b/", "x/" * 9, "s3://b/"])
def test_invalid_payload_key_prefix_is_named(monkeypatch: pytest.MonkeyPatch, prefix: str) -> None:
    """GIVEN PAYLOAD_KEY_PREFIX that is not folders ending with '/' (what a policy grants)
    WHEN the dependencies are built THEN the error names the variable and the bad value."""
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("DLQ_URL", "https://sqs/q")
    monkeypatch.setenv("PAYLOAD_BUCKET", "failures")
    monkeypatch.setenv("PAYLOAD_KEY_PREFIX", prefix)

    with pytest.raises(ConfigurationError, match=r"PAYLOAD_KEY_PREFIX.*got"):
        app.consumer.get_dependencies()


def test_a_claim_check_that_fails_is_retried_and_the_other_records_settle(
    harness: Harness, aws: Aws
) -> None:
    """GIVEN a payload bucket that does not exist (PutObject fails) and a batch of one valid
    event and one record too large for an SQS message
    WHEN processed
    THEN only the large record is a batch item failure (retried, never sent as a pointer
    without its object) and the valid event is stored.
    """
    harness.configure(s3=harness_session().client("s3"), payload_bucket="no-such-bucket")
    large = kinesis_record(b"{" + b"x" * 300_000)
    valid = kinesis_record(json.dumps(retail_event(eventId="ok-1")).encode())

    response = harness.invoke(kinesis_event(valid, large))

    assert response == {
        "batchItemFailures": [{"itemIdentifier": large["kinesis"]["sequenceNumber"]}]
    }
    assert aws.dlq_bodies() == []
    assert [item["eventId"] for item in aws.items()] == ["ok-1"]


def test_item_over_dynamodb_limit_is_oversized_and_envelope_drops_payload(
    harness: Harness, aws: Aws
) -> None:
    """GIVEN a schema-valid event whose stored item would exceed DynamoDB's 400 KB
    WHEN it is processed
    THEN it is OVERSIZED (never retried), and since its envelope would exceed the 256 KiB SQS
    limit the payload is left out but sha256, length and coordinates are kept.
    """
    payload = _with(notes="n" * 420_000)
    record = kinesis_record(payload)

    assert harness.invoke(kinesis_event(record)) == {"batchItemFailures": []}

    assert aws.items() == []
    (body,) = aws.dlq_bodies()
    assert len(body) <= 256 * 1024
    envelope = DlqEnvelope.parse(body)
    assert envelope.error_category is ErrorCategory.OVERSIZED
    assert "DynamoDB" in envelope.error_reason
    assert envelope.payload_truncated is True
    assert envelope.payload_available is False
    assert envelope.payload_b64 is None
    assert envelope.payload_length == len(payload)
    assert envelope.payload_sha256 == hashlib.sha256(payload).hexdigest()
    assert envelope.sequence_number == record["kinesis"]["sequenceNumber"]
    assert envelope.shard_id == SHARD_ID


def test_envelope_just_under_sqs_limit_keeps_payload(harness: Harness, aws: Aws) -> None:
    """GIVEN an invalid record whose envelope is below 256 KiB
    WHEN it is dead-lettered
    THEN the payload is kept (payload_truncated only when it would not fit).
    """
    payload = _without("userId")[:-1] + b', "pad": "' + b"p" * 150_000 + b'"}'

    harness.invoke(kinesis_event(kinesis_record(payload)))

    (envelope,) = aws.dlq_envelopes()
    assert envelope.payload_truncated is False
    assert envelope.original_bytes() == payload


# --------------------------------------------------------------------------- idempotency / keys


def test_same_event_delivered_twice_yields_one_item(harness: Harness, aws: Aws) -> None:
    """GIVEN the same event delivered in two invocations with different sequence numbers
    (ESM retry or a replay through the stream)
    WHEN both are processed
    THEN exactly one item exists.
    """
    event = retail_event(eventId="evt-same")

    harness.invoke(kinesis_event_of([event]))
    harness.invoke(kinesis_event_of([event]))

    assert len(aws.items()) == 1


def test_same_event_twice_in_one_batch_yields_one_item_and_one_write(
    harness: Harness, aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN one batch with the same event twice
    WHEN processed
    THEN both records succeed, one item exists, and the duplicate is counted.
    """
    event = retail_event(eventId="evt-dup")

    response = harness.invoke(kinesis_event_of([event, event]))

    assert response == {"batchItemFailures": []}
    assert len(aws.items()) == 1
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["DuplicateRecordsInBatch"][0][0] == 1
    assert metrics["RecordsProcessed"][0][0] == 2


def test_same_event_id_in_one_batch_last_record_wins(harness: Harness, aws: Aws) -> None:
    """GIVEN two records with the same eventId but different content in one batch
    WHEN processed
    THEN the item holds the content of the later record (stream order).
    """
    first = retail_event(eventId="evt-x", productId="P-old")
    second = retail_event(eventId="evt-x", productId="P-new")

    harness.invoke(kinesis_event_of([first, second]))

    (item,) = aws.items()
    assert item["productId"] == "P-new"


def test_two_events_same_user_same_millisecond_yield_two_items(harness: Harness, aws: Aws) -> None:
    """GIVEN two events of one user in the same millisecond with different eventIds
    WHEN processed
    THEN both are stored (no overwrite), sorted by the same time prefix.
    """
    events = [retail_event(eventId="e-a"), retail_event(eventId="e-b")]

    harness.invoke(kinesis_event_of(events))

    keys = sorted(item["eventKey"] for item in aws.items())
    assert keys == [f"{BASE_TIMESTAMP_MS:013d}#e-a", f"{BASE_TIMESTAMP_MS:013d}#e-b"]


def test_missing_event_id_gets_deterministic_id_stable_across_deliveries(
    harness: Harness, aws: Aws
) -> None:
    """GIVEN an event without eventId delivered twice, once with different key order/whitespace
    WHEN both deliveries are processed
    THEN one item exists whose id is sha256 over the canonical JSON of the payload.
    """
    event = retail_event(eventId=MISSING)
    compact = json.dumps(event, separators=(",", ":")).encode()
    reordered = json.dumps(dict(reversed(list(event.items()))), indent=2).encode()
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":")).encode()

    harness.invoke(kinesis_event(kinesis_record(compact)))
    harness.invoke(kinesis_event(kinesis_record(reordered)))

    (item,) = aws.items()
    assert item["eventId"] == "sha256-" + hashlib.sha256(canonical).hexdigest()
    assert item["eventIdDerived"] is True
    assert item["eventKey"] == f"{BASE_TIMESTAMP_MS:013d}#{item['eventId']}"


def test_missing_event_id_distinct_payloads_are_distinct_events(harness: Harness, aws: Aws) -> None:
    """GIVEN two events without eventId that differ only in productId
    WHEN processed
    THEN two items exist.
    """
    events = [retail_event(eventId=MISSING, productId=p) for p in ("P1", "P2")]

    harness.invoke(kinesis_event_of(events))

    assert len(aws.items()) == 2


# --------------------------------------------------------------------------- unexpected errors


def test_unexpected_error_in_one_record_reports_only_that_record(
    harness: Harness, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a bug that raises while preparing one record
    WHEN the batch is processed
    THEN only that record is reported for retry and the others are stored.
    """
    real_enrich = app.enrich

    def flaky_enrich(event: Any, *args: Any) -> Any:
        if event.userId == "boom":
            raise RuntimeError("bug")
        return real_enrich(event, *args)

    monkeypatch.setattr(app, "enrich", flaky_enrich)
    event = kinesis_event_of([retail_event(userId=u) for u in ("a", "boom", "c")])

    failed = harness.failed_sequence_numbers(event)

    assert failed == [sequence_numbers(event)[1]]
    assert sorted(item["userId"] for item in aws.items()) == ["a", "c"]


@pytest.mark.parametrize(
    "records",
    [
        [{"eventSource": "aws:sqs"}],
        [kinesis_record(retail_event()), dynamodb_record(retail_event())],
        ["not a record"],
    ],
    ids=["sqs", "mixed-sources", "garbage"],
)
def test_unsupported_event_source_fails_loudly(harness: Harness, records: list[Any]) -> None:
    """GIVEN records from an unsupported or mixed event source
    WHEN handled
    THEN the invocation fails with a clear error (a wiring mistake, nothing is dropped).
    """
    with pytest.raises(UnsupportedEventError, match="aws:kinesis or aws:dynamodb"):
        harness.invoke({"Records": records})


# --------------------------------------------------------------------------- DynamoDB streams


def test_dynamodb_stream_insert_is_stored(harness: Harness, aws: Aws) -> None:
    """GIVEN a DynamoDB stream INSERT whose NewImage is a retail event (numbers typed as N)
    WHEN processed
    THEN the enriched item is stored with an integer timestamp.
    """
    event = retail_event(eventType="purchase", userId="ddb-user", eventId="d-1")

    response = harness.invoke(dynamodb_event(dynamodb_record(event)))

    assert response == {"batchItemFailures": []}
    (item,) = aws.items()
    assert item["userId"] == "ddb-user"
    assert item["eventScore"] == 10
    assert item["eventKey"] == f"{BASE_TIMESTAMP_MS:013d}#d-1"


def test_dynamodb_stream_binary_attributes_are_stored_as_base64_text(
    harness: Harness, aws: Aws
) -> None:
    """GIVEN a DynamoDB stream INSERT whose NewImage holds Binary values as Lambda delivers them
    (base64 text), at the top level and nested in a map and a list, and a binary set
    WHEN processed
    THEN the event is stored (not dead-lettered), each binary value as its base64 text among
    the fields outside the schema.
    """
    image = {
        **typed(retail_event(eventId="d-bin")),
        "signature": {"B": "3q2+7w=="},
        "attachments": {"M": {"thumbs": {"L": [{"B": "AAE="}, {"BS": ["AQ==", "Ag=="]}]}}},
    }

    response = harness.invoke(dynamodb_event(dynamodb_record(None, typed_new_image=image)))

    assert response == {"batchItemFailures": []}
    assert aws.dlq_bodies() == []
    (item,) = aws.items()
    assert json.loads(item["extra"]) == {
        "signature": "3q2+7w==",
        "attachments": {"thumbs": ["AAE=", ["AQ==", "Ag=="]]},
    }


def test_dynamodb_stream_binary_value_that_is_not_base64_is_undecodable(
    harness: Harness, aws: Aws
) -> None:
    """GIVEN a NewImage whose Binary value is not base64 text WHEN processed THEN the record is
    dead-lettered as UNDECODABLE_IMAGE with its image, never stored with different bytes."""
    image = {**typed(retail_event()), "signature": {"B": "not base64!"}}

    assert harness.invoke(dynamodb_event(dynamodb_record(None, typed_new_image=image))) == {
        "batchItemFailures": []
    }

    (envelope,) = aws.dlq_envelopes()
    assert envelope.error_category is ErrorCategory.UNDECODABLE_IMAGE
    assert json.loads(envelope.original_bytes()) == image
    assert aws.items() == []


def test_dynamodb_stream_same_event_as_kinesis_yields_same_item(harness: Harness, aws: Aws) -> None:
    """GIVEN the same event without eventId from Kinesis and from a DynamoDB stream
    WHEN both are processed
    THEN they map to one item (the derived id depends only on the payload).
    """
    event = retail_event(eventId=MISSING, price=12.5, tags=["a", "b"])

    harness.invoke(kinesis_event_of([event]))
    harness.invoke(dynamodb_event(dynamodb_record(event)))

    assert len(aws.items()) == 1


def test_dynamodb_stream_remove_is_skipped(harness: Harness, aws: Aws) -> None:
    """GIVEN a REMOVE record (no NewImage) WHEN processed THEN it succeeds with no effect."""
    response = harness.invoke(dynamodb_event(dynamodb_record(None, event_name="REMOVE")))

    assert response == {"batchItemFailures": []}
    assert aws.items() == []
    assert aws.dlq_bodies() == []


def test_dynamodb_stream_modify_without_new_image_is_dead_lettered(
    harness: Harness, aws: Aws
) -> None:
    """GIVEN a MODIFY record without NewImage (KEYS_ONLY view type)
    WHEN processed
    THEN it is dead-lettered as MISSING_NEW_IMAGE with its keys and no payload.
    """
    record = dynamodb_record(None, event_name="MODIFY", keys={"pk": {"S": "k-1"}})

    assert harness.invoke(dynamodb_event(record)) == {"batchItemFailures": []}

    (envelope,) = aws.dlq_envelopes()
    assert envelope.error_category is ErrorCategory.MISSING_NEW_IMAGE
    assert envelope.dynamodb_keys == {"pk": {"S": "k-1"}}
    assert envelope.payload_available is False
    assert envelope.payload_truncated is False


def test_dynamodb_stream_schema_violation_keeps_typed_image(harness: Harness, aws: Aws) -> None:
    """GIVEN a NewImage that violates the schema
    WHEN processed
    THEN the envelope carries the NewImage as DynamoDB JSON plus the stream coordinates.
    """
    image = typed(retail_event(userId=""))
    record = dynamodb_record(None, typed_new_image=image)

    assert harness.invoke(dynamodb_event(record)) == {"batchItemFailures": []}

    (envelope,) = aws.dlq_envelopes()
    assert envelope.error_category is ErrorCategory.SCHEMA_VIOLATION
    assert envelope.payload_format is PayloadFormat.DYNAMODB_JSON
    assert json.loads(envelope.original_bytes()) == image
    assert envelope.event_source == "aws:dynamodb"
    assert envelope.event_source_arn == DYNAMODB_STREAM_ARN
    assert envelope.sequence_number == record["dynamodb"]["SequenceNumber"]
    assert envelope.event_id == record["eventID"]


def test_dynamodb_stream_malformed_image_is_dead_lettered(harness: Harness, aws: Aws) -> None:
    """GIVEN a NewImage with an invalid typed value
    WHEN processed
    THEN it is dead-lettered as UNDECODABLE_IMAGE instead of blocking the shard.
    """
    image = {**typed(retail_event()), "timestamp": {"N": "not-a-number"}}

    harness.invoke(dynamodb_event(dynamodb_record(None, typed_new_image=image)))

    (envelope,) = aws.dlq_envelopes()
    assert envelope.error_category is ErrorCategory.UNDECODABLE_IMAGE


def test_dynamodb_stream_of_target_table_is_refused(harness: Harness, aws: Aws) -> None:
    """GIVEN the function consuming the stream of the very table it writes to
    WHEN invoked
    THEN it fails with a configuration error instead of looping on its own writes.
    """
    arn = f"arn:aws:dynamodb:{REGION}:123456789012:table/{aws.table_name}/stream/2025"

    with pytest.raises(ConfigurationError, match="own TABLE_NAME"):
        harness.invoke(dynamodb_event(dynamodb_record(retail_event(), stream_arn=arn)))
    assert aws.items() == []


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ({"DLQ_URL": "https://sqs/q"}, ["TABLE_NAME"]),
        ({"TABLE_NAME": "t"}, ["DLQ_URL"]),
        ({}, ["TABLE_NAME", "DLQ_URL"]),
        ({"TABLE_NAME": "  ", "DLQ_URL": "https://sqs/q"}, ["TABLE_NAME"]),
    ],
)
def test_missing_required_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, present: dict[str, str], missing: list[str]
) -> None:
    """GIVEN a deployment without a required variable
    WHEN the first invocation (cold start) builds its dependencies
    THEN a ConfigurationError names every missing variable.
    """
    for name, value in present.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ConfigurationError) as caught:
        app.lambda_handler(kinesis_event_of([retail_event()]), _context())

    message = str(caught.value)
    for name in missing:
        assert name in message
    for name in {"TABLE_NAME", "DLQ_URL"} - set(missing):
        assert name not in message


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5"])
def test_invalid_max_record_bytes_is_named(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """GIVEN MAX_RECORD_BYTES that is not a positive integer
    WHEN the dependencies are built
    THEN the error names the variable and the bad value.
    """
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("DLQ_URL", "https://sqs/q")
    monkeypatch.setenv("MAX_RECORD_BYTES", value)

    with pytest.raises(ConfigurationError, match=f"MAX_RECORD_BYTES.*{value!r}"):
        app.consumer.get_dependencies()


def test_dependencies_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a complete environment WHEN dependencies are built THEN they reflect it, once."""
    monkeypatch.setenv("TABLE_NAME", "events")
    monkeypatch.setenv("DLQ_URL", "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq")
    monkeypatch.setenv("MAX_RECORD_BYTES", "2048")
    monkeypatch.setenv("PAYLOAD_BUCKET", "failures")
    monkeypatch.setenv("PAYLOAD_KEY_PREFIX", "claim-check/orders-processor/")

    dependencies = app.consumer.get_dependencies()

    assert dependencies.settings.table_name == "events"
    assert dependencies.settings.max_record_bytes == 2048
    assert dependencies.settings.payload_bucket == "failures"
    assert dependencies.settings.payload_key_prefix == "claim-check/orders-processor/"
    assert dependencies.s3 is not None
    assert dependencies.settings.consumer_name == CONSUMER
    assert app.consumer.get_dependencies() is dependencies


def _context() -> Any:
    from factories import FakeLambdaContext

    return FakeLambdaContext()


# --------------------------------------------------------------------------- cost / metrics


def test_thousand_valid_records_cost_at_most_40_dynamodb_requests_and_no_cloudwatch(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN 1,000 valid records and the production wiring (clients built from the environment)
    WHEN the batch is processed
    THEN every item is stored with <= 40 DynamoDB requests and no other AWS request at all
    (no CloudWatch API: metrics go out as EMF log lines). Counted with botocore event hooks.
    """
    calls: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        calls[event_name.split(".")[1]] += 1

    session = boto3.session.Session(region_name=REGION)
    session.events.register("before-call", count)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    monkeypatch.setenv("TABLE_NAME", aws.table_name)
    monkeypatch.setenv("DLQ_URL", aws.queue_url)
    users = [f"user-{n % 50}" for n in range(1000)]
    event = kinesis_event_of(
        retail_event(userId=user, timestamp=BASE_TIMESTAMP_MS + n) for n, user in enumerate(users)
    )

    response = app.lambda_handler(event, _context())

    assert response == {"batchItemFailures": []}
    assert calls["dynamodb"] <= 40
    assert set(calls) == {"dynamodb"}
    assert len(aws.items()) == 1000


def test_metrics_are_emitted_as_emf(
    harness: Harness, aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a batch with stored, dead-lettered and skipped records
    WHEN processed
    THEN EMF lines carry the counts, with the DLQ count also split by error category.
    """
    event = kinesis_event_of([retail_event(), retail_event(), b"{oops", b"[]"])

    harness.invoke(event)

    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["RecordsReceived"][0][0] == 4
    assert metrics["RecordsProcessed"][0][0] == 2
    assert metrics["RecordsSentToDlq"][0][0] == 2
    assert metrics["BatchItemFailures"][0][0] == 0
    assert metrics["BatchWriteRetries"][0][0] == 0
    by_category = {
        dimensions["ErrorCategory"]: value
        for value, dimensions in metrics["RecordsSentToDlqByCategory"]
    }
    assert by_category == {"INVALID_JSON": 1, "NOT_AN_OBJECT": 1}


def test_kinesis_data_is_decoded_from_base64_exactly(harness: Harness, aws: Aws) -> None:
    """GIVEN a record whose JSON contains non-ASCII text
    WHEN processed
    THEN the text survives base64 + UTF-8 decoding unchanged.
    """
    event = retail_event(productId="Café-№1")
    record = kinesis_record(raw_data=base64.b64encode(json.dumps(event).encode()).decode())

    harness.invoke(kinesis_event(record))

    (item,) = aws.items()
    assert item["productId"] == "Café-№1"
