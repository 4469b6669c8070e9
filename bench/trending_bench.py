"""Section ``trending``: what the trending aggregator (functions/trending_aggregator, on Lambda
tumbling windows) costs per 1,000 records, with the AWS HTTP layer stubbed as in section
``stream_processor``.

What one measurement is: one whole window of one shard, as Lambda invokes the function for it:
1,000 producer events (3 % poison) in invocations of ``BATCH`` records, each handed the state
the previous one returned, then the window's final invocation (no records), which writes the
window's item; ``time.process_time`` around all of them, divided by the records. Included: the
Powertools decorators, decoding and validation, the fold into the state, the DLQ envelopes of
the poison records (SendMessageBatch), the item and its BatchWriteItem, botocore's client-side
cost of every request. Excluded: the Lambda runtime (its JSON serialisation of the state between
invocations), network and service time, cold start.
"""

from __future__ import annotations

import time
from typing import Any, Final

from bench.common import (
    FakeLambdaContext,
    Options,
    Result,
    Target,
    at_most,
    environment,
    functions_on_path,
    per_thousand,
    quiet,
    summary,
)
from bench.events import BASE_TIMESTAMP_MS, kinesis_event
from bench.stubbed_aws import StubbedAws

SECTION: Final = "trending"
RECORDS: Final = 1_000
BATCH: Final = 100
POISON_RATE: Final = 0.03
TABLE_NAME: Final = "retail-trending-aggregates"
DLQ_URL: Final = "https://sqs.eu-west-1.amazonaws.com/123456789012/stream-pipeline-dlq"
FUNCTION_NAME: Final = "stream-pipeline-trending"
HANDLER_ENVIRONMENT: Final = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "trending_aggregator",
    "POWERTOOLS_METRICS_NAMESPACE": "StreamPipeline",
    "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
}
TARGET_DYNAMODB_PER_1000: Final = 1
"""One item per window and shard: a window of 1,000 records costs one BatchWriteItem."""
TARGET_CPU_US_PER_RECORD: Final = 100.0


def _window_events(seed: int) -> tuple[list[dict[str, Any]], int]:
    """The window's invocations (records, and the final one without), and its poison count."""
    from stream_pipeline.producer.generator import RecordKind, generate_records

    records = list(
        generate_records(RECORDS, seed=seed, poison_rate=POISON_RATE, start_ms=BASE_TIMESTAMP_MS)
    )
    poison = sum(record.kind is not RecordKind.VALID for record in records)
    batches = [records[index : index + BATCH] for index in range(0, RECORDS, BATCH)]
    events = [
        kinesis_event([r.data for r in batch], [r.partition_key for r in batch])
        for batch in batches
    ]
    events.append({"Records": []})
    return events, poison


def _run_window(call: Any, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Invoke the window's batches in order, carrying the state; the final response."""
    state: dict[str, Any] = {}
    response: dict[str, Any] = {}
    for index, event in enumerate(events):
        final = index == len(events) - 1
        response = call(
            {
                **event,
                "window": {"start": "2023-11-14T22:13:00Z", "end": "2023-11-14T22:14:00Z"},
                "state": state,
                "shardId": "shardId-000000000000",
                "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/retail",
                "isFinalInvokeForWindow": final,
                "isWindowTerminatedEarly": False,
            }
        )
        state = response["state"]
    return response


def run(options: Options) -> tuple[Result, list[Target]]:
    functions_on_path()
    with environment(**HANDLER_ENVIRONMENT):
        from trending_aggregator import app
        from trending_aggregator.models import TrendingSettings

        from stream_pipeline.kit import ConsumerSettings, Dependencies

        aws = StubbedAws()
        app.consumer.set_dependencies(
            Dependencies(
                settings=ConsumerSettings(
                    table_name=TABLE_NAME, dlq_url=DLQ_URL, consumer_name=FUNCTION_NAME
                ),
                dynamodb=aws.client("dynamodb"),
                sqs=aws.client("sqs"),
                extras=TrendingSettings(),
            )
        )
        context: Any = FakeLambdaContext(FUNCTION_NAME)

        def call(event: dict[str, Any]) -> Any:
            return app.lambda_handler(event, context)

        try:
            with quiet(app.consumer.logger):
                return _measure(options, aws, call)
        finally:
            app.consumer.set_dependencies(None)


def _measure(options: Options, aws: StubbedAws, call: Any) -> tuple[Result, list[Target]]:
    events, poison = _window_events(options.seed)
    _run_window(call, events)  # warm: first-call costs stay out
    aws.reset()
    final = _run_window(call, events)
    counts = dict(sorted(aws.counts.items()))
    written, messages = aws.items_written, aws.messages_sent
    runs = 1 if options.quick else 5
    cpu_ms: list[float] = []
    for _ in range(runs):
        started = time.process_time_ns()
        _run_window(call, events)
        cpu_ms.append((time.process_time_ns() - started) / 1e6)
    cpu = summary(cpu_ms)
    per_1000 = per_thousand(counts, RECORDS)
    result: Result = {
        "status": "ok",
        "method": __doc__,
        "records": RECORDS,
        "batch_size": BATCH,
        "invocations": len(events),
        "poison_records": poison,
        "cpu_ms_per_window": cpu,
        "cpu_us_per_record": round(float(cpu["median"]) * 1000 / RECORDS, 2),
        "requests": counts,
        "requests_per_1000_records": per_1000,
        "items_written": written,
        "dlq_messages": messages,
        "final_state_empty": final.get("state") == {},
    }
    targets = [
        at_most(
            SECTION,
            "DynamoDB requests per 1,000 records",
            per_1000.get("dynamodb.BatchWriteItem", 0.0),
            TARGET_DYNAMODB_PER_1000,
            "requests",
            "one window of 1,000 records on one shard",
        ),
        at_most(
            SECTION,
            "CPU per record",
            result["cpu_us_per_record"],
            TARGET_CPU_US_PER_RECORD,
            "us",
            f"{len(events)} invocations of a window, {BATCH} records each, 3 % poison",
        ),
    ]
    return result, targets
