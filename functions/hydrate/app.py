"""Lambda entry point: on-failure records of stream event source mappings -> SQS DLQ envelopes.

Handler string: ``hydrate.app.lambda_handler``. See README.md next to this file.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from hydrate.config import Settings
from stream_pipeline.runtime.aws_errors import RetryPolicy
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope
from stream_pipeline.runtime.dlq_mac import EnvelopeSigner
from stream_pipeline.runtime.dlq_publisher import DlqPublisher, PayloadBucket, PublishReport
from stream_pipeline.runtime.hydration.hydrator import (
    HydrationReport,
    Hydrator,
)
from stream_pipeline.runtime.hydration.models import extract_messages
from stream_pipeline.runtime.hydration.reader import ShardRangeReader, StreamKind
from stream_pipeline.runtime.lambda_setup import SDK_CONFIG, ColdStartSingleton, powertools
from stream_pipeline.runtime.request_pool import SHARED_POOL, RequestPool

logger, tracer, metrics = powertools()


class DlqSendError(RuntimeError):
    """Some envelopes were not accepted by SQS after the retries: the invocation fails, so that
    Lambda's asynchronous retries (then the function's own on-failure destination) take over."""


@dataclass(slots=True)
class Dependencies:
    """Everything the handler needs from the outside world; tests replace it."""

    settings: Settings
    kinesis: Any
    dynamodbstreams: Any
    sqs: Any
    s3: Any = None
    kms: Any = None
    """The KMS client that signs the envelopes (GenerateMac, settings.mac_key_arn): made by
    :meth:`mac_client` when the first envelope is sent, never at the cold start."""
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random
    read_policy: RetryPolicy = field(default_factory=RetryPolicy)
    dlq_policy: RetryPolicy = field(default_factory=lambda: RetryPolicy(max_attempts=3))
    page_limit: int | None = None
    """Records per GetRecords call at most (None: the API maximum). Tests lower it."""
    pool: RequestPool = SHARED_POOL
    """Runs the SendMessageBatch requests (and the S3 claim-checks) concurrently."""

    @classmethod
    def from_env(cls) -> Dependencies:
        settings = Settings.from_env()
        return cls(
            settings=settings,
            kinesis=boto3.client("kinesis", config=SDK_CONFIG),
            dynamodbstreams=boto3.client("dynamodbstreams", config=SDK_CONFIG),
            sqs=boto3.client("sqs", config=SDK_CONFIG),
            s3=boto3.client("s3", config=SDK_CONFIG) if settings.payload_bucket else None,
        )

    def mac_client(self) -> Any:
        """The KMS client that signs the envelopes, made once, on first use."""
        if self.kms is None:
            self.kms = boto3.client("kms", config=SDK_CONFIG)
        return self.kms

    def reader(self, kind: StreamKind) -> ShardRangeReader:
        client = self.kinesis if kind is StreamKind.KINESIS else self.dynamodbstreams
        return ShardRangeReader(
            client,
            kind,
            policy=self.read_policy,
            sleep=self.sleep,
            rand=self.rand,
            page_limit=self.page_limit,
        )


_dependencies: ColdStartSingleton[Dependencies] = ColdStartSingleton(Dependencies.from_env)
get_dependencies = _dependencies.get
set_dependencies = _dependencies.set


def _emit_metrics(report: HydrationReport, *, published: PublishReport) -> None:
    count = MetricUnit.Count
    metrics.add_metric(name="OnFailureRecordsReceived", unit=count, value=report.on_failure_records)
    metrics.add_metric(name="MalformedOnFailureRecords", unit=count, value=report.malformed)
    metrics.add_metric(name="UnservedStreamRecords", unit=count, value=report.unserved_streams)
    metrics.add_metric(name="RecordsHydrated", unit=count, value=report.records_hydrated)
    metrics.add_metric(name="PayloadUnavailable", unit=count, value=report.payload_unavailable)
    metrics.add_metric(name="PayloadsStoredInS3", unit=count, value=published.claim_checked)
    metrics.add_metric(name="DlqPayloadsOmitted", unit=count, value=published.truncated)
    metrics.add_metric(name="DlqSendRetries", unit=count, value=published.retry_requests)


def process_event(event: Any, dependencies: Dependencies) -> dict[str, int]:
    settings = dependencies.settings
    hydrator = Hydrator(
        {kind: dependencies.reader(kind) for kind in StreamKind},
        function_name=settings.function_name,
        log=logger,
        served_streams=settings.streams,
    )
    report = HydrationReport()
    envelopes: list[DlqEnvelope] = []
    for message in extract_messages(event):
        envelopes.extend(hydrator.envelopes(message, report))

    publisher = DlqPublisher(
        dependencies.sqs,
        settings.dlq_url,
        policy=dependencies.dlq_policy,
        sleep=dependencies.sleep,
        rand=dependencies.rand,
        pool=dependencies.pool,
        payload_bucket=PayloadBucket.configured(dependencies.s3, settings.payload_bucket),
        signer=EnvelopeSigner.configured(settings.mac_key_arn, dependencies.mac_client),
    )
    published = publisher.publish(envelopes)
    _emit_metrics(report, published=published)
    summary = {
        "onFailureRecords": report.on_failure_records,
        "malformed": report.malformed,
        "recordsHydrated": report.records_hydrated,
        "payloadUnavailable": report.payload_unavailable,
        "dlqMessages": len(envelopes) - len(published.failures),
        "payloadsStoredInS3": published.claim_checked,
        "payloadsOmitted": published.truncated,
        "sendMessageBatchRequests": published.requests,
    }
    if published.failures:
        logger.error(
            "DLQ send failed: failing the invocation so that Lambda retries it",
            extra={**summary, "failures": sorted(set(published.failures.values()))[:10]},
        )
        msg = (
            f"{len(published.failures)} of {len(envelopes)} DLQ envelope(s) not accepted by SQS: "
            + "; ".join(sorted(set(published.failures.values()))[:3])
        )
        raise DlqSendError(msg)
    logger.info("on-failure records handled", extra=summary)
    return summary


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return process_event(event, get_dependencies())
