"""The trending aggregator (functions/trending_aggregator) as Lambda calls it on tumbling
windows, on moto: per-window state, one aggregates item per window and shard at the final
invocation, poison records dead-lettered, a retried final invocation writing the same item."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from factories import MISSING, FakeLambdaContext, kinesis_record, retail_event
from moto import mock_aws
from trending_aggregator import app
from trending_aggregator.models import (
    MAX_PRODUCTS_PER_TYPE,
    RetailEvent,
    TrendingSettings,
    fold,
    window_item,
)

from stream_pipeline.kit import ConfigurationError, ConsumerSettings, Dependencies
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope

TABLE = "trending-aggregates"
SHARD = "shardId-000000000006"
START, END = "2026-12-06T18:20:00Z", "2026-12-06T18:21:00Z"


class Aggregator:
    """The function wired to a moto aggregates table and DLQ."""

    def __init__(self) -> None:
        self.dynamodb = boto3.client("dynamodb")
        self.sqs = boto3.client("sqs")
        self.dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "windowStart", "KeyType": "HASH"},
                {"AttributeName": "part", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "windowStart", "AttributeType": "S"},
                {"AttributeName": "part", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        self.queue_url = self.sqs.create_queue(QueueName="dlq")["QueueUrl"]
        self.writes = 0
        self.dynamodb.meta.events.register(
            "before-call.dynamodb.BatchWriteItem", lambda **_: self._count()
        )
        app.consumer.set_dependencies(
            Dependencies(
                settings=ConsumerSettings(
                    dlq_url=self.queue_url, consumer_name="trending", table_name=TABLE
                ),
                sqs=self.sqs,
                dynamodb=self.dynamodb,
                sleep=lambda _: None,
                extras=TrendingSettings(stored_products=2),
            )
        )

    def _count(self) -> None:
        self.writes += 1

    def invoke(
        self,
        events: list[dict[str, Any] | bytes],
        state: dict[str, Any] | None = None,
        *,
        final: bool = False,
    ) -> dict[str, Any]:
        event = {
            "Records": [kinesis_record(e, shard_id=SHARD) for e in events],
            "window": {"start": START, "end": END},
            "state": state or {},
            "shardId": SHARD,
            "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/retail-events",
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": False,
        }
        return dict(app.lambda_handler(event, FakeLambdaContext()))

    def items(self) -> list[dict[str, Any]]:
        deserializer = TypeDeserializer()
        return [
            {name: deserializer.deserialize(value) for name, value in item.items()}
            for item in self.dynamodb.scan(TableName=TABLE)["Items"]
        ]

    def dead_letters(self) -> list[DlqEnvelope]:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
        return [DlqEnvelope.parse(m["Body"]) for m in messages.get("Messages", [])]


@pytest.fixture
def aggregator() -> Iterator[Aggregator]:
    with mock_aws():
        yield Aggregator()


def _event(event_type: str, product: str, country: Any = MISSING) -> dict[str, Any]:
    return retail_event(eventType=event_type, productId=product, country=country)


def test_a_window_aggregates_over_invocations_and_its_final_one_stores_one_item(
    aggregator: Aggregator,
) -> None:
    """GIVEN two invocations of a window with views, carts and purchases, then its final one
    WHEN each gets the state the previous one returned
    THEN one item is stored for the window and shard: counts per type, the top products per
    type (2 kept, the rest summed in otherProducts), conversion = purchases / views, counts per
    country with ZZ for a missing one; the final invocation returns an empty state."""
    first = aggregator.invoke(
        [
            _event("view", "P1", "DE"),
            _event("view", "P1", "DE"),
            _event("view", "P2", "FR"),
            _event("view", "P3"),
        ]
    )
    second = aggregator.invoke(
        [_event("add_to_cart", "P1", "DE"), _event("purchase", "P1", "DE")], first["state"]
    )
    final = aggregator.invoke([], second["state"], final=True)

    assert final == {"state": {}, "batchItemFailures": []}
    (item,) = aggregator.items()
    assert item["windowStart"] == START
    assert item["windowEnd"] == END
    assert item["part"].startswith(f"{SHARD}#")
    assert item["records"] == 6
    assert item["events"] == {"view": 4, "add_to_cart": 1, "purchase": 1}
    assert item["views"] == {"P1": 2, "P2": 1}
    assert item["otherProducts"] == {"view": 1}
    assert item["addToCarts"] == {"P1": 1}
    assert item["purchases"] == {"P1": 1}
    assert item["countries"] == {"DE": 4, "FR": 1, "ZZ": 1}
    assert float(item["conversion"]) == 0.25


def test_poison_records_are_dead_lettered_and_left_out_of_the_window(
    aggregator: Aggregator,
) -> None:
    """GIVEN a window batch holding a record that is not JSON and one without productId
    WHEN it is aggregated and the window ends
    THEN both are dead-lettered with the kit's reason codes and the item counts only the valid
    view."""
    state = aggregator.invoke([b"{not json", _event("view", "P1", "IT"), _event("view", MISSING)])[
        "state"
    ]
    aggregator.invoke([], state, final=True)

    assert sorted(e.error_category for e in aggregator.dead_letters()) == [
        "INVALID_JSON",
        "SCHEMA_VIOLATION",
    ]
    (item,) = aggregator.items()
    assert item["events"] == {"view": 1}


def test_a_retried_final_invocation_rewrites_the_same_item(aggregator: Aggregator) -> None:
    """GIVEN a window's final state
    WHEN the final invocation runs twice (Lambda retries it after a failure)
    THEN the table holds one item, identical after the second write."""
    state = aggregator.invoke([_event("purchase", "P9", "ES")])["state"]
    aggregator.invoke([], state, final=True)
    first = aggregator.items()
    aggregator.invoke([], state, final=True)

    assert aggregator.items() == first
    assert len(first) == 1


def test_an_invalid_country_counts_as_unknown_and_never_refuses_the_record() -> None:
    """GIVEN events with a lower-case, a three-letter and a numeric country
    WHEN folded THEN each counts under ZZ (analytics metadata never dead-letters a record)."""
    state: dict[str, Any] = {}
    for number, country in enumerate(("de", "DEU", 49)):
        event = RetailEvent.model_validate(_event("view", "P1", country))
        state = fold(state, event, str(number))
    assert state["countries"] == {"ZZ": 3}


def test_distinct_products_beyond_the_cap_count_in_other_and_totals_stay_exact() -> None:
    """GIVEN more distinct viewed products in a window than the state tracks
    WHEN folded THEN the first MAX_PRODUCTS_PER_TYPE are counted by product, the rest in
    other, and the view total is every view."""
    state: dict[str, Any] = {}
    for number in range(MAX_PRODUCTS_PER_TYPE + 5):
        event = RetailEvent.model_validate(_event("view", f"P{number}"))
        state = fold(state, event, str(number))
    assert len(state["products"]["view"]) == MAX_PRODUCTS_PER_TYPE
    assert state["other"] == {"view": 5}
    assert state["events"]["view"] == MAX_PRODUCTS_PER_TYPE + 5


def test_fold_returns_a_new_state_and_leaves_the_given_one_unchanged() -> None:
    """GIVEN a state WHEN a record is folded in THEN the given state is unchanged (the kit keeps
    it to answer a failure later in the batch)."""
    event = RetailEvent.model_validate(_event("purchase", "P1", "NL"))
    before = fold({}, event, "1")
    snapshot = repr(before)
    after = fold(before, event, "2")
    assert repr(before) == snapshot
    assert after["events"] == {"purchase": 2}
    assert after["first"] == "1"


def test_a_window_without_valid_records_stores_nothing() -> None:
    """GIVEN an empty state WHEN the window ends THEN there is no item."""
    start = datetime(2026, 12, 6, 18, 20, tzinfo=UTC)
    assert (
        window_item(
            {},
            start=start,
            end=start + timedelta(minutes=1),
            shard_id=SHARD,
            stored_products=10,
            retention=timedelta(days=1),
        )
        is None
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STORED_PRODUCTS_PER_TYPE", "0"),
        ("STORED_PRODUCTS_PER_TYPE", "201"),
        ("AGGREGATES_RETENTION_DAYS", "x"),
    ],
)
def test_settings_out_of_range_are_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """GIVEN a setting outside its range WHEN read at the cold start THEN the error names it."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        TrendingSettings.from_env()
