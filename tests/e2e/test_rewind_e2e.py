"""`stream-pipeline rewind` (what `make rewind ENV=<env>` runs) against the environments' stack:
a time range of the stream reprocessed through the processor by a temporary clone, without
duplicates, the clone and its mapping removed afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from e2e_pipeline import Pipeline
from test_zero_loss import assert_zero_loss

from stream_pipeline.local.accounting import scan_items

CLI = Path(sys.executable).with_name("stream-pipeline")


def test_a_rewind_reprocesses_a_time_range_through_one_consumer_without_duplicates(
    pipeline: Pipeline,
) -> None:
    """GIVEN 24 events (about 10 % poison) put on the stream and handled by the processor
    WHEN `stream-pipeline rewind --consumer processor` covers the time they were put in
    THEN it exits 0 once its temporary consumer caught up; every stored event was written again
    (a later processedAt) into its own item: the table holds as many of them as before, and
    no record is lost or duplicated;
    AND the temporary function and its mapping are gone, the deployed mapping untouched."""
    awslambda = pipeline.client("lambda")
    deployed = awslambda.get_event_source_mapping(UUID=pipeline.mapping_uuid)
    start = datetime.now(UTC) - timedelta(seconds=1)
    manifest = pipeline.produce(24, seed=1801, poison_rate=0.1)
    pipeline.drain()
    until = datetime.now(UTC) + timedelta(seconds=1)
    table = pipeline.outputs["results_table_name"]
    ids = {entry.record_id for entry in manifest}
    before = {
        item["eventId"]: item["processedAt"]
        for item in scan_items(pipeline.client("dynamodb"), table)
        if item["eventId"] in ids
    }
    assert before, "the seed produced no valid event"
    time.sleep(0.01)  # a rewrite's processedAt (milliseconds) differs from the first one's

    outputs = {name: {"value": value} for name, value in pipeline.outputs.items()}
    result = subprocess.run(
        [
            str(CLI),
            "rewind",
            "--consumer",
            "processor",
            "--from",
            start.isoformat(),
            "--until",
            until.isoformat(),
            "--terraform-outputs",
            "-",
            "--endpoint-url",
            pipeline.stack.endpoint,
            "--metric-period",
            "1",
            "--idle",
            # The clone's first batch waits for a cold start, and another shard's batch may
            # follow it by seconds on a loaded machine: idle must outlast both.
            "15",
            "--poll-interval",
            "0.5",
            "--max-duration",
            "300",
        ],
        input=json.dumps(outputs),
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "caught up" in result.stdout
    pipeline.drain()

    after = {
        item["eventId"]: item["processedAt"]
        for item in scan_items(pipeline.client("dynamodb"), table)
        if item["eventId"] in ids
    }
    assert sorted(after) == sorted(before)
    assert all(after[event_id] > before[event_id] for event_id in before), "not rewritten"
    assert_zero_loss(pipeline.reconcile(manifest), len(manifest))
    functions = [f["FunctionName"] for f in awslambda.list_functions()["Functions"]]
    assert not [name for name in functions if "-rewind-" in name]
    mappings = awslambda.list_event_source_mappings()["EventSourceMappings"]
    assert not [m for m in mappings if "-rewind-" in m["FunctionArn"]]
    assert (
        awslambda.get_event_source_mapping(UUID=pipeline.mapping_uuid)["State"] == deployed["State"]
    )
