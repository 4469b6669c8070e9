"""Section ``stream_processor``: requests per 1,000 records and CPU per record of the real
handler, next to the recipe's handler, both with the AWS HTTP layer stubbed.

What one measurement is: ``time.process_time`` around one ``lambda_handler(event, context)``
call of a warm function (clients built, modules imported, a first batch already handled).
Included: the Powertools decorators (logger context, metrics flush as an EMF line; tracing
off), the batch processor, base64 + JSON decoding, validation, enrichment, item and envelope
building, and for every AWS request botocore's parameter validation, serialisation, SigV4
signing and parsing of a canned 200 response (``stubbed_aws``); log lines are written to
/dev/null. Excluded: the Lambda runtime (its JSON parsing of the event, its own overhead),
network and service time, retries (none occur), cold start (section ``cold_start``).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any, Final

from bench.common import (
    Options,
    Result,
    Target,
    at_most,
    environment,
    exactly,
    functions_on_path,
    per_thousand,
    quiet,
    summary,
)
from bench.events import (
    BASE_TIMESTAMP_MS,
    INVOCATION_PAYLOAD_LIMIT,
    estimated_event_bytes,
    event_bytes,
    kinesis_event,
    largest_batch,
    sized_event,
)
from bench.stubbed_aws import StubbedAws

SECTION: Final = "stream_processor"
RECORD_SIZES: Final = (100, 10_000, 500_000)
BATCH_SIZES: Final = (10, 100, 1_000, 10_000)
QUICK_BATCH_SIZES: Final = (10, 100, 1_000)
TABLE_NAME: Final = "retail-events-enriched"
DLQ_URL: Final = "https://sqs.eu-west-1.amazonaws.com/123456789012/stream-processor-dlq"
FUNCTION_NAME: Final = "stream-processor"
HANDLER_ENVIRONMENT: Final = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": FUNCTION_NAME,
    "POWERTOOLS_METRICS_NAMESPACE": "StreamPipeline",
    "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
    "DYNAMODB_TABLE": TABLE_NAME,
    "DLQ_URL": DLQ_URL,
}
"""What both handlers (ours, the recipe's) read from the environment while benchmarked."""
POISON_RATE: Final = 0.1
TARGET_DYNAMODB_PER_1000: Final = 40
TARGET_CPU_US_PER_RECORD: Final = 50.0
RECIPE_REFERENCE_US_PER_RECORD: Final = 500.0
NOT_POSSIBLE: Final = "n/a (exceeds the 6 MB invocation payload)"

INCLUDED: Final = (
    "Powertools decorators (logger context, EMF metrics flush; X-Ray tracing disabled)",
    "Powertools batch processor and partial batch response",
    "base64 + JSON decoding, pydantic validation, enrichment, item/envelope building",
    "botocore per request: parameter validation, JSON serialisation, SigV4 signing, "
    "parsing of a canned 200 response",
    "log lines and EMF lines, written to /dev/null",
)
EXCLUDED: Final = (
    "the Lambda runtime (event JSON parsing, its own overhead) -- the event dict is prebuilt",
    "network, TLS and service time (a botocore before-send hook answers every request)",
    "retries (none occur), cold start (section cold_start)",
)

Call = Callable[[dict[str, Any]], Any]


def _timed(
    call: Call, event: dict[str, Any], *, quick: bool, first: tuple[int, int] | None = None
) -> tuple[list[int], list[int]]:
    """CPU and wall nanoseconds of repeated calls (``first``: an already timed one): at least 3
    and 0.3 s of CPU in all (at most 100 calls); just the one call in quick mode."""
    min_calls, min_cpu_ns, max_calls = (1, 0, 1) if quick else (3, 300_000_000, 100)
    cpu: list[int] = [first[0]] if first else []
    wall: list[int] = [first[1]] if first else []
    while len(cpu) < max_calls and (len(cpu) < min_calls or sum(cpu) < min_cpu_ns):
        wall_start, cpu_start = time.perf_counter_ns(), time.process_time_ns()
        call(event)
        cpu.append(time.process_time_ns() - cpu_start)
        wall.append(time.perf_counter_ns() - wall_start)
    return cpu, wall


class _Implementation:
    """One handler under test, its stubbed clients and how to read its outcome."""

    def __init__(
        self, name: str, call: Call, aws: StubbedAws, outcome: Callable[[Any], dict[str, int]]
    ) -> None:
        self.name = name
        self.call = call
        self.aws = aws
        self.outcome = outcome

    def measure(self, event: dict[str, Any], records: int, *, quick: bool) -> Result:
        self.aws.reset()
        wall_start, cpu_start = time.perf_counter_ns(), time.process_time_ns()
        response = self.call(event)  # the counted call (requests are deterministic), timed too
        first = (time.process_time_ns() - cpu_start, time.perf_counter_ns() - wall_start)
        counts = dict(sorted(self.aws.counts.items()))
        written, messages = self.aws.items_written, self.aws.messages_sent
        unexpected = dict(self.aws.unexpected)
        cpu, wall = _timed(self.call, event, quick=quick, first=first)
        cpu_summary = summary([ns / 1e6 for ns in cpu])
        wall_summary = summary([ns / 1e6 for ns in wall])
        return {
            "cpu_us_per_record": round(float(cpu_summary["median"]) * 1000 / records, 2),
            "wall_us_per_record": round(float(wall_summary["median"]) * 1000 / records, 2),
            "cpu_ms_per_invocation": cpu_summary,
            "wall_ms_per_invocation": wall_summary,
            "requests": counts,
            "requests_per_1000_records": per_thousand(counts, records),
            "items_written": written,
            "dlq_messages": messages,
            "unexpected_requests": unexpected,
            **self.outcome(response),
        }


def processor_dependencies(aws: StubbedAws, pool: Any = None) -> Any:
    """The stream processor's dependencies on the stubbed AWS (``pool``: None for the shared
    request pool)."""
    from stream_pipeline.kit import ConsumerSettings, Dependencies
    from stream_pipeline.kit.dependencies import DYNAMODB_CONFIG
    from stream_pipeline.runtime.lambda_setup import SDK_CONFIG

    return Dependencies(
        settings=ConsumerSettings(
            table_name=TABLE_NAME, dlq_url=DLQ_URL, consumer_name=FUNCTION_NAME
        ),
        dynamodb=aws.client("dynamodb", config=DYNAMODB_CONFIG),
        sqs=aws.client("sqs", config=SDK_CONFIG),
        **({"pool": pool} if pool is not None else {}),
    )


def _ours(aws: StubbedAws) -> tuple[_Implementation, Any]:
    from bench.common import FakeLambdaContext
    from stream_processor import app

    app.consumer.set_dependencies(processor_dependencies(aws))
    context: Any = FakeLambdaContext(FUNCTION_NAME)

    def call(event: dict[str, Any]) -> Any:
        return app.lambda_handler(event, context)

    def outcome(response: Any) -> dict[str, int]:
        return {"batch_item_failures": len(response["batchItemFailures"])}

    return _Implementation("ours", call, aws, outcome), app.consumer.logger


def recipe_implementation(aws: StubbedAws) -> _Implementation:
    from bench import recipe_baseline

    recipe_baseline.configure(
        dynamodb_resource=aws.resource("dynamodb"),
        cloudwatch_client=aws.client("cloudwatch"),
        sqs_client=aws.client("sqs"),
    )
    context: Any = object()

    def call(event: dict[str, Any]) -> Any:
        return recipe_baseline.lambda_handler(event, context)

    def outcome(response: Any) -> dict[str, int]:
        return {"processed": int(response["processed"]), "failed": int(response["failed"])}

    return _Implementation("recipe_baseline", call, aws, outcome)


def grid_cells(quick: bool) -> list[tuple[str, int, int]]:
    """(label, records, record size) of every cell, in table order; impossible ones included."""
    cells: list[tuple[str, int, int]] = []
    for size in RECORD_SIZES:
        largest = largest_batch(size)
        grid = QUICK_BATCH_SIZES if quick else BATCH_SIZES
        possible = [batch for batch in grid if batch <= largest]
        cells.extend((f"{batch:,} x {_size_label(size)}", batch, size) for batch in grid)
        if largest and (not possible or (not quick and max(possible) < largest)):
            cells.append(
                (f"{largest:,} x {_size_label(size)} (largest within 6 MB)", largest, size)
            )
    return cells


def _size_label(size: int) -> str:
    return f"{size // 1000} KB" if size >= 1000 else f"{size} B"


def mixed_event(seed: int) -> tuple[dict[str, Any], int]:
    from stream_pipeline.producer.generator import RecordKind, generate_records

    records = list(
        generate_records(1_000, seed=seed, poison_rate=POISON_RATE, start_ms=BASE_TIMESTAMP_MS)
    )
    poison = sum(record.kind is not RecordKind.VALID for record in records)
    event = kinesis_event(
        [record.data for record in records], [record.partition_key for record in records]
    )
    return event, poison


def run(options: Options) -> tuple[Result, list[Target]]:
    functions_on_path()
    with environment(**HANDLER_ENVIRONMENT):
        aws = StubbedAws()
        ours, logger = _ours(aws)
        recipe = recipe_implementation(aws)
        try:
            with quiet(logger):
                return _run(options, ours, recipe)
        finally:
            from stream_processor import app

            app.consumer.set_dependencies(None)


def _run(
    options: Options, ours: _Implementation, recipe: _Implementation
) -> tuple[Result, list[Target]]:
    implementations = (ours, recipe)
    for size in RECORD_SIZES:  # warm: first-call costs (model loading, caches) stay out
        warm = sized_event(min(10, largest_batch(size)), size)
        for implementation in implementations:
            implementation.call(warm)

    cells: list[Result] = []
    for label, records, size in grid_cells(options.quick):
        estimate = estimated_event_bytes(records, size)
        if estimate > INVOCATION_PAYLOAD_LIMIT:
            cells.append(
                {
                    "label": label,
                    "records": records,
                    "record_bytes": size,
                    "event_bytes": estimate,
                    "possible": False,
                    "reason": NOT_POSSIBLE,
                }
            )
            continue
        options.log(f"stream_processor: {label}")
        event = sized_event(records, size)
        cells.append(_cell(label, event, records, size, implementations, options.quick))

    options.log("stream_processor: 1,000 producer events with 10 % poison")
    mixed, poison = mixed_event(options.seed)
    mixed_cell = _cell(
        "1,000 producer events, 10 % poison", mixed, 1_000, None, implementations, options.quick
    )
    mixed_cell["poison_records"] = poison
    cells.append(mixed_cell)

    by_label = {cell["label"]: cell for cell in cells}
    reference = by_label[f"1,000 x {_size_label(100)}"]
    options.log("stream_processor: breakdown of 1,000 x 100 B")
    breakdown = _breakdown(
        sized_event(1_000, 100), reference["ours"]["cpu_us_per_record"], options.quick
    )
    default_batch = by_label[f"100 x {_size_label(100)}"]
    requests = {
        "measured_on": "one batch of 1,000 valid records of 100 B",
        "ours": reference["ours"]["requests_per_1000_records"],
        "recipe_baseline": reference["recipe_baseline"]["requests_per_1000_records"],
        "ours_with_10_percent_poison": mixed_cell["ours"]["requests_per_1000_records"],
        "recipe_baseline_with_10_percent_poison": mixed_cell["recipe_baseline"][
            "requests_per_1000_records"
        ],
    }
    result: Result = {
        "status": "ok",
        "method": __doc__,
        "included": list(INCLUDED),
        "excluded": list(EXCLUDED),
        "timing": (
            "quick: one call per cell (counted and timed)"
            if options.quick
            else "median of at least 3 calls and 0.3 s of CPU in all (at most 100 calls) per "
            "cell and handler, the first of them also counted"
        ),
        "invocation_payload_limit_bytes": INVOCATION_PAYLOAD_LIMIT,
        "record_sizes": list(RECORD_SIZES),
        "batch_sizes": list(QUICK_BATCH_SIZES if options.quick else BATCH_SIZES),
        "largest_batch_by_record_size": {str(size): largest_batch(size) for size in RECORD_SIZES},
        "requests_per_1000_records": requests,
        "cells": cells,
        "breakdown": breakdown,
    }
    ours_per_1000 = requests["ours"]
    targets = [
        at_most(
            SECTION,
            "DynamoDB requests per 1,000 records",
            ours_per_1000.get("dynamodb.BatchWriteItem", 0.0),
            TARGET_DYNAMODB_PER_1000,
            "requests",
            "1,000 valid records of 100 B in one batch",
        ),
        exactly(
            SECTION,
            "CloudWatch requests per 1,000 records",
            sum(v for k, v in ours_per_1000.items() if k.startswith("cloudwatch.")),
            0,
            "requests",
            "metrics are EMF log lines",
        ),
    ]
    for cell in (default_batch, reference):
        targets.append(
            at_most(
                SECTION,
                f"CPU per record, {cell['label']}",
                cell["ours"]["cpu_us_per_record"],
                TARGET_CPU_US_PER_RECORD,
                "us",
                f"recipe baseline: {cell['recipe_baseline']['cpu_us_per_record']} us",
            )
        )
    targets.append(
        Target(
            SECTION,
            f"recipe baseline CPU per record, {default_batch['label']}",
            f"~{RECIPE_REFERENCE_US_PER_RECORD:g} (reference)",
            default_batch["recipe_baseline"]["cpu_us_per_record"],
            "us",
            "reference",
            "the recipe's handler in the same harness",
        )
    )
    return result, targets


def _cell(
    label: str,
    event: dict[str, Any],
    records: int,
    size: int | None,
    implementations: tuple[_Implementation, ...],
    quick: bool,
) -> Result:
    payload_bytes = sum(
        len(base64.b64decode(record["kinesis"]["data"])) for record in event["Records"]
    )
    cell: Result = {
        "label": label,
        "records": records,
        "record_bytes": size,
        "mean_payload_bytes": round(payload_bytes / records, 1),
        "event_bytes": event_bytes(event),
        "possible": True,
    }
    for implementation in implementations:
        cell[implementation.name] = implementation.measure(event, records, quick=quick)
    ours = cell["ours"]["cpu_us_per_record"]
    recipe = cell["recipe_baseline"]["cpu_us_per_record"]
    cell["recipe_over_ours"] = round(recipe / ours, 1) if ours else None
    return cell


def _cpu_us_per_record(call: Callable[[], Any], records: int, quick: bool) -> float:
    call()  # warm
    cpu, _ = _timed(lambda _event: call(), {}, quick=quick)
    return round(float(summary(cpu)["median"]) / 1000 / records, 2)


def _breakdown(event: dict[str, Any], total_us: float, quick: bool) -> Result:
    """Where the handler's CPU per record goes (1,000 valid 100 B records): the per-record
    preparation alone, the BatchWriteItem calls alone with the client as shipped (botocore's
    parameter validation off), and the rest (Powertools batch processing, decorators, logging,
    settling). Two what-ifs for the same calls, never shipped: botocore's parameter validation
    on (its default), and the request body written with one ``json.dumps`` instead of botocore's
    model-driven serialiser (the items are already in wire form). Each part is timed on its
    own, so they need not add up exactly."""
    from datetime import UTC, datetime

    from botocore.config import Config

    from stream_pipeline.kit.dependencies import DYNAMODB_CONFIG
    from stream_pipeline.kit.records import RecordDecoder
    from stream_pipeline.kit.settings import KINESIS_MAX_RECORD_BYTES
    from stream_pipeline.runtime.aws_errors import RetryPolicy
    from stream_pipeline.runtime.dynamodb_writer import DynamoBatchWriter
    from stream_pipeline.runtime.lambda_setup import SDK_CONFIG
    from stream_processor import app
    from stream_processor.models import RetailEvent

    records = event["Records"]
    decoder: RecordDecoder[RetailEvent] = RecordDecoder(RetailEvent, KINESIS_MAX_RECORD_BYTES)
    sink = app.consumer.sink
    assert sink is not None

    def prepare() -> list[Any]:
        now = datetime.now(UTC)
        return [sink.item(app.record_handler(decoder.kinesis(r, now))) for r in records]

    items = {key: item for item, key in prepare()}
    aws = StubbedAws()

    def writer(config: Config, *, plain_json_body: bool = False) -> Callable[[], Any]:
        client = aws.client("dynamodb", config=config)
        if plain_json_body:
            _serialize_batch_write_with_json_dumps(client)
        batch_writer = DynamoBatchWriter(
            client,
            TABLE_NAME,
            key_attributes=tuple(sink.key),
            policy=RetryPolicy(),
            sleep=lambda _: None,
            rand=lambda: 0.5,
        )
        return lambda: batch_writer.write(items)

    prepare_us = _cpu_us_per_record(prepare, len(records), quick)
    write_us = _cpu_us_per_record(writer(DYNAMODB_CONFIG), len(records), quick)
    validated_us = _cpu_us_per_record(writer(SDK_CONFIG), len(records), quick)
    plain_json_us = _cpu_us_per_record(
        writer(DYNAMODB_CONFIG, plain_json_body=True), len(records), quick
    )
    return {
        "measured_on": "one batch of 1,000 valid records of 100 B",
        "handler_cpu_us_per_record": total_us,
        "prepare_cpu_us_per_record": prepare_us,
        "batch_write_cpu_us_per_record": write_us,
        "batch_write_with_parameter_validation_cpu_us_per_record": validated_us,
        "batch_write_with_json_dumps_body_cpu_us_per_record": plain_json_us,
        "handler_with_json_dumps_body_cpu_us_per_record": round(
            total_us - write_us + plain_json_us, 2
        ),
        "rest_cpu_us_per_record": round(total_us - prepare_us - write_us, 2),
        "note": _breakdown.__doc__,
    }


def _serialize_batch_write_with_json_dumps(client: Any) -> None:
    """What-if for the breakdown only (private botocore attribute; never in a function): the
    BatchWriteItem body becomes ``json.dumps`` of the parameters, which equals botocore's
    serialisation for items already in AttributeValue form (checked on the first request)."""
    model_serializer = client._serializer  # private: what-if only

    class JsonDumpsSerializer:
        checked = False

        def serialize_to_request(self, parameters: Any, operation_model: Any) -> Any:
            if operation_model.name != "BatchWriteItem":
                return model_serializer.serialize_to_request(parameters, operation_model)
            request = model_serializer.serialize_to_request({"RequestItems": {}}, operation_model)
            request["body"] = json.dumps(parameters, separators=(",", ":")).encode("utf-8")
            if not JsonDumpsSerializer.checked:
                expected = model_serializer.serialize_to_request(parameters, operation_model)
                if json.loads(expected["body"]) != json.loads(request["body"]):
                    msg = "json.dumps body differs from botocore's serialisation"
                    raise AssertionError(msg)
                JsonDumpsSerializer.checked = True
            return request

    client._serializer = JsonDumpsSerializer()  # private: what-if only
