""":class:`StreamConsumer`: a team's record handler with every zero-loss guarantee around it.

Per batch: each record is decoded and validated (:mod:`stream_pipeline.kit.records`), the
team's handler runs on it, then :class:`~stream_pipeline.kit.settle.BatchSettler` writes the
handlers' items (one BatchWriteItem pass) and dead-letters the rejections (one SendMessageBatch
pass, claim-checking oversized payloads to S3). A permanent rejection goes to the DLQ with its
original bytes; anything transient, including a crash of the handler on one record, makes only
that record a batch item failure, which the event source mapping retries.

Hooks for a consumer that needs more than a sink (``StreamConsumer``'s keyword arguments):
``event_sources`` (accept only a Kinesis or only a DynamoDB stream), ``required_env`` and
``extras`` (the consumer's own settings and clients, built once at the cold start next to the
kit's and handed to the handler as ``consumer.extras``), ``counters`` (the consumer's own EMF
counts, ``consumer.count(name)``), :data:`SKIP` (a record the consumer has nothing to do with,
counted in ``RecordsSkipped``), a ``lambda_context`` parameter of the record handler
(Powertools' batch convention: the invocation's context is passed to it), and
``@consumer.prepare_batch`` (batch-level work before the record handler runs,
:mod:`stream_pipeline.kit.batch_prepare`).
"""

from __future__ import annotations

import inspect
import os
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from aws_lambda_powertools import single_metric
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from stream_pipeline.kit.batch_prepare import BatchPreparationError, BatchPreparer, DecodedBatch
from stream_pipeline.kit.dependencies import (
    Dependencies,
    ExtrasFactory,
    table_name_of,
)
from stream_pipeline.kit.dynamodb_sink import DynamoDBSink
from stream_pipeline.kit.field_encryption import (
    SENSITIVE_FIELDS_VARIABLE,
    FieldEncryptor,
    parse_field_names,
)
from stream_pipeline.kit.records import (
    Handled,
    Outcome,
    RecordDecoder,
    Rejected,
    Store,
    origin_of,
)
from stream_pipeline.kit.settings import ConfigurationError, ConsumerSettings
from stream_pipeline.kit.settle import BatchReport, BatchSettler
from stream_pipeline.runtime.decoding import RecordRejectedError
from stream_pipeline.runtime.deferred_batch import DeferredBatchProcessor
from stream_pipeline.runtime.dlq_envelope import DYNAMODB_SOURCE, KINESIS_SOURCE
from stream_pipeline.runtime.dlq_mac import EnvelopeSigner
from stream_pipeline.runtime.dlq_publisher import DlqPublisher, PayloadBucket
from stream_pipeline.runtime.dynamodb_writer import DynamoBatchWriter
from stream_pipeline.runtime.lambda_setup import ColdStartSingleton, powertools

EVENT_TYPES: Final = {
    KINESIS_SOURCE: EventType.KinesisDataStreams,
    DYNAMODB_SOURCE: EventType.DynamoDBStreams,
}

RecordHandler = Callable[..., Any]
"""The team's code: a record -> an item for the sink (a mapping or a pydantic model), None
(handled), or :data:`SKIP` (nothing to do). Raise :class:`~stream_pipeline.kit.Reject` for a
record that can never be processed. A handler with a ``lambda_context`` parameter gets the
invocation's context too (as Powertools' batch record handlers do)."""

EVENT_SOURCE_NAMES: Final = {KINESIS_SOURCE: "Kinesis", DYNAMODB_SOURCE: "DynamoDB"}


class _Skip:
    __slots__ = ()

    def __repr__(self) -> str:
        return "SKIP"


SKIP: Final = _Skip()
"""Return it from a record handler for a record the consumer has nothing to do with (say, an
event type it does not handle): settled, never retried, counted in ``RecordsSkipped``."""


class UnsupportedEventError(ValueError):
    """The function was wired to something other than one Kinesis or DynamoDB stream."""


def detect_event_type(
    name: str, records: Sequence[Any], allowed: Collection[str] | None = None
) -> EventType:
    """The batch's event type; ``allowed``: the event sources the consumer accepts (default
    both, Kinesis and DynamoDB streams)."""
    accepted = [source for source in EVENT_TYPES if allowed is None or source in allowed]
    sources = {
        record.get("eventSource") if isinstance(record, dict) else None for record in records
    }
    if len(sources) == 1:
        (source,) = sources
        if source in accepted:
            return EVENT_TYPES[source]
    if len(accepted) == 1:
        (only,) = accepted
        expected = f"a {EVENT_SOURCE_NAMES[only]} stream (eventSource {only})"
    else:
        expected = "one Kinesis or DynamoDB stream (eventSource aws:kinesis or aws:dynamodb)"
    msg = f"{name} expects records from {expected}; got {sorted(map(str, sources))}"
    raise UnsupportedEventError(msg)


@dataclass(slots=True)
class _BatchScope:
    """What the record handler can reach while its batch is processed."""

    dependencies: Dependencies
    counts: Counter[str] = field(default_factory=Counter)
    prepared: Any = None
    """What the ``prepare_batch`` hook returned for this batch."""


def _accepts_lambda_context(handler: Callable[..., Any]) -> bool:
    try:
        return "lambda_context" in inspect.signature(handler).parameters
    except (TypeError, ValueError):
        return False


class StreamConsumer[EventT]:
    """A Lambda consumer of a Kinesis or DynamoDB stream built around one record handler.

    ``model``: a pydantic model every record must validate against (else ``SCHEMA_VIOLATION``);
    None hands the decoded JSON document to the handler. ``sink``: where the handler's items go;
    None for a handler that returns None (it stores nothing, or stores on its own). ``name``:
    the consumer's name in envelopes and errors (the function name at run time).
    """

    def __init__(
        self,
        *,
        name: str,
        model: type[BaseModel] | None = None,
        sink: DynamoDBSink | None = None,
        event_sources: Collection[str] | None = None,
        required_env: Sequence[str] = (),
        extras: ExtrasFactory | None = None,
        counters: Sequence[str] = (),
    ) -> None:
        """``event_sources``: ``aws:kinesis`` and/or ``aws:dynamodb`` (default both); a batch
        from another source fails the invocation with :class:`UnsupportedEventError`.
        ``required_env``: the consumer's own required environment variables, reported with the
        kit's in one :class:`ConfigurationError`. ``extras``: ``(settings) -> anything``, called
        once at the cold start; its result is ``consumer.extras``. ``counters``: the names of
        the consumer's own EMF counts, emitted with every batch (0 when not counted)."""
        unknown = sorted(set(event_sources or ()) - EVENT_TYPES.keys())
        if unknown or (event_sources is not None and not event_sources):
            msg = f"event_sources are aws:kinesis and/or aws:dynamodb, not {unknown or 'none'}"
            raise ValueError(msg)
        self.name = name
        self.model = model
        self.sink = sink
        self.event_sources = frozenset(event_sources) if event_sources is not None else None
        self.counters = tuple(dict.fromkeys(counters))
        self.logger, self.tracer, self.metrics = powertools()
        self._handler: RecordHandler | None = None
        self._handler_takes_context = False
        self._preparer: BatchPreparer | None = None
        self._scope: ContextVar[_BatchScope | None] = ContextVar(f"{name}-batch", default=None)
        self._dependencies: ColdStartSingleton[Dependencies] = ColdStartSingleton(
            lambda: Dependencies.from_env(name, sink, required_env=required_env, extras=extras)
        )
        self.lambda_handler = self._decorated_lambda_handler()
        self._traced_settle = self.tracer.capture_method(capture_response=False)(
            BatchSettler.settle
        )

    # ----------------------------------------------------------------- the team's code

    def record_handler(self, handler: RecordHandler) -> RecordHandler:
        """Decorator: register the consumer's record handler."""
        self._handler = handler
        self._handler_takes_context = _accepts_lambda_context(handler)
        return handler

    def prepare_batch(self, preparer: BatchPreparer) -> BatchPreparer:
        """Decorator: register ``(records) -> anything``, called once per batch with the
        records that decoded and validated (stream order) before the record handler runs on
        each; its result is ``consumer.prepared``. If it raises, those records are batch item
        failures (see :mod:`stream_pipeline.kit.batch_prepare`)."""
        self._preparer = preparer
        return preparer

    @property
    def prepared(self) -> Any:
        """What ``prepare_batch`` returned for the batch being processed (None without it)."""
        return self._current_scope().prepared

    def count(self, name: str, value: int = 1) -> None:
        """Add ``value`` to the consumer's own count ``name`` (one of ``counters``) for the
        batch being processed; emitted as an EMF metric with the batch's other metrics."""
        if name not in self.counters:
            msg = f"{self.name}: unknown counter {name!r}; declare it in counters={self.counters}"
            raise ValueError(msg)
        self._current_scope().counts[name] += value

    @property
    def extras(self) -> Any:
        """The consumer's own dependencies (its ``extras`` hook's result) of the batch being
        processed; outside a batch, those of the execution environment."""
        scope = self._scope.get()
        dependencies = scope.dependencies if scope is not None else self.get_dependencies()
        return dependencies.extras

    @property
    def sensitive_fields(self) -> tuple[str, ...]:
        """The pipeline's sensitive fields (``SENSITIVE_FIELDS``): a handler keeps each as a
        top-level attribute of its item, where the sink encrypts it. Outside a batch (a handler
        called on its own, in a test) only ``SENSITIVE_FIELDS`` is read: the other settings and
        the clients are not needed to know which fields are sensitive."""
        scope = self._scope.get()
        if scope is not None:
            return scope.dependencies.settings.sensitive_fields
        return parse_field_names(os.environ.get(SENSITIVE_FIELDS_VARIABLE, ""))

    def _current_scope(self) -> _BatchScope:
        scope = self._scope.get()
        if scope is None:
            msg = f"{self.name}: only available while a batch is processed"
            raise RuntimeError(msg)
        return scope

    @contextmanager
    def _batch_scope(self, dependencies: Dependencies) -> Iterator[_BatchScope]:
        scope = _BatchScope(dependencies)
        token = self._scope.set(scope)
        try:
            yield scope
        finally:
            self._scope.reset(token)

    # ----------------------------------------------------------------- dependencies

    def get_dependencies(self) -> Dependencies:
        return self._dependencies.get()

    def set_dependencies(self, dependencies: Dependencies | None) -> None:
        """Replace (or with None forget) the dependencies -- for tests and local runtimes."""
        self._dependencies.set(dependencies)

    # ----------------------------------------------------------------- one batch

    def _decorated_lambda_handler(self) -> Callable[[dict[str, Any], LambdaContext], Any]:
        logger, tracer, metrics = self.logger, self.tracer, self.metrics

        # log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: records carry personal data
        # (docs/security.md).
        @logger.inject_lambda_context(
            correlation_id_path="Records[0].eventID", clear_state=True, log_event=False
        )
        @tracer.capture_lambda_handler(capture_response=False)
        @metrics.log_metrics(capture_cold_start_metric=True)
        def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
            return self.process_batch(event, context, self.get_dependencies())

        decorated: Callable[[dict[str, Any], LambdaContext], Any] = lambda_handler
        return decorated

    def process_batch(
        self,
        event: Mapping[str, Any],
        context: LambdaContext | None,
        dependencies: Dependencies,
    ) -> PartialItemFailureResponse:
        with self._batch_scope(dependencies):
            return self._process_batch(event, context, dependencies)

    def _process_batch(
        self,
        event: Mapping[str, Any],
        context: LambdaContext | None,
        dependencies: Dependencies,
    ) -> PartialItemFailureResponse:
        records: list[dict[str, Any]] = list(event.get("Records") or [])
        if not records:
            self.logger.info("empty batch")
            self._emit_metrics(BatchReport(), received=0, failures=0)
            return {"batchItemFailures": []}
        if self._handler is None:
            msg = f"{self.name}: no record handler (decorate one with @consumer.record_handler)"
            raise ConfigurationError(msg)
        event_type = detect_event_type(self.name, records, self.event_sources)
        settings = dependencies.settings
        if event_type is EventType.DynamoDBStreams:
            self._refuse_self_loop(records, settings)

        reports: list[BatchReport] = []
        settler = self._settler(dependencies)

        def settle(outcomes: Sequence[Outcome]) -> list[Any]:
            results, report = self._traced_settle(settler, outcomes)
            reports.append(report)
            return results

        if self.sink is not None and settings.sensitive_fields:
            self._check_field_encryption(settings, dependencies.field_encryptor)
        received_at = dependencies.clock()
        decoder: RecordDecoder[EventT] = RecordDecoder(self.model, settings.max_record_bytes)
        kinesis = event_type is EventType.KinesisDataStreams
        prepared = (
            self._prepare(records, decoder, kinesis=kinesis, received_at=received_at)
            if self._preparer is not None
            else None
        )
        per_record = self._per_record(
            event_type, decoder, received_at, dependencies.field_encryptor, prepared
        )
        processor = DeferredBatchProcessor(
            event_type, settle, on_handler_error=self._log_handler_error
        )
        response = process_partial_response(
            event=dict(event), record_handler=per_record, processor=processor, context=context
        )

        report = reports[0] if reports else BatchReport()
        failures = len(response["batchItemFailures"])
        self._emit_metrics(report, received=len(records), failures=failures)
        self.logger.info(
            "batch done",
            extra={
                "records": len(records),
                "stored": report.stored,
                "handled": report.handled,
                "dead_lettered": dict(report.dead_lettered),
                "skipped": report.skipped,
                "batch_item_failures": failures,
                "write_requests": report.write_requests,
                "write_retries": report.write_retries,
                "dlq_requests": report.dlq_requests,
            },
        )
        return response

    def _prepare(
        self,
        records: Sequence[dict[str, Any]],
        decoder: RecordDecoder[EventT],
        *,
        kinesis: bool,
        received_at: datetime,
    ) -> DecodedBatch:
        """Decode the whole batch, then run the ``prepare_batch`` hook on its valid records."""
        assert self._preparer is not None
        batch = DecodedBatch.decode(
            records,
            lambda raw: (
                decoder.kinesis(raw, received_at) if kinesis else decoder.dynamodb(raw, received_at)
            ),
        )
        try:
            self._current_scope().prepared = self._preparer(batch.valid())
        except Exception as exc:
            self.logger.exception("prepare_batch failed; its records are reported for retry")
            batch.error = exc
        return batch

    def _per_record(
        self,
        event_type: EventType,
        decoder: RecordDecoder[EventT],
        received_at: datetime,
        encryptor: FieldEncryptor | None = None,
        prepared: DecodedBatch | None = None,
    ) -> Callable[[Any], Outcome]:
        handler = self._handler
        takes_context = self._handler_takes_context
        sink = self.sink
        kinesis = event_type is EventType.KinesisDataStreams
        assert handler is not None

        # Powertools passes the record as ``record=``: its data class, the raw dict inside; and
        # the invocation's context as ``lambda_context=``, since this function takes one.
        def per_record(record: Any, lambda_context: LambdaContext | None = None) -> Outcome:
            raw = record.raw_event
            try:
                early = prepared.lookup(raw) if prepared is not None else None
                if isinstance(early, Exception):
                    raise early  # as if decoded now: a rejection, or a failure to retry
                if early is not None:
                    decoded = early
                elif kinesis:
                    decoded = decoder.kinesis(raw, received_at)
                else:
                    decoded = decoder.dynamodb(raw, received_at)
                if isinstance(decoded, Handled):
                    return decoded
                if prepared is not None and prepared.error is not None:
                    msg = f"{self.name}: prepare_batch failed: {prepared.error!r}"
                    raise BatchPreparationError(msg) from prepared.error
                result = (
                    handler(decoded, lambda_context=lambda_context)
                    if takes_context
                    else handler(decoded)
                )
                if result is None:
                    return Handled(decoded.origin)
                if result is SKIP:
                    return Handled(decoded.origin, skipped=True)
                if sink is None:
                    msg = f"{self.name}: the record handler returned an item but there is no sink"
                    raise ConfigurationError(msg)
                item, key = sink.item(result, encryptor)
                return Store(decoded.origin, item, key)
            except RecordRejectedError as exc:
                return Rejected(origin_of(raw, kinesis=kinesis), exc.code, exc.reason)

        return per_record

    def _writer(self, dependencies: Dependencies) -> DynamoBatchWriter | None:
        """The sink's batch writer for one invocation (None without a sink)."""
        if self.sink is None:
            return None
        return DynamoBatchWriter(
            dependencies.dynamodb,
            dependencies.settings.table_name or "",
            key_attributes=tuple(self.sink.key),
            policy=dependencies.write_policy,
            sleep=dependencies.sleep,
            rand=dependencies.rand,
            pool=dependencies.pool,
        )

    def _settler(self, dependencies: Dependencies) -> BatchSettler:
        settings = dependencies.settings
        writer = self._writer(dependencies)
        publisher = DlqPublisher(
            dependencies.sqs,
            settings.dlq_url,
            policy=dependencies.dlq_policy,
            sleep=dependencies.sleep,
            rand=dependencies.rand,
            pool=dependencies.pool,
            payload_bucket=PayloadBucket.configured(
                dependencies.s3, settings.payload_bucket, settings.payload_key_prefix
            ),
            signer=EnvelopeSigner.configured(settings.mac_key_arn, dependencies.mac_client),
        )
        return BatchSettler(
            writer,
            publisher,
            consumer=settings.consumer_name,
            clock=dependencies.clock,
            log=self.logger,
        )

    def _check_field_encryption(
        self, settings: ConsumerSettings, encryptor: FieldEncryptor | None
    ) -> None:
        """Sensitive fields are stored encrypted or not at all: never in clear, never as keys
        (an encrypted key would not be found again)."""
        assert self.sink is not None
        as_keys = sorted(set(settings.sensitive_fields) & set(self.sink.key))
        if as_keys:
            msg = f"{self.name}: sensitive fields {as_keys} are the table's key attributes"
            raise ConfigurationError(msg)
        if encryptor is None:
            msg = (
                f"{self.name}: sensitive fields {list(settings.sensitive_fields)} are declared "
                "but there is no field encryptor: refusing to store them in clear"
            )
            raise ConfigurationError(msg)

    def _refuse_self_loop(
        self, records: Sequence[dict[str, Any]], settings: ConsumerSettings
    ) -> None:
        """Consuming the stream of the table we write to would feed our own writes back."""
        if self.sink is None or settings.table_name is None:
            return
        target = table_name_of(settings.table_name)
        for arn in {str(record.get("eventSourceARN") or "") for record in records}:
            if arn.startswith("arn:") and table_name_of(arn) == target:
                msg = f"{self.name} is consuming the stream of its own TABLE_NAME ({target})"
                raise ConfigurationError(msg)

    def _log_handler_error(self, record: Any, error: BaseException) -> None:
        raw = getattr(record, "raw_event", {}) or {}
        self.logger.error(
            "unexpected error while handling record; reporting it for retry",
            extra={"record_event_id": raw.get("eventID"), "error": repr(error)},
        )

    def _emit_metrics(self, report: BatchReport, received: int, failures: int) -> None:
        metrics = self.metrics
        count = MetricUnit.Count
        metrics.add_metric(name="RecordsReceived", unit=count, value=received)
        metrics.add_metric(
            name="RecordsProcessed", unit=count, value=report.stored + report.handled
        )
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
        scope = self._scope.get()
        counts = scope.counts if scope is not None else Counter[str]()
        for name in self.counters:
            metrics.add_metric(name=name, unit=count, value=counts[name])
