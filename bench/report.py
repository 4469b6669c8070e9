"""The Markdown tables printed at the end of a run (and pasted into docs/performance.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

API_LABELS = {
    "dynamodb.BatchWriteItem": "BatchWriteItem",
    "dynamodb.PutItem": "PutItem",
    "sqs.SendMessageBatch": "SendMessageBatch",
    "sqs.SendMessage": "SendMessage",
    "cloudwatch.PutMetricData": "PutMetricData",
    "kinesis.GetShardIterator": "GetShardIterator",
    "kinesis.GetRecords": "GetRecords",
    "kinesis.PutRecords": "PutRecords",
    "kms.GenerateDataKey": "GenerateDataKey",
    "kms.Decrypt": "Decrypt",
}


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], align: str = "") -> list[str]:
    """A Markdown table; ``align`` one letter per column (l/r), left by default."""
    separators = [
        "---:" if (align[index : index + 1] or "l") == "r" else "---"
        for index in range(len(header))
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(separators) + "|"]
    lines.extend("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)
    return lines


def _number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and digits:
        return f"{value:,.{digits}f}"
    if isinstance(value, int | float):
        rounded = round(value, digits) if digits else round(value)
        return f"{rounded:,}"
    return str(value)


def _requests(counts: Mapping[str, float]) -> str:
    if not counts:
        return "none"
    parts = []
    for api, count in counts.items():
        shown = f"{count:,.1f}" if count != int(count) else f"{int(count):,}"
        parts.append(f"{API_LABELS.get(api, api)} {shown}")
    return ", ".join(parts)


def _status(section: Mapping[str, Any] | None) -> str | None:
    if section is None:
        return "not run"
    status = str(section.get("status", ""))
    return None if status == "ok" else status


def render(document: Mapping[str, Any]) -> str:
    lines: list[str] = []
    machine = document["machine"]
    packages = ", ".join(f"{name} {value}" for name, value in machine["packages"].items() if value)
    lines += [
        f"## Benchmark ({document['mode']} mode), {machine['date']}",
        "",
        f"Machine: {machine['cpu_model']}, {machine['cpu_cores']} cores, "
        f"{_number(machine['memory_mb'])} MB; Python {machine['python']}; {packages}. "
        f"Load average (1/5/15 min) at start {machine['load_average_at_start']}, "
        f"at end {document.get('load_average_at_end')}. "
        f"Run took {document['duration_seconds']:.0f} s.",
        "",
        "### Targets",
        "",
    ]
    lines += _table(
        ("Section", "Measure", "Target", "Measured", "Status"),
        (
            (
                t["section"],
                t["name"] + (f" ({t['note']})" if t["note"] else ""),
                t["target"],
                f"{_number(t['measured'], 1 if isinstance(t['measured'], float) else 0)} "
                f"{t['unit']}",
                t["status"],
            )
            for t in document["targets"]
        ),
    )
    sections = document["sections"]
    for title, renderer, key in (
        (
            "stream_processor: CPU per record and requests per 1,000 records",
            _consumer,
            "stream_processor",
        ),
        (
            "field_encryption: the stream processor with the e-mail address encrypted, AWS "
            "and KMS stubbed",
            _field_encryption,
            "field_encryption",
        ),
        ("wall_time: wall time per batch with a round trip per request", _wall_time, "wall_time"),
        ("Cold start", _cold_start, "cold_start"),
        ("hydrate: one failed batch, against moto", _hydrate, "hydrate"),
        ("Producer, against moto's server", _producer, "producer"),
        ("End to end through the local runtime", _end_to_end, "end_to_end"),
        ("trending: one tumbling window of 1,000 records, AWS stubbed", _trending, "trending"),
        ("fraud_detector: cost per 1,000 records", _fraud_detector, "fraud_detector"),
    ):
        lines += ["", f"### {title}", ""]
        section = sections.get(key)
        status = _status(section)
        if status is not None:
            lines.append(f"{status}")
            continue
        assert section is not None
        lines += renderer(section)
    return "\n".join(lines) + "\n"


def _consumer(section: Mapping[str, Any]) -> list[str]:
    rows = []
    for cell in section["cells"]:
        if not cell["possible"]:
            rows.append(
                (
                    cell["label"],
                    _number(cell["event_bytes"] / 1e6, 2) + " MB",
                    cell["reason"],
                    "",
                    "",
                    "",
                    "",
                )
            )
            continue
        ours, recipe = cell["ours"], cell["recipe_baseline"]
        rows.append(
            (
                cell["label"],
                _number(cell["event_bytes"] / 1e6, 2) + " MB",
                _number(ours["cpu_us_per_record"], 1),
                _number(recipe["cpu_us_per_record"], 1),
                f"{cell['recipe_over_ours']}x",
                _requests(ours["requests_per_1000_records"]),
                _requests(recipe["requests_per_1000_records"]),
            )
        )
    lines = _table(
        (
            "Batch x record",
            "Event",
            "Ours CPU us/record",
            "Recipe CPU us/record",
            "Recipe/ours",
            "Ours requests per 1,000 records",
            "Recipe requests per 1,000 records",
        ),
        rows,
        "lrrrrll",
    )
    breakdown = section.get("breakdown")
    if breakdown:
        lines += [
            "",
            f"Breakdown ({breakdown['measured_on']}), CPU us/record: handler "
            f"{breakdown['handler_cpu_us_per_record']}; record preparation alone "
            f"{breakdown['prepare_cpu_us_per_record']}; BatchWriteItem calls alone, as shipped "
            f"(botocore parameter validation off) {breakdown['batch_write_cpu_us_per_record']}; "
            f"rest {breakdown['rest_cpu_us_per_record']}. What-ifs, not shipped: the same "
            "BatchWriteItem calls with botocore's parameter validation on "
            f"{breakdown['batch_write_with_parameter_validation_cpu_us_per_record']}; with the "
            "request body written by one json.dumps instead of botocore's serialiser "
            f"{breakdown['batch_write_with_json_dumps_body_cpu_us_per_record']} (handler about "
            f"{breakdown['handler_with_json_dumps_body_cpu_us_per_record']}).",
        ]
    lines += ["", f"Timing: {section['timing']}."]
    return lines


def _stored(stored: Mapping[str, Any]) -> str:
    """What the first call's items hold: the field encrypted or the address in clear."""
    if stored["items_with_clear_address"]:
        return f"address in clear in {stored['items_with_clear_address']:,}/{stored['items']:,}"
    text = (
        f"binary in {stored['field_binary_without_address']:,}/{stored['items']:,}, "
        f"{_number(stored['mean_encrypted_bytes'])} B, no clear address"
    )
    if "decrypted_sample" in stored:
        text += (
            f"; a reader decrypts {stored['decrypted_sample_matches']}/"
            f"{stored['decrypted_sample']} to the address"
        )
    return text


def _field_encryption(section: Mapping[str, Any]) -> list[str]:
    rows = []
    for row in section["rows"]:
        without, with_ = row["without"], row["with"]
        rows.append(
            (
                row["label"],
                _number(without["cpu_us_per_record"], 1),
                _number(with_["cpu_us_per_record"], 1),
                _number(row["added_cpu_us_per_record"], 1),
                _requests(with_["requests_per_1000_records_first_call"]),
                f"{with_['kms_requests_all_calls']} in {with_['records_processed']:,} records "
                f"({_number(with_['kms_requests_per_1000_records_all_calls'], 3)} per 1,000)",
                _stored(without["stored"]),
                _stored(with_["stored"]),
            )
        )
    return [
        *_table(
            (
                "Batch",
                "Without CPU us/record",
                "With CPU us/record",
                "Added us/record",
                "With: requests per 1,000 records, first batch (cold data key cache)",
                "With: KMS requests, all calls",
                "Stored without",
                "Stored with",
            ),
            rows,
            "lrrrllll",
        ),
        "",
        f"Without: SENSITIVE_FIELDS unset (the address stays in `extra`); with: "
        f"SENSITIVE_FIELDS={section['field']} and a field key, the kit encrypts it (Powertools "
        "data masking, AWS Encryption SDK, data keys cached). KMS GenerateDataKey is answered by "
        "the stub (botocore signs and parses it). Every record carries an address. "
        f"Timing: {section['timing']}.",
    ]


def _wall_time(section: Mapping[str, Any]) -> list[str]:
    rows = [
        (
            row["label"],
            row["handler"],
            _number(row["wall_ms_per_batch"]["median"], 1),
            _number(row["cpu_us_per_record"], 1),
            _requests(row["requests"]),
            row["most_requests_in_flight"],
        )
        for row in section["rows"]
    ]
    return [
        *_table(
            (
                "Batch",
                "Handler",
                "Wall ms per batch",
                "CPU us/record",
                "Requests",
                "Most in flight",
            ),
            rows,
            "llrrlr",
        ),
        "",
        f"Every AWS request answered after {section['round_trip_ms']:g} ms; requests of a "
        f"batch run on a pool of {section['pool_size']} threads. Timing: {section['timing']}.",
    ]


def _cold_start(section: Mapping[str, Any]) -> list[str]:
    rows = []
    for name, entry in section["functions"].items():

        def median(variant: str, key: str, entry: Mapping[str, Any] = entry) -> str:
            values = entry.get(variant)
            return _number(values[key]["median"]) if values else "-"

        heaviest = ", ".join(
            f"{item['package']} {item['self_ms']:g}" for item in entry["import_time_by_package"][:5]
        )
        rows.append(
            (
                name,
                f"{entry['zip_bytes'] / 1000:.1f} KB",
                median("as_deployed", "import_ms"),
                median("as_deployed", "import_cpu_ms"),
                median("tracing_disabled", "import_ms"),
                median("bytecode_in_zip", "import_ms"),
                median("as_deployed", "clients_ms"),
                _third_party(entry),
                heaviest or "-",
            )
        )
    return [
        *_table(
            (
                "Function",
                "Zip",
                "Import ms (as deployed)",
                "Import CPU ms",
                "Import ms, tracing off",
                "Import ms, bytecode in zip",
                "Clients ms (first invocation)",
                "Third-party modules alone ms",
                "Self ms by package (-X importtime)",
            ),
            rows,
            "lrrrrrrrl",
        ),
        "",
        f'Medians of {section["runs_per_measurement"]} fresh interpreters. "Third-party '
        "modules alone\": the site-packages modules the function's import loads (boto3, "
        "botocore, pydantic, Powertools, the X-Ray SDK...), imported in the same order without "
        "any of the function's code -- the part of the import its code cannot remove.",
    ]


def _third_party(entry: Mapping[str, Any]) -> str:
    floor = entry.get("third_party_import_ms")
    if not floor:
        return "-"
    return f"{_number(floor['median'])} ({floor['modules']} modules)"


def _hydrate(section: Mapping[str, Any]) -> list[str]:
    rows = []
    for batch in section["batches"]:
        rows.append(
            (
                f"{batch['records']:,}",
                _requests(batch["requests"]),
                f"{batch['requests_total']:,} (expected {batch['expected_total']:,})",
                "yes" if batch["envelopes_cover_the_batch"] else "NO",
                _number(batch["wall_ms"]["median"], 1),
                _number(batch["wall_ms_per_record"], 3),
                _number(batch["put_seconds"], 2),
            )
        )
    return _table(
        (
            "Failed batch",
            "Requests",
            "Total",
            "Envelopes = batch",
            "Wall ms",
            "ms/record",
            "Setup: put s (not timed)",
        ),
        rows,
        "rllrrrr",
    )


def _producer(section: Mapping[str, Any]) -> list[str]:
    rows = [
        (
            f"fresh, {stream['shards']} shard(s)",
            f"{stream['sent']:,}",
            _requests(stream["requests"]),
            _requests(stream["requests_per_1000_events"]),
            _number(stream["events_per_second"]),
            _number(stream["producer_thread_cpu_us_per_event"], 1),
        )
        for stream in section["streams"]
    ]
    return [
        *_table(
            (
                "Stream",
                "Events",
                "Requests",
                "Per 1,000 events",
                "Events/s",
                "Producer thread CPU us/event",
            ),
            rows,
            "lrllrr",
        ),
        "",
        f"Event generation alone: {section['generation_events_per_second']:,} events/s.",
    ]


def _end_to_end(section: Mapping[str, Any]) -> list[str]:
    rows = []
    for run in section["runs"]:
        for phase in ("burst", "steady"):
            measured = run.get(phase)
            if not measured:
                continue
            rate = measured["rate"]
            rows.append(
                (
                    run["shards"],
                    f"{phase} ({rate}/s)" if isinstance(rate, int | float) else phase,
                    f"{measured['records']:,}",
                    f"{measured['stored']:,}",
                    _number(measured["records_per_second"]),
                    _number(measured["latency_ms"]["p50"]),
                    _number(measured["latency_ms"]["p99"]),
                    _number(measured["observed_all_stored_seconds"], 1),
                    _number(measured["mean_batch_size"], 1),
                )
            )
    mapping = section["mapping"]
    return [
        *_table(
            (
                "Shards",
                "Phase",
                "Records",
                "Stored",
                "Records/s",
                "Latency p50 ms",
                "Latency p99 ms",
                "All stored after s",
                "Mean batch",
            ),
            rows,
            "rlrrrrrrr",
        ),
        "",
        f"Mapping: batch size {mapping['BatchSize']}, window "
        f"{mapping['MaximumBatchingWindowInSeconds']} s, parallelization factor "
        f"{mapping['ParallelizationFactor']}. Latency = item processedAt - event timestamp "
        "(put time), after a warm-up; records/s = records / (last processedAt - first put).",
    ]


def _trending(section: Mapping[str, Any]) -> list[str]:
    cpu = section["cpu_ms_per_window"]
    rows = [
        (
            f"{section['records']:,} ({section['poison_records']} poison), "
            f"{section['invocations']} invocations",
            _number(section["cpu_us_per_record"], 1),
            _number(cpu["median"], 1),
            _requests(section["requests_per_1000_records"]),
            f"{section['items_written']} / {section['dlq_messages']}",
        )
    ]
    return _table(
        ("Window", "CPU us/record", "CPU ms/window", "Requests per 1,000 records", "Items / DLQ"),
        rows,
        "lrrll",
    )


def _fraud_detector(section: Mapping[str, Any]) -> list[str]:
    lines = [
        f"{section['records_delivered']} of {section['records_put']} records delivered to the "
        f"detector (its filter: purchases and add-to-carts), batches of {section['batch_size']}; "
        f"{section['flags_raised']} flags raised for {section['planted_fraud']} planted "
        "fraudulent users.",
        "",
    ]
    lines += _table(
        ("Measure", "Value"),
        (
            (
                "CPU per record (HTTP layer stubbed)",
                f"{_number(section['cpu_us_per_record'], 1)} us",
            ),
            (
                "DynamoDB requests per 1,000 delivered records",
                _number(section["dynamodb_requests_per_1000_delivered"], 1),
            ),
            (
                "requests per 1,000 delivered records",
                _requests(section["requests_per_1000_delivered"]),
            ),
            ("requests per 1,000 records put", _requests(section["requests_per_1000_put"])),
            (
                "DynamoDB on-demand, $ per million delivered records (us-east-1 list prices)",
                f"{section['dynamodb_dollars_per_million_delivered']:.3f}",
            ),
        ),
    )
    return lines
