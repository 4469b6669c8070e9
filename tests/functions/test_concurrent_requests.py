"""The writer's BatchWriteItem requests and the publisher's SendMessageBatch requests run
concurrently on the request pool: they overlap (up to the pool's size), every request retries
on its own, and the outcome per item is the one sequential sending gives, whatever order the
requests finish in. Fake clients decide by a request's content; completion orders are shuffled
with short random waits. Nothing measures time."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from factories import client_error

from stream_pipeline.runtime.aws_errors import RetryPolicy
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, ErrorCategory
from stream_pipeline.runtime.dlq_publisher import DlqPublisher, PublishReport
from stream_pipeline.runtime.dynamodb_writer import DynamoBatchWriter, Item, ItemKey, WriteReport
from stream_pipeline.runtime.request_pool import RequestPool

TABLE = "retail-events-enriched"
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq"
TIMEOUT = 10.0
# With rand() == 0.5 the delay before retry n is 0.75 * min(2.0, 0.1 * 2 ** (n - 1)).
EXPECTED_SLEEPS = [0.075, 0.15, 0.3, 0.6]

Earlier = Callable[[str], int]
"""How many earlier requests held the item of this name."""
Behaviour = Callable[[list[str], Earlier], Any]
"""(the request's item names, ``earlier``) -> a response to return, or an exception to raise."""


class FakeClient:
    """Answers BatchWriteItem and SendMessageBatch with ``behaviour``; counts requests in
    flight; optionally waits a random moment (seeded) so that requests finish in any order, or
    until ``together`` parties are in flight."""

    def __init__(
        self,
        behaviour: Behaviour,
        *,
        shuffle_seed: int | None = None,
        together: threading.Barrier | None = None,
    ) -> None:
        self._behaviour = behaviour
        self._random = random.Random(shuffle_seed) if shuffle_seed is not None else None
        self._together = together
        self._lock = threading.Lock()
        self._seen: Counter[str] = Counter()
        self.in_flight = 0
        self.most_in_flight = 0
        self.requests: list[list[str]] = []

    def batch_write_item(self, RequestItems: dict[str, Any]) -> Any:
        (requests,) = RequestItems.values()
        names = [request["PutRequest"]["Item"]["eventKey"]["S"] for request in requests]
        return self._answer(names)

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> Any:
        """``behaviour`` returns the entries that fail: {name: SenderFault}."""
        ids = {DlqEnvelope.parse(e["MessageBody"]).sequence_number: e["Id"] for e in Entries}
        failed: dict[str, bool] = self._answer(list(ids)) or {}
        return {
            "Successful": [{"Id": ids[name]} for name in ids if name not in failed],
            "Failed": [
                {"Id": ids[name], "SenderFault": fault, "Code": "Injected", "Message": "x"}
                for name, fault in failed.items()
                if name in ids
            ],
        }

    def _answer(self, names: list[str]) -> Any:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.requests.append(names)
            seen_before = Counter(self._seen)
            self._seen.update(names)
            pause = self._random.uniform(0, 0.003) if self._random else 0.0
        try:
            if self._together is not None:
                self._together.wait()
            time.sleep(pause)
            outcome = self._behaviour(names, seen_before.__getitem__)
        finally:
            with self._lock:
                self.in_flight -= 1
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class Sleeps:
    """The injected sleep: records the delays (from any thread) without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, delay: float) -> None:
        with self._lock:
            self.delays.append(delay)


KEY = ("userId", "eventKey")


def _items(count: int) -> dict[ItemKey, Item]:
    return {
        ("user", f"k{n:03}"): {"userId": {"S": "user"}, "eventKey": {"S": f"k{n:03}"}}
        for n in range(count)
    }


def _writer(client: FakeClient, pool: RequestPool, sleep: Sleeps) -> DynamoBatchWriter:
    return DynamoBatchWriter(
        client,
        TABLE,
        key_attributes=KEY,
        policy=RetryPolicy(),
        sleep=sleep,
        rand=lambda: 0.5,
        pool=pool,
    )


def _unprocessed(names: list[str]) -> dict[str, Any]:
    return {
        "UnprocessedItems": {
            TABLE: [
                {"PutRequest": {"Item": {"userId": {"S": "user"}, "eventKey": {"S": name}}}}
                for name in names
            ]
        }
    }


def _mixed_dynamodb(names: list[str], earlier: Earlier) -> Any:
    """Every failure path at once, by item name: k003 and k030 come back unprocessed once,
    k031 always; the request starting at k050 is throttled twice; a request holding k080 is a
    ValidationException (k080 is rejected, the rest of its request bisected and stored); the
    request starting at k100 is denied."""
    if names[0] == "k050" and earlier("k050") < 2:
        return client_error("ProvisionedThroughputExceededException", "BatchWriteItem")
    if "k080" in names:
        return client_error("ValidationException", "BatchWriteItem")
    if names[0] == "k100":
        return client_error("AccessDeniedException", "BatchWriteItem")
    held = [n for n in names if n == "k031" or (n in ("k003", "k030") and earlier(n) == 0)]
    return _unprocessed(held)


def _write(seed: int | None, workers: int) -> tuple[WriteReport, list[float], FakeClient]:
    client = FakeClient(_mixed_dynamodb, shuffle_seed=seed)
    sleeps = Sleeps()
    report = _writer(client, RequestPool(max_workers=workers), sleeps).write(_items(120))
    return report, sorted(sleeps.delays), client


# --------------------------------------------------------------------------- DynamoDB writes


def test_write_requests_overlap_up_to_the_pool_size() -> None:
    """GIVEN 200 items (8 requests of 25) and a table that answers a request only once 4 are in
    flight together
    WHEN written with a pool of 4
    THEN every item is stored, and 4 requests -- never more -- were in flight at once.
    """
    client = FakeClient(lambda names, earlier: {}, together=threading.Barrier(4, timeout=TIMEOUT))

    report = _writer(client, RequestPool(max_workers=4), Sleeps()).write(_items(200))

    assert report.failures == {}
    assert (report.requests, report.retry_requests) == (8, 0)
    assert client.most_in_flight == 4


@pytest.mark.parametrize("seed", range(5))
def test_write_outcomes_equal_sequential_ones_whatever_the_completion_order(seed: int) -> None:
    """GIVEN 120 items (5 requests) hitting unprocessed items, throttling, a rejected item and
    an access-denied request, and requests that finish in a random order
    WHEN written with a pool of 8 and, for reference, one request at a time
    THEN both report the same failures, request and retry counts and backoff sleeps -- the
    outcome per item does not depend on the completion order.
    """
    sequential = _write(None, workers=1)
    concurrent = _write(seed, workers=8)

    report, sleeps, _ = concurrent
    assert report.failures == sequential[0].failures
    assert (report.requests, report.retry_requests) == (
        sequential[0].requests,
        sequential[0].retry_requests,
    )
    assert sleeps == sequential[1]
    # and the outcome itself: k031 never stored (transient), k080 rejected (permanent),
    # the denied request's 20 items not stored; everything else stored
    assert {key[1]: failure.rejected for key, failure in report.failures.items()} == {
        "k031": False,
        "k080": True,
        **{f"k{n}": False for n in range(100, 120)},
    }
    assert "returned in UnprocessedItems" in report.failures[("user", "k031")].reason
    # 5 first requests; retries: k003 once, k030 + k031 then k031 4 times, k050's request
    # twice; bisecting k080's request (25 -> 12 -> 6 -> 3 -> 2 -> 1, and the other halves):
    # 10 more
    assert (report.requests, report.retry_requests) == (5 + 1 + 4 + 2 + 10, 1 + 4 + 2)
    # sleeps per request: k003's 1, k031's 4, k050's 2
    assert sleeps == pytest.approx(
        sorted([*EXPECTED_SLEEPS[:1], *EXPECTED_SLEEPS, *EXPECTED_SLEEPS[:2]])
    )


def test_a_request_retries_while_another_backs_off() -> None:
    """GIVEN two requests: A (k000...) throttled until its third attempt, B (k025...) throttled
    once; A's first backoff sleep lasts until B's retry has been answered
    WHEN written concurrently
    THEN everything is stored: B retried during A's backoff (retries are per request, not in
    rounds that wait for every request), A slept twice and B once.
    """
    b_retried = threading.Event()
    a_thread: list[threading.Thread] = []

    def behaviour(names: list[str], earlier: Earlier) -> Any:
        if names[0] == "k000":
            a_thread[:] = [threading.current_thread()]
            if earlier("k000") < 2:
                return client_error("ThrottlingException", "BatchWriteItem")
        elif earlier("k025") == 0:
            return client_error("ThrottlingException", "BatchWriteItem")
        else:
            b_retried.set()
        return {}

    sleeps = Sleeps()
    a_slept: list[float] = []

    def sleep(delay: float) -> None:
        if a_thread == [threading.current_thread()]:
            if not a_slept:
                assert b_retried.wait(TIMEOUT), "B's retry waited for A's backoff"
            a_slept.append(delay)
        sleeps(delay)

    report = DynamoBatchWriter(
        FakeClient(behaviour),
        TABLE,
        key_attributes=KEY,
        policy=RetryPolicy(),
        sleep=sleep,
        rand=lambda: 0.5,
        pool=RequestPool(max_workers=2),
    ).write(_items(50))

    assert report.failures == {}
    assert (report.requests, report.retry_requests) == (5, 3)
    assert a_slept == pytest.approx([0.075, 0.15])
    assert sorted(sleeps.delays) == pytest.approx([0.075, 0.075, 0.15])


# --------------------------------------------------------------------------- DLQ sends


def _envelopes(count: int) -> list[DlqEnvelope]:
    return [
        DlqEnvelope.create(
            event_source="aws:kinesis",
            event_source_arn="arn:aws:kinesis:eu-west-1:123456789012:stream/retail-events",
            event_id=f"e{n}",
            shard_id="shardId-000000000000",
            sequence_number=f"s{n:03}",
            error_category=ErrorCategory.INVALID_JSON,
            error_reason="not JSON",
            consumer="stream-processor",
            payload=b"{oops",
            failed_at=datetime(2025, 1, 31, tzinfo=UTC),
        )
        for n in range(count)
    ]


def _mixed_sqs(names: list[str], earlier: Earlier) -> Any:
    """s005 fails transiently once, s015 always (SenderFault false), s025 with SenderFault; the
    request starting at s030 is unavailable on every attempt."""
    if names[0] == "s030":
        return client_error("ServiceUnavailable", "SendMessageBatch", status=503)
    failed = {"s015": False, "s025": True}
    if earlier("s005") == 0:
        failed["s005"] = False
    return failed


def _publish(seed: int | None, workers: int) -> tuple[PublishReport, list[float], FakeClient]:
    client = FakeClient(_mixed_sqs, shuffle_seed=seed)
    sleeps = Sleeps()
    publisher = DlqPublisher(
        client,
        QUEUE_URL,
        policy=RetryPolicy(max_attempts=3),
        sleep=sleeps,
        rand=lambda: 0.5,
        pool=RequestPool(max_workers=workers),
    )
    return publisher.publish(_envelopes(40)), sorted(sleeps.delays), client


def test_dlq_requests_overlap_up_to_the_pool_size() -> None:
    """GIVEN 60 envelopes (6 requests of 10) and a queue that answers a request only once 3 are
    in flight together
    WHEN published with a pool of 3
    THEN every envelope is accepted, and 3 requests -- never more -- were in flight at once.
    """
    client = FakeClient(lambda names, earlier: None, together=threading.Barrier(3, timeout=TIMEOUT))
    publisher = DlqPublisher(
        client,
        QUEUE_URL,
        policy=RetryPolicy(max_attempts=3),
        sleep=Sleeps(),
        rand=lambda: 0.5,
        pool=RequestPool(max_workers=3),
    )

    report = publisher.publish(_envelopes(60))

    assert report.failures == {}
    assert report.requests == 6
    assert client.most_in_flight == 3


@pytest.mark.parametrize("seed", range(5))
def test_dlq_outcomes_equal_sequential_ones_whatever_the_completion_order(seed: int) -> None:
    """GIVEN 40 envelopes (4 requests) with a transient entry failure, a lasting one, a sender
    fault and a request the queue never accepts, finishing in a random order
    WHEN published with a pool of 8 and, for reference, one request at a time
    THEN both report the same failures per envelope, requests, retries and sleeps; the failed
    envelopes are exactly the lasting, sender-fault and unavailable ones (their records will be
    batch item failures), the transient one was retried and sent.
    """
    sequential = _publish(None, workers=1)
    report, sleeps, _ = _publish(seed, workers=8)

    assert report.failures == sequential[0].failures
    assert (report.requests, report.retry_requests) == (
        sequential[0].requests,
        sequential[0].retry_requests,
    )
    assert sleeps == sequential[1]
    assert sorted(report.failures) == [15, 25, *range(30, 40)]
    assert "ServiceUnavailable" in report.failures[30]
    # s005 retried once, s015 twice, s030's request twice (3 attempts each at most)
    assert (report.requests, report.retry_requests) == (4 + 1 + 2 + 2, 1 + 2 + 2)
    assert sleeps == pytest.approx([0.075, 0.075, 0.075, 0.15, 0.15])
