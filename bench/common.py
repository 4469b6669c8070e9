"""What the benchmark sections share: options, timing statistics, targets, environment."""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import statistics
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR: Final = REPO_ROOT / "functions"
REGION: Final = "eu-west-1"
ACCOUNT: Final = "123456789012"

SECTIONS: Final = (
    "stream_processor",
    "field_encryption",
    "wall_time",
    "cold_start",
    "hydrate",
    "producer",
    "end_to_end",
    "consumer_size",
    "trending",
    "fraud_detector",
)

Status = Literal["met", "not met", "n/a", "reference"]

Result = dict[str, Any]
"""A section's JSON document."""


@dataclass(frozen=True, slots=True)
class Options:
    quick: bool = False
    """Tiny sizes, one repetition: the smoke run (structure and request counts, ~30 s)."""
    seed: int = 7
    round_trip_ms: float = 10.0
    """What every stubbed AWS request waits for its answer in section ``wall_time``."""
    log: Callable[[str], None] = field(default=lambda message: None)
    """Progress messages (stderr in the CLI)."""


@dataclass(slots=True)
class Target:
    """One target and what was measured for it; ``status`` is computed, never asserted."""

    section: str
    name: str
    target: str
    measured: float | int | None
    unit: str
    status: Status
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "name": self.name,
            "target": self.target,
            "measured": self.measured,
            "unit": self.unit,
            "status": self.status,
            "note": self.note,
        }


def at_most(
    section: str, name: str, measured: float | None, limit: float, unit: str, note: str = ""
) -> Target:
    status: Status = "n/a" if measured is None else ("met" if measured <= limit else "not met")
    return Target(section, name, f"<= {limit:g}", measured, unit, status, note)


def at_least(
    section: str, name: str, measured: float | None, limit: float, unit: str, note: str = ""
) -> Target:
    status: Status = "n/a" if measured is None else ("met" if measured >= limit else "not met")
    return Target(section, name, f">= {limit:g}", measured, unit, status, note)


def exactly(
    section: str, name: str, measured: float | None, expected: float, unit: str, note: str = ""
) -> Target:
    status: Status = "n/a" if measured is None else ("met" if measured == expected else "not met")
    return Target(section, name, f"= {expected:g}", measured, unit, status, note)


def summary(samples: Sequence[float]) -> dict[str, float | int]:
    """Median, min, max and count of timing samples (whatever unit they are in)."""
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "samples": len(samples),
    }


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0-1) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def per_thousand(counts: Mapping[str, int], records: int) -> dict[str, float]:
    return {api: round(count * 1000 / records, 3) for api, count in sorted(counts.items())}


@contextlib.contextmanager
def environment(**variables: str) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def functions_on_path() -> None:
    """The Lambda functions' packages (``stream_processor``, ``hydrate``) are imported from
    ``functions/``, as they sit at the root of their deployment zips: ``make bench`` puts it on
    ``PYTHONPATH``. Exits with a clear error when they cannot be imported."""
    if importlib.util.find_spec("stream_processor") is None:
        msg = (
            f"bench: the Lambda functions' packages are not importable: put {FUNCTIONS_DIR} on "
            "PYTHONPATH (make bench does)"
        )
        raise SystemExit(msg)


@dataclass(slots=True)
class FakeLambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@contextlib.contextmanager
def quiet(logger: Any) -> Iterator[None]:
    """Log lines, EMF lines and prints go to /dev/null (they are still formatted and written)."""
    with open(os.devnull, "w", encoding="utf-8") as sink:
        handler = logger.registered_handler
        previous = handler.setStream(sink)
        try:
            with contextlib.redirect_stdout(sink):
                yield
        finally:
            handler.setStream(previous)
