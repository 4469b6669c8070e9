"""What every function of the pipeline sets up the same way: Powertools observability, the AWS
SDK configuration, and the dependencies each handler builds once per execution environment.

Imported only by the functions' ``app`` modules (it needs Powertools, from the Lambda layer).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Final

from aws_lambda_powertools import Logger, Metrics, Tracer
from botocore.config import Config

from stream_pipeline.runtime.request_pool import MAX_CONCURRENT_REQUESTS

DEFAULT_METRICS_NAMESPACE: Final = "StreamPipeline"
"""One namespace for the pipeline's metrics when POWERTOOLS_METRICS_NAMESPACE is not set."""

# SDK-level retries stay short (standard mode retries throttling and 5xx): the functions' own
# retry rounds and the event source mapping (or Lambda's asynchronous retries) are the real
# retry layers. Timeouts keep a hung connection from eating the invocation. A connection per
# request the pool runs at once (botocore keeps 10 by default): more threads than connections
# would wait for one another.
SDK_CONFIG: Final = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=3,
    read_timeout=10,
    max_pool_connections=MAX_CONCURRENT_REQUESTS,
)


def powertools() -> tuple[Logger, Tracer, Metrics]:
    """Logger, Tracer and Metrics (EMF) of a function, in the pipeline's metrics namespace.

    Only botocore is patched for tracing: AWS calls are the functions' only outgoing calls worth
    a segment, and patching nothing else keeps cold-start work down.
    """
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE
    return Logger(), Tracer(patch_modules=["botocore"]), Metrics(namespace=namespace)


class ColdStartSingleton[T]:
    """A handler's dependencies (clients, settings): built on first use -- the cold start -- and
    reused by later invocations of the execution environment; tests replace them."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._value: T | None = None

    def get(self) -> T:
        if self._value is None:
            self._value = self._factory()
        return self._value

    def set(self, value: T | None) -> None:
        """Replace (or with ``None`` forget) the dependencies -- for tests and local runtimes."""
        self._value = value
