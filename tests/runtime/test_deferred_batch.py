"""The deferred batch processor: records settled together after their handlers ran, outcomes
booked through Powertools' partial batch response."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from factories import FakeLambdaContext, kinesis_event_of, retail_event

from stream_pipeline.runtime.deferred_batch import DeferredBatchProcessor


def test_processor_rejects_settle_with_wrong_outcome_count() -> None:
    """GIVEN a settle callback that loses an outcome
    WHEN the batch is processed
    THEN the processor raises instead of silently marking records as done.
    """
    processor = DeferredBatchProcessor(EventType.KinesisDataStreams, settle=lambda staged: [])

    with pytest.raises(RuntimeError, match="0 outcomes for 2 records"):
        process_partial_response(
            event=kinesis_event_of([retail_event(), retail_event()]),
            record_handler=lambda record: record,
            processor=processor,
        )


def test_processor_books_outcomes_through_powertools() -> None:
    """GIVEN a handler that raises for one record and a settle that fails another
    WHEN processed with Powertools' process_partial_response
    THEN both sequence numbers are reported, the successful record is not, and settle sees only
    the records whose handler returned (in order), with the Lambda context injected when asked.
    """
    event = kinesis_event_of([retail_event(userId=u) for u in ("ok", "raise", "fail")])
    numbers = [record["kinesis"]["sequenceNumber"] for record in event["Records"]]
    seen_contexts: list[Any] = []
    settled: list[list[str]] = []

    def handler(record: Any, lambda_context: Any) -> str:
        seen_contexts.append(lambda_context)
        user = str(json.loads(record.kinesis.data_as_text())["userId"])
        if user == "raise":
            raise ValueError(user)
        return user

    def settle(staged: Any) -> list[Exception | None]:
        settled.append(list(staged))
        return [None if user == "ok" else RuntimeError(user) for user in staged]

    context = FakeLambdaContext()
    response = process_partial_response(
        event=event,
        record_handler=handler,
        processor=DeferredBatchProcessor(EventType.KinesisDataStreams, settle=settle),
        context=context,  # type: ignore[arg-type]
    )

    assert response == {"batchItemFailures": [{"itemIdentifier": n} for n in numbers[1:]]}
    assert settled == [["ok", "fail"]]
    assert seen_contexts == [context] * 3
