"""The kit's ``prepare_batch`` hook: batch-level work (reading state for every record at once)
before the record handler runs per record; rejected records never reach it; if it fails, its
records are retried and the rejected ones are still dead-lettered.

SQS is moto: what is dead-lettered really lands in a queue.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Metrics
from factories import REGION, kinesis_event_of, retail_event, sequence_numbers
from moto import mock_aws
from pydantic import BaseModel, ConfigDict

from stream_pipeline.kit import (
    ConsumerSettings,
    Dependencies,
    StreamConsumer,
    StreamRecord,
    TumblingWindowConsumer,
)
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope
from stream_pipeline.runtime.reason_codes import ErrorCategory

NAME = "kit_prepare"


class Event(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    userId: str
    eventType: str


@pytest.fixture(autouse=True)
def _no_metrics_left_over() -> Iterator[None]:
    Metrics().clear_metrics()
    yield
    Metrics().clear_metrics()


@pytest.fixture
def queue_url() -> Iterator[str]:
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION).create_queue(QueueName="kit-dlq")["QueueUrl"]


def dependencies(queue_url: str) -> Dependencies:
    return Dependencies(
        settings=ConsumerSettings(dlq_url=queue_url, consumer_name=NAME),
        sqs=boto3.client("sqs", region_name=REGION),
        sleep=lambda _: None,
    )


def dead_letter_categories(queue_url: str) -> list[str]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(DlqEnvelope.parse(m["Body"]).error_category for m in messages)


def a_batch_with_two_bad_records() -> dict[str, Any]:
    """user a, bad JSON, user b, a record without userId, user c."""
    return kinesis_event_of(
        [
            retail_event(userId="a"),
            b'{"userId": ',
            retail_event(userId="b"),
            {"eventType": "view"},
            retail_event(userId="c"),
        ]
    )


def test_the_hook_sees_the_valid_records_once_before_the_handler(queue_url: str) -> None:
    """GIVEN a consumer whose prepare_batch hook returns a greeting per user
    WHEN a batch of three valid records and two bad ones is processed
    THEN the hook ran once, before any handler, on the three valid records in stream order --
    the very records the handler gets -- the handler read the hook's result as
    consumer.prepared, and the two bad records were dead-lettered, not given to the hook.
    """
    consumer: StreamConsumer[Event] = StreamConsumer(name=NAME, model=Event)
    calls: list[str] = []
    prepared_records: list[StreamRecord[Event]] = []
    handled_records: list[StreamRecord[Event]] = []
    greetings: list[str] = []

    @consumer.prepare_batch
    def prepare(records: Sequence[StreamRecord[Event]]) -> dict[str, str]:
        calls.append("prepare")
        prepared_records.extend(records)
        return {record.event.userId: f"hello {record.event.userId}" for record in records}

    @consumer.record_handler
    def handle(record: StreamRecord[Event]) -> None:
        calls.append("handle")
        handled_records.append(record)
        greetings.append(consumer.prepared[record.event.userId])

    response = consumer.process_batch(a_batch_with_two_bad_records(), None, dependencies(queue_url))

    assert response == {"batchItemFailures": []}
    assert calls == ["prepare", "handle", "handle", "handle"]
    assert [record.event.userId for record in prepared_records] == ["a", "b", "c"]
    assert all(p is h for p, h in zip(prepared_records, handled_records, strict=True))
    assert greetings == ["hello a", "hello b", "hello c"]
    assert dead_letter_categories(queue_url) == sorted(
        [ErrorCategory.INVALID_JSON, ErrorCategory.SCHEMA_VIOLATION]
    )


def test_a_failing_hook_hands_its_records_back_and_still_dead_letters_the_bad_ones(
    queue_url: str,
) -> None:
    """GIVEN a consumer whose prepare_batch hook fails (its store is unavailable)
    WHEN the batch with three valid records and two bad ones is processed
    THEN the three valid records are batch item failures (the mapping retries them), the
    handler never ran, and the two bad records are dead-lettered all the same.
    """
    consumer: StreamConsumer[Event] = StreamConsumer(name=NAME, model=Event)
    handled: list[str] = []

    @consumer.prepare_batch
    def prepare(records: Sequence[StreamRecord[Event]]) -> None:
        msg = "store unavailable"
        raise ConnectionError(msg)

    @consumer.record_handler
    def handle(record: StreamRecord[Event]) -> None:
        handled.append(record.event.userId)

    event = a_batch_with_two_bad_records()
    response = consumer.process_batch(event, None, dependencies(queue_url))

    valid = [sequence_numbers(event)[i] for i in (0, 2, 4)]
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == valid
    assert handled == []
    assert dead_letter_categories(queue_url) == sorted(
        [ErrorCategory.INVALID_JSON, ErrorCategory.SCHEMA_VIOLATION]
    )


def test_prepared_is_per_batch_and_only_inside_one(queue_url: str) -> None:
    """GIVEN a consumer whose hook returns the batch's user ids
    WHEN two batches are processed
    THEN each batch's handler sees its own batch's result, and outside a batch
    consumer.prepared raises RuntimeError.
    """
    consumer: StreamConsumer[Event] = StreamConsumer(name=NAME, model=Event)
    seen: list[tuple[str, ...]] = []

    @consumer.prepare_batch
    def prepare(records: Sequence[StreamRecord[Event]]) -> tuple[str, ...]:
        return tuple(record.event.userId for record in records)

    @consumer.record_handler
    def handle(record: StreamRecord[Event]) -> None:
        seen.append(consumer.prepared)

    for users in (["a", "b"], ["c"]):
        event = kinesis_event_of([retail_event(userId=user) for user in users])
        consumer.process_batch(event, None, dependencies(queue_url))

    assert seen == [("a", "b"), ("a", "b"), ("c",)]
    with pytest.raises(RuntimeError, match="only available while a batch is processed"):
        _ = consumer.prepared


def test_a_window_consumer_refuses_the_hook() -> None:
    """GIVEN a tumbling-window consumer WHEN a prepare_batch hook is registered THEN TypeError:
    its aggregate function already sees the batch's records in order."""
    consumer = TumblingWindowConsumer(name=NAME)

    with pytest.raises(TypeError, match="prepare_batch"):
        consumer.prepare_batch(lambda records: None)
