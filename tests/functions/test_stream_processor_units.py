"""Unit tests: schema, enrichment, keys, error classification, retry policy, settings, processor."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from botocore.exceptions import (
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)
from factories import FakeLambdaContext, client_error, kinesis_event_of, retail_event
from pydantic import ValidationError

from stream_pipeline.runtime.aws_errors import ErrorKind, RetryPolicy, classify_exception
from stream_pipeline.runtime.deferred_batch import DeferredBatchProcessor
from stream_pipeline.runtime.retail_event import (
    MAX_TIMESTAMP_MS,
    MIN_TIMESTAMP_MS,
    RetailEvent,
    derive_event_id,
)
from stream_processor.config import KINESIS_MAX_RECORD_BYTES, ConfigurationError, Settings
from stream_processor.models import enrich, enrichment_for, event_key, item_size_bytes

# --------------------------------------------------------------------------- schema


@pytest.mark.parametrize(
    ("fields", "valid"),
    [
        ({"timestamp": MIN_TIMESTAMP_MS}, True),
        ({"timestamp": MIN_TIMESTAMP_MS - 1}, False),
        ({"timestamp": MAX_TIMESTAMP_MS - 1}, True),
        ({"timestamp": MAX_TIMESTAMP_MS}, False),
        ({"userId": "u" * 256}, True),
        ({"userId": "u" * 257}, False),
        ({"eventType": ""}, True),
        ({"eventType": "e" * 129}, False),
        ({"eventId": "i" * 128}, True),
        ({"eventId": "i" * 129}, False),
        ({"eventId": None}, True),
        ({"sessionId": None}, True),
        ({"sessionId": "s" * 257}, False),
        ({"anything": {"nested": [1, 2.5, None]}}, True),
    ],
)
def test_schema_bounds(fields: dict[str, Any], valid: bool) -> None:
    """GIVEN an event at or beyond a bound WHEN validated THEN accepted exactly up to the bound."""
    document = retail_event(**fields)

    if valid:
        assert RetailEvent.model_validate(document).userId == document["userId"]
    else:
        with pytest.raises(ValidationError):
            RetailEvent.model_validate(document)


# --------------------------------------------------------------------------- enrichment / keys


@pytest.mark.parametrize(
    ("event_type", "expected"),
    [
        ("view", ("viewed", 1)),
        ("add_to_cart", ("added to cart", 5)),
        ("purchase", ("purchased", 10)),
        ("refund", ("interacted with", 1)),
        ("VIEW", ("interacted with", 1)),
        ("", ("interacted with", 1)),
    ],
)
def test_enrichment_rules(event_type: str, expected: tuple[str, int]) -> None:
    """GIVEN an event type WHEN looked up THEN the recipe's action and score (case-sensitive)."""
    assert enrichment_for(event_type) == expected


def test_enrich_builds_item_and_key() -> None:
    """GIVEN a validated event WHEN enriched THEN insight, processedAt and key follow the rules."""
    event = RetailEvent.model_validate(
        retail_event(
            userId="u", productId="p", eventType="purchase", eventId="e", timestamp=MIN_TIMESTAMP_MS
        )
    )

    enriched = enrich(event, b"{}", datetime(2025, 1, 1, 1, 2, 3, 456_789, tzinfo=UTC))

    item = enriched.to_item()
    assert item["insight"] == {"S": "User u purchased product p"}
    assert item["eventScore"] == {"N": "10"}
    assert item["processedAt"] == {"S": "2025-01-01T01:02:03.456Z"}
    assert item["eventKey"] == {"S": f"0{MIN_TIMESTAMP_MS}#e"}  # 2000-01-01 has 12 digits
    assert enriched.key == ("u", f"0{MIN_TIMESTAMP_MS}#e")


def test_event_key_is_zero_padded_and_sorts_by_time() -> None:
    """GIVEN timestamps of different magnitude WHEN keyed THEN 13 digits, lexical = time order."""
    assert event_key(5, "x") == "0000000000005#x"
    timestamps = [MIN_TIMESTAMP_MS, 1_700_000_000_000, MAX_TIMESTAMP_MS - 1]
    keys = [event_key(ts, "a") for ts in reversed(timestamps)]
    assert sorted(keys) == [event_key(ts, "a") for ts in timestamps]


def test_derived_event_id_is_sha256_of_canonical_payload() -> None:
    """GIVEN canonical payload bytes WHEN an id is derived THEN it is 'sha256-' + hex digest."""
    canonical = json.dumps({"b": 1, "a": 2}, sort_keys=True, separators=(",", ":")).encode()

    assert derive_event_id(canonical) == "sha256-" + hashlib.sha256(canonical).hexdigest()


def test_item_size_counts_names_and_utf8_values() -> None:
    """GIVEN an item WHEN sized THEN UTF-8 bytes of names and strings, 21 per number, 1 per bool."""
    item = {"ab": {"S": "é"}, "n": {"N": "1"}, "b": {"BOOL": True}}

    assert item_size_bytes(item) == (2 + 2) + (1 + 21) + (1 + 1)


# --------------------------------------------------------------------------- errors / retry


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (client_error("ProvisionedThroughputExceededException", "X"), ErrorKind.RETRYABLE),
        (client_error("ThrottlingException", "X"), ErrorKind.RETRYABLE),
        (client_error("RequestLimitExceeded", "X"), ErrorKind.RETRYABLE),
        (client_error("InternalServerError", "X", status=500), ErrorKind.RETRYABLE),
        (client_error("ServiceUnavailable", "X", status=503), ErrorKind.RETRYABLE),
        (client_error("Unheard", "X", status=502), ErrorKind.RETRYABLE),
        (client_error("Unheard", "X", status=429), ErrorKind.RETRYABLE),
        (client_error("ValidationException", "X"), ErrorKind.INVALID_REQUEST),
        (client_error("AccessDeniedException", "X"), ErrorKind.FATAL),
        (client_error("ResourceNotFoundException", "X"), ErrorKind.FATAL),
        (client_error("ItemCollectionSizeLimitExceededException", "X"), ErrorKind.FATAL),
        (ReadTimeoutError(endpoint_url="https://x"), ErrorKind.RETRYABLE),
        (EndpointConnectionError(endpoint_url="https://x"), ErrorKind.RETRYABLE),
        (NoCredentialsError(), ErrorKind.FATAL),
        (ParamValidationError(report="bad"), ErrorKind.FATAL),
    ],
)
def test_error_classification(error: Exception, kind: ErrorKind) -> None:
    """GIVEN an SDK error WHEN classified THEN throttling/5xx/timeouts retry, validation is
    per-item permanent, everything else is fatal for the invocation."""
    assert classify_exception(error) is kind


def test_retry_delay_is_bounded_exponential_with_jitter() -> None:
    """GIVEN the default policy WHEN delays are computed THEN they double, stay within
    [ceiling/2, ceiling] and never exceed max_delay."""
    policy = RetryPolicy(base_delay=0.1, max_delay=1.0)

    assert [policy.delay(n, lambda: 0.0) for n in (1, 2, 3)] == pytest.approx([0.05, 0.1, 0.2])
    assert [policy.delay(n, lambda: 1.0) for n in (1, 2, 3)] == pytest.approx([0.1, 0.2, 0.4])
    assert policy.delay(10, lambda: 1.0) == pytest.approx(1.0)


# --------------------------------------------------------------------------- settings


def test_settings_defaults_and_consumer_name_fallbacks() -> None:
    """GIVEN only the required variables WHEN read THEN defaults apply; the consumer name falls
    back from the function name to the service name to a constant."""
    base = {"TABLE_NAME": " t ", "DLQ_URL": "q"}

    settings = Settings.from_env(base)
    assert (settings.table_name, settings.max_record_bytes) == ("t", KINESIS_MAX_RECORD_BYTES)
    assert settings.consumer_name == "stream_processor"
    assert Settings.from_env({**base, "POWERTOOLS_SERVICE_NAME": "svc"}).consumer_name == "svc"
    both = {**base, "POWERTOOLS_SERVICE_NAME": "svc", "AWS_LAMBDA_FUNCTION_NAME": "fn"}
    assert Settings.from_env(both).consumer_name == "fn"


def test_settings_error_names_missing_variables() -> None:
    """GIVEN an empty environment WHEN read THEN the error lists both required variables."""
    with pytest.raises(ConfigurationError, match="TABLE_NAME, DLQ_URL"):
        Settings.from_env({})


# --------------------------------------------------------------------------- processor


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
