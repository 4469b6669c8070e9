"""Asynchronous invocation: SNS -> Lambda subscriptions and ``lambda:Invoke`` with type Event.

Each event is queued and run by a small pool of threads. On a function error Lambda "attempts to
run it two more times" (``MaximumRetryAttempts`` of the function's event invoke config, 0..2),
with a pause between attempts (one then two minutes on AWS; ``--async-retry-delay`` seconds,
then twice that, here), and gives up on events older than ``MaximumEventAgeInSeconds``. When it
gives up it sends an invocation record (condition ``RetriesExhausted`` / ``EventAgeExceeded``)
to the ``OnFailure`` destination; a success goes to ``OnSuccess`` when one is configured.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from stream_pipeline.local.runtime import destinations, events
from stream_pipeline.local.runtime.hub import SnsDelivery
from stream_pipeline.local.runtime.invoker import Invocation, Invoker
from stream_pipeline.local.runtime.model import AsyncConfig, unqualified
from stream_pipeline.local.runtime.stats import Stats

LOG = logging.getLogger("local_runtime.async")

RETRIES_EXHAUSTED: Final = "RetriesExhausted"
EVENT_AGE_EXCEEDED: Final = "EventAgeExceeded"
SUCCESS: Final = "Success"


class AsyncInvoker:
    def __init__(
        self,
        invoker: Invoker,
        clients: destinations.Clients,
        stats: Stats,
        config_for: Callable[[str], AsyncConfig],
        *,
        retry_delay: float,
        function_wait: float,
        threads: int = 8,
    ) -> None:
        self._invoker = invoker
        self._clients = clients
        self._stats = stats
        self._config_for = config_for
        self._retry_delay = retry_delay
        self._function_wait = function_wait
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="async")
        self._pending = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    def submit_sns(self, delivery: SnsDelivery) -> None:
        event = events.sns_event(
            subscription_arn=delivery.subscription_arn,
            topic_arn=delivery.topic_arn,
            message_id=delivery.message_id,
            message=delivery.message,
            subject=delivery.subject,
            message_attributes=delivery.message_attributes,
            timestamp=delivery.timestamp,
            region=delivery.region,
        )
        self._stats.count("sns_notifications", function=delivery.function_arn.split(":")[6])
        self.submit(
            delivery.function_arn,
            event,
            batch_key=delivery.message_id,
            enqueued_at=delivery.enqueued_at,
        )

    def submit(
        self,
        function_arn: str,
        event: Any,
        *,
        batch_key: str | None = None,
        enqueued_at: float | None = None,
    ) -> None:
        with self._lock:
            if self._stopped.is_set():
                LOG.warning("runtime stopping: asynchronous event for %s dropped", function_arn)
                return
            self._pending += 1
        self._pool.submit(
            self._run, unqualified(function_arn), event, batch_key, enqueued_at or time.time()
        )

    def stop(self) -> None:
        self._stopped.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, function_arn: str, event: Any, batch_key: str | None, enqueued: float) -> None:
        try:
            self._deliver(function_arn, event, batch_key, enqueued)
        except Exception:
            LOG.exception("asynchronous invocation of %s failed", function_arn)
            self._stats.count("runtime_errors")
        finally:
            with self._lock:
                self._pending -= 1

    def _deliver(
        self, function_arn: str, event: Any, batch_key: str | None, enqueued: float
    ) -> None:
        self._invoker.wait_for_function(function_arn, self._function_wait)
        name = function_arn.split(":")[6]
        config = self._config_for(function_arn)
        attempts = 0
        last: Invocation | None = None
        while not self._stopped.is_set():
            if time.time() - enqueued > config.maximum_event_age:
                self._finish(function_arn, config, EVENT_AGE_EXCEEDED, attempts, event, last)
                return
            last = self._invoker.invoke(function_arn, event, batch_key=batch_key)
            attempts += 1
            self._stats.count("async_invocations", function=name)
            if last.ok:
                if config.on_success:
                    self._finish(function_arn, config, SUCCESS, attempts, event, last)
                return
            if attempts > config.maximum_retry_attempts:
                self._finish(function_arn, config, RETRIES_EXHAUSTED, attempts, event, last)
                return
            self._stats.count("async_retries", function=name)
            self._stopped.wait(self._retry_delay * attempts)
            config = self._config_for(function_arn)

    def _finish(
        self,
        function_arn: str,
        config: AsyncConfig,
        condition: str,
        attempts: int,
        event: Any,
        last: Invocation | None,
    ) -> None:
        name = function_arn.split(":")[6]
        destination = config.on_success if condition == SUCCESS else config.on_failure
        if condition != SUCCESS:
            self._stats.count("async_events_discarded", function=name)
        if destination is None:
            LOG.warning("%s: asynchronous event dropped (%s), no destination", name, condition)
            return
        record = events.async_invocation_record(
            request_id=last.request_id if last is not None else "",
            function_arn=function_arn,
            condition=condition,
            invoke_count=attempts,
            request_payload=event,
            response_context=None if last is None else events.response_context(last.function_error),
            response_payload=None if last is None else last.payload,
            now=time.time(),
        )
        try:
            destinations.send(
                self._clients,
                destination,
                record,
                s3_key=f"aws/lambda/async/{name}/{time.strftime('%Y/%m/%d')}/{uuid.uuid4()}",
            )
        except destinations.DeliveryError as exc:
            LOG.error("%s: invocation record not delivered: %s", name, exc)
            self._stats.count("async_record_delivery_errors", function=name)
            return
        counter = "async_success_records" if condition == SUCCESS else "async_failure_records"
        self._stats.count(counter, function=name)
        LOG.info(
            "%s: %s record sent to %s after %d attempt(s)", name, condition, destination, attempts
        )
