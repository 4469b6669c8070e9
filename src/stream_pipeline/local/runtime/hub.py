"""The meeting point of the patched moto code (runs in moto's request threads) and the runtime.

moto calls into this module while it serves a request; the runtime registers its callbacks here
when it starts. Nothing in here talks to the network.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class SnsDelivery:
    """One SNS notification for a Lambda subscription, as moto's topic hands it over."""

    function_arn: str
    """The subscription endpoint: a function ARN, possibly with a qualifier."""
    subscription_arn: str
    topic_arn: str
    message_id: str
    message: str
    subject: str | None
    message_attributes: dict[str, Any]
    timestamp: str
    region: str
    enqueued_at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class MappingCreation:
    """Where each shard of a new mapping's stream ended when the mapping was created.

    LATEST means "after the records already in the shard when the mapping was created"; moto is
    in-process, so the runtime records that exact position instead of guessing later."""

    created_at: float
    shard_tips: dict[str, str | None]
    """shard id -> last sequence number at creation (None: the shard was empty)."""


class Hub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._written = threading.Condition()
        self._writes = 0
        self.config_changed = threading.Event()
        self.sns_sink: Callable[[SnsDelivery], None] | None = None
        self.mapping_creations: dict[str, MappingCreation] = {}
        self.warnings: list[str] = []

    # ------------------------------------------------------------------ stream writes

    def record_write(self) -> None:
        """A record was added to a Kinesis shard or a DynamoDB stream."""
        with self._written:
            self._writes += 1
            self._written.notify_all()

    @property
    def writes(self) -> int:
        with self._written:
            return self._writes

    def wait_for_write(self, seen: int, timeout: float) -> int:
        """Wait until the write count differs from `seen` (an earlier `writes`), at most
        `timeout` seconds; return the count."""
        with self._written:
            self._written.wait_for(lambda: self._writes != seen, timeout)
            return self._writes

    # ------------------------------------------------------------------ configuration

    def notify_config_changed(self) -> None:
        self.config_changed.set()

    def warn(self, message: str) -> None:
        with self._lock:
            self.warnings.append(message)
            del self.warnings[:-50]


HUB = Hub()
"""The process-wide hub: moto's backends are process-wide too."""
