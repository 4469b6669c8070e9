"""One request at a time in moto's DynamoDB and Kinesis backends (moto 5.2.5).

Neither backend is safe for concurrent requests, and the functions send theirs from a pool of
threads (``runtime.request_pool``) to a threaded server (or to ``mock_aws`` in a test):

- DynamoDB ``Table.put_item`` stores ``items[hash][range] = item`` in a ``defaultdict`` keyed by
  ``DynamoType``, whose ``__hash__``/``__eq__`` are Python code: two puts to a partition that
  does not exist yet can both create its dict, and one item vanishes (measured: 1 to 2 items in
  20,000 written by 25-item BatchWriteItem requests on 8 threads).
- Kinesis ``Shard.put_record`` reads the last sequence number, then stores under the next one
  (moto's own comment: "not safe for concurrency"): two puts can share a number and one record
  vanishes.

AWS loses neither. Each backend's request handling is serialised with a lock of its own; no
handler of these two services waits on another request (SQS long polling, Lambda invocations
and SNS deliveries stay concurrent), so the locks cannot deadlock.
"""

from __future__ import annotations

import functools
import threading
from typing import Any


def _serialise(handler_class: Any) -> None:
    original = handler_class.call_action
    if getattr(original, "_serialised", False):
        return
    lock = threading.Lock()

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        with lock:
            return original(self)

    call_action._serialised = True  # type: ignore[attr-defined]
    handler_class.call_action = call_action


def apply() -> None:
    """Serialise the DynamoDB and Kinesis request handlers (idempotent)."""
    from moto.dynamodb.responses import DynamoHandler
    from moto.kinesis.responses import KinesisResponse

    _serialise(DynamoHandler)
    _serialise(KinesisResponse)
