"""`make plan ENV=<real environment>` without credentials: one clear sentence, no stack trace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tools.terraform_stage import REPO_ROOT


def run_check(tmp_path: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    # An environment with no credential source at all: no variables, no files, no IMDS.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        **extra_env,
    )
    return subprocess.run(
        [sys.executable, "-m", "tools.aws_credentials", "dev"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_missing_credentials_are_one_clear_message(tmp_path: Path) -> None:
    # GIVEN no AWS credentials anywhere / WHEN the check runs
    result = run_check(tmp_path)
    # THEN it fails with a sentence that says what is missing and how to fix it
    assert result.returncode == 2
    assert "No AWS credentials found" in result.stderr
    assert "AWS_PROFILE" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_profile_is_one_clear_message(tmp_path: Path) -> None:
    result = run_check(tmp_path, AWS_PROFILE="does-not-exist")
    assert result.returncode == 2
    assert "could not be loaded" in result.stderr
    assert "does-not-exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_present_credentials_pass(tmp_path: Path) -> None:
    result = run_check(tmp_path, AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY="x")
    assert result.returncode == 0, result.stderr
