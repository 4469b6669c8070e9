"""The kit's hooks for a consumer that needs more than a model and a sink (the e-mail notifier is
one): its own settings and clients (``required_env``, ``extras``), its own counts
(``counters``/``consumer.count``), skipped records (``SKIP``), one event source only
(``event_sources``), and the invocation's context in the record handler (``lambda_context``).

SQS is moto: what is dead-lettered really lands in a queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Metrics
from factories import (
    REGION,
    FakeLambdaContext,
    dynamodb_event,
    dynamodb_record,
    kinesis_event_of,
    retail_event,
    sequence_numbers,
)
from moto import mock_aws
from pydantic import BaseModel, ConfigDict
from stream_harness import emf_metrics

from stream_pipeline.kit import (
    SKIP,
    ConfigurationError,
    ConsumerSettings,
    Dependencies,
    Reject,
    StreamConsumer,
    StreamRecord,
    UnsupportedEventError,
)

NAME = "kit_hooks"


class Event(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    userId: str
    eventType: str


@dataclass
class Greeter:
    """A consumer's own dependency, as its ``extras`` hook builds it."""

    greeting: str
    settings: ConsumerSettings


@pytest.fixture(autouse=True)
def _no_metrics_left_over() -> Iterator[None]:
    """Powertools' metrics are shared by every Metrics instance of the process: a batch that is
    processed without a flush (process_batch called directly) must not leak into the next."""
    Metrics().clear_metrics()
    yield
    Metrics().clear_metrics()


@pytest.fixture
def queue_url() -> Iterator[str]:
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION).create_queue(QueueName="kit-dlq")["QueueUrl"]


def dependencies(queue_url: str, extras: Any = None) -> Dependencies:
    return Dependencies(
        settings=ConsumerSettings(dlq_url=queue_url, consumer_name=NAME),
        sqs=boto3.client("sqs", region_name=REGION),
        sleep=lambda _: None,
        extras=extras,
    )


def metric_values(captured_stdout: str) -> dict[str, list[float]]:
    return {
        name: [value for value, _ in entries]
        for name, entries in emf_metrics(captured_stdout).items()
    }


def test_extras_are_built_once_at_the_cold_start_with_the_kits_settings(
    queue_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a consumer with required_env and an extras hook, deployed with every variable
    WHEN it is invoked twice without injected dependencies
    THEN the hook runs once, with the kit's settings, and the handler reads its result as
    consumer.extras in both invocations.
    """
    monkeypatch.setenv("DLQ_URL", queue_url)
    monkeypatch.setenv("GREETING", "hello")
    built: list[ConsumerSettings] = []

    def build(settings: ConsumerSettings) -> Greeter:
        built.append(settings)
        return Greeter(greeting="hello", settings=settings)

    consumer: StreamConsumer[Event] = StreamConsumer(
        name=NAME, model=Event, required_env=("GREETING",), extras=build
    )
    seen: list[str] = []

    @consumer.record_handler
    def handle(record: StreamRecord[Event]) -> None:
        seen.append(f"{consumer.extras.greeting} {record.event.userId}")

    for user in ("a", "b"):
        response = consumer.lambda_handler(
            kinesis_event_of([retail_event(userId=user)]),
            FakeLambdaContext(),  # type: ignore[arg-type]
        )
        assert response == {"batchItemFailures": []}

    assert seen == ["hello a", "hello b"]
    assert [settings.dlq_url for settings in built] == [queue_url]
    assert consumer.get_dependencies().extras.settings is built[0]


@pytest.mark.parametrize(
    ("environment", "missing"),
    [
        ({}, ["DLQ_URL", "GREETING", "SALUTATION"]),
        ({"DLQ_URL": "https://sqs/q"}, ["GREETING", "SALUTATION"]),
        ({"GREETING": "hi", "SALUTATION": " "}, ["DLQ_URL", "SALUTATION"]),
    ],
)
def test_one_configuration_error_names_the_kits_and_the_consumers_missing_variables(
    environment: dict[str, str], missing: list[str]
) -> None:
    """GIVEN a consumer with its own required variables, deployed without some of them
    WHEN its settings are read
    THEN one ConfigurationError names every missing variable, the kit's (DLQ_URL) and its own.
    """
    with pytest.raises(ConfigurationError) as caught:
        ConsumerSettings.from_env(
            name=NAME, environ=environment, required=("GREETING", "SALUTATION", "GREETING")
        )

    assert str(caught.value) == (
        f"{NAME}: missing required environment variable(s): " + ", ".join(missing)
    )


def test_counters_skip_and_rejections_are_accounted_per_batch(
    queue_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a consumer with counters, skipping views and rejecting purchases of user "bad"
    WHEN a batch of a view, two good purchases and a bad one is processed, then an empty batch
    THEN the first batch reports 1 skipped, 2 processed, 1 dead-lettered and Greeted = 2,
    Refused = 1; the empty batch reports its counters as 0; nothing is retried.
    """
    consumer: StreamConsumer[Event] = StreamConsumer(
        name=NAME, model=Event, counters=("Greeted", "Refused")
    )

    @consumer.record_handler
    def handle(record: StreamRecord[Event]) -> object:
        if record.event.eventType != "purchase":
            return SKIP
        if record.event.userId == "bad":
            consumer.count("Refused")
            raise Reject("kit-hooks.BAD_USER", "user is bad")
        consumer.count("Greeted")
        return None

    event = kinesis_event_of(
        [
            retail_event(eventType="view"),
            retail_event(eventType="purchase", userId="a"),
            retail_event(eventType="purchase", userId="bad"),
            retail_event(eventType="purchase", userId="b"),
        ]
    )
    deps = dependencies(queue_url)

    assert consumer.process_batch(event, None, deps) == {"batchItemFailures": []}
    assert consumer.process_batch({"Records": []}, None, deps) == {"batchItemFailures": []}
    consumer.metrics.flush_metrics()

    metrics = metric_values(capsys.readouterr().out)
    assert metrics["RecordsSkipped"] == [1.0, 0.0]
    assert metrics["RecordsProcessed"] == [2.0, 0.0]
    assert metrics["RecordsSentToDlq"] == [1.0, 0.0]
    assert metrics["Greeted"] == [2.0, 0.0]
    assert metrics["Refused"] == [1.0, 0.0]
    sqs = boto3.client("sqs", region_name=REGION)
    (message,) = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert '"kit-hooks.BAD_USER"' in message["Body"]


def test_count_refuses_undeclared_names_and_calls_outside_a_batch(queue_url: str) -> None:
    """GIVEN a consumer with one counter
    WHEN its handler counts an undeclared name, or count() is called outside a batch
    THEN the record with the typo is a batch item failure (ValueError), and outside a batch
    count() raises RuntimeError.
    """
    consumer: StreamConsumer[Any] = StreamConsumer(name=NAME, counters=("Greeted",))

    @consumer.record_handler
    def handle(record: StreamRecord[Any]) -> None:
        consumer.count("Greetd")

    event = kinesis_event_of([retail_event()])
    response = consumer.process_batch(event, None, dependencies(queue_url))

    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == sequence_numbers(event)
    with pytest.raises(RuntimeError, match="only available while a batch is processed"):
        consumer.count("Greeted")


def test_extras_follow_the_dependencies_of_the_batch(queue_url: str) -> None:
    """GIVEN dependencies passed to process_batch directly (a test, a benchmark, a local runtime)
    WHEN the handler reads consumer.extras
    THEN it gets those dependencies' extras, not the execution environment's.
    """
    consumer: StreamConsumer[Any] = StreamConsumer(name=NAME)
    seen: list[Any] = []

    @consumer.record_handler
    def handle(record: StreamRecord[Any]) -> None:
        seen.append(consumer.extras)

    marker = object()
    consumer.process_batch(
        kinesis_event_of([retail_event()]), None, dependencies(queue_url, extras=marker)
    )

    assert seen == [marker]


def test_a_handler_declaring_lambda_context_receives_the_invocations_context(
    queue_url: str,
) -> None:
    """GIVEN one handler with a lambda_context parameter and one without
    WHEN each processes a batch
    THEN the first gets the invocation's context (Powertools' batch convention), the second
    only the record.
    """
    context = FakeLambdaContext(function_name="with-context")
    with_context: StreamConsumer[Any] = StreamConsumer(name=NAME)
    without: StreamConsumer[Any] = StreamConsumer(name=NAME)
    contexts: list[Any] = []
    records: list[Any] = []

    @with_context.record_handler
    def handle(record: StreamRecord[Any], lambda_context: Any = None) -> None:
        contexts.append(lambda_context)

    @without.record_handler
    def handle_record_only(record: StreamRecord[Any]) -> None:
        records.append(record.document["userId"])

    event = kinesis_event_of([retail_event(userId="u-1")])
    with_context.process_batch(event, context, dependencies(queue_url))  # type: ignore[arg-type]
    without.process_batch(event, context, dependencies(queue_url))  # type: ignore[arg-type]

    assert contexts == [context]
    assert records == ["u-1"]


def test_a_kinesis_only_consumer_refuses_a_dynamodb_stream(queue_url: str) -> None:
    """GIVEN a consumer with event_sources=("aws:kinesis",)
    WHEN it is invoked with DynamoDB stream records
    THEN the invocation fails with UnsupportedEventError naming the Kinesis stream it expects;
    Kinesis records are processed.
    """
    consumer: StreamConsumer[Any] = StreamConsumer(name=NAME, event_sources=("aws:kinesis",))
    handled: list[str] = []

    @consumer.record_handler
    def handle(record: StreamRecord[Any]) -> None:
        handled.append(record.event_source)

    with pytest.raises(UnsupportedEventError) as caught:
        consumer.process_batch(
            dynamodb_event(dynamodb_record(retail_event())), None, dependencies(queue_url)
        )
    assert str(caught.value) == (
        f"{NAME} expects records from a Kinesis stream (eventSource aws:kinesis); "
        "got ['aws:dynamodb']"
    )
    consumer.process_batch(kinesis_event_of([retail_event()]), None, dependencies(queue_url))
    assert handled == ["aws:kinesis"]


def test_unknown_event_sources_are_refused_at_construction() -> None:
    """GIVEN event_sources naming something else than a Kinesis or DynamoDB stream, or nothing
    WHEN the consumer is built THEN ValueError."""
    with pytest.raises(ValueError, match="aws:sqs"):
        StreamConsumer(name=NAME, event_sources=("aws:sqs",))
    with pytest.raises(ValueError, match="none"):
        StreamConsumer(name=NAME, event_sources=())


def test_a_window_consumer_has_the_same_hooks(
    queue_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a tumbling-window consumer with counters and extras, on Kinesis only
    WHEN a window's batch of three records (one rejected) is folded
    THEN the state counts the two others, the counter is emitted, the rejected record is
    dead-lettered and the response carries the state.
    """
    from stream_pipeline.kit import TumblingWindowConsumer

    consumer = TumblingWindowConsumer(
        name=NAME, event_sources=("aws:kinesis",), counters=("Folded",)
    )

    @consumer.aggregate
    def fold(state: dict[str, Any], record: StreamRecord[Any]) -> dict[str, Any]:
        if record.document["userId"] == "bad":
            raise Reject("kit-hooks.BAD_USER", "user is bad")
        consumer.count("Folded")
        return {"n": state.get("n", 0) + consumer.extras}

    event = {
        **kinesis_event_of([retail_event(), retail_event(userId="bad"), retail_event()]),
        "window": {"start": "2025-01-01T00:00:00Z", "end": "2025-01-01T00:01:00Z"},
        "state": {},
    }

    response = consumer.process_batch(event, None, dependencies(queue_url, extras=1))
    consumer.metrics.flush_metrics()

    assert response == {"state": {"n": 2}, "batchItemFailures": []}
    metrics = metric_values(capsys.readouterr().out)
    assert metrics["Folded"] == [2.0]
    assert metrics["RecordsSentToDlq"] == [1.0]
