"""The Makefile's environment guard: plan/apply/destroy only name real environments."""

from __future__ import annotations

import subprocess

from tools.terraform_stage import REPO_ROOT


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-s", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_plan_of_an_unknown_environment_fails_listing_the_valid_ones() -> None:
    # GIVEN the environments present in environments/
    environments = sorted(
        p.name for p in (REPO_ROOT / "environments").glob("*") if p.is_dir() and any(p.glob("*.tf"))
    )
    # WHEN a plan names an environment that does not exist
    result = make("plan", "ENV=nope")
    # THEN it stops before any terraform command with a message listing them
    assert result.returncode == 2
    assert "ENV='nope' is not an environment" in result.stderr
    for name in environments:
        assert name in result.stderr
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
