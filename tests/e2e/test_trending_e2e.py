"""The trending aggregator end to end: the real ``environments/local`` (the aggregator on its own
enhanced fan-out consumer with 5 s tumbling windows, run by the local runtime's window
semantics), the real ``trending_aggregator`` function and its aggregates table.

The expected aggregates are computed from the producer's manifest and the records read back
from the stream: windows are assigned by arrival time (``ApproximateArrivalTimestamp``), which
only the stream knows.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from e2e_pipeline import Pipeline

from stream_pipeline.local.accounting import (
    ManifestEntry,
    delete_messages,
    read_dlq,
    reconcile,
    release_messages,
)
from stream_pipeline.local.trending_report import FUNNEL, WindowAggregate, combine, read_items


def _window_start(arrival: datetime, seconds: int) -> str:
    start = math.floor(arrival.timestamp() / seconds) * seconds
    return datetime.fromtimestamp(start, UTC).isoformat().replace("+00:00", "Z")


def _read_back(pipeline: Pipeline, manifest: list[ManifestEntry]) -> dict[tuple[str, str], Any]:
    """(shard, sequence number) -> the record as the stream holds it, for the manifest's
    records."""
    kinesis = pipeline.client("kinesis")
    stream = pipeline.outputs["stream_name"]
    by_shard: dict[str, list[int]] = defaultdict(list)
    for entry in manifest:
        assert entry.shard_id is not None
        assert entry.sequence_number is not None
        by_shard[entry.shard_id].append(int(entry.sequence_number))
    found: dict[tuple[str, str], Any] = {}
    for shard, numbers in by_shard.items():
        iterator = kinesis.get_shard_iterator(
            StreamName=stream,
            ShardId=shard,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=str(min(numbers)),
        )["ShardIterator"]
        wanted = {str(n) for n in numbers}
        while wanted - {seq for s, seq in found if s == shard}:
            page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            assert page["Records"], f"{shard}: the stream no longer holds every record"
            for record in page["Records"]:
                if record["SequenceNumber"] in wanted:
                    found[(shard, record["SequenceNumber"])] = record
            iterator = page["NextShardIterator"]
    return found


def _expected_windows(
    manifest: list[ManifestEntry], records: dict[tuple[str, str], Any], seconds: int
) -> dict[tuple[str, str], WindowAggregate]:
    """Per (window start, shard): what the aggregator must have counted, from the valid
    records."""
    windows: dict[tuple[str, str], WindowAggregate] = {}
    for entry in manifest:
        if entry.expected != "stored":
            continue
        shard = str(entry.shard_id)
        record = records[(shard, str(entry.sequence_number))]
        start = _window_start(record["ApproximateArrivalTimestamp"], seconds)
        window = windows.setdefault((start, shard), WindowAggregate(start, ""))
        event = json.loads(record["Data"])
        window.shards.add(shard)
        window.events[event["eventType"]] += 1
        if event["eventType"] in window.products:
            window.products[event["eventType"]][event["productId"]] += 1
        country = event.get("country")
        window.countries[country if isinstance(country, str) else "ZZ"] += 1
    return windows


def _merged(parts: list[WindowAggregate]) -> WindowAggregate:
    window = WindowAggregate(parts[0].start, parts[0].end)
    for part in parts:
        window.shards |= part.shards
        window.events.update(part.events)
        window.countries.update(part.countries)
    return window


def test_window_aggregates_equal_the_manifest_counts_and_poison_is_dead_lettered(
    pipeline: Pipeline,
) -> None:
    """GIVEN the stack's trending aggregator (5 s tumbling windows per shard), drained
    WHEN 800 retail events with 3 % poison records are produced and the pipeline drains (every
    window's final invocation has run)
    THEN for every window the records arrived in and every shard, its item equals the counts
    computed from the manifest and the records read back from the stream: events per type and
    per country, the count of every product it kept and, with the products it summed in
    otherProducts, each funnel step's total; and the window, its shards combined at read time,
    has the manifest's totals, countries and view -> purchase conversion;
    AND every poison record is dead-lettered by the aggregator with its reason (lost = 0).
    """
    table = pipeline.outputs["trending_aggregates_table_name"]
    seconds = int(pipeline.outputs["trending_window_seconds"])
    trending = str(pipeline.outputs["consumer_function_names"]["trending"])
    pipeline.drain()

    manifest = pipeline.produce(800, seed=1717, poison_rate=0.03)
    pipeline.drain()

    records = _read_back(pipeline, manifest)
    expected = _expected_windows(manifest, records, seconds)
    items = read_items(pipeline.client("dynamodb"), table)
    assert expected, "no valid record produced"
    # Each shard's item: exact per product it kept, and its funnel totals with the others.
    for (start, shard), want in expected.items():
        parts = [i for i in items if i["windowStart"] == start and i["shardId"] == shard]
        assert len(parts) == 1, f"window {start}, {shard}: one item"
        (got,) = combine(parts)
        assert got.events == want.events, f"window {start}, {shard}: events per type"
        assert got.countries == want.countries, f"window {start}, {shard}: countries"
        for event_type, _ in FUNNEL:
            for product, count in got.products[event_type].items():
                assert count == want.products[event_type][product], (start, shard, product)
            total = sum(got.products[event_type].values()) + got.other_products[event_type]
            assert total == want.events[event_type], f"{start}, {shard}: {event_type} total"
    # The window, shards combined at read time: its totals and conversion.
    stored = {window.start: window for window in combine(items)}
    for start in {start for start, _ in expected}:
        want = _merged([w for (s, _), w in expected.items() if s == start])
        got = stored[start]
        assert got.shards == want.shards, f"window {start}: every shard's item"
        assert got.events == want.events, f"window {start}: events per type"
        assert got.countries == want.countries, f"window {start}: countries"
        assert got.conversion == want.conversion, f"window {start}: conversion"

    sqs, url = pipeline.client("sqs"), pipeline.outputs["dlq_url"]
    messages = read_dlq(sqs, url, release=False)
    poison = [entry for entry in manifest if entry.expected != "stored"]
    assert poison, "the producer made no poison record"
    dead = reconcile(poison, [], messages, consumer=trending)
    delete_messages(sqs, url, dead.messages)
    own = {message.message_id for message in dead.messages}
    release_messages(sqs, url, [m for m in messages if m.message_id not in own])
    assert dead.lost == []
    assert dead.dead_lettered == Counter(entry.expected for entry in poison)
    processor = pipeline.reconcile(manifest)
    assert processor.lost == []
