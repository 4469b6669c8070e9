"""Smoke test of the benchmark: ``python -m bench --quick`` runs every section and writes
the JSON document and the Markdown tables.

No timing is asserted anywhere (timings depend on the machine and its load): the test checks
the document's structure, that every timing is a number, and the request counts, which are
deterministic -- the consumer's BatchWriteItem / SendMessageBatch per batch, the recipe
baseline's PutItem per record plus one PutMetricData per batch, hydrate's 1 GetShardIterator +
1 GetRecords + ceil(n/10) SendMessageBatch, the producer's 500 records per PutRecords -- and,
with a round trip per request, that ours overlaps its requests (at most the pool size) while
one request at a time and the recipe never do. With field encryption, the stored e-mail
attribute is ciphertext a reader decrypts, and KMS is asked once per cold data key cache.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bench import events
from bench.common import SECTIONS
from bench.consumer_bench import NOT_POSSIBLE, TABLE_NAME, grid_cells
from bench.field_encryption_bench import BATCHES, FIELD, KEY_ARN
from bench.stubbed_aws import DATA_KEY_BYTES, StubbedAws
from bench.wall_time_bench import QUICK_RECIPE_RECORDS
from stream_pipeline.runtime.request_pool import MAX_CONCURRENT_REQUESTS
from tools.terraform_stage import REPO_ROOT

TIMEOUT_SECONDS = 300
TARGET_STATUSES = {"met", "not met", "n/a", "reference"}
DETERMINISTIC_TARGETS = ("requests",)
"""Targets whose unit is a request count: their status is deterministic (all met)."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _quick_run(scratch: Path) -> tuple[dict[str, Any], str]:
    """One ``--quick`` run in a subprocess (its own process group, killed on timeout)."""
    out, markdown = scratch / "bench.json", scratch / "bench.md"
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "POWERTOOLS_")) and key not in ("TABLE_NAME", "DLQ_URL")
    }
    environment["PYTHONPATH"] = str(REPO_ROOT / "functions")  # as `make bench` runs it
    process = subprocess.Popen(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out), "--markdown",
         str(markdown)],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=60)
        raise
    assert process.returncode == 0, stderr[-4000:]
    assert stdout == markdown.read_text(encoding="utf-8") + "\n"
    return json.loads(out.read_text(encoding="utf-8")), stdout


def _check_document_has_machine_facts_every_section_and_targets(
    quick_run: tuple[dict[str, Any], str],
) -> None:
    document, _ = quick_run
    assert document["mode"] == "quick"
    assert document["schema_version"] == 1
    machine = document["machine"]
    for fact in ("date", "cpu_model", "cpu_cores", "python", "load_average_at_start"):
        assert machine[fact], fact
    for package in ("boto3", "botocore", "moto", "aws-lambda-powertools"):
        assert machine["packages"][package], package
    assert list(document["sections"]) == list(SECTIONS)
    for name, section in document["sections"].items():
        assert section["status"] == "ok" or (
            name == "end_to_end"
            and section["status"].startswith("skipped: local runtime not available")
        ), (name, section["status"])
        assert _is_number(section["seconds"])
    assert _is_number(document["duration_seconds"])
    for target in document["targets"]:
        assert target["status"] in TARGET_STATUSES
        assert set(target) == {"section", "name", "target", "measured", "unit", "status", "note"}
        if target["unit"] in DETERMINISTIC_TARGETS:
            assert target["status"] == "met", target


def _check_stream_processor_request_counts_per_cell(quick_run: tuple[dict[str, Any], str]) -> None:
    document, _ = quick_run
    section = document["sections"]["stream_processor"]
    assert section["requests_per_1000_records"]["ours"] == {"dynamodb.BatchWriteItem": 40.0}
    assert section["requests_per_1000_records"]["recipe_baseline"] == {
        "cloudwatch.PutMetricData": 1.0,
        "dynamodb.PutItem": 1000.0,
    }
    possible = [cell for cell in section["cells"] if cell["possible"]]
    assert possible
    for cell in section["cells"]:
        if not cell["possible"]:
            assert cell["reason"] == NOT_POSSIBLE
            assert cell["event_bytes"] > events.INVOCATION_PAYLOAD_LIMIT
            continue
        assert cell["event_bytes"] <= events.INVOCATION_PAYLOAD_LIMIT
        records = cell["records"]
        ours, recipe = cell["ours"], cell["recipe_baseline"]
        for measured in (ours, recipe):
            assert _is_number(measured["cpu_us_per_record"])
            assert _is_number(measured["cpu_ms_per_invocation"]["median"])
            assert measured["unexpected_requests"] == {}
        assert recipe["requests"]["cloudwatch.PutMetricData"] == 1
        assert (
            recipe["requests"].get("dynamodb.PutItem", 0)
            + recipe["requests"].get("sqs.SendMessage", 0)
            == records
        )
        if cell["record_bytes"] == 500_000:
            # Larger than DynamoDB's 400 KB item: dead-lettered (OVERSIZED), 10 per request.
            assert ours["requests"] == {"sqs.SendMessageBatch": math.ceil(records / 10)}
            assert (ours["items_written"], ours["dlq_messages"]) == (0, records)
        elif "poison_records" in cell:
            poison = cell["poison_records"]
            assert 0 < poison < records
            assert ours["requests"] == {
                "dynamodb.BatchWriteItem": math.ceil((records - poison) / 25),
                "sqs.SendMessageBatch": math.ceil(poison / 10),
            }
            assert (ours["items_written"], ours["dlq_messages"]) == (records - poison, poison)
        else:
            assert ours["requests"] == {"dynamodb.BatchWriteItem": math.ceil(records / 25)}
            assert (ours["items_written"], ours["dlq_messages"]) == (records, 0)
            assert ours["batch_item_failures"] == 0
            assert recipe["requests"]["dynamodb.PutItem"] == records
    breakdown = section["breakdown"]
    for part in (
        "prepare",
        "batch_write",
        "batch_write_with_parameter_validation",
        "batch_write_with_json_dumps_body",
        "handler_with_json_dumps_body",
    ):
        assert _is_number(breakdown[f"{part}_cpu_us_per_record"]), part


def _check_field_encryption_stores_ciphertext_with_one_kms_request(
    quick_run: tuple[dict[str, Any], str],
) -> None:
    """Without sensitive fields every item holds the address in clear (the check sees it);
    with SENSITIVE_FIELDS=email none does, the attribute is binary a reader decrypts to the
    address, and the encrypted run asked KMS for one data key under the table's context."""
    document, markdown = quick_run
    section = document["sections"]["field_encryption"]
    assert section["status"] == "ok", section
    assert [row["records"] for row in section["rows"]] == list(BATCHES)
    for row in section["rows"]:
        records = row["records"]
        writes = {"dynamodb.BatchWriteItem": math.ceil(records / 25)}
        without, with_ = row["without"], row["with"]
        for measured in (without, with_):
            assert _is_number(measured["cpu_us_per_record"])
            assert measured["unexpected_requests"] == {}
            assert measured["batch_item_failures"] == 0
            assert measured["items_written_first_call"] == records
        assert isinstance(row["added_cpu_us_per_record"], int | float)

        assert without["requests_first_call"] == writes
        assert without["kms_requests_all_calls"] == 0
        assert without["stored"]["items_with_clear_address"] == records
        assert without["stored"]["field_binary_without_address"] == 0

        assert with_["requests_first_call"] == {**writes, "kms.GenerateDataKey": 1}
        assert with_["kms_requests_all_calls"] == 1  # the data key is cached after that
        assert with_["encryption_contexts"] == [{"field": FIELD, "table": TABLE_NAME}]
        stored = with_["stored"]
        assert stored["items_with_clear_address"] == 0
        assert stored["field_binary_without_address"] == records
        assert stored["decrypted_sample"] > 0
        assert stored["decrypted_sample_matches"] == stored["decrypted_sample"]
    kms, cpu = [t for t in document["targets"] if t["section"] == "field_encryption"]
    assert (kms["unit"], kms["measured"], kms["status"]) == ("requests", 1.0, "met")
    assert cpu["unit"] == "us"
    assert "### field_encryption" in markdown


def test_stubbed_kms_gives_one_data_key_for_its_own_blob_only() -> None:
    """The stub's KMS answers as the Encryption SDK needs (the requested key ARN, a 32-byte
    data key, the same one every time) and decrypts no ciphertext but its own blob."""
    aws = StubbedAws()
    kms = aws.client("kms")
    first = kms.generate_data_key(KeyId=KEY_ARN, NumberOfBytes=DATA_KEY_BYTES)
    second = kms.generate_data_key(KeyId=KEY_ARN, KeySpec="AES_256", EncryptionContext={"a": "b"})
    assert first["KeyId"] == KEY_ARN
    assert len(first["Plaintext"]) == DATA_KEY_BYTES
    assert (second["Plaintext"], second["CiphertextBlob"]) == (
        first["Plaintext"],
        first["CiphertextBlob"],
    )
    assert aws.encryption_contexts == [{}, {"a": "b"}]
    decrypted = kms.decrypt(KeyId=KEY_ARN, CiphertextBlob=first["CiphertextBlob"])
    assert decrypted["Plaintext"] == first["Plaintext"]
    with pytest.raises(ClientError, match="InvalidCiphertextException"):
        kms.decrypt(KeyId=KEY_ARN, CiphertextBlob=b"not this stub's blob")
    with pytest.raises(ClientError, match="ValidationException"):
        kms.generate_data_key(KeyId="alias/fields", NumberOfBytes=DATA_KEY_BYTES)
    assert aws.counts == {"kms.GenerateDataKey": 3, "kms.Decrypt": 2}


def _check_wall_time_rows_have_their_requests_and_overlap(
    quick_run: tuple[dict[str, Any], str],
) -> None:
    document, _ = quick_run
    section = document["sections"]["wall_time"]
    assert (section["round_trip_ms"], section["pool_size"]) == (10.0, MAX_CONCURRENT_REQUESTS)
    (mixed,) = [
        cell
        for cell in document["sections"]["stream_processor"]["cells"]
        if "poison_records" in cell
    ]
    poison = mixed["poison_records"]
    mixed_requests = {
        "dynamodb.BatchWriteItem": math.ceil((1000 - poison) / 25),
        "sqs.SendMessageBatch": math.ceil(poison / 10),
    }
    rows = {(row["label"], row["handler"]): row for row in section["rows"]}
    expected = {
        ("1,000 x 100 B", "ours"): {"dynamodb.BatchWriteItem": 40},
        ("1,000 x 100 B", "ours, one request at a time"): {"dynamodb.BatchWriteItem": 40},
        (f"{QUICK_RECIPE_RECORDS} x 100 B", "recipe_baseline"): {
            "cloudwatch.PutMetricData": 1,
            "dynamodb.PutItem": QUICK_RECIPE_RECORDS,
        },
        ("1,000 producer events, 10 % poison", "ours"): mixed_requests,
        ("1,000 producer events, 10 % poison", "ours, one request at a time"): mixed_requests,
    }
    assert {key: row["requests"] for key, row in rows.items()} == expected
    for (_, handler), row in rows.items():
        assert _is_number(row["wall_ms_per_batch"]["median"])
        assert _is_number(row["cpu_us_per_record"])
        if handler == "ours":
            assert 1 < row["most_requests_in_flight"] <= MAX_CONCURRENT_REQUESTS
        else:
            assert row["most_requests_in_flight"] == 1
    wall, cpu = [t for t in document["targets"] if t["section"] == "wall_time"]
    assert (wall["target"], wall["unit"]) == ("<= 120", "ms")
    assert wall["measured"] == rows[("1,000 x 100 B", "ours")]["wall_ms_per_batch"]["median"]
    assert cpu["unit"] == "us"


def _check_cold_start_hydrate_and_producer_counts(quick_run: tuple[dict[str, Any], str]) -> None:
    document, _ = quick_run
    sections = document["sections"]

    functions = sections["cold_start"]["functions"]
    assert {"stream_processor", "hydrate"} <= set(functions)
    for entry in functions.values():
        assert entry["zip_bytes"] > 0
        assert _is_number(entry["as_deployed"]["import_ms"]["median"])
        floor = entry["third_party_import_ms"]
        assert _is_number(floor["median"])
        assert floor["modules"] > 0  # at least botocore and Powertools come from site-packages

    batches = sections["hydrate"]["batches"]
    assert [batch["records"] for batch in batches] == [1, 100]
    for batch in batches:
        n = batch["records"]
        assert batch["requests"] == {
            "kinesis.GetShardIterator": 1,
            "kinesis.GetRecords": 1,
            "sqs.SendMessageBatch": math.ceil(n / 10),
        }
        assert batch["envelopes_sent"] == n
        assert batch["envelopes_cover_the_batch"] is True
        assert _is_number(batch["wall_ms"]["median"])

    for stream in sections["producer"]["streams"]:
        assert (stream["sent"], stream["failed"]) == (1000, 0)
        assert stream["requests"] == {"kinesis.PutRecords": 2}
        assert stream["requests_per_1000_events"] == {"kinesis.PutRecords": 2.0}
        assert _is_number(stream["events_per_second"])


def _check_end_to_end_stores_every_record(quick_run: tuple[dict[str, Any], str]) -> None:
    """The development environment has the local runtime (moto): the section runs."""
    document, _ = quick_run
    section = document["sections"]["end_to_end"]
    assert section["status"] == "ok", section
    assert section["runtime"]["exit_status"] == 0
    for run in section["runs"]:
        burst = run["burst"]
        assert burst["stored"] == burst["records"]
        assert run["dlq_messages"] == 0
        assert _is_number(burst["latency_ms"]["p50"])


def _check_markdown_has_the_targets_and_every_section(
    quick_run: tuple[dict[str, Any], str],
) -> None:
    _, markdown = quick_run
    for heading in (
        "### Targets",
        "### stream_processor",
        "### wall_time",
        "### Cold start",
        "### hydrate",
        "### Producer",
        "### End to end",
        "### fraud_detector",
    ):
        assert heading in markdown
    assert NOT_POSSIBLE in markdown


def _check_fraud_detector_flags_the_planted_users_with_its_requests(
    quick_run: tuple[dict[str, Any], str],
) -> None:
    document, markdown = quick_run
    section = document["sections"]["fraud_detector"]
    # One flag per planted user. Per batch, the history is written in BatchWriteItem requests
    # of 25 (at most 4 for a batch of 100, no retries on moto) and read once per user of the
    # batch: fewer Queries than records, the flags' own included. Only flags are PutItems; one
    # alert per flag.
    assert section["flags_raised"] == section["planted_fraud"] == 4
    delivered = section["records_delivered"]
    assert 0 < delivered < section["records_put"]
    batches = -(-delivered // section["batch_size"])
    requests = section["requests"]
    assert batches <= requests["dynamodb.BatchWriteItem"] <= 4 * batches
    assert batches <= requests["dynamodb.Query"] < delivered
    assert requests["dynamodb.PutItem"] == section["flags_raised"]
    assert requests["sns.Publish"] == section["flags_raised"]
    assert _is_number(section["cpu_us_per_record"])
    assert "DynamoDB requests per 1,000 delivered records" in markdown


def test_quick_run_writes_the_document_tables_and_deterministic_request_counts(
    tmp_path: Path,
) -> None:
    """GIVEN ``python -m bench --quick`` WHEN it runs THEN it exits 0, prints the Markdown
    it also wrote, and the JSON has every section, the machine facts and request counts that
    match the code's batching rules (one run, checked part by part)."""
    quick_run = _quick_run(tmp_path)
    _check_document_has_machine_facts_every_section_and_targets(quick_run)
    _check_stream_processor_request_counts_per_cell(quick_run)
    _check_field_encryption_stores_ciphertext_with_one_kms_request(quick_run)
    _check_wall_time_rows_have_their_requests_and_overlap(quick_run)
    _check_cold_start_hydrate_and_producer_counts(quick_run)
    _check_end_to_end_stores_every_record(quick_run)
    _check_markdown_has_the_targets_and_every_section(quick_run)
    _check_fraud_detector_flags_the_planted_users_with_its_requests(quick_run)


def test_cells_are_possible_exactly_when_the_event_fits_the_invocation_payload() -> None:
    """The n/a decision comes from the event size: a batch of the largest size that fits is
    measured for every record size, one more record would not fit."""
    for quick in (True, False):
        for _, records, size in grid_cells(quick):
            fits = events.estimated_event_bytes(records, size) <= events.INVOCATION_PAYLOAD_LIMIT
            assert fits == (records <= events.largest_batch(size))
    for size in (100, 10_000, 500_000):
        largest = events.largest_batch(size)
        # Around the decimal-width steps of small counts, and at the largest batch (building a
        # batch of 500 KB records costs most of this test: only the counts that prove it).
        counts = (1, 9, 10, 11, 25) if size < 500_000 else (1, 2, largest)
        for records in counts:
            built = events.event_bytes(events.sized_event(records, size))
            assert events.estimated_event_bytes(records, size) == built
        assert events.event_bytes(events.sized_event(largest, size)) <= (
            events.INVOCATION_PAYLOAD_LIMIT
        )
        assert events.estimated_event_bytes(largest + 1, size) > events.INVOCATION_PAYLOAD_LIMIT
