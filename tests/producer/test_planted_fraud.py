"""The producer's fields for the analytics consumers (country, currency, amount), its skew,
and the planted fraudulent users: one per fraud rule, deterministic under the seed, recorded
in the manifest -- and, run through the real fraud detector (moto) with its default
thresholds, exactly the planted users are flagged, each for its rule, and no clean user."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from fraud_factories import FraudAws, batch
from moto import mock_aws
from rich.console import Console

from fraud_detector import app
from fraud_detector.config import Thresholds
from fraud_detector.rules import Rule
from stream_pipeline.producer import cli as producer
from stream_pipeline.producer.generator import (
    CLEAN_LIMITS,
    COUNTRIES,
    CURRENCY_OF,
    PLANT_MIN_COUNT,
    FraudRule,
    ProducedRecord,
    RecordKind,
    generate_records,
)
from stream_pipeline.producer.sender import produce

REGION = "eu-west-1"
START_MS = 1_750_000_000_000


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        yield
    app.consumer.set_dependencies(None)


def documents(records: list[ProducedRecord]) -> list[dict[str, Any]]:
    return [json.loads(r.data) for r in records if r.kind is RecordKind.VALID]


def test_every_event_has_a_country_and_carts_and_purchases_an_amount() -> None:
    # GIVEN 3,000 generated events
    events = documents(list(generate_records(3_000, seed=5, start_ms=START_MS)))

    # THEN every event has an ISO country; carts and purchases its currency and an amount of
    # quantity x price with 2 decimals, priceCents and quantity kept; views have neither
    for event in events:
        assert event["country"] in CURRENCY_OF
        if event["eventType"] == "view":
            assert "currency" not in event
            assert "amount" not in event
        else:
            assert event["currency"] == CURRENCY_OF[event["country"]]
            assert event["amount"] == event["quantity"] * event["priceCents"] / 100
            assert round(event["amount"], 2) == event["amount"]


def test_users_have_a_home_country_skewed_like_the_shops_customers() -> None:
    # GIVEN 3,000 generated events
    events = documents(list(generate_records(3_000, seed=5, start_ms=START_MS)))

    # THEN each user buys and browses from one country; the biggest market comes first
    countries_of: dict[str, set[str]] = {}
    for event in events:
        countries_of.setdefault(event["userId"], set()).add(event["country"])
    assert all(len(countries) == 1 for countries in countries_of.values())
    by_user = Counter(next(iter(c)) for c in countries_of.values())
    assert by_user.most_common(1)[0][0] == COUNTRIES[0][0]
    assert len(by_user) >= 8


def test_one_fraudulent_user_per_rule_is_planted_deterministically() -> None:
    # GIVEN two runs with the same seed and full poisoning, and one with another seed
    def run(seed: int) -> list[ProducedRecord]:
        return list(
            generate_records(1_000, seed=seed, poison_rate=1.0, start_ms=START_MS, plant_fraud=True)
        )

    first, again, other = run(3), run(3), run(4)

    # THEN each run plants one user per rule whose events are all valid; the seed decides
    planted = [r for r in first if r.planted is not None]
    users_by_rule = {
        rule: {r.partition_key for r in planted if r.planted is rule} for rule in FraudRule
    }
    assert all(len(users) == 1 for users in users_by_rule.values())
    assert {r.kind for r in planted} == {RecordKind.VALID}
    assert first == again
    assert [r.partition_key for r in other if r.planted] != [r.partition_key for r in planted]
    # and the detector's rules are the producer's
    assert {str(rule) for rule in FraudRule} == {str(rule) for rule in Rule}


def test_nothing_is_planted_by_default_or_in_a_short_run() -> None:
    assert not any(r.planted for r in generate_records(1_000, seed=1, start_ms=START_MS))
    short = generate_records(PLANT_MIN_COUNT - 1, seed=1, start_ms=START_MS, plant_fraud=True)
    assert not any(r.planted for r in short)


def test_the_manifest_names_the_rule_of_each_planted_event(moto_env: None) -> None:
    # GIVEN a run with planted fraud, produced into a stream with a manifest
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="planted", ShardCount=1)
    records = list(generate_records(300, seed=8, start_ms=START_MS, plant_fraud=True))
    manifest = io.StringIO()

    # WHEN produced
    produce(kinesis, "planted", records, manifest=manifest)

    # THEN planted events have `planted` (the rule), the others no such field
    lines = [json.loads(line) for line in manifest.getvalue().splitlines()]
    expected = {r.record_id: r.planted.value for r in records if r.planted is not None}
    assert {line["id"]: line["planted"] for line in lines if "planted" in line} == expected
    assert len(expected) == sum(1 for r in records if r.planted)


def test_the_detector_flags_exactly_the_planted_users_with_its_default_thresholds(
    moto_env: None,
) -> None:
    # GIVEN 2,000 events with 2 % poison and planted fraud, the detector on moto with its
    # default thresholds (the module's), which the clean users' limits stay under
    assert CLEAN_LIMITS.window_ms == Thresholds().velocity_window_seconds * 1000
    assert CLEAN_LIMITS.cart_window_ms == Thresholds().cart_burst_window_seconds * 1000
    records = list(
        generate_records(2_000, seed=13, poison_rate=0.02, start_ms=START_MS, plant_fraud=True)
    )
    fraud = FraudAws.create()
    fraud.configure()
    relevant = [
        json.loads(r.data)
        for r in records
        if r.kind is RecordKind.VALID and b'"eventType":"view"' not in r.data
    ]

    # WHEN every purchase and add-to-cart goes through it in stream-sized batches
    for start in range(0, len(relevant), 100):
        response = fraud.invoke(batch(relevant[start : start + 100]))
        assert response["batchItemFailures"] == []

    # THEN the flags are exactly one per planted user, for its rule
    planted = sorted({(r.partition_key, str(r.planted)) for r in records if r.planted})
    assert len(planted) == len(FraudRule)
    assert fraud.flagged() == planted


@pytest.mark.parametrize(("flag", "planted_lines"), [([], 21), (["--no-plant-fraud"], 0)])
def test_the_cli_plants_fraud_unless_told_not_to(
    moto_env: None, tmp_path: Path, flag: list[str], planted_lines: int
) -> None:
    # GIVEN a stream and the producer's command line, with or without --no-plant-fraud
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="cli", ShardCount=1)
    manifest = tmp_path / "manifest.jsonl"
    argv = ["--stream-name", "cli", "--count", "300", "--seed", "2", "--manifest", str(manifest)]

    # WHEN it runs
    code = producer.main(
        [*argv, "--no-progress", *flag],
        client=kinesis,
        console=Console(file=io.StringIO()),
        error_console=Console(file=io.StringIO()),
        stdin=io.StringIO(""),
    )

    # THEN the planted users' events (8 + 2 + 2 + 9) are marked, or none is
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert code == 0
    assert sum(1 for line in lines if "planted" in line) == planted_lines
