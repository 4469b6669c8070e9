"""TumblingWindowConsumer: per-window state as AWS hands it over, no record counted twice or
missed across failures, the window's result stored at its end."""

from __future__ import annotations

from typing import Any

import pytest
from factories import kinesis_record
from kit_harness import KitAws, window_event
from pydantic import BaseModel

from stream_pipeline.kit import (
    ConfigurationError,
    DynamoDBSink,
    Reject,
    StreamRecord,
    TumblingWindowConsumer,
    Window,
)
from stream_pipeline.kit.window import WindowNotStoredError


class Sale(BaseModel):
    store: str
    cents: int


def totals_consumer(fail_on: str | None = None) -> TumblingWindowConsumer:
    """Sums cents per store; rejects negative sales; raises on store ``fail_on``."""
    consumer = TumblingWindowConsumer(name="totals", model=Sale, sink=DynamoDBSink(key=("pk",)))

    @consumer.aggregate
    def aggregate(state: dict[str, Any], record: StreamRecord[Sale]) -> dict[str, Any]:
        sale = record.event
        if sale.cents < 0:
            raise Reject("totals.NEGATIVE_SALE", "a sale is never negative")
        if sale.store == fail_on:
            raise ConnectionError("lookup service down")
        return {**state, sale.store: state.get(sale.store, 0) + sale.cents}

    @consumer.window_end
    def window_end(state: dict[str, Any], window: Window) -> list[dict[str, Any]]:
        start = window.start.isoformat()
        return [{"pk": f"{store}#{start}", "cents": total} for store, total in state.items()]

    return consumer


def sales(*pairs: tuple[str, int]) -> list[dict[str, Any]]:
    return [kinesis_record({"store": store, "cents": cents}) for store, cents in pairs]


def test_state_carries_over_invocations_and_the_final_one_stores_the_result(
    kit_aws: KitAws,
) -> None:
    """GIVEN two invocations of one window, then its final invocation
    WHEN each returns its state to the next (as Lambda does)
    THEN the state accumulates, the final invocation stores one item per store and returns an
    empty state.
    """
    consumer = totals_consumer()
    kit_aws.wire(consumer)

    first = kit_aws.invoke(consumer, window_event(sales(("a", 100), ("b", 5))))
    second = kit_aws.invoke(consumer, window_event(sales(("a", 20)), first["state"]))
    final = kit_aws.invoke(consumer, window_event([], second["state"], final=True))

    assert first == {"state": {"a": 100, "b": 5}, "batchItemFailures": []}
    assert second["state"] == {"a": 120, "b": 5}
    assert final == {"state": {}, "batchItemFailures": []}
    assert {pk: item["cents"] for pk, item in kit_aws.items().items()} == {
        "a#2025-01-31T12:00:00+00:00": 120,
        "b#2025-01-31T12:00:00+00:00": 5,
    }


def test_a_transient_failure_keeps_the_state_of_the_records_before_it(kit_aws: KitAws) -> None:
    """GIVEN four sales, the third of which hits a failing dependency
    WHEN the invocation runs
    THEN the state holds the first two only and the last two are batch item failures, so the
    redelivery from the third counts each sale exactly once.
    """
    consumer = totals_consumer(fail_on="down")
    kit_aws.wire(consumer)
    records = sales(("a", 1), ("a", 2), ("down", 3), ("a", 4))

    response = kit_aws.invoke(consumer, window_event(records))

    assert response["state"] == {"a": 3}
    assert response["batchItemFailures"] == [
        {"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in records[2:]
    ]


def test_a_rejected_record_is_dead_lettered_and_left_out_of_the_state(kit_aws: KitAws) -> None:
    """GIVEN a negative sale and a record that is not JSON between valid sales
    WHEN the invocation runs
    THEN both are dead-lettered (the team's code, the kit's INVALID_JSON), the state sums the
    valid sales, and nothing is retried.
    """
    consumer = totals_consumer()
    kit_aws.wire(consumer)
    records = [*sales(("a", 1), ("a", -7)), kinesis_record(b"{oops"), *sales(("a", 2))]

    response = kit_aws.invoke(consumer, window_event(records))

    assert response == {"state": {"a": 3}, "batchItemFailures": []}
    assert sorted(e.error_category for e in kit_aws.dead_letters()) == [
        "INVALID_JSON",
        "totals.NEGATIVE_SALE",
    ]


def test_a_window_whose_result_cannot_be_stored_yet_fails_the_invocation(
    kit_aws: KitAws,
) -> None:
    """GIVEN the final invocation of a window while the table is unavailable
    WHEN it runs
    THEN it fails as a whole, so Lambda retries it with the window's state (never dropped).
    """
    consumer = totals_consumer()
    kit_aws.wire(consumer)
    kit_aws.dynamodb.delete_table(TableName="kit-items")

    with pytest.raises(WindowNotStoredError, match="not stored yet"):
        kit_aws.invoke(consumer, window_event([], {"a": 1}, final=True))


def test_a_window_terminated_early_stores_its_partial_result(kit_aws: KitAws) -> None:
    """GIVEN an invocation whose window was terminated early (state over 1 MB)
    WHEN it runs
    THEN the partial result is stored (the window goes on with a fresh state).
    """
    consumer = totals_consumer()
    kit_aws.wire(consumer)

    response = kit_aws.invoke(consumer, window_event(sales(("a", 1)), {}, terminated_early=True))

    assert response == {"state": {}, "batchItemFailures": []}
    assert [item["cents"] for item in kit_aws.items().values()] == [1]


def test_an_event_without_a_window_names_the_missing_setting(kit_aws: KitAws) -> None:
    """GIVEN a window consumer wired to a mapping without tumbling_window_in_seconds
    WHEN it is invoked with a plain batch
    THEN the error says which setting is missing.
    """
    consumer = totals_consumer()
    kit_aws.wire(consumer)

    with pytest.raises(ConfigurationError, match="tumbling_window_in_seconds"):
        kit_aws.invoke(consumer, {"Records": sales(("a", 1))})
