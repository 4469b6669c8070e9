"""Pure parts of the local runtime: filter patterns, partial batch responses, faults, shapes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stream_pipeline.local.runtime import client, events
from stream_pipeline.local.runtime.client import NotDrainedError
from stream_pipeline.local.runtime.faults import FaultBook, FaultSpecError, parse_cli_faults
from stream_pipeline.local.runtime.filters import InvalidPatternError, compile_patterns, matches_any
from stream_pipeline.local.runtime.model import AsyncConfig, MappingConfig
from stream_pipeline.local.runtime.streams import first_failed_index


def _matches(pattern: dict[str, Any], document: dict[str, Any]) -> bool:
    return matches_any(compile_patterns([json.dumps(pattern)]), document)


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        (["buy"], "buy", True),
        (["buy"], "sell", False),
        ([5], 5.0, True),
        ([True], 1, False),
        ([None], None, True),
        ([{"prefix": "ord-"}], "ord-1", True),
        ([{"prefix": "ord-"}], "x-ord-1", False),
        ([{"suffix": ".png"}], "a.png", True),
        ([{"equals-ignore-case": "BUY"}], "buy", True),
        ([{"wildcard": "a*c"}], "abbc", True),
        ([{"anything-but": ["buy", "sell"]}], "hold", True),
        ([{"anything-but": ["buy", "sell"]}], "buy", False),
        ([{"anything-but": {"prefix": "test-"}}], "test-1", False),
        ([{"numeric": [">", 0, "<=", 5]}], 5, True),
        ([{"numeric": [">", 0, "<=", 5]}], 6, False),
        ([{"numeric": ["=", 3]}], "3", False),
        ([{"exists": True}], "anything", True),
        (["a", "b"], ["x", "b"], True),
    ],
)
def test_filter_rules_match_like_lambda_event_filtering(
    rule: list[Any], value: Any, expected: bool
) -> None:
    """AWS (invocation-eventfiltering): comparison operators -- exact, prefix, suffix,
    equals-ignore-case, wildcard, anything-but, numeric, exists; an array value matches when
    any element does."""
    assert _matches({"data": {"field": rule}}, {"data": {"field": value}}) is expected


def test_exists_false_matches_only_a_missing_field() -> None:
    assert _matches({"data": {"gone": [{"exists": False}]}}, {"data": {"other": 1}})
    assert not _matches({"data": {"gone": [{"exists": False}]}}, {"data": {"gone": 1}})
    assert not _matches({"data": {"gone": ["x"]}}, {"data": {}})


def test_a_data_pattern_never_matches_a_record_without_json_data() -> None:
    """AWS (with-kinesis-filtering): "As long as the data the producer puts into the stream is
    valid JSON, you can use event filtering to filter records using the data key." """
    record = events.kinesis_record(
        {"Data": b"\xffnot json", "SequenceNumber": "1", "PartitionKey": "k"},
        shard_id="shardId-000000000000",
        stream_arn="arn:aws:kinesis:eu-west-1:123456789012:stream/s",
        region="eu-west-1",
        role="arn:aws:iam::123456789012:role/r",
    )
    assert not _matches({"data": {"x": ["y"]}}, record.filter_document)
    assert not _matches({"data": {"x": [{"exists": False}]}}, record.filter_document)


def test_filters_are_ored_and_no_filter_matches_everything() -> None:
    patterns = compile_patterns([json.dumps({"a": [1]}), json.dumps({"b": [2]})])
    assert matches_any(patterns, {"b": 2})
    assert not matches_any(patterns, {"a": 2, "b": 1})
    assert matches_any([], {"anything": True})


@pytest.mark.parametrize(
    "pattern",
    [
        "not json",
        "[]",
        "{}",
        '{"a": "scalar"}',
        '{"a": []}',
        '{"a": [{"regex": "x"}]}',
        '{"a": [{"numeric": [">"]}]}',
        '{"a": [{"exists": "yes"}]}',
    ],
)
def test_invalid_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(InvalidPatternError):
        compile_patterns([pattern])


def _records(*numbers: str) -> list[events.StreamRecord]:
    return [events.StreamRecord(n, 0.0, "k", {"n": n}, 10, {}) for n in numbers]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (None, (None, "success")),
        ({}, (None, "success")),
        ({"batchItemFailures": []}, (None, "success")),
        ({"batchItemFailures": None}, (None, "success")),
        (
            {"batchItemFailures": [{"itemIdentifier": "30"}, {"itemIdentifier": "20"}]},
            (1, "partial"),
        ),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, (0, "invalid")),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, (0, "invalid")),
        ({"batchItemFailures": [{"itemIdentifier": 20}]}, (0, "invalid")),
        ({"batchItemFailures": [{"itemIdentifier": "99"}]}, (0, "invalid")),
        ({"batchItemFailures": [{"id": "20"}]}, (0, "invalid")),
        ({"batchItemFailures": "20"}, (0, "invalid")),
    ],
)
def test_first_failed_index(payload: Any, expected: tuple[int | None, str]) -> None:
    """AWS (services-kinesis-batchfailurereporting): the lowest reported sequence number is the
    checkpoint; an empty/null itemIdentifier or a wrong key name fails the whole batch; an
    empty or null list, or an empty/null response, is a complete success."""
    assert first_failed_index(payload, _records("10", "20", "30")) == expected


def test_fault_specifications() -> None:
    faults = parse_cli_faults(
        ["f:raise-on-invocation:2,3", "f:throttle-dynamodb:25", "g:crash-once-per-batch"]
    )
    book = FaultBook(faults, None)
    assert book.directive("f", 1, None).action is None
    assert book.directive("f", 2, None).action == "raise"
    assert book.directive("f", 4, None).throttle_dynamodb == 25
    assert book.directive("g", 1, "batch-1").action == "crash"
    assert book.directive("g", 2, "batch-1").action is None
    assert book.directive("g", 3, "batch-2").action == "crash"
    for bad in ["f", "f:explode", "f:raise-on-invocation:0", "f:throttle-dynamodb:200"]:
        with pytest.raises(FaultSpecError):
            parse_cli_faults([bad])


def test_s3_on_failure_key_layout() -> None:
    """AWS (kinesis-on-failure-destination):
    aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>"""
    moment = datetime(2025, 1, 31, 12, 3, 4, tzinfo=UTC).timestamp()
    key = events.s3_on_failure_key("uuid-1", "shardId-000000000001", moment)
    assert re.fullmatch(
        r"aws/lambda/uuid-1/shardId-000000000001/2025/01/31/2025-01-31T12\.03\.04-[0-9a-f-]{36}",
        key,
    )


def test_mapping_configuration_is_read_from_the_lambda_api() -> None:
    config = MappingConfig.from_api(
        {
            "UUID": "u",
            "FunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:f",
            "EventSourceArn": "arn:aws:kinesis:eu-west-1:123456789012:stream/s/consumer/c:1",
            "State": "Enabled",
            "BatchSize": 7,
            "ParallelizationFactor": 2,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sns:eu-west-1:1:t"}},
        }
    )
    assert config.kind == "kinesis"
    assert config.stream_arn == "arn:aws:kinesis:eu-west-1:123456789012:stream/s"
    assert (config.batch_size, config.parallelization_factor) == (7, 2)
    assert config.report_batch_item_failures
    assert (config.maximum_retry_attempts, config.maximum_record_age) == (-1, -1)
    assert config.on_failure == "arn:aws:sns:eu-west-1:1:t"
    assert AsyncConfig().maximum_retry_attempts == 2


class _VirtualClock:
    """time.time/monotonic/sleep of the client module, on a clock only sleep() advances."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_drain_wait_lasts_while_the_runtime_progresses_and_stops_when_it_stalls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN a runtime that is not drained and finishes an invocation every 2 s for 30 s, then
    nothing (on a virtual clock: the test does not depend on the machine's speed)
    WHEN a drain is awaited with a 5 s timeout
    THEN the wait lasts while invocations finish (a busy machine is slow, not stuck) and fails
    5 s after the last one, saying what is still going on."""
    clock = _VirtualClock()
    began = clock.now

    def state(_state_dir: Path) -> dict[str, Any]:
        elapsed = clock.now - began
        return {
            "computed_at": clock.now + 0.001,
            "drained": False,
            "counters": {"global": {"invocations": int(min(elapsed, 30.0) // 2)}},
            "mappings": {"m-1": {"state": "Enabled", "drained": False}},
        }

    monkeypatch.setattr(client, "time", clock)
    monkeypatch.setattr(client, "read_state", state)

    with pytest.raises(NotDrainedError, match=r"mappings not at the tip: \['m-1: Enabled'\]"):
        client.wait_drained(Path("state"), timeout=5.0)

    assert 30.0 + 5.0 <= clock.now - began <= 30.0 + 5.0 + 0.5


def test_a_drain_wait_that_keeps_seeing_progress_still_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN a runtime that finishes an invocation every second forever, never drained
    WHEN a drain is awaited with a 5 s timeout
    THEN the wait gives up after MAX_WAIT_FACTOR times the timeout."""
    clock = _VirtualClock()
    began = clock.now

    def state(_state_dir: Path) -> dict[str, Any]:
        return {
            "computed_at": clock.now + 0.001,
            "drained": False,
            "counters": {"global": {"invocations": int(clock.now - began)}},
        }

    monkeypatch.setattr(client, "time", clock)
    monkeypatch.setattr(client, "read_state", state)

    with pytest.raises(NotDrainedError):
        client.wait_drained(Path("state"), timeout=5.0)

    assert clock.now - began == pytest.approx(5.0 * client.MAX_WAIT_FACTOR, abs=0.5)
