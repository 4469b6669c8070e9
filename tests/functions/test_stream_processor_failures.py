"""Stream processor failure paths: throttling, UnprocessedItems, rejected items, DLQ failures.

DynamoDB/SQS errors are injected with a proxy in front of the moto client (``Intercepted``), so
the successful part of a request really lands in moto. The requests of a batch run concurrently:
a handler decides by a request's content, or counts calls only where the batch is one request.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from factories import (
    Intercepted,
    always_raise,
    client_error,
    dynamodb_event,
    dynamodb_record,
    kinesis_event_of,
    retail_event,
    sequence_numbers,
    written_user_ids,
)
from stream_harness import Aws, Harness, emf_metrics

from stream_pipeline.runtime.aws_errors import RetryPolicy
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, ErrorCategory

# With rand() == 0.5 the delay before retry n is 0.75 * min(2.0, 0.1 * 2 ** (n - 1)).
EXPECTED_WRITE_SLEEPS = [0.075, 0.15, 0.3, 0.6]


def _pass_through_except(
    users: set[str], *, times: int | None = None
) -> tuple[Any, list[list[str]]]:
    """BatchWriteItem handler: items of ``users`` come back in UnprocessedItems (for the first
    ``times`` calls, or always); everything else is really written to moto."""
    seen: list[list[str]] = []

    def handler(real: Any, **params: Any) -> Any:
        seen.append(written_user_ids(params))
        ((table, requests),) = params["RequestItems"].items()
        hold_back = times is None or len(seen) <= times
        held = [
            r for r in requests if hold_back and r["PutRequest"]["Item"]["userId"]["S"] in users
        ]
        passed = [r for r in requests if r not in held]
        if passed:
            real(RequestItems={table: passed})
        return {"UnprocessedItems": {table: held} if held else {}}

    return handler, seen


# --------------------------------------------------------------------------- DynamoDB throttling


def test_throttled_request_reports_only_its_records(harness: Harness, aws: Aws) -> None:
    """GIVEN 30 valid records (requests of 25 + 5) and a table that throttles the request of the
    last 5 on every attempt
    WHEN the batch is processed
    THEN exactly those 5 records are batch item failures, after 4 backoff sleeps of their own
    request, and the other request's 25 are stored.
    """
    throttled = {f"u{n}" for n in range(25, 30)}
    sizes: list[int] = []

    def handler(real: Any, **params: Any) -> Any:
        users = written_user_ids(params)
        sizes.append(len(users))
        if throttled & set(users):
            raise client_error("ProvisionedThroughputExceededException", "BatchWriteItem")
        return real(**params)

    harness.configure(dynamodb=Intercepted(aws.dynamodb, batch_write_item=handler))
    event = kinesis_event_of(retail_event(userId=f"u{n}") for n in range(30))

    failed = harness.failed_sequence_numbers(event)

    assert failed == sequence_numbers(event)[25:]
    # the two requests run concurrently: their order is not fixed
    assert sorted(sizes) == [5, 5, 5, 5, 5, 25]
    assert harness.sleeps == pytest.approx(EXPECTED_WRITE_SLEEPS)
    assert len(aws.items()) == 25
    assert aws.dlq_bodies() == []


def test_whole_batch_throttled_reports_every_record_without_raising(
    harness: Harness, aws: Aws
) -> None:
    """GIVEN a table that throttles every request
    WHEN a batch is processed
    THEN every record is reported (a partial batch response, not an exception) and none is
    dead-lettered.
    """
    throttled = Intercepted(
        aws.dynamodb,
        batch_write_item=always_raise(client_error("ThrottlingException", "BatchWriteItem")),
    )
    harness.configure(dynamodb=throttled)
    event = kinesis_event_of(retail_event(userId=f"u{n}") for n in range(3))

    failed = harness.failed_sequence_numbers(event)

    assert failed == sequence_numbers(event)
    assert len(throttled.calls) == 5
    assert aws.items() == []
    assert aws.dlq_bodies() == []


@pytest.mark.parametrize(
    "error",
    [
        client_error("InternalServerError", "BatchWriteItem", status=500),
        client_error("SomethingNew", "BatchWriteItem", status=503),
        client_error("RequestLimitExceeded", "BatchWriteItem"),
        ReadTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com"),
    ],
    ids=["500", "503-unknown-code", "request-limit", "read-timeout"],
)
def test_transient_error_then_success_stores_everything(
    harness: Harness, aws: Aws, error: Exception
) -> None:
    """GIVEN a transient failure (5xx, limit, timeout) on the first BatchWriteItem only
    WHEN the batch is processed
    THEN the retry stores every item and nothing is reported.
    """
    calls = []

    def flaky(real: Any, **params: Any) -> Any:
        calls.append(params)
        if len(calls) == 1:
            raise error
        return real(**params)

    harness.configure(dynamodb=Intercepted(aws.dynamodb, batch_write_item=flaky))

    response = harness.invoke(kinesis_event_of([retail_event(), retail_event()]))

    assert response == {"batchItemFailures": []}
    assert len(aws.items()) == 2
    assert harness.sleeps == pytest.approx(EXPECTED_WRITE_SLEEPS[:1])


def test_non_retryable_error_reports_records_without_retrying(harness: Harness, aws: Aws) -> None:
    """GIVEN a deployment error (AccessDenied on the table)
    WHEN a batch is processed
    THEN records are reported for retry immediately (no backoff) and NOT dead-lettered: they stay
    in the stream until the deployment is fixed.
    """
    denied = Intercepted(
        aws.dynamodb,
        batch_write_item=always_raise(client_error("AccessDeniedException", "BatchWriteItem")),
    )
    harness.configure(dynamodb=denied)
    event = kinesis_event_of([retail_event(), retail_event()])

    assert harness.failed_sequence_numbers(event) == sequence_numbers(event)
    assert len(denied.calls) == 1
    assert harness.sleeps == []
    assert aws.dlq_bodies() == []


# --------------------------------------------------------------------------- UnprocessedItems


def test_unprocessed_items_that_clear_after_a_retry_succeed(
    harness: Harness, aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN BatchWriteItem returning two records' items as UnprocessedItems once
    WHEN the batch is processed
    THEN only those items are re-sent after one backoff, everything is stored, nothing reported.
    """
    handler, seen = _pass_through_except({"hot-1", "hot-2"}, times=1)
    harness.configure(dynamodb=Intercepted(aws.dynamodb, batch_write_item=handler))
    users = ["a", "hot-1", "b", "hot-2", "c"]

    response = harness.invoke(kinesis_event_of(retail_event(userId=u) for u in users))

    assert response == {"batchItemFailures": []}
    assert sorted(item["userId"] for item in aws.items()) == sorted(users)
    assert seen == [users, ["hot-1", "hot-2"]]
    assert harness.sleeps == pytest.approx(EXPECTED_WRITE_SLEEPS[:1])
    assert emf_metrics(capsys.readouterr().out)["BatchWriteRetries"][0][0] == 1


def test_unprocessed_items_that_never_clear_report_only_those_records(
    harness: Harness, aws: Aws
) -> None:
    """GIVEN a hot partition: one user's items always come back unprocessed
    WHEN the batch is processed
    THEN after the bounded attempts only that user's records are reported, the rest are stored.
    """
    handler, seen = _pass_through_except({"hot"})
    harness.configure(dynamodb=Intercepted(aws.dynamodb, batch_write_item=handler))
    users = ["a", "hot", "b", "hot"]
    event = kinesis_event_of(retail_event(userId=u) for u in users)

    failed = harness.failed_sequence_numbers(event)

    numbers = sequence_numbers(event)
    assert failed == [numbers[1], numbers[3]]
    assert sorted(item["userId"] for item in aws.items()) == ["a", "b"]
    assert len(seen) == 5
    assert harness.sleeps == pytest.approx(EXPECTED_WRITE_SLEEPS)


def test_retry_attempts_are_configurable(harness: Harness, aws: Aws) -> None:
    """GIVEN a write policy of 2 attempts and items that never clear
    WHEN the batch is processed
    THEN exactly 2 requests and 1 sleep happen before the record is reported.
    """
    handler, seen = _pass_through_except({"hot"})
    harness.configure(
        dynamodb=Intercepted(aws.dynamodb, batch_write_item=handler),
        write_policy=RetryPolicy(max_attempts=2),
    )
    event = kinesis_event_of([retail_event(userId="hot")])

    assert harness.failed_sequence_numbers(event) == sequence_numbers(event)
    assert len(seen) == 2
    assert len(harness.sleeps) == 1


def test_requests_hold_at_most_25_items(harness: Harness, aws: Aws) -> None:
    """GIVEN 60 valid records WHEN processed THEN requests of 25, 25 and 10 items are sent."""
    handler, seen = _pass_through_except(set())
    harness.configure(dynamodb=Intercepted(aws.dynamodb, batch_write_item=handler))

    harness.invoke(kinesis_event_of(retail_event(userId=f"u{n}") for n in range(60)))

    assert sorted(len(users) for users in seen) == [10, 25, 25]  # concurrent: any order
    assert len(aws.items()) == 60


# --------------------------------------------------------------------------- rejected items


def _reject_user(user: str) -> tuple[Any, list[list[str]]]:
    seen: list[list[str]] = []

    def handler(real: Any, **params: Any) -> Any:
        seen.append(written_user_ids(params))
        if user in seen[-1]:
            raise client_error(
                "ValidationException",
                "BatchWriteItem",
                message="Item size has exceeded the maximum allowed size",
            )
        return real(**params)

    return handler, seen


def test_validation_exception_isolates_and_dead_letters_the_single_item(
    harness: Harness, aws: Aws
) -> None:
    """GIVEN a request DynamoDB rejects with ValidationException because of one item
    WHEN the batch is processed
    THEN the request is bisected, the offending record goes to the DLQ as WRITE_REJECTED with its
    bytes, the other 7 are stored, and nothing is reported for retry or slept on.
    """
    handler, seen = _reject_user("poison")
    harness.configure(dynamodb=Intercepted(aws.dynamodb, batch_write_item=handler))
    users = ["a", "b", "c", "poison", "d", "e", "f", "g"]
    event = kinesis_event_of(retail_event(userId=u) for u in users)

    assert harness.invoke(event) == {"batchItemFailures": []}

    assert sorted(item["userId"] for item in aws.items()) == sorted(set(users) - {"poison"})
    (envelope,) = aws.dlq_envelopes()
    assert envelope.error_category is ErrorCategory.WRITE_REJECTED
    assert "ValidationException" in envelope.error_reason
    assert envelope.sequence_number == sequence_numbers(event)[3]
    assert json.loads(envelope.original_bytes())["userId"] == "poison"
    # depth first: 8 -> [a b c poison] -> [a b] ok, [c poison] -> [c] ok, [poison]; [d e f g] ok
    assert seen[1:] == [
        ["a", "b", "c", "poison"],
        ["a", "b"],
        ["c", "poison"],
        ["c"],
        ["poison"],
        ["d", "e", "f", "g"],
    ]
    assert harness.sleeps == []


def test_rejected_item_whose_dlq_send_fails_is_reported(harness: Harness, aws: Aws) -> None:
    """GIVEN an item DynamoDB rejects AND a DLQ that is down
    WHEN the batch is processed
    THEN the record is reported for retry: it is never dropped.
    """
    handler, _ = _reject_user("poison")
    down = Intercepted(
        aws.sqs,
        send_message_batch=always_raise(
            client_error("ServiceUnavailable", "SendMessageBatch", status=503)
        ),
    )
    harness.configure(dynamodb=Intercepted(aws.dynamodb, batch_write_item=handler), sqs=down)
    event = kinesis_event_of([retail_event(userId="ok"), retail_event(userId="poison")])

    assert harness.failed_sequence_numbers(event) == [sequence_numbers(event)[1]]
    assert [item["userId"] for item in aws.items()] == ["ok"]


# --------------------------------------------------------------------------- DLQ failures


def test_dlq_unavailable_reports_dead_letters_for_retry(harness: Harness, aws: Aws) -> None:
    """GIVEN a DLQ that answers 503 to every SendMessageBatch
    WHEN a batch with valid and invalid records is processed
    THEN valid records are stored and only the invalid ones are reported, after bounded retries.
    """
    down = Intercepted(
        aws.sqs,
        send_message_batch=always_raise(
            client_error(
                "AWS.SimpleQueueService.ServiceUnavailable", "SendMessageBatch", status=503
            )
        ),
    )
    harness.configure(sqs=down)
    event = kinesis_event_of([retail_event(userId="ok"), b"{broken", [1]])

    failed = harness.failed_sequence_numbers(event)

    assert failed == sequence_numbers(event)[1:]
    assert [item["userId"] for item in aws.items()] == ["ok"]
    assert len(down.calls) == 3
    assert len(harness.sleeps) == 2


def test_dlq_access_denied_reports_without_retry(harness: Harness, aws: Aws) -> None:
    """GIVEN a DLQ the function may not write to
    WHEN an invalid record is processed
    THEN it is reported at once (no backoff) rather than dropped.
    """
    denied = Intercepted(
        aws.sqs,
        send_message_batch=always_raise(
            client_error("AccessDenied", "SendMessageBatch", status=403)
        ),
    )
    harness.configure(sqs=denied)
    event = kinesis_event_of([b"nope"])

    assert harness.failed_sequence_numbers(event) == sequence_numbers(event)
    assert len(denied.calls) == 1
    assert harness.sleeps == []


def _fail_entries_for(
    target_sequence_numbers: set[str], *, sender_fault: bool, times: int | None = None
) -> tuple[Any, list[list[str]]]:
    """SendMessageBatch handler: entries whose envelope points at one of the targets come back
    in ``Failed`` (for the first ``times`` calls, or always); the rest reach moto."""
    seen: list[list[str]] = []

    def handler(real: Any, **params: Any) -> Any:
        entries = params["Entries"]
        seen.append([DlqEnvelope.parse(e["MessageBody"]).sequence_number for e in entries])
        active = times is None or len(seen) <= times
        failing = [
            e
            for e in entries
            if active
            and DlqEnvelope.parse(e["MessageBody"]).sequence_number in target_sequence_numbers
        ]
        passing = [e for e in entries if e not in failing]
        successful = (
            real(QueueUrl=params["QueueUrl"], Entries=passing)["Successful"] if passing else []
        )
        return {
            "Successful": successful,
            "Failed": [
                {"Id": e["Id"], "SenderFault": sender_fault, "Code": "Injected", "Message": "x"}
                for e in failing
            ],
        }

    return handler, seen


def test_dlq_entry_failed_by_sender_fault_is_reported_without_retry(
    harness: Harness, aws: Aws
) -> None:
    """GIVEN SendMessageBatch failing one entry with SenderFault=true
    WHEN two invalid records are dead-lettered
    THEN the failed one is reported (not retried in-process), the other is in the DLQ.
    """
    event = kinesis_event_of([b"bad-1", b"bad-2"])
    victim = sequence_numbers(event)[0]
    handler, seen = _fail_entries_for({victim}, sender_fault=True)
    harness.configure(sqs=Intercepted(aws.sqs, send_message_batch=handler))

    assert harness.failed_sequence_numbers(event) == [victim]
    assert [envelope.sequence_number for envelope in aws.dlq_envelopes()] == [
        sequence_numbers(event)[1]
    ]
    assert len(seen) == 1


def test_dlq_entry_failed_transiently_is_retried_and_delivered(harness: Harness, aws: Aws) -> None:
    """GIVEN SendMessageBatch failing one entry with SenderFault=false once
    WHEN invalid records are dead-lettered
    THEN only that entry is re-sent after a backoff and both envelopes end in the DLQ.
    """
    event = kinesis_event_of([b"bad-1", b"bad-2"])
    victim = sequence_numbers(event)[1]
    handler, seen = _fail_entries_for({victim}, sender_fault=False, times=1)
    harness.configure(sqs=Intercepted(aws.sqs, send_message_batch=handler))

    assert harness.invoke(event) == {"batchItemFailures": []}
    assert sorted(e.sequence_number for e in aws.dlq_envelopes()) == sorted(sequence_numbers(event))
    assert seen == [sequence_numbers(event), [victim]]
    assert len(harness.sleeps) == 1


def test_dlq_entry_missing_from_response_is_not_assumed_sent(harness: Harness, aws: Aws) -> None:
    """GIVEN a SendMessageBatch response that lists an entry neither as successful nor failed
    WHEN dead-lettering
    THEN that entry is retried (never assumed delivered).
    """
    calls: list[int] = []

    def handler(real: Any, **params: Any) -> Any:
        calls.append(len(params["Entries"]))
        response = real(**params)
        if len(calls) == 1:
            return {"Successful": response["Successful"][1:], "Failed": []}
        return response

    harness.configure(sqs=Intercepted(aws.sqs, send_message_batch=handler))

    assert harness.invoke(kinesis_event_of([b"bad-1", b"bad-2"])) == {"batchItemFailures": []}
    assert calls == [2, 1]


def test_dlq_requests_respect_entry_count_and_total_size(harness: Harness, aws: Aws) -> None:
    """GIVEN 25 small and 3 large (~130 KiB envelope) invalid records
    WHEN dead-lettered
    THEN requests hold at most 10 entries and at most 256 KiB of bodies, and all 28 arrive.
    """
    request_sizes: list[tuple[int, int]] = []

    def handler(real: Any, **params: Any) -> Any:
        entries = params["Entries"]
        request_sizes.append((len(entries), sum(len(e["MessageBody"]) for e in entries)))
        return real(**params)

    harness.configure(sqs=Intercepted(aws.sqs, send_message_batch=handler))
    payloads: list[bytes] = [b"x"] * 25 + [b"[" + b"1," * 50_000 + b"1]"] * 3

    assert harness.invoke(kinesis_event_of(payloads)) == {"batchItemFailures": []}

    assert all(count <= 10 and size <= 256 * 1024 for count, size in request_sizes)
    # greedy, in order: the first large envelope still fits next to the last 5 small ones (the
    # requests run concurrently: they may arrive in any order)
    assert sorted(count for count, _ in request_sizes) == [1, 1, 6, 10, 10]
    assert len(aws.dlq_bodies()) == 28


def test_dynamodb_stream_failures_are_reported_by_stream_sequence_number(
    harness: Harness, aws: Aws
) -> None:
    """GIVEN a DynamoDB stream batch whose second record cannot be stored (hot partition)
    WHEN processed
    THEN the failure is reported with that record's dynamodb.SequenceNumber.
    """
    handler, _ = _pass_through_except({"hot"})
    harness.configure(dynamodb=Intercepted(aws.dynamodb, batch_write_item=handler))
    records = [dynamodb_record(retail_event(userId=user)) for user in ("cold", "hot")]

    failed = harness.failed_sequence_numbers(dynamodb_event(*records))

    assert failed == [records[1]["dynamodb"]["SequenceNumber"]]
    assert [item["userId"] for item in aws.items()] == ["cold"]


def test_dlq_request_that_stays_down_reports_only_its_records(harness: Harness, aws: Aws) -> None:
    """GIVEN 25 invalid records (SendMessageBatch requests of 10, 10 and 5, sent concurrently)
    and a queue that refuses the request holding the 11th to the 20th on every attempt
    WHEN the batch is processed
    THEN exactly those 10 records are batch item failures, the other 15 are in the DLQ.
    """
    event = kinesis_event_of([f"bad-{n}".encode() for n in range(25)])
    refused = set(sequence_numbers(event)[10:20])

    def handler(real: Any, **params: Any) -> Any:
        numbers = {DlqEnvelope.parse(e["MessageBody"]).sequence_number for e in params["Entries"]}
        if numbers & refused:
            raise client_error("ServiceUnavailable", "SendMessageBatch", status=503)
        return real(**params)

    sqs = Intercepted(aws.sqs, send_message_batch=handler)
    harness.configure(sqs=sqs)

    assert harness.failed_sequence_numbers(event) == sequence_numbers(event)[10:20]
    assert sorted(e.sequence_number for e in aws.dlq_envelopes()) == sorted(
        set(sequence_numbers(event)) - refused
    )
    assert len(sqs.calls) == 2 + 3  # the refused request: 3 attempts
