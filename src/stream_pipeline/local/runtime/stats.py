"""Counters the runtime keeps for tests, demos and humans (written to ``state.json``)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    """Thread-safe counters: global, per function (by name) and per event source mapping."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._global: Counter[str] = Counter()
        self._functions: dict[str, Counter[str]] = {}
        self._mappings: dict[str, Counter[str]] = {}
        self._in_flight = 0

    def count(
        self, name: str, amount: int = 1, *, function: str | None = None, mapping: str | None = None
    ) -> None:
        with self._lock:
            self._global[name] += amount
            if function is not None:
                self._functions.setdefault(function, Counter())[name] += amount
            if mapping is not None:
                self._mappings.setdefault(mapping, Counter())[name] += amount

    def invocation_started(self) -> None:
        with self._lock:
            self._in_flight += 1

    def invocation_finished(self) -> None:
        with self._lock:
            self._in_flight -= 1

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "global": dict(sorted(self._global.items())),
                "functions": {
                    name: dict(sorted(counts.items()))
                    for name, counts in sorted(self._functions.items())
                },
                "mappings": {
                    uuid: dict(sorted(counts.items()))
                    for uuid, counts in sorted(self._mappings.items())
                },
                "in_flight": self._in_flight,
            }
