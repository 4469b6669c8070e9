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


# What counts as the runtime making progress: work it finished, not work it merely polled for.
_PROGRESS_COUNTERS = (
    "invocations",
    "records_delivered",
    "async_invocations",
    "on_failure_records",
    "sns_notifications",
)
MAX_WAIT_FACTOR = 10
"""A wait that keeps seeing progress still ends after this many times its timeout."""


def progress(state: dict[str, Any]) -> tuple[int, ...]:
    counters = (state.get("counters") or {}).get("global") or {}
    return tuple(int(counters.get(name) or 0) for name in _PROGRESS_COUNTERS)


def wait_for(
    state_dir: Path,
    predicate: Callable[[dict[str, Any]], bool],
    *,
    timeout: float,
    interval: float = 0.05,
    while_progressing: bool = False,
) -> dict[str, Any]:
    """The first state, computed after this call started, that satisfies ``predicate``.

    ``timeout`` bounds the wait; with ``while_progressing``, it bounds the wait without
    progress instead (every finished invocation or delivery restarts it, up to
    ``MAX_WAIT_FACTOR`` times ``timeout`` in all): a busy machine slows the runtime down, it
    does not make a drain fail."""
    started = time.time()
    now = time.monotonic()
    deadline, cap = now + timeout, now + timeout * MAX_WAIT_FACTOR
    state: dict[str, Any] | None = None
    seen: tuple[int, ...] | None = None
    while True:
        current = read_state(state_dir)
        if current is not None and float(current.get("computed_at", 0)) > started:
            state = current
            if predicate(state):
                return state
            if while_progressing and progress(state) != seen:
                seen = progress(state)
                deadline = min(cap, time.monotonic() + timeout)
        if time.monotonic() >= deadline:
            raise NotDrainedError(describe_backlog(state))
        time.sleep(interval)


def wait_drained(
    state_dir: Path, *, timeout: float = 60.0, mapping: str | None = None
) -> dict[str, Any]:
    """Wait until every mapping has read to the tip of every shard and nothing is in flight
    (``mapping``: only that mapping, and no invocation in flight anywhere); ``timeout`` is how
    long it may go without progress."""

    def drained(state: dict[str, Any]) -> bool:
        if state.get("stopped"):
            raise NotDrainedError("the runtime stopped")
        if mapping is None:
            return bool(state.get("drained"))
        status = (state.get("mappings") or {}).get(mapping) or {}
        return bool(status.get("drained")) and not state.get("counters", {}).get("in_flight")

    return wait_for(state_dir, drained, timeout=timeout, while_progressing=True)


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
