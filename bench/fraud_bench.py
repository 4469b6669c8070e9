"""Section ``fraud_detector``: what the fraud detector costs per 1,000 records -- DynamoDB and
SNS requests (against moto: real tables, so the rules really find their history and the
planted fraud really trips them) and CPU per record (the AWS HTTP layer stubbed, as in section
``stream_processor``: moto's own CPU would otherwise be counted).

The records are the producer's (``generate_records`` with 2 % poison and planted fraud); the
function is given what its event filter lets through (purchases and add-to-carts; a view or a
record that is not JSON never invokes it), in batches of 100. Requests are reported per 1,000
records delivered to the function and per 1,000 records put on the stream. The CPU run answers
every request with an empty 200 (a history query finds nothing, so no rule trips: flags are
rare, their requests are in the moto run's counts).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

from bench.common import (
    REGION,
    FakeLambdaContext,
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
from bench.events import kinesis_event
from bench.stubbed_aws import StubbedAws

SECTION: Final = "fraud_detector"
FUNCTION_NAME: Final = "fraud-detector"
HISTORY_TABLE: Final = "bench-fraud-history"
FLAGS_TABLE: Final = "bench-fraud-flags"
DLQ_URL: Final = "https://sqs.eu-west-1.amazonaws.com/123456789012/bench-dlq"
FILTERED_EVENT_TYPES: Final = frozenset({"purchase", "add_to_cart"})
BATCH: Final = 100
RECORDS: Final = 2_000
QUICK_RECORDS: Final = 400
POISON_RATE: Final = 0.02
WRU_PRICE_PER_MILLION: Final = 0.625
RRU_PRICE_PER_MILLION: Final = 0.125
"""On-demand DynamoDB, us-east-1 list prices as in docs/cost.md."""
TARGET_DYNAMODB_PER_1000: Final = 3_000
"""Per 1,000 delivered records: measured 1,221 (seed 7) -- a history Query per user of each
batch, a BatchWriteItem per 25 new events, a country update for a purchase from a country the
user never bought from, a few flags. 2,661 when the history was read and written per record."""
TARGET_CPU_US_PER_RECORD: Final = 1_000.0
"""Measured about 940 us: about 1.2 signed requests per record (the stream processor sends one
per 25 records); about 1,900 us when the history was read and written per record."""
HANDLER_ENVIRONMENT: Final = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": FUNCTION_NAME,
    "POWERTOOLS_METRICS_NAMESPACE": "StreamPipeline",
    "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
}


def _delivered(records: Sequence[Any]) -> list[bytes]:
    """What the event filter lets through: JSON objects with a filtered eventType."""
    kept: list[bytes] = []
    for record in records:
        try:
            document = json.loads(record.data)
        except ValueError:
            continue
        if isinstance(document, dict) and document.get("eventType") in FILTERED_EVENT_TYPES:
            kept.append(record.data)
    return kept


def _batches(payloads: Sequence[bytes]) -> Iterator[dict[str, Any]]:
    for start in range(0, len(payloads), BATCH):
        yield kinesis_event(list(payloads[start : start + BATCH]))


class _Counter:
    """Requests by ``service.Operation``, counted once per API call (retries excluded)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-call", self._count)
        return client

    def _count(self, event_name: str, **_: Any) -> None:
        service, operation = event_name.split(".")[1:3]
        self.counts[f"{service}.{operation}"] += 1


@contextmanager
def _wired(dynamodb: Any, sns: Any, sqs: Any, topic_arn: str) -> Iterator[Any]:
    from fraud_detector import app
    from fraud_detector.config import Settings
    from stream_pipeline.kit import ConsumerSettings, Dependencies

    settings = Settings(
        history_table_name=HISTORY_TABLE, flags_table_name=FLAGS_TABLE, alert_topic_arn=topic_arn
    )
    app.consumer.set_dependencies(
        Dependencies(
            settings=ConsumerSettings(dlq_url=DLQ_URL, consumer_name=FUNCTION_NAME),
            sqs=sqs,
            extras=app.Detector.create(settings, dynamodb=dynamodb, sns=sns),
        )
    )
    try:
        yield app
    finally:
        app.consumer.set_dependencies(None)


def _requests_on_moto(payloads: Sequence[bytes]) -> tuple[Counter[str], int]:
    """Requests by API for every batch, and the flags raised."""
    import boto3
    from moto import mock_aws

    from stream_pipeline.local.runtime import moto_serial

    moto_serial.apply()  # the history's BatchWriteItem requests run concurrently
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        setup = session.client("dynamodb")
        for table, range_key in ((HISTORY_TABLE, "eventKey"), (FLAGS_TABLE, "flagKey")):
            setup.create_table(
                TableName=table,
                KeySchema=[
                    {"AttributeName": "userId", "KeyType": "HASH"},
                    {"AttributeName": range_key, "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "userId", "AttributeType": "S"},
                    {"AttributeName": range_key, "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
        sqs = session.client("sqs")
        sqs.create_queue(QueueName="bench-dlq")  # DLQ_URL's queue (moto's URL scheme)
        topic_arn = session.client("sns").create_topic(Name="bench-alerts")["TopicArn"]
        counter = _Counter()
        dynamodb = counter.attach(session.client("dynamodb"))
        sns = counter.attach(session.client("sns"))
        with _wired(dynamodb, sns, counter.attach(sqs), topic_arn) as app:
            for event in _batches(payloads):
                with quiet(app.logger):
                    app.lambda_handler(event, FakeLambdaContext(FUNCTION_NAME))
        flags = setup.scan(TableName=FLAGS_TABLE, Select="COUNT")["Count"]
    return counter.counts, int(flags)


def _cpu_stubbed(payloads: Sequence[bytes], *, quick: bool) -> dict[str, Any]:
    from stream_pipeline.kit.dependencies import DYNAMODB_CONFIG
    from stream_pipeline.runtime.lambda_setup import SDK_CONFIG

    aws = StubbedAws()
    with _wired(
        aws.client("dynamodb", config=DYNAMODB_CONFIG),  # as the function builds them
        aws.client("sns", config=SDK_CONFIG),
        aws.client("sqs", config=SDK_CONFIG),
        f"arn:aws:sns:{REGION}:123456789012:bench-alerts",
    ) as app:
        events = list(_batches(payloads))
        context = FakeLambdaContext(FUNCTION_NAME)
        with quiet(app.logger):
            app.lambda_handler(events[0], context)  # warm: clients, imports, first batch
            rounds = 1 if quick else 3
            samples: list[float] = []
            for _ in range(rounds):
                started = time.process_time_ns()
                for event in events:
                    app.lambda_handler(event, context)
                samples.append((time.process_time_ns() - started) / 1000 / len(payloads))
    return summary(samples)


def run(options: Options) -> tuple[Result, list[Target]]:
    functions_on_path()
    from stream_pipeline.producer.generator import generate_records

    count = QUICK_RECORDS if options.quick else RECORDS
    records = list(
        generate_records(
            count,
            seed=options.seed,
            poison_rate=POISON_RATE,
            start_ms=1_750_000_000_000,
            plant_fraud=True,
        )
    )
    payloads = _delivered(records)
    planted = len({(r.partition_key, r.planted) for r in records if r.planted})
    with environment(**HANDLER_ENVIRONMENT):
        options.log(f"bench: {SECTION}: {len(payloads)} of {count} records through moto")
        counts, flags = _requests_on_moto(payloads)
        options.log(f"bench: {SECTION}: CPU with the HTTP layer stubbed")
        cpu = _cpu_stubbed(payloads, quick=options.quick)
    dynamodb = {api: n for api, n in counts.items() if api.startswith("dynamodb.")}
    writes = sum(n for api, n in dynamodb.items() if api.endswith(("PutItem", "UpdateItem")))
    reads = sum(dynamodb.values()) - writes
    per_delivered = per_thousand(counts, len(payloads))
    dynamodb_per_1000 = round(sum(dynamodb.values()) * 1000 / len(payloads), 1)
    # Items and query results stay under 1 KB / 4 KB: one unit per request (consistent reads).
    dollars_per_million = round(
        (writes * WRU_PRICE_PER_MILLION + reads * RRU_PRICE_PER_MILLION) / len(payloads), 3
    )
    result: Result = {
        "status": "ok",
        "records_put": count,
        "records_delivered": len(payloads),
        "batch_size": BATCH,
        "planted_fraud": planted,
        "flags_raised": flags,
        "requests": dict(sorted(counts.items())),
        "requests_per_1000_delivered": per_delivered,
        "requests_per_1000_put": per_thousand(counts, count),
        "dynamodb_requests_per_1000_delivered": dynamodb_per_1000,
        "dynamodb_dollars_per_million_delivered": dollars_per_million,
        "cpu_us_per_record": round(float(cpu["median"]), 2),
        "cpu_us_per_record_samples": cpu,
    }
    targets = [
        exactly(SECTION, "flags raised = planted fraudulent users", flags, planted, "flags"),
        at_most(
            SECTION,
            "DynamoDB requests per 1,000 delivered records",
            dynamodb_per_1000,
            TARGET_DYNAMODB_PER_1000,
            "requests",
        ),
        at_most(
            SECTION,
            "CPU per record (HTTP layer stubbed)",
            result["cpu_us_per_record"],
            TARGET_CPU_US_PER_RECORD,
            "us",
        ),
    ]
    return result, targets
