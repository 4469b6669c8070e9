"""The fraud detector (functions/fraud_detector) on moto: each rule trips on more than its
threshold in event time and not at it; a flag is written once per (user, rule, window) and
alerted once, under redelivery and replay too; a crash between the flag and its alert is
repaired by the retry; bad records are dead-lettered without holding the batch back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from factories import Intercepted, always_raise, client_error, retail_event
from fraud_factories import (
    MINUTE,
    T0,
    FraudAws,
    add_to_cart,
    batch,
    purchase,
)
from moto import mock_aws

from fraud_detector import app
from fraud_detector.config import ConfigurationError, Settings, Thresholds
from stream_pipeline.runtime.reason_codes import ErrorCategory

VELOCITY = "purchase-velocity"
AMOUNT = "purchase-amount"
NEW_COUNTRY = "new-country"
CART_BURST = "cart-burst"


@pytest.fixture
def fraud() -> Iterator[FraudAws]:
    with mock_aws():
        resources = FraudAws.create()
        resources.configure()
        yield resources
    app.consumer.set_dependencies(None)


def purchases(count: int, *, user: str = "user-1", gap_ms: int = MINUTE) -> list[dict[str, Any]]:
    return [purchase(user, at=T0 + n * gap_ms) for n in range(count)]


# --------------------------------------------------------------------------- the rules


def test_more_than_n_purchases_in_the_window_raise_one_velocity_flag(fraud: FraudAws) -> None:
    # GIVEN 5 purchases (the threshold) by one user, then 3 more, all within 10 minutes
    events = purchases(8)

    # WHEN the first 5 are processed, then the rest
    fraud.invoke(batch(events[:5]))
    flags_at_threshold = fraud.flagged()
    fraud.invoke(batch(events[5:]))

    # THEN nothing at the threshold; one flag once it is passed, whose window starts at the
    # first purchase; one alert naming it
    assert flags_at_threshold == []
    (flag,) = fraud.flags()
    assert (flag["userId"], flag["rule"], flag["observed"]) == ("user-1", VELOCITY, "6")
    assert flag["windowStart"] == T0
    assert flag["alert"] == "sent"
    (alert,) = fraud.alerts()
    assert alert["flagId"] == f"user-1#{flag['flagKey']}"
    assert alert["rule"] == VELOCITY


def test_purchases_spread_over_more_than_the_window_are_not_flagged(fraud: FraudAws) -> None:
    # GIVEN 8 purchases 3 minutes apart in event time (never more than 4 in 10 minutes)
    events = purchases(8, gap_ms=3 * MINUTE)

    # WHEN they are processed (arriving together: arrival time does not matter)
    fraud.invoke(batch(events))

    # THEN no flag
    assert fraud.flagged() == []


def test_an_amount_over_the_threshold_in_one_currency_is_flagged(fraud: FraudAws) -> None:
    # GIVEN a threshold of 1,000.00; one user spends 600 EUR twice; another 600 EUR and 600 GBP
    fraud.configure(Thresholds(purchase_amount_cents=100_000))
    events = [
        purchase("user-a", at=T0, amount=600.0),
        purchase("user-a", at=T0 + MINUTE, amount=600.0),
        purchase("user-b", at=T0, amount=600.0),
        purchase("user-b", at=T0 + MINUTE, amount=600.0, currency="GBP"),
    ]

    # WHEN processed
    fraud.invoke(batch(events))

    # THEN only the single-currency spender is flagged, with the amount in cents
    (flag,) = fraud.flags()
    assert (flag["userId"], flag["rule"]) == ("user-a", AMOUNT)
    assert (flag["observed"], flag["currency"]) == ("120000", "EUR")


def test_a_first_purchase_from_a_new_country_is_flagged_once(fraud: FraudAws) -> None:
    # GIVEN a user who buys in DE, then in BR twice; another user whose first purchase ever
    # is in BR
    events = [
        purchase("user-1", at=T0, country="DE"),
        purchase("user-1", at=T0 + MINUTE, country="BR", currency="BRL"),
        purchase("user-1", at=T0 + 2 * MINUTE, country="BR", currency="BRL"),
        purchase("user-2", at=T0, country="BR", currency="BRL"),
    ]

    # WHEN processed
    fraud.invoke(batch(events))

    # THEN one flag: user-1's first purchase from BR, knowing DE
    (flag,) = fraud.flags()
    assert (flag["userId"], flag["rule"], flag["country"]) == ("user-1", NEW_COUNTRY, "BR")
    assert flag["knownCountries"] == "DE"
    assert flag["windowStart"] == T0 + MINUTE


def test_a_new_country_is_flagged_whatever_order_the_purchases_arrive_in(
    fraud: FraudAws,
) -> None:
    # GIVEN a purchase abroad (BR) that arrives before the earlier one at home (DE): a
    # producer's retry, or the home purchase replayed from the DLQ later
    abroad = purchase("user-1", at=T0 + MINUTE, country="BR", currency="BRL")
    home = purchase("user-1", at=T0, country="DE")

    # WHEN the abroad purchase is processed, then the home one
    fraud.invoke(batch([abroad]))
    before_home = fraud.flagged()
    fraud.invoke(batch([home]))

    # THEN nothing could be told at first; once the home purchase is known, BR is flagged,
    # naming the purchase abroad -- the flag in-order processing raises
    assert before_home == []
    (flag,) = fraud.flags()
    assert (flag["rule"], flag["country"], flag["eventId"]) == (
        NEW_COUNTRY,
        "BR",
        abroad["eventId"],
    )
    assert flag["windowStart"] == T0 + MINUTE


def test_a_cart_burst_counts_carts_of_one_session_only(fraud: FraudAws) -> None:
    # GIVEN 7 add-to-carts in one session within 5 minutes (threshold 6), and 7 split over
    # two sessions by another user
    burst = [add_to_cart("user-1", at=T0 + n * 20_000) for n in range(7)]
    split = [
        add_to_cart("user-2", at=T0 + n * 20_000, session=f"session-{n % 2}") for n in range(7)
    ]

    # WHEN processed
    fraud.invoke(batch([*burst, *split]))

    # THEN user-1 is flagged for the session; user-2 is not
    (flag,) = fraud.flags()
    assert (flag["userId"], flag["rule"], flag["sessionId"]) == ("user-1", CART_BURST, "session-1")
    assert flag["observed"] == "7"


def test_views_are_skipped_and_leave_no_history(fraud: FraudAws) -> None:
    # GIVEN a view (the module's filter keeps them out; a wiring mistake must not count them)
    view = retail_event(eventType="view", country="DE")

    # WHEN processed
    response = fraud.invoke(batch([view]))

    # THEN settled, nothing remembered, nothing flagged
    assert response["batchItemFailures"] == []
    assert fraud.history() == []


# --------------------------------------------------------------------------- exactly once


def test_a_redelivered_batch_and_a_replay_flag_and_alert_once(fraud: FraudAws) -> None:
    # GIVEN a velocity burst (8 purchases) and a cart burst (8 carts), processed once
    events = [*purchases(8), *(add_to_cart(at=T0 + n * 1000) for n in range(8))]
    fraud.invoke(batch(events))
    first_alerts = fraud.alerts()

    # WHEN the same batch is delivered again (a retry), then each record alone (a replay)
    fraud.invoke(batch(events))
    for event in events:
        fraud.invoke(batch([event]))

    # THEN still one flag per rule, no second alert, and each event once in the history
    assert fraud.flagged() == [("user-1", CART_BURST), ("user-1", VELOCITY)]
    assert len(first_alerts) == 2
    assert fraud.alerts() == []
    assert len(fraud.history()) == len(events) + 1  # + the country of the purchases


def test_a_burst_that_goes_on_past_its_window_is_not_a_new_flag(fraud: FraudAws) -> None:
    # GIVEN purchases every 2 minutes for 40 minutes: the 10-minute window slides along
    events = purchases(21, gap_ms=2 * MINUTE)

    # WHEN processed with a threshold of 4
    fraud.configure(Thresholds(purchase_count=4))
    fraud.invoke(batch(events))

    # THEN one flag: every later window overlaps the one before
    assert fraud.flagged() == [("user-1", VELOCITY)]


def test_a_crash_between_the_flag_and_its_alert_is_repaired_by_the_retry(
    fraud: FraudAws,
) -> None:
    # GIVEN SNS failing: the sixth purchase writes its flag, its alert is not published
    events = purchases(6)
    first_delivery = batch(events)
    server_error = client_error("InternalError", "Publish", status=500)
    fraud.configure(sns=Intercepted(fraud.sns, publish=always_raise(server_error)))
    response = fraud.invoke(first_delivery)
    (pending,) = fraud.flags()

    # WHEN the mapping retries from the failed record, SNS working again
    fraud.configure()
    fraud.invoke(batch(events[5:]))

    # THEN the sixth purchase was the only batch item failure, its flag waited as pending,
    # and the retry published the one alert and marked the flag sent
    sixth = first_delivery["Records"][5]["kinesis"]["sequenceNumber"]
    assert [entry["itemIdentifier"] for entry in response["batchItemFailures"]] == [sixth]
    assert pending["alert"] == "pending"
    (flag,) = fraud.flags()
    assert flag["alert"] == "sent"
    (alert,) = fraud.alerts()
    assert alert["rule"] == VELOCITY


# --------------------------------------------------------------------------- bad input


def test_bad_records_are_dead_lettered_and_the_rest_of_the_batch_goes_on(
    fraud: FraudAws,
) -> None:
    # GIVEN a batch: a purchase with a lower-case country, one with a negative amount, bad
    # JSON, then 6 good purchases
    bad = [
        purchase(country="de"),
        purchase(amount=-5.0),
    ]
    events: list[dict[str, Any] | bytes] = [*bad, b'{"eventType": "purchase"', *purchases(6)]

    # WHEN processed
    response = fraud.invoke(batch(events))

    # THEN no batch item failure; the three bad records are in the DLQ with their reasons;
    # the good ones still trip the velocity rule
    assert response["batchItemFailures"] == []
    reasons = sorted(envelope.error_category for envelope in fraud.dead_letters())
    assert reasons == sorted(
        [ErrorCategory.SCHEMA_VIOLATION, ErrorCategory.SCHEMA_VIOLATION, ErrorCategory.INVALID_JSON]
    )
    assert fraud.flagged() == [("user-1", VELOCITY)]


def test_dynamodb_failing_on_the_history_read_makes_the_record_a_batch_item_failure(
    fraud: FraudAws,
) -> None:
    # GIVEN DynamoDB throttling every history read
    throttled = Intercepted(
        fraud.dynamodb,
        query=always_raise(client_error("ProvisionedThroughputExceededException", "Query")),
    )
    fraud.configure(dynamodb=throttled)

    # WHEN a purchase is processed
    response = fraud.invoke(batch([purchase()]))

    # THEN it is handed back for retry, not dead-lettered, and nothing is remembered
    assert len(response["batchItemFailures"]) == 1
    assert fraud.dead_letters() == []
    assert fraud.history() == []


# --------------------------------------------------------------------------- settings


def test_settings_name_every_missing_or_out_of_range_variable() -> None:
    # GIVEN an environment without the alert topic, with a threshold out of range and an
    # amount with 3 decimals
    environ = {
        "HISTORY_TABLE_NAME": "h",
        "FLAGS_TABLE_NAME": "f",
        "PURCHASE_COUNT_THRESHOLD": "0",
        "PURCHASE_AMOUNT_THRESHOLD": "10.005",
    }

    # WHEN read THEN the one error names all three
    with pytest.raises(ConfigurationError) as error:
        Settings.from_env(environ)
    message = str(error.value)
    assert "missing ALERT_TOPIC_ARN" in message
    assert "PURCHASE_COUNT_THRESHOLD must be a whole number from 1 to 1000" in message
    assert "PURCHASE_AMOUNT_THRESHOLD must be an amount" in message


def test_settings_read_the_thresholds() -> None:
    # GIVEN every variable WHEN read THEN the thresholds hold them (the amount in cents)
    settings = Settings.from_env(
        {
            "HISTORY_TABLE_NAME": "h",
            "FLAGS_TABLE_NAME": "f",
            "ALERT_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:t",
            "PURCHASE_COUNT_THRESHOLD": "7",
            "PURCHASE_AMOUNT_THRESHOLD": "2500.50",
            "VELOCITY_WINDOW_SECONDS": "900",
            "CART_BURST_THRESHOLD": "9",
            "CART_BURST_WINDOW_SECONDS": "120",
            "HISTORY_TTL_SECONDS": "86400",
        }
    )
    assert settings.thresholds == Thresholds(
        purchase_count=7,
        purchase_amount_cents=250_050,
        velocity_window_seconds=900,
        cart_burst_count=9,
        cart_burst_window_seconds=120,
        history_ttl_seconds=86_400,
    )
