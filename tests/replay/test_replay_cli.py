"""The replay CLI's surface: entry point, arguments, terraform outputs, exit codes, make target.

Replay behaviour (what is put, deleted, kept) is tested against moto in
tests/replay/test_replay.py.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from rich.console import Console

from stream_pipeline.replay import cli as replay
from stream_pipeline.replay.model import (
    HYDRATE_FAILED,
    INVALID_ENVELOPE,
    INVALID_S3_OBJECT,
    S3_ON_FAILURE,
    UNTRUSTED_ENVELOPE,
)
from stream_pipeline.runtime.dlq_envelope import RESERVED_REASON_CODES
from tools.terraform_stage import REPO_ROOT

REGION = "eu-west-1"
STREAM_ARN = "arn:aws:kinesis:eu-west-1:123456789012:stream/retail-events"
MAC_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/7f1c0a52-3d1e-4a59-9b1c-2b8f0e6d4c11"
TRUST = ("--stream", STREAM_ARN, "--accept-unsigned")
"""A run's configuration of what it trusts (the DLQs here are empty or hold no envelope)."""
TRUSTED_OUTPUTS = {"stream_arn": {"value": STREAM_ARN}, "dlq_mac_key_arn": {"value": MAC_KEY_ARN}}


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto, with credentials and region from a fake environment; yields an empty DLQ's URL."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        yield sqs.create_queue(QueueName="replay-cli-dlq")["QueueUrl"]


def run(*argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    console = Console(file=out, width=200, no_color=True)
    code = replay.main(list(argv), console=console, error_console=console, stdin=io.StringIO(stdin))
    return code, out.getvalue()


def test_module_runs_from_the_repository_root() -> None:
    """GIVEN a plain interpreter in the repository root (no pytest path setup)
    WHEN `stream-pipeline replay --help` runs
    THEN it lists both subcommands (the functions' packages are found by the tool itself).
    """
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("stream-pipeline")), "replay", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )

    assert result.returncode == 0, result.stderr
    assert "run" in result.stdout
    assert "stats" in result.stdout


def test_run_without_a_queue_is_a_usage_error() -> None:
    code, output = run("run", "--no-progress")

    assert code == 2
    assert "no queue: pass --queue-url URL, or ENV=<environment>" in output


def test_any_well_formed_reason_is_accepted_in_any_case() -> None:
    """GIVEN --reason values: a built-in code in lowercase, a team's code with both parts
    miscased, a bare code no envelope has yet (a newer release's), a replay label
    WHEN read THEN each is kept, spelt as the rules fix it (namespace lower, code upper)."""
    reasons = replay._reasons(["retries_exhausted, Orders.invalid_Currency", "NEWER_CODE"])

    assert reasons == {"RETRIES_EXHAUSTED", "orders.INVALID_CURRENCY", "NEWER_CODE"}


def test_the_replay_labels_are_reserved_reason_codes() -> None:
    """GIVEN the replay's labels for items that are not envelopes WHEN compared with the reason
    codes no envelope may carry THEN they are the same: no envelope can pass for one of them."""
    labels = {
        INVALID_ENVELOPE,
        INVALID_S3_OBJECT,
        HYDRATE_FAILED,
        S3_ON_FAILURE,
        UNTRUSTED_ENVELOPE,
    }

    assert labels == RESERVED_REASON_CODES


@pytest.mark.parametrize(
    ("reason", "rule"),
    [
        ("orders team.X", "the namespace of a reason code (before the dot) must be 1 to 32"),
        ("orders.INVALID-CURRENCY", "the code of a reason code (after the dot) must be 1 to 64"),
        ("orders.A.B", "after the dot"),
        ("9LIVES", "without a namespace must be a built-in code or UPPER_SNAKE_CASE"),
        ("STRAßE", "without a namespace"),
        ("X" * 98, "at most 97 characters, not 98"),
        ("invalid_envelope", "INVALID_ENVELOPE is reserved"),
    ],
    ids=["space", "hyphen-in-code", "two-dots", "digit-first", "non-ascii", "too-long", "reserved"],
)
def test_malformed_reason_is_a_usage_error_naming_the_rule(reason: str, rule: str) -> None:
    """GIVEN a malformed --reason next to a valid one WHEN run THEN exit 2 before any AWS call,
    naming the value and the rule it breaks (it could never match a message)."""
    code, output = run("run", "--queue-url", "https://q", "--reason", f"RETRIES_EXHAUSTED,{reason}")

    assert code == 2
    assert f"error: --reason {reason!r}: " in output
    assert rule in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("--accept-unsigned",), "no stream configured: pass --stream STREAM", id="no-stream"
        ),
        pytest.param(
            ("--stream", STREAM_ARN),
            "no MAC key to authenticate the DLQ envelopes: pass --mac-key KEY_ARN",
            id="no-mac-key",
        ),
    ],
)
def test_run_without_its_trust_configuration_is_a_usage_error(
    args: tuple[str, ...], message: str
) -> None:
    """GIVEN a queue but no configured stream, or no MAC key (and no --accept-unsigned)
    WHEN run THEN exit 2 before any AWS call, naming what to pass: the replay never takes a
    stream or a key from a message."""
    code, output = run("run", "--queue-url", "https://q", "--no-progress", *args)

    assert code == 2
    assert message in output


def test_max_must_be_positive() -> None:
    code, output = run("run", "--queue-url", "https://q", "--max", "0")

    assert code == 2
    assert "--max must be at least 1" in output


def test_queue_url_comes_from_terraform_outputs_on_stdin(fake_aws: str) -> None:
    """GIVEN `terraform output -json` with dlq_url on stdin (what `make replay ENV=...` pipes)
    WHEN replaying an empty DLQ THEN that queue is used and the run ends cleanly (exit 0).
    """
    outputs = {
        "dlq_url": {"value": fake_aws, "type": "string", "sensitive": False},
        **TRUSTED_OUTPUTS,
    }

    code, output = run(
        "run", "--terraform-outputs", "-", "--wait-seconds", "0", stdin=json.dumps(outputs)
    )

    assert code == 0
    assert "records put: 0" in output


def test_queue_url_comes_from_a_terraform_outputs_file(fake_aws: str, tmp_path: Path) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"dlq_queue_url": {"value": fake_aws}}))

    code, output = run(
        "stats", "--inspect", "--terraform-outputs", str(path), "--wait-seconds", "0"
    )

    assert code == 0
    assert "DLQ contents" in output


def test_missing_queue_is_reported_with_exit_2(fake_aws: str) -> None:
    code, output = run(
        "run", "--queue-url", fake_aws + "-missing", "--wait-seconds", "0", "--no-progress"
    )

    assert code == 2
    assert "error:" in output


def test_invalid_message_gives_exit_1_and_a_table(fake_aws: str) -> None:
    """GIVEN a DLQ holding one message that is not an envelope
    WHEN replayed THEN the table shows it kept under INVALID_ENVELOPE and the exit status is 1.
    """
    boto3.client("sqs", region_name=REGION).send_message(QueueUrl=fake_aws, MessageBody="{}")

    code, output = run("run", "--queue-url", fake_aws, "--wait-seconds", "0", *TRUST)

    assert code == 1
    (row,) = [line for line in output.splitlines() if line.lstrip("│ ").startswith("INVALID_ENV")]
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    assert cells == ["INVALID_ENVELOPE", "1", "0", "1", "0"]
    assert "no envelope_version" in output


def test_region_is_taken_from_an_aws_queue_url() -> None:
    assert replay._region(None, "https://sqs.eu-central-1.amazonaws.com/1/q") == "eu-central-1"
    assert replay._region("us-east-1", "https://sqs.eu-central-1.amazonaws.com/1/q") == "us-east-1"
    assert replay._region(None, "http://localhost:5000/1/q") is None


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-s", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_make_replay_passes_replay_args_and_defaults_to_stats() -> None:
    """GIVEN the Makefile WHEN `make -n replay` is expanded THEN it calls the CLI with
    REPLAY_ARGS (default `stats`), and without ENV never runs terraform."""
    explicit = _make("-n", "replay", "REPLAY_ARGS=run --dry-run --queue-url Q")
    default = _make("-n", "replay")

    assert explicit.returncode == 0, explicit.stderr
    assert "stream-pipeline replay run --dry-run --queue-url Q" in explicit.stdout
    assert "terraform" not in explicit.stdout
    assert "stream-pipeline replay stats" in default.stdout
    assert "  replay " in _make("help").stdout


def test_make_replay_with_env_checks_the_environment_then_pipes_its_outputs() -> None:
    """GIVEN ENV=<name> WHEN `make -n replay` is expanded (nothing runs: no setup, no terraform)
    THEN the environment guard comes first, then `terraform output -json` of that root is piped
    into the CLI (--terraform-outputs -)."""
    result = _make("-n", "replay", "ENV=nope", "REPLAY_ARGS=run --dry-run")

    assert result.returncode == 0, result.stderr
    guard = result.stdout.index("is not an environment")
    pipe = result.stdout.index(
        "terraform -chdir=environments/nope output -json | .venv/bin/stream-pipeline replay "
        "run --dry-run --terraform-outputs -"
    )
    assert guard < pipe


def test_unknown_profile_is_reported_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """GIVEN no AWS config files WHEN --profile names a profile that does not exist
    THEN one error line names it; exit status 2."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))

    code, output = run("stats", "--queue-url", "https://q", "--profile", "no-such-profile")

    assert code == 2
    assert "error: ProfileNotFound: The config profile (no-such-profile) could not be found" in (
        output
    )


def test_hydrate_failed_is_a_known_reason() -> None:
    assert replay._reasons(["hydrate_failed,RETRIES_EXHAUSTED"]) == {
        "HYDRATE_FAILED",
        "RETRIES_EXHAUSTED",
    }


# --------------------------------------------------------------------------- failure bucket

FAILURE_BUCKET = "replay-cli-failures"


@pytest.fixture
def failure_bucket(fake_aws: str) -> str:
    """An empty failure bucket (S3 on-failure destination) next to the empty DLQ."""
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=FAILURE_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return FAILURE_BUCKET


def test_run_without_a_queue_or_a_bucket_is_a_usage_error() -> None:
    code, output = run("run", "--no-progress")

    assert code == 2
    assert "pass --bucket NAME" in output


def test_stats_without_a_queue_or_a_bucket_is_a_usage_error() -> None:
    code, output = run("stats", "--prefix", "aws/lambda/", "--no-progress")

    assert code == 2
    assert "no queue" in output
    assert "no bucket" in output


def test_a_bucket_alone_is_replayed_without_a_queue(failure_bucket: str) -> None:
    """GIVEN only --bucket (no --queue-url) WHEN `replay run` runs on an empty failure bucket
    THEN only the bucket is replayed (no DLQ table) and the run ends cleanly (exit 0)."""
    code, output = run("run", "--bucket", failure_bucket, "--no-progress", *TRUST)

    assert code == 0
    assert f"S3 on-failure replay: s3://{failure_bucket}/aws/lambda/" in output
    assert "DLQ replay" not in output
    assert "records put: 0" in output


def test_a_bucket_alone_gives_its_stats(failure_bucket: str) -> None:
    code, output = run("stats", "--bucket", failure_bucket, "--prefix", "aws/lambda/uuid-1/")

    assert code == 0
    assert f"S3 on-failure objects: s3://{failure_bucket}/aws/lambda/uuid-1/" in output
    assert "DLQ contents" not in output


def test_queue_and_bucket_together_are_both_replayed(fake_aws: str, failure_bucket: str) -> None:
    code, output = run(
        "run", "--queue-url", fake_aws, "--bucket", failure_bucket, "--wait-seconds", "0", *TRUST
    )

    assert code == 0
    assert "DLQ replay" in output
    assert "S3 on-failure replay" in output


@pytest.mark.parametrize("name", ["failure_bucket_name", "bucket_name"])
def test_bucket_comes_from_terraform_outputs(fake_aws: str, failure_bucket: str, name: str) -> None:
    """GIVEN `terraform output -json` with dlq_url and the failure bucket's name
    WHEN replaying THEN both the queue and the bucket are replayed."""
    outputs = {"dlq_url": {"value": fake_aws}, name: {"value": failure_bucket}, **TRUSTED_OUTPUTS}

    code, output = run(
        "run", "--terraform-outputs", "-", "--wait-seconds", "0", stdin=json.dumps(outputs)
    )

    assert code == 0
    assert "DLQ replay" in output
    assert f"S3 on-failure replay: s3://{failure_bucket}/aws/lambda/" in output


def test_null_bucket_output_replays_only_the_queue(fake_aws: str) -> None:
    """GIVEN terraform outputs whose bucket output is null (no failure bucket in the
    environment) WHEN replaying THEN only the DLQ is replayed."""
    outputs = {"dlq_url": {"value": fake_aws}, "bucket_name": {"value": None}, **TRUSTED_OUTPUTS}

    code, output = run(
        "run", "--terraform-outputs", "-", "--wait-seconds", "0", stdin=json.dumps(outputs)
    )

    assert code == 0
    assert "DLQ replay" in output
    assert "S3 on-failure" not in output


def test_missing_bucket_is_reported_with_exit_2_after_the_dlq_report(fake_aws: str) -> None:
    """GIVEN a DLQ and a bucket that does not exist WHEN replaying both THEN the DLQ's table is
    shown, then the bucket's error; exit status 2."""
    code, output = run(
        "run",
        "--queue-url",
        fake_aws,
        "--bucket",
        "no-such-failure-bucket",
        "--wait-seconds",
        "0",
        *TRUST,
    )

    assert code == 2
    assert "DLQ replay" in output
    assert "error: NoSuchBucket" in output


def test_s3_on_failure_is_a_known_reason() -> None:
    assert replay._reasons(["s3_on_failure"]) == {"S3_ON_FAILURE"}
