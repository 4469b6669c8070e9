"""Run each module's native `terraform test` suite (`modules/<m>/tests/*.tftest.hcl`).

Those suites use `mock_provider "aws"` and hold one `expect_failures` run per validation rule;
they run here, from a scratch copy (staged and initialised once per module), so `make test`
covers them in parallel with the rest.
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


_STAGED: dict[Path, Path] = {}
"""Per pytest worker: each module is staged and initialised once, for all its test files (a
module's files share an xdist group, so they run on the same worker)."""


def _staged(module: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if module not in _STAGED:
        staged = stage(module, tmp_path_factory.mktemp("native"), provider_file=False)
        init(staged)
        _STAGED[module] = staged
    return _STAGED[module]


# One case per test file, so a failure names its file.
@pytest.mark.parametrize(
    "test_file",
    [
        pytest.param(
            p,
            id=f"{p.parent.parent.name}/{p.name}",
            marks=pytest.mark.xdist_group(f"native-{p.parent.parent.name}"),
        )
        for p in TEST_FILES
    ],
)
def test_native_terraform_test_passes(
    tmp_path_factory: pytest.TempPathFactory, test_file: Path
) -> None:
    # GIVEN the module staged without a provider configuration (its tests mock the provider)
    staged = _staged(test_file.parent.parent, tmp_path_factory)
    # WHEN one of its native test files runs
    result = run(["test", f"-filter=tests/{test_file.name}"], staged)
    # THEN every run passed, and at least one ran
    assert "0 failed" in result.stdout, result.stdout
    assert "Success!" in result.stdout, result.stdout
    assert " passed" in result.stdout, result.stdout
