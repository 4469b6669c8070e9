"""A Powertools ``BatchProcessor`` whose side effects happen once per batch.

Powertools calls the record handler once per record and immediately books the record as a
success or a failure. To batch a side effect over the records (the stream processor's
BatchWriteItem writes and DLQ sends, the e-mail notifier's DLQ sends) instead of one request per
record, this processor runs in three phases inside ``process()``:

1. *prepare* -- the record handler runs per record and returns a value without side effects
   (e.g. a write candidate or a permanent rejection). A handler exception books the record as a
   failure right away, exactly as in Powertools.
2. *settle* -- one callback receives all prepared values (in stream order) and performs the
   batched side effects, returning per record ``None`` (settled) or an exception (not settled).
3. *book* -- each record goes through Powertools' own ``success_handler`` / ``failure_handler``,
   so ``response()`` (``batchItemFailures`` with the right sequence numbers) is still built by
   Powertools. ``process_partial_response`` is used unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

Settle = Callable[[Sequence[Any]], Sequence[BaseException | None]]


class DeferredBatchProcessor(BatchProcessor):
    def __init__(
        self,
        event_type: EventType,
        settle: Settle,
        on_handler_error: Callable[[Any, BaseException], None] | None = None,
    ) -> None:
        # Report every failed record even when all failed: the response stays a partial batch
        # response (the ESM retries from the lowest reported sequence number either way).
        super().__init__(event_type=event_type, raise_on_entire_batch_failure=False)
        self._settle = settle
        self._on_handler_error = on_handler_error

    def process(self) -> list[tuple[Any, ...]]:
        results: list[tuple[Any, ...]] = []
        staged: list[tuple[dict[str, Any], Any, Any]] = []
        for record in self.records:
            data = self._to_batch_type(record=record, event_type=self.event_type)
            try:
                if self._handler_accepts_lambda_context:
                    prepared = self.handler(record=data, lambda_context=self.lambda_context)
                else:
                    prepared = self.handler(record=data)
            except Exception as exc:
                if self._on_handler_error is not None:
                    self._on_handler_error(data, exc)
                results.append(self.failure_handler(record=data, exception=sys.exc_info()))
                continue
            staged.append((record, data, prepared))

        outcomes = self._settle([prepared for _, _, prepared in staged])
        if len(outcomes) != len(staged):
            msg = f"settle returned {len(outcomes)} outcomes for {len(staged)} records"
            raise RuntimeError(msg)

        for (record, data, prepared), error in zip(staged, outcomes, strict=True):
            if error is None:
                results.append(self.success_handler(record=record, result=prepared))
            else:
                results.append(
                    self.failure_handler(
                        record=data, exception=(type(error), error, error.__traceback__)
                    )
                )
        return results
