"""A bounded pool of threads for the independent AWS requests of one batch.

Lambda bills wall time, and a batch's BatchWriteItem or SendMessageBatch requests are
independent of each other: each carries its own items and does its own retries and backoff.
Waiting for them one after another only adds round trips, so they run on a few threads (the
waiting releases the GIL; botocore clients are thread-safe, one client is shared).

One pool per process, created on first use and reused by every later invocation of the
execution environment (threads are started once, not per batch). A function run by the pool
must not call :meth:`RequestPool.map` on the same pool: it would wait for threads that are all
busy waiting for it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Final

MAX_CONCURRENT_REQUESTS: Final = 16
"""Requests of one batch in flight at most. 1,000 records take 40 BatchWriteItem requests:
three waves of 16. botocore's connection pool must hold as many connections
(``SDK_CONFIG.max_pool_connections``), or the extra threads would wait for a connection."""


class RequestPool:
    def __init__(self, max_workers: int = MAX_CONCURRENT_REQUESTS) -> None:
        if max_workers < 1:
            msg = f"max_workers must be at least 1, got {max_workers}"
            raise ValueError(msg)
        self.max_workers = max_workers
        self._executor: ThreadPoolExecutor | None = None
        self._owner_pid = 0
        self._lock = threading.Lock()

    def map[T, R](self, function: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``function(item)`` for every item, at most ``max_workers`` at a time; the results in
        the order of ``items``, whatever order the calls finish in.

        Every call has finished when this returns, also when one raised: the first exception
        (in the order of ``items``) is raised then, never while other requests are in flight.
        """
        if len(items) <= 1 or self.max_workers == 1:
            return [function(item) for item in items]  # no thread hop for a single request
        futures = [self._pool().submit(function, item) for item in items]
        wait(futures)
        return [future.result() for future in futures]

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            # A forked child inherits the executor but not its threads: it needs its own.
            if self._executor is None or self._owner_pid != os.getpid():
                self._executor = ThreadPoolExecutor(
                    max_workers=self.max_workers, thread_name_prefix="aws-request"
                )
                self._owner_pid = os.getpid()
            return self._executor


SHARED_POOL: Final = RequestPool()
"""The pool of the process: the functions' writers and publishers use it unless given one."""
