"""Run each module's native `terraform test` suite (`modules/<m>/tests/*.tftest.hcl`).

Those suites use `mock_provider "aws"` and hold one `expect_failures` run per validation rule;
they run here, from a scratch copy, so `make test` covers them in parallel with the rest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.terraform_stage import REPO_ROOT, init, run, stage

pytestmark = pytest.mark.terraform
MODULES_WITH_TESTS = sorted(
    p.parent.parent.name for p in (REPO_ROOT / "modules").glob("*/tests/*.tftest.hcl")
)


def test_every_module_has_native_tests() -> None:
    modules = sorted(
        p.name for p in (REPO_ROOT / "modules").glob("*") if (p / "variables.tf").exists()
    )
    assert modules, "no modules found"
    assert modules == sorted(set(MODULES_WITH_TESTS)), "each module needs tests/*.tftest.hcl"


@pytest.mark.parametrize("module", sorted(set(MODULES_WITH_TESTS)))
def test_native_terraform_test_passes(tmp_path: Path, module: str) -> None:
    # GIVEN the module staged without a provider configuration (its tests mock the provider)
    staged = stage(REPO_ROOT / "modules" / module, tmp_path, provider_file=False)
    init(staged)
    # WHEN its native test suite runs
    result = run(["test"], staged)
    # THEN every run passed, and at least one ran
    assert "0 failed" in result.stdout, result.stdout
    assert "Success!" in result.stdout, result.stdout
    assert " passed" in result.stdout, result.stdout
