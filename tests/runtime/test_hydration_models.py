"""The on-failure record model: parsing, failure reasons, and the events that carry it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from factories import (
    DYNAMODB_STREAM_ARN,
    KINESIS_STREAM_ARN,
    MISSING,
    ON_FAILURE_TOPIC_ARN,
    SHARD_ID,
    on_failure_record,
    sns_event,
)

from stream_pipeline.runtime.dlq_envelope import ErrorCategory
from stream_pipeline.runtime.hydration.models import (
    MalformedOnFailureRecordError,
    extract_messages,
    parse_on_failure_record,
)


def _parse(**kwargs: object) -> object:
    return parse_on_failure_record(
        json.dumps(on_failure_record(start="1", end="3", batch_size=3, **kwargs)).encode()
    )


def test_kinesis_record_is_parsed() -> None:
    """GIVEN the on-failure record of a Kinesis batch WHEN parsed THEN every field is read."""
    record = parse_on_failure_record(
        json.dumps(on_failure_record(start="10", end="12", batch_size=3)).encode()
    )

    assert record.event_source == "aws:kinesis"
    assert record.batch.shard_id == SHARD_ID
    assert (record.batch.start_sequence_number, record.batch.end_sequence_number) == ("10", "12")
    assert record.batch.batch_size == 3
    assert record.timestamp == datetime(2025, 1, 31, 12, tzinfo=UTC)
    assert record.request_context.approximate_invoke_count == 3
    assert record.response_context is not None
    assert record.response_context.function_error == "Unhandled"


def test_dynamodb_record_is_parsed() -> None:
    record = parse_on_failure_record(
        json.dumps(
            on_failure_record(
                start="1", end="2", batch_size=2, source="dynamodb", stream_arn=DYNAMODB_STREAM_ARN
            )
        ).encode()
    )

    assert record.event_source == "aws:dynamodb"
    assert record.batch.stream_arn == DYNAMODB_STREAM_ARN


@pytest.mark.parametrize(
    ("condition", "code"),
    [
        ("RetryAttemptsExhausted", ErrorCategory.RETRIES_EXHAUSTED),
        ("RecordAgeExceeded", ErrorCategory.RECORD_AGE_EXCEEDED),
        ("SomeNewCondition", ErrorCategory.RETRIES_EXHAUSTED),
    ],
)
def test_reason_code_follows_the_condition(condition: str, code: ErrorCategory) -> None:
    """GIVEN an on-failure record with a condition WHEN parsed THEN its reason code is
    RECORD_AGE_EXCEEDED for an aged-out batch, RETRIES_EXHAUSTED for any other condition."""
    record = parse_on_failure_record(
        json.dumps(
            on_failure_record(start="1", end="1", batch_size=1, condition=condition)
        ).encode()
    )

    assert record.reason_code is code


@pytest.mark.parametrize(
    "stream_arn",
    [KINESIS_STREAM_ARN, f"{KINESIS_STREAM_ARN}/consumer/orders-processor:1738300000"],
    ids=["stream", "efo-consumer"],
)
def test_kinesis_stream_arn_or_its_efo_consumer_arn_reads_as_the_stream(stream_arn: str) -> None:
    """GIVEN a Kinesis on-failure record naming the stream, or the mapping's enhanced fan-out
    consumer (arn:...:stream/<name>/consumer/<consumer>:<creation epoch>)
    WHEN parsed THEN ``stream_arn`` is the stream's ARN either way (what the reader reads)."""
    record = _parse(stream_arn=stream_arn)

    assert record.batch.stream_arn == KINESIS_STREAM_ARN  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "stream_arn",
    [
        f"{KINESIS_STREAM_ARN}/consumer/orders-processor",
        f"{KINESIS_STREAM_ARN}/consumer/:1738300000",
        f"{KINESIS_STREAM_ARN}/consumer/a/b:1738300000",
        f"{KINESIS_STREAM_ARN}/shard/x",
    ],
    ids=["no-creation-epoch", "no-name", "slash-in-name", "not-a-consumer"],
)
def test_other_suffixes_of_a_stream_arn_are_malformed(stream_arn: str) -> None:
    """GIVEN a streamArn that is neither a stream's nor a consumer's ARN WHEN parsed THEN the
    record is malformed (preserved, never read from a guessed stream)."""
    with pytest.raises(MalformedOnFailureRecordError, match="not a Kinesis stream ARN"):
        _parse(stream_arn=stream_arn)


def test_dynamodb_batch_info_with_a_kinesis_arn_is_malformed() -> None:
    with pytest.raises(MalformedOnFailureRecordError, match="not a DynamoDB stream ARN"):
        _parse(source="dynamodb")


def test_both_batch_infos_is_malformed() -> None:
    record = on_failure_record(start="1", end="2", batch_size=2)
    record["DDBStreamBatchInfo"] = dict(record["KinesisBatchInfo"], streamArn=DYNAMODB_STREAM_ARN)

    with pytest.raises(MalformedOnFailureRecordError, match="exactly one"):
        parse_on_failure_record(json.dumps(record).encode())


def test_unknown_fields_are_ignored() -> None:
    record = on_failure_record(start="1", end="2", batch_size=2, addedLater={"x": 1})

    assert parse_on_failure_record(json.dumps(record).encode()).version == "1.0"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, "retries exhausted (RetryAttemptsExhausted) after 3 attempts: Unhandled"),
        (
            {"invoke_count": 1},
            "retries exhausted (RetryAttemptsExhausted) after 1 attempt: Unhandled",
        ),
        (
            {"condition": "RecordAgeExceeded", "invoke_count": 0, "response_context": MISSING},
            "record age exceeded (RecordAgeExceeded) after 0 attempts",
        ),
        (
            {"condition": "SomethingNew", "function_error": None},
            "something new (SomethingNew) after 3 attempts",
        ),
        (
            {"response_context": {"statusCode": 500, "executedVersion": "3"}},
            "retries exhausted (RetryAttemptsExhausted) after 3 attempts (status 500)",
        ),
    ],
    ids=["exhausted", "one-attempt", "age-no-response", "unknown-condition", "status-500"],
)
def test_failure_reason_is_readable(changes: dict[str, object], reason: str) -> None:
    record = parse_on_failure_record(
        json.dumps(on_failure_record(start="1", end="1", batch_size=1, **changes)).encode()  # type: ignore[arg-type]
    )

    assert record.failure_reason() == reason


def test_sns_event_yields_each_message_with_its_topic_and_id() -> None:
    """GIVEN an SNS event with two notifications WHEN extracted THEN two messages, bytes intact."""
    messages = extract_messages(sns_event("first", "sécond"))

    assert [m.raw for m in messages] == [b"first", "sécond".encode()]
    assert {m.source for m in messages} == {"aws:sns"}
    assert {m.source_arn for m in messages} == {ON_FAILURE_TOPIC_ARN}
    assert messages[0].message_id != messages[1].message_id


def test_direct_record_is_one_message() -> None:
    record = on_failure_record(start="1", end="1", batch_size=1)

    (message,) = extract_messages(record)

    assert message.source == "aws:lambda"
    assert json.loads(message.raw) == record


@pytest.mark.parametrize("event", [[], "text", {"Records": []}, {"Records": "x"}, None])
def test_anything_else_is_one_message_that_will_fail_validation(event: object) -> None:
    (message,) = extract_messages(event)

    with pytest.raises(MalformedOnFailureRecordError):
        parse_on_failure_record(message.raw)
