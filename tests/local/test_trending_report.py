"""The demo's trending report: the shards' partial windows combined at read time."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
from moto import mock_aws
from rich.console import Console

from stream_pipeline.local.trending_report import combine, read_items, render, report

START, END = "2026-12-06T18:20:00Z", "2026-12-06T18:20:05Z"


def window_part(shard: str, start: str = START, **counts: dict[str, int]) -> dict[str, Any]:
    """An aggregates item as the aggregator writes it, numbers as DynamoDB returns them."""

    def decimals(values: dict[str, int]) -> dict[str, Decimal]:
        return {key: Decimal(value) for key, value in values.items()}

    return {
        "windowStart": start,
        "windowEnd": END if start == START else start,
        "part": f"{shard}#1",
        "shardId": shard,
        "events": decimals(counts.get("events", {})),
        "views": decimals(counts.get("views", {})),
        "addToCarts": decimals(counts.get("carts", {})),
        "purchases": decimals(counts.get("purchases", {})),
        "otherProducts": decimals(counts.get("other", {})),
        "countries": decimals(counts.get("countries", {})),
    }


def test_a_window_is_the_sum_of_its_shards_parts() -> None:
    # GIVEN one window's items from two shards, and an item of a later window
    items = [
        window_part(
            "shardId-000000000001",
            events={"view": 3, "purchase": 1},
            views={"P1": 2, "P2": 1},
            purchases={"P2": 1},
            countries={"DE": 4},
        ),
        window_part(
            "shardId-000000000000",
            events={"view": 5, "add_to_cart": 1},
            views={"P2": 4, "P3": 1},
            carts={"P3": 1},
            other={"view": 0},
            countries={"DE": 1, "ZZ": 5},
        ),
        window_part("shardId-000000000000", start="2026-12-06T18:20:05Z", events={"view": 1}),
    ]

    # WHEN they are combined
    first, second = combine(items)

    # THEN the window sums both parts, its conversion comes from the sums and its top products
    # rank the merged counts; the later window stays apart
    assert first.parts == 2
    assert first.events == {"view": 8, "purchase": 1, "add_to_cart": 1}
    assert first.top("view", 2) == [("P2", 5), ("P1", 2)]
    assert first.top("purchase", 3) == [("P2", 1)]
    assert first.countries == {"DE": 5, "ZZ": 5}
    assert first.conversion == 1 / 8
    assert second.start == "2026-12-06T18:20:05Z"
    assert second.conversion == 0


def test_the_report_renders_the_last_windows() -> None:
    # GIVEN four windows
    items = [
        window_part("shardId-000000000000", start=f"2026-12-06T18:2{n}:00Z", events={"view": n})
        for n in range(4)
    ]
    console = Console(record=True, width=200)

    # WHEN the last three are rendered
    render(combine(items), console, last=3)

    # THEN the oldest one is left out
    text = console.export_text()
    assert "18:21:00" in text
    assert "18:23:00" in text
    assert "18:20:00" not in text


def test_the_demo_section_reads_the_aggregates_table() -> None:
    # GIVEN an aggregates table holding one window's item, and the stack's outputs naming it
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="aggregates",
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
        boto3.resource("dynamodb", region_name="us-east-1").Table("aggregates").put_item(
            Item=window_part("shardId-000000000000", events={"view": 4, "purchase": 1})
        )
        console = Console(record=True, width=200)

        # WHEN the demo's section runs
        report(dynamodb, {"trending_aggregates_table_name": "aggregates"}, console)

        # THEN it shows the window with its conversion
        assert len(read_items(dynamodb, "aggregates")) == 1
        assert "25.0%" in console.export_text()
