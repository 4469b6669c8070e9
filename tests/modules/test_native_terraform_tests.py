"""Run each module's native `terraform test` suite (`modules/<m>/tests/*.tftest.hcl`).

Those suites use `mock_provider "aws"` and hold one `expect_failures` run per validation rule;
they run here, from a scratch copy, so `make test` covers them in parallel with the rest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.terraform_stage import REPO_ROOT, init, run, stage

pytestmark = pytest.mark.terraform
TEST_FILES = sorted((REPO_ROOT / "modules").glob("*/tests/*.tftest.hcl"))
MODULES_WITH_TESTS = sorted({p.parent.parent.name for p in TEST_FILES})


def test_every_module_has_native_tests() -> None:
    modules = sorted(
        p.name for p in (REPO_ROOT / "modules").glob("*") if (p / "variables.tf").exists()
    )
    assert modules, "no modules found"
    assert modules == MODULES_WITH_TESTS, "each module needs tests/*.tftest.hcl"


# One case per test file, so pytest-xdist spreads a module's suites over the workers.
@pytest.mark.parametrize(
    "test_file", TEST_FILES, ids=[f"{p.parent.parent.name}/{p.name}" for p in TEST_FILES]
)
def test_native_terraform_test_passes(tmp_path: Path, test_file: Path) -> None:
    # GIVEN the module staged without a provider configuration (its tests mock the provider)
    module = test_file.parent.parent
    staged = stage(module, tmp_path, provider_file=False)
    init(staged)
    # WHEN one of its native test files runs
    result = run(["test", f"-filter=tests/{test_file.name}"], staged)
    # THEN every run passed, and at least one ran
    assert "0 failed" in result.stdout, result.stdout
    assert "Success!" in result.stdout, result.stdout
    assert " passed" in result.stdout, result.stdout
