"""Tumbling windows (``TumblingWindowInSeconds``), as the Lambda developer guide describes them
("Implementing stateful Kinesis Data Streams processing", and its DynamoDB twin):

* windows are aligned on multiples of the window length (epoch seconds) and a record belongs to
  the window of its arrival time (``approximateArrivalTimestamp`` /
  ``ApproximateCreationDateTime``): "Lambda determines tumbling window boundaries based on the
  time when records were inserted into the stream";
* each shard (here: each lane of a shard) keeps one open window and its ``state``: every
  invocation of the window gets the ``state`` the previous successful invocation returned (``{}``
  for the first), and "your Lambda function response must contain a ``state`` property. If the
  response does not contain a ``state`` property, Lambda considers this a failed invocation";
* the window's last invocation has ``isFinalInvokeForWindow`` (with the window's last records,
  or none); "If invocation is unsuccessful, your Lambda function suspends further processing
  until a successful invocation";
* a returned state over 1 MB ends the state early: one more invocation with
  ``isWindowTerminatedEarly`` and that state, then the window goes on with ``{}``;
* "When a shard ends, Lambda considers the current window to be closed".
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from stream_pipeline.local.runtime.events import StreamRecord, stream_event

STATE_LIMIT_BYTES: Final = 1024 * 1024
"""AWS: "Your state can be a maximum of 1 MB per shard. If it exceeds that size, Lambda
terminates the window early." Measured as the state's compact JSON, UTF-8."""


@dataclass(frozen=True, slots=True)
class Bounds:
    """A window, in epoch seconds: [start, end)."""

    start: int
    end: int

    @classmethod
    def of(cls, arrival: float, seconds: int) -> Bounds:
        start = math.floor(arrival / seconds) * seconds
        return cls(start, start + seconds)

    def as_event(self) -> dict[str, str]:
        """``{"start": "2020-12-09T07:04:00Z", "end": ...}``: whole seconds, as AWS shows."""
        return {"start": _iso(self.start), "end": _iso(self.end)}


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Cut:
    """What a lane hands the settler with a batch: its window, and whether the batch holds the
    window's last records (or, with no records, is the window's closing invocation)."""

    bounds: Bounds
    final: bool


@dataclass(slots=True)
class OpenWindow:
    """A lane's window between its first invocation and its successful final one."""

    bounds: Bounds
    state: Any = field(default_factory=dict)


def window_event(
    records: Sequence[StreamRecord],
    *,
    bounds: Bounds,
    state: Any,
    shard_id: str,
    event_source_arn: str,
    final: bool,
    terminated_early: bool = False,
) -> dict[str, Any]:
    """The ``KinesisTimeWindowEvent`` / ``DynamodbTimeWindowEvent`` of the developer guide."""
    return {
        **stream_event(records),
        "window": bounds.as_event(),
        "state": state,
        "shardId": shard_id,
        "eventSourceARN": event_source_arn,
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": terminated_early,
    }


def returned_state(payload: Any) -> tuple[bool, Any]:
    """``(True, state)`` when the response holds ``state``; ``(False, None)`` otherwise (the
    invocation then counts as failed). A ``null`` state is carried as ``{}``."""
    if isinstance(payload, dict) and "state" in payload:
        state = payload["state"]
        return True, {} if state is None else state
    return False, None


def state_size(state: Any) -> int:
    return len(json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
