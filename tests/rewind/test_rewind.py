"""`stream-pipeline rewind`: when its temporary consumer has caught up (IteratorAge), and what it
creates and removes, against moto."""

from __future__ import annotations

import io
import json
import urllib.error
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from rich.console import Console

from stream_pipeline import rewind

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
UNTIL = NOW - timedelta(minutes=10)
REGION = "us-east-1"


def _point(minutes_ago: float, age: timedelta) -> dict[str, Any]:
    return {
        "Timestamp": NOW - timedelta(minutes=minutes_ago),
        "Maximum": age.total_seconds() * 1000,
    }


def _assess(
    points: list[dict[str, Any]], *, since: datetime = NOW - timedelta(minutes=5)
) -> rewind.Progress:
    return rewind.assess(points, now=NOW, until=UNTIL, since=since, period=60, idle=180)


def test_records_younger_than_until_mean_caught_up() -> None:
    # GIVEN the latest batch's last record arrived 5 minutes ago (after --until, 10 minutes ago)
    # WHEN assessed THEN the clone has caught up
    progress = _assess([_point(3, timedelta(hours=2)), _point(1, timedelta(minutes=5))])
    assert progress.caught_up
    assert "after --until" in progress.reason


def test_records_older_than_until_mean_not_yet() -> None:
    # GIVEN the latest batch's last record arrived 30 minutes ago (before --until)
    # WHEN assessed THEN the clone is still behind, whatever came before
    progress = _assess([_point(3, timedelta(minutes=5)), _point(1, timedelta(minutes=30))])
    assert not progress.caught_up


def test_a_datapoint_seen_late_is_measured_from_its_own_period() -> None:
    # GIVEN a batch read 2 minutes ago whose last record was 9 minutes old then: it arrived
    # 11 minutes ago, before --until (10 minutes ago), though 9 minutes is less than now - until
    # WHEN assessed THEN the clone is still behind
    progress = _assess([_point(2, timedelta(minutes=9))])
    assert not progress.caught_up
    assert "old" in progress.reason


def test_no_batch_for_the_idle_time_means_it_read_up_to_the_tip() -> None:
    # GIVEN the last batch (old records) was 5 minutes ago, idle is 3 minutes
    # WHEN assessed THEN the clone read everything the stream had
    progress = _assess([_point(5, timedelta(hours=1))])
    assert progress.caught_up
    assert "tip" in progress.reason


def test_no_batch_at_all_waits_for_the_idle_time() -> None:
    # GIVEN no datapoint yet: created 1 minute ago, then 5 minutes ago
    # WHEN assessed THEN first still waiting, then done (nothing to read after --from)
    assert not _assess([], since=NOW - timedelta(minutes=1)).caught_up
    assert _assess([], since=NOW - timedelta(minutes=5)).caught_up


def test_a_clone_name_fits_lambdas_limit() -> None:
    # GIVEN a 64-character function name WHEN cloned THEN the name keeps Lambda's 64 characters
    name = rewind.clone_name("f" * 64, "abc123")
    assert len(name) == 64
    assert name.endswith("-rewind-abc123")


@dataclass
class Deployed:
    awslambda: Any
    cloudwatch: Any
    stream_arn: str
    function: str


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        iam = session.client("iam")
        kinesis = session.client("kinesis")
        awslambda = session.client("lambda")
        role = iam.create_role(
            RoleName="processor",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        kinesis.create_stream(StreamName="orders", ShardCount=1)
        stream_arn = kinesis.describe_stream_summary(StreamName="orders")[
            "StreamDescriptionSummary"
        ]["StreamARN"]
        awslambda.create_function(
            FunctionName="orders-processor",
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": _zip()},
            Timeout=30,
            MemorySize=256,
            Environment={"Variables": {"TABLE_NAME": "orders-results", "DLQ_URL": "q"}},
        )
        awslambda.create_event_source_mapping(
            EventSourceArn=stream_arn,
            FunctionName="orders-processor",
            StartingPosition="LATEST",
            BatchSize=50,
            MaximumRetryAttempts=3,
            BisectBatchOnFunctionError=True,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
        yield Deployed(awslambda, session.client("cloudwatch"), stream_arn, "orders-processor")


def test_the_clone_gets_the_consumers_configuration_and_a_mapping_at_the_time(
    deployed: Deployed,
) -> None:
    # GIVEN a deployed consumer with its mapping
    run = rewind.Rewind(
        deployed.awslambda, deployed.cloudwatch, endpoint_url="http://127.0.0.1:4566"
    )
    mapping = run.deployed_mapping(deployed.function, deployed.stream_arn)
    start = NOW - timedelta(hours=1)

    # WHEN the clone and its mapping are created
    name = run.create_clone(deployed.function, "orders-processor-rewind-1")
    uuid_ = run.create_mapping(deployed.stream_arn, mapping, start)

    # THEN the clone has the consumer's role, handler and environment, and reads the stream
    # with the deployed error handling
    clone = deployed.awslambda.get_function_configuration(FunctionName=name)
    original = deployed.awslambda.get_function_configuration(FunctionName=deployed.function)
    for key in ("Role", "Handler", "Timeout", "MemorySize", "Environment"):
        assert clone[key] == original[key], key
    created = deployed.awslambda.get_event_source_mapping(UUID=uuid_)
    assert created["EventSourceArn"] == deployed.stream_arn
    assert created["FunctionArn"].endswith(f":function:{name}")
    assert created["BatchSize"] == 50
    assert created["MaximumRetryAttempts"] == 3
    assert created["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    # AND WHEN removed THEN both are gone and the deployed mapping stays
    assert run.remove() == []
    functions = [f["FunctionName"] for f in deployed.awslambda.list_functions()["Functions"]]
    assert functions == [deployed.function]
    mappings = deployed.awslambda.list_event_source_mappings()["EventSourceMappings"]
    assert [m["UUID"] for m in mappings] == [mapping["UUID"]]


def test_main_removes_the_clone_when_its_consumer_has_no_mapping(deployed: Deployed) -> None:
    # GIVEN a function that reads no stream
    deployed.awslambda.delete_event_source_mapping(
        UUID=deployed.awslambda.list_event_source_mappings()["EventSourceMappings"][0]["UUID"]
    )
    out = io.StringIO()

    # WHEN rewind is asked to rewind it
    code = rewind.main(
        [
            "--consumer",
            deployed.function,
            "--from",
            "2026-01-31T10:00:00Z",
            "--stream",
            deployed.stream_arn,
            "--until",
            "2026-01-31T11:00:00Z",
        ],
        clients={"lambda": deployed.awslambda, "cloudwatch": deployed.cloudwatch},
        console=Console(file=out, width=200),
    )

    # THEN it refuses (2), saying why, and creates nothing
    assert code == 2
    assert "has no event source mapping" in out.getvalue()
    functions = [f["FunctionName"] for f in deployed.awslambda.list_functions()["Functions"]]
    assert functions == [deployed.function]


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "2026-01-31T11:00:00Z", "--until", "2026-01-31T10:00:00Z"],
        ["--from", "not a time"],
        ["--from", "2026-01-31T10:00:00Z", "--idle", "0"],
    ],
)
def test_bad_times_and_bounds_are_usage_errors(args: list[str]) -> None:
    # GIVEN a bad --from/--until/bound WHEN rewind runs THEN it stops (2) before any AWS call
    out = io.StringIO()
    code = rewind.main(
        ["--consumer", "processor", "--stream", "arn:aws:kinesis:us-east-1:1:stream/s", *args],
        clients={},
        console=Console(file=out, width=200),
    )
    assert code == 2
    assert "error:" in out.getvalue()


def test_without_the_consumers_code_there_is_no_clone_outside_the_emulator(
    deployed: Deployed,
) -> None:
    # GIVEN a code location that cannot be read (moto's), and an endpoint that is not loopback
    run = rewind.Rewind(deployed.awslambda, deployed.cloudwatch, endpoint_url="https://lambda.vpce")

    # WHEN the clone is created THEN it fails instead of deploying a clone without the code
    with pytest.raises(urllib.error.URLError):
        run.create_clone(deployed.function, "orders-processor-rewind-2")
    functions = [f["FunctionName"] for f in deployed.awslambda.list_functions()["Functions"]]
    assert functions == [deployed.function]


class _Creating:
    """A rewind whose mapping Lambda is still creating, with no IteratorAge yet."""

    enabled_at = None

    def enabled_since(self) -> datetime | None:
        return None

    def iterator_ages(self, period: int) -> list[dict[str, Any]]:
        raise AssertionError("no metric is read before the mapping is enabled")


def test_the_idle_clock_waits_for_the_mapping_to_be_enabled() -> None:
    # GIVEN a mapping still being created WHEN watched past --idle and --max-duration
    clock = iter([NOW, NOW + timedelta(minutes=10), NOW + timedelta(hours=2)])
    progress = rewind.watch(
        _Creating(),  # type: ignore[arg-type]
        until=UNTIL,
        period=60,
        idle=180,
        max_duration=3600,
        poll_interval=1,
        clock=lambda: next(clock),
        sleep=lambda seconds: None,
    )

    # THEN it never counts as caught up (the deadline ends it, not "nothing to read")
    assert not progress.caught_up
    assert "enabled" in progress.reason
