"""Probe handler: records each invocation to ``$PROBE_LOG_DIR/<function>.jsonl`` and behaves as
``PROBE_MODE`` says -- the semantics tests observe the runtime through it.

Modes: ``ok`` (returns None), ``echo`` (returns a summary), ``fail-always``, ``fail-on-poison``
(raises when a record's payload has ``"poison": true``), ``report-flaky`` (reports a record in
``batchItemFailures`` while it was seen fewer than its payload's ``fail_times``), ``respond``
(returns the JSON in ``PROBE_RESPONSE``), ``sleep-once`` (sleeps ``PROBE_SLEEP`` seconds the
first time only, remembered in a marker file so a replaced worker does not sleep again),
``window`` (a tumbling-window function: returns ``{"state": {"sequences": [...]}}``, the state
it got plus its records' sequence numbers; a record whose payload has ``fail_times`` fails that
many times: raises, or with ``PROBE_WINDOW_FAILURE=report`` reports it in ``batchItemFailures``
with the state of the records before it; ``pad: N`` adds N bytes to the state),
``window-no-state`` (answers without ``state``).

``PROBE_RENDEZVOUS=N`` (any mode): until N invocations of the function have been in flight at
the same time, each waits (at most ``RENDEZVOUS_TIMEOUT`` seconds) for the others. Concurrency is
then observed whatever the machine's load, instead of hoped for from a sleep; a runtime that
never runs N at once makes each wait time out, and the test sees no overlap.
"""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

_seen: dict[str, int] = {}
RENDEZVOUS_TIMEOUT = 20.0
# A slow Init phase (imports), on request: it must not count against the function's timeout.
time.sleep(float(os.environ.get("PROBE_IMPORT_SLEEP", "0")))


def _rendezvous(context: Any, wanted: int) -> None:
    directory = Path(os.environ["PROBE_LOG_DIR"]) / f"{context.function_name}.inflight"
    directory.mkdir(exist_ok=True)
    met = directory / "met"
    mine = directory / context.aws_request_id
    mine.touch()
    try:
        deadline = time.monotonic() + RENDEZVOUS_TIMEOUT
        while not met.exists() and time.monotonic() < deadline:
            if len([p for p in directory.iterdir() if p != met]) >= wanted:
                met.touch()
                break
            time.sleep(0.01)
    finally:
        mine.unlink()


def _payload(record: dict[str, Any]) -> Any:
    try:
        if "kinesis" in record:
            return json.loads(base64.b64decode(record["kinesis"]["data"]))
        if "Sns" in record:
            return json.loads(record["Sns"]["Message"])
    except ValueError:
        return None
    if "dynamodb" in record:
        image = record["dynamodb"].get("NewImage") or {}
        return {name: next(iter(value.values())) for name, value in image.items()}
    return None


def _sequence_number(record: dict[str, Any]) -> str | None:
    if "kinesis" in record:
        return str(record["kinesis"]["sequenceNumber"])
    if "dynamodb" in record:
        return str(record["dynamodb"]["SequenceNumber"])
    return None


def _log(context: Any, entry: dict[str, Any]) -> None:
    directory = Path(os.environ["PROBE_LOG_DIR"])
    line = json.dumps(entry) + "\n"
    with (directory / f"{context.function_name}.jsonl").open("a") as log:
        log.write(line)


def handler(event: Any, context: Any) -> Any:
    started = time.time()
    mode = os.environ.get("PROBE_MODE", "ok")
    records = event.get("Records") or [] if isinstance(event, dict) else []
    records = [record for record in records if isinstance(record, dict)]
    sequence_numbers = [_sequence_number(record) for record in records]
    payloads = [_payload(record) for record in records]
    if os.environ.get("PROBE_RENDEZVOUS"):
        _rendezvous(context, int(os.environ["PROBE_RENDEZVOUS"]))
    if mode == "sleep-once":
        marker = Path(os.environ["PROBE_LOG_DIR"]) / f"{context.function_name}.slept"
        if not marker.exists():
            marker.touch()
            time.sleep(float(os.environ.get("PROBE_SLEEP", "5")))
    elif os.environ.get("PROBE_SLEEP"):
        time.sleep(float(os.environ["PROBE_SLEEP"]))
    _log(
        context,
        {
            "request_id": context.aws_request_id,
            "pid": os.getpid(),
            "started": started,
            "finished": time.time(),
            "sequence_numbers": sequence_numbers,
            "partition_keys": [r.get("kinesis", {}).get("partitionKey") for r in records],
            "payloads": payloads,
            "event": event,
            "context": {
                "function_name": context.function_name,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "invoked_function_arn": context.invoked_function_arn,
                "remaining_ms": context.get_remaining_time_in_millis(),
            },
            "environment": {
                name: os.environ.get(name)
                for name in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "COLOR")
            },
        },
    )
    poison = [
        number
        for number, payload in zip(sequence_numbers, payloads, strict=True)
        if isinstance(payload, dict) and payload.get("poison")
    ]
    if mode == "fail-always":
        raise RuntimeError("probe: failing as configured")
    if mode == "fail-on-poison" and poison:
        raise RuntimeError(f"probe: poison record(s) {poison}")
    if mode == "report-flaky":
        failures = []
        for number, payload in zip(sequence_numbers, payloads, strict=True):
            times = payload.get("fail_times", 0) if isinstance(payload, dict) else 0
            seen = _seen.get(str(number), 0)
            _seen[str(number)] = seen + 1
            if seen < times:
                failures.append({"itemIdentifier": number})
        return {"batchItemFailures": failures}
    if mode == "window":
        return _window(event, sequence_numbers, payloads)
    if mode == "window-no-state":
        return {"batchItemFailures": []}
    if mode == "respond":
        return json.loads(os.environ["PROBE_RESPONSE"])
    if mode == "echo":
        print(f"probe echo: {len(records)} record(s)")
        return {"records": len(records), "event": event}
    return None


def _window(event: dict[str, Any], numbers: list[str | None], payloads: list[Any]) -> Any:
    state = dict(event.get("state") or {})
    folded = list(state.get("sequences") or [])
    for number, payload in zip(numbers, payloads, strict=True):
        times = payload.get("fail_times", 0) if isinstance(payload, dict) else 0
        seen = _seen.get(str(number), 0)
        _seen[str(number)] = seen + 1
        if seen < times:
            if os.environ.get("PROBE_WINDOW_FAILURE") == "report":
                return {
                    "state": {**state, "sequences": folded},
                    "batchItemFailures": [{"itemIdentifier": number}],
                }
            raise RuntimeError(f"probe: record {number} fails {times} time(s)")
        folded.append(number)
        if isinstance(payload, dict) and payload.get("pad"):
            state["pad"] = "x" * int(payload["pad"])
    return {"state": {**state, "sequences": folded}, "batchItemFailures": []}
