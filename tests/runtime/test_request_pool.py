"""The bounded request pool: results in item order, at most ``max_workers`` calls at a time,
every call finished before an exception comes out. Completion orders are forced with events
(with a generous timeout, so a broken pool fails the test instead of hanging it); nothing
measures time."""

from __future__ import annotations

import threading

import pytest

from stream_pipeline.runtime.request_pool import MAX_CONCURRENT_REQUESTS, RequestPool

TIMEOUT = 10.0


class InFlight:
    """Counts the calls running at the same time."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self.now -= 1


def test_results_keep_the_item_order_when_calls_finish_in_reverse() -> None:
    """GIVEN five calls where each finishes only after the next one has finished
    WHEN they run on a pool of five
    THEN the results come back in item order, not in completion order.
    """
    done = [threading.Event() for _ in range(5)]
    finished: list[int] = []

    def call(index: int) -> str:
        if index + 1 < len(done):
            assert done[index + 1].wait(TIMEOUT)
        finished.append(index)
        done[index].set()
        return f"result-{index}"

    results = RequestPool(max_workers=5).map(call, range(5))

    assert finished == [4, 3, 2, 1, 0]
    assert results == [f"result-{index}" for index in range(5)]


def test_at_most_max_workers_calls_run_at_once() -> None:
    """GIVEN twelve calls that each wait until three of them are running together
    WHEN they run on a pool of three
    THEN they all complete (so three did overlap) and never more than three ran at once.
    """
    together = threading.Barrier(3, timeout=TIMEOUT)
    in_flight = InFlight()

    def call(index: int) -> int:
        with in_flight:
            together.wait()
        return index

    assert RequestPool(max_workers=3).map(call, range(12)) == list(range(12))
    assert in_flight.most == 3


def test_the_first_exception_in_item_order_comes_out_after_every_call_finished() -> None:
    """GIVEN calls 1 and 2 failing, call 2 first, and call 3 finishing last
    WHEN they run on the pool
    THEN call 1's error is raised (item order), and only once call 3 had finished.
    """
    two_failed, three_may_finish = threading.Event(), threading.Event()
    finished: list[int] = []

    def call(index: int) -> int:
        if index == 1:
            assert two_failed.wait(TIMEOUT)
            three_may_finish.set()
            raise ValueError("first in item order")
        if index == 2:
            two_failed.set()
            raise KeyError("first to fail")
        if index == 3:
            assert three_may_finish.wait(TIMEOUT)
        finished.append(index)
        return index

    with pytest.raises(ValueError, match="first in item order"):
        RequestPool(max_workers=4).map(call, range(4))

    assert sorted(finished) == [0, 3]


@pytest.mark.parametrize(("workers", "items"), [(4, 1), (1, 3)])
def test_a_single_request_or_a_pool_of_one_runs_on_the_calling_thread(
    workers: int, items: int
) -> None:
    """GIVEN one item, or a pool of one WHEN mapped THEN every call runs on the caller's thread,
    one after the other (no thread is started for nothing)."""
    caller = threading.current_thread()

    threads = RequestPool(max_workers=workers).map(
        lambda _: threading.current_thread(), range(items)
    )

    assert threads == [caller] * items


def test_the_pool_is_reused_across_calls_and_the_default_is_bounded() -> None:
    """GIVEN one pool WHEN mapped twice THEN the second call reuses the first call's threads
    (an execution environment starts them once); the default bound is documented and small."""
    pool = RequestPool(max_workers=2)
    first = set(pool.map(lambda _: threading.get_ident(), range(8)))
    second = set(pool.map(lambda _: threading.get_ident(), range(8)))

    assert len(first | second) <= 2
    assert 1 < MAX_CONCURRENT_REQUESTS <= 32


def test_a_pool_needs_at_least_one_worker() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RequestPool(max_workers=0)
