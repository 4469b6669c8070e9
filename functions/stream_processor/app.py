"""Lambda entry point: Kinesis / DynamoDB stream records -> enriched items in DynamoDB.

Handler string: ``stream_processor.app.lambda_handler``. See README.md next to this file.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import boto3
from aws_lambda_powertools import single_metric
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from stream_pipeline.runtime.aws_errors import RetryPolicy
from stream_pipeline.runtime.deferred_batch import DeferredBatchProcessor
from stream_pipeline.runtime.dlq_publisher import DlqPublisher, PayloadBucket
from stream_pipeline.runtime.lambda_setup import SDK_CONFIG, ColdStartSingleton, powertools
from stream_pipeline.runtime.request_pool import SHARED_POOL, RequestPool
from stream_processor.config import ConfigurationError, Settings
from stream_processor.pipeline import BatchReport, BatchSink
from stream_processor.records import Prepared, RecordPreparer
from stream_processor.writer import DynamoBatchWriter

logger, tracer, metrics = powertools()

EVENT_TYPES: Final = {
    "aws:kinesis": EventType.KinesisDataStreams,
    "aws:dynamodb": EventType.DynamoDBStreams,
}


# Items are built by this code, not by callers: botocore's parameter validation would re-check
# every attribute of every item (about half the CPU per record, docs/performance.md) for
# nothing; DynamoDB still validates every request server-side.
DYNAMODB_CONFIG: Final = SDK_CONFIG.merge(Config(parameter_validation=False))


class UnsupportedEventError(ValueError):
    """The function was wired to something other than one Kinesis or DynamoDB stream."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Dependencies:
    """Everything the handler needs from the outside world; tests replace it."""

    settings: Settings
    dynamodb: Any
    sqs: Any
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random
    clock: Callable[[], datetime] = _utc_now
    write_policy: RetryPolicy = field(default_factory=RetryPolicy)
    dlq_policy: RetryPolicy = field(default_factory=lambda: RetryPolicy(max_attempts=3))
    pool: RequestPool = SHARED_POOL
    """Runs a batch's BatchWriteItem requests, then its SendMessageBatch requests, concurrently."""
    s3: Any = None
    """Only with a payload bucket (settings.payload_bucket): the claim-check's PutObject."""

    @classmethod
    def from_env(cls) -> Dependencies:
        settings = Settings.from_env()
        return cls(
            settings=settings,
            dynamodb=boto3.client("dynamodb", config=DYNAMODB_CONFIG),
            sqs=boto3.client("sqs", config=SDK_CONFIG),
            s3=boto3.client("s3", config=SDK_CONFIG) if settings.payload_bucket else None,
        )


_dependencies: ColdStartSingleton[Dependencies] = ColdStartSingleton(Dependencies.from_env)
get_dependencies = _dependencies.get
set_dependencies = _dependencies.set


def detect_event_type(records: Sequence[Any]) -> EventType:
    sources = {
        record.get("eventSource") if isinstance(record, dict) else None for record in records
    }
    if len(sources) == 1:
        (source,) = sources
        if source in EVENT_TYPES:
            return EVENT_TYPES[source]
    msg = (
        "stream_processor expects records from one Kinesis or DynamoDB stream "
        f"(eventSource aws:kinesis or aws:dynamodb); got {sorted(map(str, sources))}"
    )
    raise UnsupportedEventError(msg)


def _table_name(name_or_arn: str) -> str:
    # arn:aws:dynamodb:<region>:<account>:table/<name>[/stream/<label>]
    if name_or_arn.startswith("arn:"):
        resource = name_or_arn.split(":", 5)[-1].split("/")
        if len(resource) >= 2 and resource[0] == "table":
            return resource[1]
    return name_or_arn


def _refuse_self_loop(records: Sequence[dict[str, Any]], settings: Settings) -> None:
    """Consuming the stream of the table we write to would feed our own writes back forever."""
    target = _table_name(settings.table_name)
    for arn in {str(record.get("eventSourceARN") or "") for record in records}:
        if arn.startswith("arn:") and _table_name(arn) == target:
            msg = f"stream_processor is consuming the stream of its own TABLE_NAME ({target})"
            raise ConfigurationError(msg)


@tracer.capture_method(capture_response=False)
def _settle(sink: BatchSink, prepared: Sequence[Prepared]) -> tuple[list[Any], BatchReport]:
    return sink.settle(prepared)


def _log_handler_error(record: Any, error: BaseException) -> None:
    raw = getattr(record, "raw_event", {}) or {}
    logger.error(
        "unexpected error while preparing record; reporting it for retry",
        extra={"record_event_id": raw.get("eventID"), "error": repr(error)},
    )


def _emit_metrics(report: BatchReport, received: int, failures: int) -> None:
    count = MetricUnit.Count
    metrics.add_metric(name="RecordsReceived", unit=count, value=received)
    metrics.add_metric(name="RecordsProcessed", unit=count, value=report.stored)
    metrics.add_metric(
        name="RecordsSentToDlq", unit=count, value=sum(report.dead_lettered.values())
    )
    metrics.add_metric(name="RecordsSkipped", unit=count, value=report.skipped)
    metrics.add_metric(name="BatchItemFailures", unit=count, value=failures)
    metrics.add_metric(name="BatchWriteRetries", unit=count, value=report.write_retries)
    metrics.add_metric(name="DlqSendRetries", unit=count, value=report.dlq_retries)
    metrics.add_metric(name="DlqPayloadsOmitted", unit=count, value=report.dlq_truncated)
    metrics.add_metric(name="PayloadsStoredInS3", unit=count, value=report.dlq_claim_checked)
    metrics.add_metric(name="DuplicateRecordsInBatch", unit=count, value=report.duplicates)
    for code, value in sorted(report.dead_lettered.items()):
        with single_metric(
            name="RecordsSentToDlqByCategory",
            unit=count,
            value=value,
            namespace=metrics.namespace,
        ) as metric:
            metric.add_dimension(name="ErrorCategory", value=code)


def process_batch(
    event: dict[str, Any], context: LambdaContext | None, dependencies: Dependencies
) -> PartialItemFailureResponse:
    records: list[dict[str, Any]] = event.get("Records") or []
    if not records:
        logger.info("empty batch")
        _emit_metrics(BatchReport(), received=0, failures=0)
        return {"batchItemFailures": []}
    event_type = detect_event_type(records)
    settings = dependencies.settings
    if event_type is EventType.DynamoDBStreams:
        _refuse_self_loop(records, settings)

    writer = DynamoBatchWriter(
        dependencies.dynamodb,
        settings.table_name,
        policy=dependencies.write_policy,
        sleep=dependencies.sleep,
        rand=dependencies.rand,
        pool=dependencies.pool,
    )
    publisher = DlqPublisher(
        dependencies.sqs,
        settings.dlq_url,
        policy=dependencies.dlq_policy,
        sleep=dependencies.sleep,
        rand=dependencies.rand,
        pool=dependencies.pool,
        payload_bucket=(
            PayloadBucket(dependencies.s3, settings.payload_bucket)
            if settings.payload_bucket is not None
            else None
        ),
    )
    sink = BatchSink(
        writer, publisher, consumer=settings.consumer_name, clock=dependencies.clock, log=logger
    )
    reports: list[BatchReport] = []

    def settle(prepared: Sequence[Prepared]) -> list[Any]:
        outcomes, report = _settle(sink, prepared)
        reports.append(report)
        return outcomes

    preparer = RecordPreparer(settings, dependencies.clock)
    record_handler = (
        preparer.kinesis if event_type is EventType.KinesisDataStreams else preparer.dynamodb
    )
    processor = DeferredBatchProcessor(event_type, settle, on_handler_error=_log_handler_error)
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )

    report = reports[0] if reports else BatchReport()
    failures = len(response["batchItemFailures"])
    _emit_metrics(report, received=len(records), failures=failures)
    logger.info(
        "batch done",
        extra={
            "records": len(records),
            "stored": report.stored,
            "dead_lettered": {str(key): value for key, value in report.dead_lettered.items()},
            "skipped": report.skipped,
            "batch_item_failures": failures,
            "write_requests": report.write_requests,
            "write_retries": report.write_retries,
            "dlq_requests": report.dlq_requests,
        },
    )
    return response


@logger.inject_lambda_context(correlation_id_path="Records[0].eventID", clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_batch(event, context, get_dependencies())
