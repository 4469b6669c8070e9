"""The Makefile's environment guard: plan/apply/destroy only name real environments."""

from __future__ import annotations

import subprocess
from pathlib import Path

from make_harness import fill_in, scratch_repo, without_aws_credentials
from make_harness import make as make_in

from tools.terraform_stage import REPO_ROOT, roots


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return make_in(REPO_ROOT, *args)


def test_plan_of_an_unknown_environment_fails_listing_the_valid_ones() -> None:
    # GIVEN the environments present in environments/
    environments = [root.name for root in roots() if root.parent.name == "environments"]
    assert environments, "no environments found"
    # WHEN a plan names an environment that does not exist
    result = make("plan", "ENV=nope")
    # THEN it stops before any terraform command with a message listing them
    assert result.returncode == 2
    assert "ENV='nope' is not an environment" in result.stderr
    assert f"one of: {' '.join(sorted(environments))}" in result.stderr
    assert "terraform" not in result.stdout


def test_plan_without_env_fails_the_same_way() -> None:
    result = make("destroy")
    assert result.returncode == 2
    assert "Use ENV=<name>" in result.stderr


def test_help_lists_every_documented_target() -> None:
    result = make("help")
    assert result.returncode == 0
    for target in (
        "setup",
        "fmt",
        "lint",
        "test",
        "checkov",
        "package",
        "plan",
        "apply",
        "destroy",
        "clean",
    ):
        assert f"  {target} " in result.stdout


def test_plan_of_a_real_environment_without_credentials_is_one_clear_message(
    tmp_path: Path,
) -> None:
    # GIVEN dev with its placeholders filled in (tools/check_placeholders.py stops the shipped
    # values first), in a scratch copy of the environments
    root = scratch_repo(tmp_path)
    for name in ("backend.hcl", "terraform.tfvars"):
        fill_in(root / "environments" / "dev" / name)
    # AND no AWS credentials anywhere (no variables, no config files, no instance metadata)
    env = without_aws_credentials(tmp_path)
    # WHEN it is planned (packaging skipped: not what is tested here)
    result = make_in(root, "-o", "package", "plan", "ENV=dev", env=env)
    # THEN it stops before terraform with one sentence about credentials, no stack trace
    assert result.returncode != 0
    assert "No AWS credentials found" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Initializing" not in result.stdout
