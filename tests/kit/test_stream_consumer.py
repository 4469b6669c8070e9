"""StreamConsumer: a team's record handler gets decoding, the DLQ with its own reason codes,
retries and idempotent DynamoDB writes from the kit."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from factories import dynamodb_event, dynamodb_record, kinesis_event_of, sequence_numbers, typed
from kit_harness import KitAws
from pydantic import BaseModel

from stream_pipeline.kit import (
    ConfigurationError,
    DynamoDBSink,
    Reject,
    StreamConsumer,
    StreamRecord,
)
from stream_pipeline.kit.dynamodb_sink import to_attribute_value
from stream_pipeline.runtime.reason_codes import MalformedReasonCodeError


class Reading(BaseModel):
    sensor: str
    value: float


def consumer_of(handler: Any, *, model: Any = Reading, sink: Any = "default") -> Any:
    consumer: StreamConsumer[Any] = StreamConsumer(
        name="readings",
        model=model,
        sink=DynamoDBSink(key=("pk",)) if sink == "default" else sink,
    )
    consumer.record_handler(handler)
    return consumer


def test_the_handler_gets_the_validated_event_and_its_items_are_stored_once(
    kit_aws: KitAws,
) -> None:
    """GIVEN a handler keyed by sensor and two readings of one sensor in one batch
    WHEN the batch is handled
    THEN one item holds the later reading (stream order wins), nothing fails or is dead-lettered.
    """
    consumer = consumer_of(lambda r: {"pk": r.event.sensor, "value": r.event.value})
    kit_aws.wire(consumer)

    response = kit_aws.invoke(
        consumer,
        kinesis_event_of([{"sensor": "s1", "value": 1.5}, {"sensor": "s1", "value": 2.25}]),
    )

    assert response == {"batchItemFailures": []}
    assert kit_aws.items() == {"s1": {"pk": "s1", "value": 2.25}}
    assert kit_aws.dead_letters() == []


def test_a_team_reason_code_dead_letters_the_original_bytes(kit_aws: KitAws) -> None:
    """GIVEN a handler that rejects negative readings with readings.NEGATIVE
    WHEN a negative reading arrives with a valid one
    THEN its envelope carries that code, the reason and the bytes exactly as produced.
    """

    def handler(record: StreamRecord[Reading]) -> dict[str, Any]:
        if record.event.value < 0:
            raise Reject("readings.NEGATIVE", "a reading is never negative")
        return {"pk": record.event.sensor}

    consumer = consumer_of(handler)
    kit_aws.wire(consumer)
    negative = b'{"sensor": "s9",   "value": -1}'
    event = kinesis_event_of([negative, {"sensor": "s1", "value": 1}])

    assert kit_aws.invoke(consumer, event) == {"batchItemFailures": []}

    (envelope,) = kit_aws.dead_letters()
    assert (envelope.error_category, envelope.error_reason) == (
        "readings.NEGATIVE",
        "a reading is never negative",
    )
    assert envelope.original_bytes() == negative
    assert envelope.sequence_number == sequence_numbers(event)[0]
    assert list(kit_aws.items()) == ["s1"]


def test_a_malformed_reason_code_is_refused_where_it_is_raised() -> None:
    """GIVEN a code without a namespace, or with spaces WHEN Reject is built THEN it says why."""
    with pytest.raises(MalformedReasonCodeError, match=r"namespace\.CODE"):
        Reject("NEGATIVE_READING", "x")
    with pytest.raises(MalformedReasonCodeError, match="after the dot"):
        Reject("readings.not upper", "x")


def test_a_crash_on_one_record_fails_only_that_record(kit_aws: KitAws) -> None:
    """GIVEN a handler with a bug that raises on one sensor
    WHEN a batch of three readings is handled
    THEN only that record is a batch item failure; the others are stored.
    """

    def handler(record: StreamRecord[Reading]) -> dict[str, Any]:
        if record.event.sensor == "boom":
            raise ZeroDivisionError("bug")
        return {"pk": record.event.sensor}

    consumer = consumer_of(handler)
    kit_aws.wire(consumer)
    event = kinesis_event_of([{"sensor": s, "value": 1} for s in ("a", "boom", "c")])

    response = kit_aws.invoke(consumer, event)

    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(event)[1]}]}
    assert sorted(kit_aws.items()) == ["a", "c"]


def test_without_a_model_the_handler_gets_the_json_document(kit_aws: KitAws) -> None:
    """GIVEN a consumer without a model and without a sink
    WHEN a JSON array arrives
    THEN the handler gets it as decoded, returns None, and the record is settled.
    """
    seen: list[Any] = []
    consumer = consumer_of(lambda r: seen.append(r.event), model=None, sink=None)
    kit_aws.wire(consumer)

    response = kit_aws.invoke(consumer, kinesis_event_of([[1, "two", None]]))

    assert response == {"batchItemFailures": []}
    assert seen == [[1, "two", None]]


def test_an_item_without_a_sink_is_reported_not_dropped(kit_aws: KitAws) -> None:
    """GIVEN a handler that returns an item but a consumer without a sink (a wiring mistake)
    WHEN a record is handled
    THEN the record is reported for retry, never silently dropped.
    """
    consumer = consumer_of(lambda r: {"pk": "x"}, sink=None)
    kit_aws.wire(consumer)
    event = kinesis_event_of([{"sensor": "s", "value": 1}])

    response = kit_aws.invoke(consumer, event)

    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(event)[0]}]}


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ({"value": 1}, "WRITE_REJECTED"),
        ({"pk": "big", "blob": "x" * 410_000}, "OVERSIZED"),
        ({"pk": "nan", "value": float("nan")}, "WRITE_REJECTED"),
    ],
)
def test_an_item_dynamodb_can_never_store_is_dead_lettered(
    kit_aws: KitAws, item: dict[str, Any], code: str
) -> None:
    """GIVEN a handler returning an item without its key, over 400 KB, or with NaN
    WHEN the record is handled
    THEN it is dead-lettered with a reason naming the problem; nothing is retried.
    """
    consumer = consumer_of(lambda r: item)
    kit_aws.wire(consumer)

    response = kit_aws.invoke(consumer, kinesis_event_of([{"sensor": "s", "value": 1}]))

    assert response == {"batchItemFailures": []}
    (envelope,) = kit_aws.dead_letters()
    assert envelope.error_category == code


def test_dynamodb_stream_binary_values_reach_the_handler_as_base64(kit_aws: KitAws) -> None:
    """GIVEN a DynamoDB stream record whose NewImage holds B and nested BS values
    WHEN a consumer without a model handles it
    THEN the handler sees them as base64 text, and the stored item holds them.
    """
    image = {
        **typed({"sensor": "s1", "value": 3}),
        "sig": {"B": base64.b64encode(b"\x00\xff").decode()},
        "more": {"M": {"set": {"BS": [base64.b64encode(b"\x01").decode()]}}},
    }
    consumer = consumer_of(lambda r: {"pk": r.event["sensor"], **r.event}, model=None)
    kit_aws.wire(consumer)

    response = kit_aws.invoke(
        consumer, dynamodb_event(dynamodb_record(None, typed_new_image=image))
    )

    assert response == {"batchItemFailures": []}
    stored = kit_aws.items()["s1"]
    assert stored["sig"] == base64.b64encode(b"\x00\xff").decode()
    assert stored["more"] == {"set": [base64.b64encode(b"\x01").decode()]}


def test_plain_values_become_dynamodb_attribute_values() -> None:
    """GIVEN the plain Python values a handler returns WHEN converted THEN DynamoDB's typed form,
    floats as exact decimal text, bytes as binary, sets through boto3's serializer."""
    value = {"s": "x", "n": 3, "f": 0.1, "b": True, "z": None, "raw": b"\x00", "l": [1, {"k": "v"}]}

    assert to_attribute_value(value) == {
        "M": {
            "s": {"S": "x"},
            "n": {"N": "3"},
            "f": {"N": "0.1"},
            "b": {"BOOL": True},
            "z": {"NULL": True},
            "raw": {"B": b"\x00"},
            "l": {"L": [{"N": "1"}, {"M": {"k": {"S": "v"}}}]},
        }
    }
    assert to_attribute_value({"tags"}) == {"SS": ["tags"]}


@pytest.mark.parametrize("key", [(), ("a", "b", "c"), "pk"])
def test_a_sink_key_is_one_or_two_attribute_names(key: Any) -> None:
    """GIVEN no key, three names, or a bare string WHEN a sink is built THEN it is refused."""
    with pytest.raises(ValueError, match="key attribute names"):
        DynamoDBSink(key=key)


def test_a_consumer_deployed_without_dlq_and_table_names_both() -> None:
    """GIVEN a consumer with a sink deployed without DLQ_URL and TABLE_NAME
    WHEN its first invocation builds the dependencies
    THEN the error names both variables and the consumer.
    """
    consumer = consumer_of(lambda r: None)

    with pytest.raises(ConfigurationError, match=r"readings: .*DLQ_URL, TABLE_NAME"):
        consumer.get_dependencies()
