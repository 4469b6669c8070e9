"""The orders validator: valid orders stored once, the team's own rejections dead-lettered with
their original bytes, everything else handled by the kit."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from factories import kinesis_event_of, sequence_numbers
from orders_harness import OrdersAws


def order(**fields: Any) -> dict[str, Any]:
    """A valid order; keyword arguments override fields."""
    return {"orderId": "o-1", "customerId": "c-1", "currency": "EUR", "amount": 12.5} | fields


def test_a_valid_order_is_stored_once_even_when_delivered_twice(orders_aws: OrdersAws) -> None:
    """GIVEN a valid order delivered twice (an ESM retry)
    WHEN the validator handles both batches
    THEN the orders table holds it once, and nothing is retried or dead-lettered.
    """
    event = kinesis_event_of([order(orderId="o-42", amount=19.99)])

    responses = [orders_aws.invoke(event), orders_aws.invoke(event)]

    assert responses == [{"batchItemFailures": []}] * 2
    stored = orders_aws.orders()
    assert list(stored) == ["o-42"]
    assert stored["o-42"]["amount"] == Decimal("19.99")
    assert orders_aws.dead_letters() == []


def test_the_teams_rejections_carry_its_reason_codes_and_the_original_bytes(
    orders_aws: OrdersAws,
) -> None:
    """GIVEN an order in a currency we do not take and one for a negative amount
    WHEN the validator handles them with a valid order
    THEN both go to the DLQ with orders.INVALID_CURRENCY / orders.NON_POSITIVE_AMOUNT and their
    bytes exactly as produced; the valid order is stored.
    """
    payloads = [
        json.dumps(order(orderId="o-1", currency="XYZ")).encode(),
        json.dumps(order(orderId="o-2", amount=-3)).encode(),
        json.dumps(order(orderId="o-3")).encode(),
    ]
    event = kinesis_event_of(payloads)

    response = orders_aws.invoke(event)

    assert response == {"batchItemFailures": []}
    assert list(orders_aws.orders()) == ["o-3"]
    envelopes = {e.sequence_number: e for e in orders_aws.dead_letters()}
    first, second, _ = sequence_numbers(event)
    assert envelopes[first].error_category == "orders.INVALID_CURRENCY"
    assert envelopes[second].error_category == "orders.NON_POSITIVE_AMOUNT"
    assert envelopes[first].original_bytes() == payloads[0]
    assert envelopes[second].original_bytes() == payloads[1]


def test_records_that_are_not_orders_are_dead_lettered_by_the_kit(orders_aws: OrdersAws) -> None:
    """GIVEN a record that is not JSON and one without a customerId
    WHEN the validator handles them
    THEN the kit dead-letters them (INVALID_JSON, SCHEMA_VIOLATION) before the handler runs.
    """
    event = kinesis_event_of([b"{not json", order(customerId=None)])

    response = orders_aws.invoke(event)

    assert response == {"batchItemFailures": []}
    assert sorted(e.error_category for e in orders_aws.dead_letters()) == [
        "INVALID_JSON",
        "SCHEMA_VIOLATION",
    ]
    assert orders_aws.orders() == {}


def test_a_table_outage_retries_the_orders_instead_of_losing_them(
    orders_aws: OrdersAws,
) -> None:
    """GIVEN an orders table that does not exist (deleted, or the wrong TABLE_NAME)
    WHEN the validator handles two valid orders
    THEN both are reported as batch item failures (the ESM retries them), none dead-lettered.
    """
    orders_aws.dynamodb.delete_table(TableName=orders_aws.table)
    event = kinesis_event_of([order(orderId=n) for n in "ab"])

    response = orders_aws.invoke(event)

    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(
        sequence_numbers(event)
    )
    assert orders_aws.dead_letters() == []
