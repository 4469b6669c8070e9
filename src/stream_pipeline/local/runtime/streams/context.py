"""What a mapping runner shares with its shard readers and lanes: the clients, the invoker, the
statistics, the timing options and the mapping's filter criteria."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stream_pipeline.local.runtime import destinations
from stream_pipeline.local.runtime.invoker import Invoker
from stream_pipeline.local.runtime.stats import Stats


@dataclass(frozen=True, slots=True)
class StreamOptions:
    poll_interval: float = 0.25
    retry_delay: float = 0.2
    """Pause before retrying a failed batch (AWS backs off too; bisected halves go at once)."""


@dataclass(slots=True)
class RunnerContext:
    clients: destinations.Clients
    invoker: Invoker
    stats: Stats
    options: StreamOptions
    filters: list[dict[str, Any]] = field(default_factory=list)
