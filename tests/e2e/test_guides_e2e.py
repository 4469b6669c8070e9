"""Every command block of the operator guides (docs/operations.md and the pages it lists) runs
against the environments' stack: the setup block of docs/operations.md, then the block, in one
bash with `set -euo pipefail`, the AWS CLI pointed at the emulator (AWS_ENDPOINT_URL; where
the AWS CLI is not installed, tests/guides/aws_cli_shim.py stands in for it, mapping each
command onto botocore's model as the CLI does)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_pipeline import Pipeline
from guide_blocks import GUIDES, SETUP_GUIDE, Block, blocks

SHIM = Path(__file__).resolve().parents[1] / "guides" / "aws_cli_shim.py"
SETUP = next(b for b in blocks(GUIDES[0].with_name(SETUP_GUIDE)) if b.marked)
CASES = [b for guide in GUIDES for b in blocks(guide) if b.marked and b.guide != SETUP_GUIDE]


def _before(block: Block) -> list[Block]:
    """The marked blocks of its guide before ``block``: a reader runs them in order."""
    return [b for b in CASES if b.guide == block.guide and b.line < block.line]


@pytest.fixture(scope="module")
def bin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`aws` (the CLI, or the stand-in) and `stream-pipeline` first on PATH."""
    directory = tmp_path_factory.mktemp("guide-bin")
    if (
        shutil.which("aws") is None
        or subprocess.run(["aws", "--version"], capture_output=True, check=False).returncode
    ):
        aws = directory / "aws"
        aws.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{SHIM}" "$@"\n')
        aws.chmod(0o755)
    (directory / "stream-pipeline").symlink_to(Path(sys.executable).with_name("stream-pipeline"))
    return directory


def _run(pipeline: Pipeline, bin_dir: Path, block: Block) -> subprocess.CompletedProcess[str]:
    region = pipeline.outputs["stream_arn"].split(":")[3]
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "AWS_ENDPOINT_URL": pipeline.stack.endpoint,
        "AWS_DEFAULT_REGION": region,
        "ENV": "local",
    }
    earlier = "\n".join(b.text for b in _before(block)) if block.guide != SETUP_GUIDE else ""
    script = f"set -euo pipefail\n{SETUP.text}\n{earlier}\n{block.text}\n"
    return subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, check=False, timeout=300
    )


def test_the_setup_block_finds_the_environments_names(pipeline: Pipeline, bin_dir: Path) -> None:
    """GIVEN the local stack WHEN the setup block runs THEN it names the environment's stream,
    results table, processor, DLQ and the processor's mapping."""
    result = _run(pipeline, bin_dir, Block(SETUP_GUIDE, 0, "sh", True, "true"))
    assert result.returncode == 0, result.stderr
    outputs = pipeline.outputs
    assert result.stdout.split() == [
        outputs["stream_name"],
        outputs["results_table_name"],
        outputs["consumer_function_name"],
        outputs["dlq_url"],
        pipeline.mapping_uuid,
    ]


@pytest.mark.parametrize("block", CASES, ids=lambda b: f"{b.guide}:{b.line}")
def test_a_guide_command_block_runs_on_the_local_stack(
    pipeline: Pipeline, bin_dir: Path, block: Block
) -> None:
    """GIVEN the local stack, the names of the setup block and the guide's earlier blocks run
    WHEN a guide's block runs THEN every command in it succeeds."""
    result = _run(pipeline, bin_dir, block)
    assert result.returncode == 0, f"{block.guide}:{block.line}\n{result.stdout}\n{result.stderr}"
