"""Fault injection for tests and demos -- by configuration, never by editing a function.

A fault is ``FUNCTION:KIND[:ARG]`` (``--fault``, repeatable) or an entry of
``<state-dir>/faults.json`` (``{"FUNCTION": ["KIND[:ARG]", ...]}``, re-read when it changes):

``raise-on-invocation:N[,M...]``
    the function's Nth invocation (counted by the runtime, 1-based, across its workers) fails
    with ``InjectedFault`` instead of running the handler;
``crash-on-invocation:N[,M...]``
    the worker process dies (exit status 70) right after the handler ran, before it answers:
    the side effects happened, the invocation is a function error ("Runtime exited");
``crash-once-per-batch``
    the same, on the first delivery of every distinct batch (stream batch or SNS message); its
    retry succeeds -- at-least-once delivery, made visible;
``throttle-dynamodb:PCT``
    PCT % of the function's DynamoDB calls fail with ``ProvisionedThroughputExceededException``
    (a botocore ``before-call.dynamodb`` hook installed in the worker before the handler is
    imported; no request reaches the emulator).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

KINDS: Final = (
    "raise-on-invocation",
    "crash-on-invocation",
    "crash-once-per-batch",
    "throttle-dynamodb",
)


class FaultSpecError(ValueError):
    """A fault specification that cannot be understood (``str()`` says why)."""


@dataclass(slots=True)
class FunctionFaults:
    raise_on: set[int] = field(default_factory=set)
    crash_on: set[int] = field(default_factory=set)
    crash_once_per_batch: bool = False
    throttle_dynamodb: float = 0.0

    def add(self, spec: str) -> None:
        kind, _, argument = spec.partition(":")
        kind = kind.strip()
        if kind in ("raise-on-invocation", "crash-on-invocation"):
            try:
                numbers = {int(part) for part in argument.split(",") if part.strip()}
            except ValueError as exc:
                msg = f"{kind} takes invocation numbers, e.g. {kind}:2,5 (got {argument!r})"
                raise FaultSpecError(msg) from exc
            if not numbers or min(numbers) < 1:
                msg = f"{kind} takes invocation numbers from 1, e.g. {kind}:2"
                raise FaultSpecError(msg)
            (self.raise_on if kind == "raise-on-invocation" else self.crash_on).update(numbers)
        elif kind == "crash-once-per-batch":
            self.crash_once_per_batch = True
        elif kind == "throttle-dynamodb":
            try:
                percent = float(argument)
            except ValueError as exc:
                msg = f"throttle-dynamodb takes a percentage (e.g. 30), not {argument!r}"
                raise FaultSpecError(msg) from exc
            if not 0 <= percent <= 100:
                msg = f"throttle-dynamodb percentage must be within 0..100, got {percent}"
                raise FaultSpecError(msg)
            self.throttle_dynamodb = percent
        else:
            msg = f"unknown fault {kind!r}; known: {', '.join(KINDS)}"
            raise FaultSpecError(msg)


def parse_cli_faults(specs: Iterable[str]) -> dict[str, FunctionFaults]:
    faults: dict[str, FunctionFaults] = {}
    for spec in specs:
        function, separator, rest = spec.partition(":")
        if not separator or not function or not rest:
            msg = f"fault {spec!r}: expected FUNCTION:KIND[:ARG]"
            raise FaultSpecError(msg)
        faults.setdefault(function, FunctionFaults()).add(rest)
    return faults


def parse_fault_document(document: object) -> dict[str, FunctionFaults]:
    if not isinstance(document, Mapping):
        msg = 'faults.json must hold an object: {"FUNCTION": ["KIND[:ARG]", ...]}'
        raise FaultSpecError(msg)
    faults: dict[str, FunctionFaults] = {}
    for function, specs in document.items():
        entries = [specs] if isinstance(specs, str) else specs
        if not isinstance(entries, list):
            msg = f"faults.json: {function!r} must map to a list of fault strings"
            raise FaultSpecError(msg)
        for spec in entries:
            faults.setdefault(str(function), FunctionFaults()).add(str(spec))
    return faults


@dataclass(frozen=True, slots=True)
class Directive:
    """What the worker is told to do for one invocation."""

    action: str | None = None
    """None, ``raise`` or ``crash``."""
    throttle_dynamodb: float = 0.0


class FaultBook:
    """Static faults (CLI) merged with the fault file; decides each invocation's directive."""

    def __init__(self, static: Mapping[str, FunctionFaults], fault_file: Path | None) -> None:
        self._static = dict(static)
        self._file = fault_file
        self._file_mtime: float | None = None
        self._from_file: dict[str, FunctionFaults] = {}
        self._lock = threading.Lock()
        self._seen_batches: set[tuple[str, str]] = set()
        self.file_error: str | None = None

    def _reload(self) -> None:
        if self._file is None:
            return
        try:
            mtime = self._file.stat().st_mtime
        except FileNotFoundError:
            self._from_file, self._file_mtime, self.file_error = {}, None, None
            return
        if mtime == self._file_mtime:
            return
        self._file_mtime = mtime
        try:
            self._from_file = parse_fault_document(json.loads(self._file.read_text()))
            self.file_error = None
        except (OSError, ValueError) as exc:
            self._from_file = {}
            self.file_error = f"{self._file}: {exc}"

    def _faults(self, function: str) -> list[FunctionFaults]:
        return [
            faults[function] for faults in (self._static, self._from_file) if function in faults
        ]

    def directive(self, function: str, invocation: int, batch_key: str | None) -> Directive:
        with self._lock:
            self._reload()
            faults = self._faults(function)
            if not faults:
                return Directive()
            throttle = max(f.throttle_dynamodb for f in faults)
            if any(invocation in f.raise_on for f in faults):
                return Directive("raise", throttle)
            if any(invocation in f.crash_on for f in faults):
                return Directive("crash", throttle)
            if batch_key is not None and any(f.crash_once_per_batch for f in faults):
                key = (function, batch_key)
                if key not in self._seen_batches:
                    self._seen_batches.add(key)
                    return Directive("crash", throttle)
            return Directive(None, throttle)
