"""The fraud detector works per batch (functions/fraud_detector/batch.py), on moto: events of one
user in one batch see each other in event time; a batch costs a bounded number of requests
per user, whatever its number of records; a redelivery writes nothing again and flags nothing
twice; a failed history write hands back that user's records only, and the retry flags once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from factories import Intercepted
from fraud_factories import MINUTE, T0, FraudAws, add_to_cart, batch, purchase
from moto import mock_aws

from fraud_detector import app
from fraud_detector.config import Thresholds

VELOCITY = "purchase-velocity"
CART_BURST = "cart-burst"


@pytest.fixture
def fraud() -> Iterator[FraudAws]:
    with mock_aws():
        resources = FraudAws.create()
        resources.configure()
        yield resources
    app.consumer.set_dependencies(None)


def failures(response: dict[str, Any]) -> list[str]:
    return [entry["itemIdentifier"] for entry in response["batchItemFailures"]]


def sequence_numbers(event: dict[str, Any], user: str) -> list[str]:
    return [
        record["kinesis"]["sequenceNumber"]
        for record in event["Records"]
        if record["kinesis"]["partitionKey"] == user
    ]


def test_events_of_one_user_in_one_batch_see_each_other_in_event_time(
    fraud: FraudAws,
) -> None:
    # GIVEN 6 purchases within 10 minutes (threshold 5) that arrive latest first: each one,
    # judged only against what arrived before it, sees no earlier purchase
    events = [purchase(at=T0 + n * MINUTE) for n in reversed(range(6))]

    # WHEN they are processed in one batch
    response = fraud.invoke(batch(events))

    # THEN the latest purchase counts all six: one velocity flag from the first purchase on,
    # naming the latest
    assert failures(response) == []
    (flag,) = fraud.flags()
    assert (flag["rule"], flag["observed"], flag["windowStart"]) == (VELOCITY, "6", T0)
    assert flag["eventId"] == events[0]["eventId"]


def test_a_batch_costs_a_bounded_number_of_requests_per_user(fraud: FraudAws) -> None:
    # GIVEN three users with 8 events each (4 purchases from DE, 4 carts in 4 sessions: no
    # rule trips), counted requests
    dynamodb, calls = fraud.counted_dynamodb()
    fraud.configure(dynamodb=dynamodb)

    def activity(start: int) -> list[dict[str, Any]]:
        return [
            event
            for user in ("user-a", "user-b", "user-c")
            for n in range(4)
            for event in (
                purchase(user, at=start + n * MINUTE),
                add_to_cart(user, at=start + n * MINUTE + 1, session=f"session-{n}"),
            )
        ]

    # WHEN a first batch is processed, then the same users' events 20 minutes later (outside
    # every window), then that second batch again (a redelivery)
    first = fraud.invoke(batch(activity(T0)))
    first_calls = dict(calls)
    calls.clear()
    second_event = batch(activity(T0 + 20 * MINUTE))
    second = fraud.invoke(second_event)
    second_calls = dict(calls)
    calls.clear()
    fraud.invoke(second_event)
    redelivery_calls = dict(calls)

    # THEN per batch one history Query per user and one BatchWriteItem for the 24 events; the
    # first batch notes each user's first country once; the redelivery writes nothing
    assert failures(first) == failures(second) == []
    assert first_calls == {"Query": 3, "BatchWriteItem": 1, "UpdateItem": 3}
    assert second_calls == {"Query": 3, "BatchWriteItem": 1}
    assert redelivery_calls == {"Query": 3}
    assert fraud.flags() == []
    assert len(fraud.history()) == 2 * 24 + 3  # every event once, + each user's country


def test_a_history_write_failure_hands_back_that_users_records_and_the_retry_flags_once(
    fraud: FraudAws,
) -> None:
    # GIVEN a batch interleaving user-1's 6 purchases (a velocity burst) and user-2's 7 carts
    # (a cart burst), while DynamoDB keeps returning user-1's history items unprocessed
    events = [
        event
        for n in range(7)
        for event in (
            *([purchase("user-1", at=T0 + n * MINUTE)] if n < 6 else []),
            add_to_cart("user-2", at=T0 + n * 1000),
        )
    ]
    delivery = batch(events)

    def unprocessed_for_user_1(real: Any, **params: Any) -> Any:
        ((table, requests),) = params["RequestItems"].items()
        ours = [r for r in requests if r["PutRequest"]["Item"]["userId"]["S"] == "user-1"]
        others = [r for r in requests if r not in ours]
        if others:
            real(RequestItems={table: others})
        return {"UnprocessedItems": {table: ours} if ours else {}}

    fraud.configure(dynamodb=Intercepted(fraud.dynamodb, batch_write_item=unprocessed_for_user_1))

    # WHEN the batch is processed, then -- DynamoDB well again -- redelivered from the first
    # failed record on, as the event source mapping does
    response = fraud.invoke(delivery)
    flagged_first = fraud.flagged()
    first_alerts = fraud.alerts()
    fraud.configure()
    records = delivery["Records"]
    start = [r["kinesis"]["sequenceNumber"] for r in records].index(failures(response)[0])
    retry = {"Records": records[start:]}
    retry_response = fraud.invoke(retry)

    # THEN exactly user-1's records failed, user-2's burst was flagged at once; the retry
    # flagged user-1's burst, and each burst has one flag and one alert
    assert failures(response) == sequence_numbers(delivery, "user-1")
    assert flagged_first == [("user-2", CART_BURST)]
    assert [alert["rule"] for alert in first_alerts] == [CART_BURST]
    assert failures(retry_response) == []
    assert fraud.flagged() == [("user-1", VELOCITY), ("user-2", CART_BURST)]
    assert [alert["rule"] for alert in fraud.alerts()] == [VELOCITY]
    assert len(fraud.history()) == len(events) + 1  # + user-1's country


def test_a_late_burst_below_a_long_later_history_is_read_and_flagged(
    fraud: FraudAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a user with 3 purchases at T0, and 12 carts a day later already stored (more than
    # the first page of a read, made 5 here), counted requests
    monkeypatch.setattr("fraud_detector.history.FIRST_PAGE_ITEMS", 5)
    day = 24 * 60 * MINUTE
    fraud.invoke(batch([purchase(at=T0 + n * MINUTE) for n in range(3)]))
    fraud.invoke(batch([add_to_cart(at=T0 + day + n, session=f"s-{n}") for n in range(12)]))
    dynamodb, calls = fraud.counted_dynamodb()
    fraud.configure(Thresholds(purchase_count=5), dynamodb=dynamodb)

    # WHEN 3 more purchases of that time arrive late (a replay from the DLQ)
    response = fraud.invoke(batch([purchase(at=T0 + n * MINUTE) for n in range(3, 6)]))

    # THEN the read stops above the window and queries the window alone (two history Queries,
    # then the flag's own Query, put and alert mark): the six purchases are flagged once
    assert failures(response) == []
    assert dict(calls) == {"Query": 3, "BatchWriteItem": 1, "PutItem": 1, "UpdateItem": 1}
    (flag,) = fraud.flags()
    assert (flag["rule"], flag["observed"], flag["windowStart"]) == (VELOCITY, "6", T0)
