"""The operator guides hold no command a test does not run, and the AWS CLI stand-in the e2e
test runs them with maps commands onto botocore's model as the CLI does."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from guide_blocks import GUIDES, SETUP_GUIDE, blocks

SHIM = Path(__file__).with_name("aws_cli_shim.py")


@pytest.mark.parametrize("guide", GUIDES, ids=lambda path: path.name)
def test_every_shell_block_of_a_guide_runs_on_the_local_stack(guide: Path) -> None:
    # GIVEN a guide WHEN its fenced blocks are read
    found = blocks(guide)

    # THEN every shell block is marked to run on the local stack (tests/e2e/test_guides_e2e.py)
    shell = [block for block in found if block.lang in {"sh", "bash", "shell", "console"}]
    unmarked = [f"{block.guide}:{block.line}" for block in shell if not block.marked]
    assert unmarked == [], "shell blocks no test runs"
    assert all(block.lang in {"sh", "hcl", ""} for block in found), [b.lang for b in found]
    if guide.name == SETUP_GUIDE:
        assert len(shell) == 1, "operations.md holds the one setup block"


EARLY_EXITS = re.compile(r"\|\s*(head|grep\s+-\w*[qm]|sed\s+\d+q)\b")


@pytest.mark.parametrize("guide", GUIDES, ids=lambda path: path.name)
def test_no_guide_pipe_ends_in_a_command_that_stops_reading(guide: Path) -> None:
    # GIVEN a guide's shell blocks, which readers (and the e2e test) run under pipefail
    found = [block for block in blocks(guide) if block.lang == "sh"]

    # WHEN their pipes are read
    early = [
        f"{block.guide}:{block.line}: {match.group(0)}"
        for block in found
        for match in EARLY_EXITS.finditer(block.text)
    ]

    # THEN none ends in head, grep -q/-m or sed Nq: it closes the pipe while the command before
    # it may still be writing, which then dies of SIGPIPE and fails the block (exit 141), now
    # and then
    assert early == []


def _shim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SHIM), *args],
        capture_output=True,
        text=True,
        check=False,
        env={"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "PATH": "/usr/bin:/bin"},
    )


def test_the_shim_refuses_an_operation_the_cli_does_not_have() -> None:
    # GIVEN a misspelt operation WHEN run THEN it fails, naming it, before any request
    result = _shim("kinesis", "list-shard", "--stream-name", "s", "--region", "us-east-1")
    assert result.returncode != 0
    assert "no operation 'list-shard'" in result.stderr


def test_the_shim_refuses_an_option_the_operation_does_not_have() -> None:
    # GIVEN a misspelt parameter WHEN run THEN it fails, naming it
    result = _shim("kinesis", "list-shards", "--stream", "s", "--region", "us-east-1")
    assert result.returncode != 0
    assert "unknown option --stream" in result.stderr


def test_the_shim_maps_parameters_and_query_onto_the_model() -> None:
    # GIVEN moto in a child process (the shim's own interpreter)
    code = f"""
import json, sys, runpy
from moto import mock_aws
with mock_aws():
    import boto3
    boto3.client("kinesis", region_name="us-east-1").create_stream(StreamName="s", ShardCount=2)
    sys.argv = ["aws", "kinesis", "list-shards", "--stream-name", "s", "--max-results", "5",
                "--region", "us-east-1", "--query", "Shards[].ShardId"]
    runpy.run_path({str(SHIM)!r}, run_name="__main__")
"""
    # WHEN a command with a string and a number parameter and a --query runs
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "PATH": "/usr/bin:/bin"},
    )

    # THEN it prints the query's result as the CLI would
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["shardId-000000000000", "shardId-000000000001"]
