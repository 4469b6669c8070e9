""":class:`TumblingWindowConsumer`: aggregate a stream over tumbling windows, AWS's way.

With ``TumblingWindowInSeconds`` on the event source mapping, Lambda hands each invocation the
window (``window.start``/``window.end``), the ``state`` the previous invocation of that window
returned, and on the window's last invocation ``isFinalInvokeForWindow`` (or
``isWindowTerminatedEarly`` when the state outgrew 1 MB; the window then goes on with a fresh
state). The response must hold ``state``, or Lambda counts the invocation as failed (Lambda
developer guide, "Using tumbling windows").

The team writes two functions: ``aggregate(state, record) -> state`` folds one record into a
*new* state (it must not change the one it receives), ``window_end(state, window) -> items``
turns the window's final state into items for the sink. The kit keeps the zero-loss rules:

* a rejected record goes to the DLQ and is left out of the state;
* a transient failure (the handler raised, or a DLQ send failed) at record *i* reports records
  *i*.. as batch item failures and returns the state folded over the records before *i*: the
  event source mapping redelivers them from *i*, so none is counted twice or missed;
* the final invocation writes ``window_end``'s items; if they cannot all be stored yet the
  invocation fails and Lambda retries it (the window's state is kept until it succeeds).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.typing import LambdaContext

from stream_pipeline.kit.consumer import StreamConsumer, detect_event_type
from stream_pipeline.kit.dependencies import Dependencies, ExtrasFactory
from stream_pipeline.kit.records import (
    Handled,
    Outcome,
    RecordDecoder,
    Rejected,
    StreamRecord,
    origin_of,
)
from stream_pipeline.kit.settings import ConfigurationError
from stream_pipeline.kit.settle import BatchReport
from stream_pipeline.runtime.decoding import RecordRejectedError
from stream_pipeline.runtime.dlq_envelope import KINESIS_SOURCE
from stream_pipeline.runtime.dynamodb_writer import Item, ItemKey

State = dict[str, Any]
Aggregate = Callable[[State, StreamRecord[Any]], State]
WindowEnd = Callable[[State, "Window"], Iterable[Any] | None]


class WindowNotStoredError(RuntimeError):
    """The final invocation's items are not all stored: Lambda retries the invocation."""


@dataclass(frozen=True, slots=True)
class Window:
    """The tumbling window of an invocation, as Lambda describes it."""

    start: datetime
    end: datetime
    shard_id: str | None
    event_source_arn: str | None
    final: bool
    """The window's last invocation: its state is complete."""
    terminated_early: bool
    """The state outgrew 1 MB: this is the last invocation of the state, not of the window."""

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Window:
        window = event.get("window")
        if not isinstance(window, Mapping):
            msg = (
                "the event has no tumbling window: set tumbling_window_in_seconds on the "
                "consumer's event source mapping"
            )
            raise ConfigurationError(msg)
        return cls(
            start=_timestamp(window.get("start")),
            end=_timestamp(window.get("end")),
            shard_id=event.get("shardId"),
            event_source_arn=event.get("eventSourceARN"),
            final=event.get("isFinalInvokeForWindow") is True,
            terminated_early=event.get("isWindowTerminatedEarly") is True,
        )


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        msg = f"window bounds are ISO-8601 timestamps, not {type(value).__name__}"
        raise ConfigurationError(msg)
    return datetime.fromisoformat(value)


class TumblingWindowConsumer(StreamConsumer[Any]):
    """A consumer whose handler folds records into a per-window state (see module docstring)."""

    def __init__(
        self,
        *,
        name: str,
        model: Any = None,
        sink: Any = None,
        event_sources: Collection[str] | None = None,
        required_env: Sequence[str] = (),
        extras: ExtrasFactory | None = None,
        counters: Sequence[str] = (),
    ) -> None:
        super().__init__(
            name=name,
            model=model,
            sink=sink,
            event_sources=event_sources,
            required_env=required_env,
            extras=extras,
            counters=counters,
        )
        self._aggregate: Aggregate | None = None
        self._window_end: WindowEnd | None = None

    def aggregate(self, handler: Aggregate) -> Aggregate:
        """Decorator: ``(state, record) -> new state``; raise ``Reject`` to dead-letter."""
        self._aggregate = handler
        return handler

    def prepare_batch(self, preparer: Any) -> Any:
        """Not for windows: ``aggregate`` already sees the batch's records in order."""
        msg = f"{self.name}: prepare_batch is a StreamConsumer hook, not a window consumer's"
        raise TypeError(msg)

    def window_end(self, handler: WindowEnd) -> WindowEnd:
        """Decorator: ``(state, window) -> items`` for the sink, at the window's end."""
        self._window_end = handler
        return handler

    def _process_batch(  # type: ignore[override]
        self,
        event: Mapping[str, Any],
        context: LambdaContext | None,
        dependencies: Dependencies,
    ) -> dict[str, Any]:
        if self._aggregate is None:
            msg = f"{self.name}: no aggregate handler (decorate one with @consumer.aggregate)"
            raise ConfigurationError(msg)
        window = Window.from_event(event)
        state = event.get("state") or {}
        if not isinstance(state, dict):
            msg = f"the window state must be a JSON object, not {type(state).__name__}"
            raise ConfigurationError(msg)
        records: list[dict[str, Any]] = list(event.get("Records") or [])
        report = BatchReport(records=len(records))
        failed_from = len(records)
        if records:
            state, failed_from, report = self._fold(records, state, dependencies)
        kinesis = bool(records) and records[0].get("eventSource") == KINESIS_SOURCE
        failures = [
            {"itemIdentifier": origin_of(record, kinesis=kinesis).sequence_number}
            for record in records[failed_from:]
        ]
        if (window.final or window.terminated_early) and not failures:
            self._store_window(state, window, dependencies)
            state = {}
        self._emit_metrics(report, received=len(records), failures=len(failures))
        self.logger.info(
            "window batch done",
            extra={
                "records": len(records),
                "window_start": window.start.isoformat(),
                "final": window.final,
                "dead_lettered": dict(report.dead_lettered),
                "batch_item_failures": len(failures),
            },
        )
        return {"state": state, "batchItemFailures": failures}

    def _fold(
        self, records: Sequence[dict[str, Any]], state: State, dependencies: Dependencies
    ) -> tuple[State, int, BatchReport]:
        """Fold the records in stream order; stop at the first transient failure."""
        assert self._aggregate is not None
        event_type = detect_event_type(self.name, records, self.event_sources)
        kinesis = event_type is EventType.KinesisDataStreams
        decoder: RecordDecoder[Any] = RecordDecoder(
            self.model, dependencies.settings.max_record_bytes
        )
        received_at = dependencies.clock()
        states: list[State] = [state]
        """states[i]: the state before record i."""
        outcomes: list[Outcome] = []
        failed_from = len(records)
        for index, raw in enumerate(records):
            try:
                record = (
                    decoder.kinesis(raw, received_at)
                    if kinesis
                    else decoder.dynamodb(raw, received_at)
                )
                if isinstance(record, Handled):
                    outcomes.append(record)
                else:
                    state = self._aggregate(state, record)
                    outcomes.append(Handled(record.origin))
            except RecordRejectedError as exc:
                outcomes.append(Rejected(origin_of(raw, kinesis=kinesis), exc.code, exc.reason))
            except Exception as exc:
                self.logger.exception(
                    "unexpected error while aggregating record; reporting it for retry",
                    extra={"record_event_id": raw.get("eventID"), "error": repr(exc)},
                )
                failed_from = index
                break
            states.append(state)
        settled, report = self._settler(dependencies).settle(outcomes)
        report.handled = sum(isinstance(o, Handled) and not o.skipped for o in outcomes)
        for index, error in enumerate(settled):
            if error is not None:  # the rejection could not be dead-lettered: retry from here
                failed_from = min(failed_from, index)
                break
        return states[failed_from], failed_from, report

    def _store_window(self, state: State, window: Window, dependencies: Dependencies) -> None:
        items = self._window_end(state, window) if self._window_end is not None else None
        latest: dict[ItemKey, Item] = {}
        for value in items or ():
            if self.sink is None:
                msg = f"{self.name}: window_end returned items but there is no sink"
                raise ConfigurationError(msg)
            try:
                item, key = self.sink.item(value)
            except RecordRejectedError as exc:
                # A window result is derived data (recomputable by rewinding the stream); a
                # result DynamoDB can never store must not block the shard forever.
                self.logger.error("window result not storable; skipped", extra={"reason": str(exc)})
                continue
            latest[key] = item
        if not latest:
            return
        writer = self._writer(dependencies)
        assert writer is not None
        written = writer.write(latest)
        retryable = {key: f for key, f in written.failures.items() if not f.rejected}
        for key, failure in written.failures.items():
            if failure.rejected:
                self.logger.error(
                    "window result rejected by DynamoDB; skipped",
                    extra={"key": repr(key), "reason": failure.reason},
                )
        if retryable:
            reasons = "; ".join(sorted({f.reason for f in retryable.values()}))
            msg = f"{len(retryable)} window result(s) not stored yet: {reasons}"
            raise WindowNotStoredError(msg)
