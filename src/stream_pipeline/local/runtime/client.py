"""Read the runtime's state file and wait for it to drain (for tests, demos and scripts)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stream_pipeline.local.runtime.model import STATE_FILE


class NotDrainedError(TimeoutError):
    """The runtime did not drain in time; ``str()`` summarises what was still going on."""


def read_state(state_dir: Path) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads((state_dir / STATE_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None  # not written yet, or being replaced
    return state


def wait_for(
    state_dir: Path,
    predicate: Callable[[dict[str, Any]], bool],
    *,
    timeout: float,
    interval: float = 0.05,
) -> dict[str, Any]:
    """The first state, computed after this call started, that satisfies ``predicate``."""
    started = time.time()
    deadline = time.monotonic() + timeout
    state: dict[str, Any] | None = None
    while True:
        current = read_state(state_dir)
        if current is not None and float(current.get("computed_at", 0)) > started:
            state = current
            if predicate(state):
                return state
        if time.monotonic() >= deadline:
            raise NotDrainedError(describe_backlog(state))
        time.sleep(interval)


def wait_drained(
    state_dir: Path, *, timeout: float = 60.0, mapping: str | None = None
) -> dict[str, Any]:
    """Wait until every mapping has read to the tip of every shard and nothing is in flight
    (``mapping``: only that mapping, and no invocation in flight anywhere)."""

    def drained(state: dict[str, Any]) -> bool:
        if state.get("stopped"):
            raise NotDrainedError("the runtime stopped")
        if mapping is None:
            return bool(state.get("drained"))
        status = (state.get("mappings") or {}).get(mapping) or {}
        return bool(status.get("drained")) and not state.get("counters", {}).get("in_flight")

    return wait_for(state_dir, drained, timeout=timeout)


def describe_backlog(state: dict[str, Any] | None) -> str:
    if state is None:
        return "no state file computed since the wait began (is the runtime running?)"
    busy = [
        f"{uuid}: {status.get('state')} {status.get('error') or ''}".strip()
        for uuid, status in (state.get("mappings") or {}).items()
        if not status.get("drained", True)
    ]
    return (
        f"not drained: in flight {state.get('counters', {}).get('in_flight')}, "
        f"async pending {state.get('async_pending')}, mappings not at the tip: {busy or 'none'}, "
        f"errors: {state.get('errors') or 'none'}"
    )
