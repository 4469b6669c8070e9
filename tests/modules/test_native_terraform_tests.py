"""Run each module's native `terraform test` suite (`modules/<m>/tests/*.tftest.hcl`).

Those suites use `mock_provider "aws"` and hold one `expect_failures` run per validation rule;
they run here, from a scratch copy (staged and initialised once per module), so `make test`
covers them in parallel with the rest.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tools.terraform_stage import REPO_ROOT, init, stage, terraform_env

pytestmark = pytest.mark.terraform
TEST_FILES = sorted((REPO_ROOT / "modules").glob("*/tests/*.tftest.hcl"))
MODULES_WITH_TESTS = sorted({p.parent.parent.name for p in TEST_FILES})


def test_every_module_has_native_tests() -> None:
    modules = sorted(
        p.name for p in (REPO_ROOT / "modules").glob("*") if (p / "variables.tf").exists()
    )
    assert modules, "no modules found"
    assert modules == MODULES_WITH_TESTS, "each module needs tests/*.tftest.hcl"


_RESULTS: dict[Path, str] = {}
"""Per pytest worker: each module's suite runs once, all its test files in one `terraform test`
(a module's files share an xdist group, so they run on the same worker); each file's case then
reads its own lines. One run per module, not per file: every run loads the provider schema."""


def _suite_output(module: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    if module not in _RESULTS:
        staged = stage(module, tmp_path_factory.mktemp("native"), provider_file=False)
        init(staged)
        # Not run(): a failing suite must still report its files one by one.
        result = subprocess.run(
            ["terraform", "test", "-no-color"],
            cwd=staged,
            env=terraform_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        _RESULTS[module] = result.stdout + result.stderr
    return _RESULTS[module]


def _file_report(output: str, test_file: Path) -> tuple[str | None, list[str], str]:
    """What `terraform test` printed for one file: its verdict ("pass"/"fail", None when it did
    not run), the verdict of each of its runs, and its lines with the error blocks that name it
    ("on tests/x.tftest.hcl line N"; they follow all the files)."""
    name = f"tests/{test_file.name}"
    lines = output.splitlines()
    begin = f"{name}... in progress"
    if begin not in lines:
        return None, [], output
    own = lines[lines.index(begin) :]
    verdicts = [line for line in own if re.fullmatch(rf"{re.escape(name)}\.\.\. (pass|fail)", line)]
    own = own[: own.index(verdicts[0]) + 1] if verdicts else own
    runs = [m[1] for line in own if (m := re.fullmatch(r'  run "[^"]+"\.\.\. (\w+)', line))]
    errors = [
        f"Error: {block}" for block in output.split("\nError: ") if f"on {name} line" in block
    ]
    verdict = verdicts[0].rsplit(" ", 1)[1] if verdicts else None
    return verdict, runs, "\n".join(own + errors)


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
    # GIVEN the module staged without a provider configuration (its tests mock the provider),
    # WHEN its native suite runs (once for all its files)
    output = _suite_output(test_file.parent.parent, tmp_path_factory)
    verdict, runs, report = _file_report(output, test_file)
    # THEN this file ran, at least one run ran, and every run passed
    assert verdict == "pass", report
    assert runs, report
    assert set(runs) == {"pass"}, report


_TWO_FILES_ONE_FAILING = """tests/defaults.tftest.hcl... in progress
  run "defaults_are_safe"... pass
tests/defaults.tftest.hcl... tearing down
tests/defaults.tftest.hcl... pass
tests/validation.tftest.hcl... in progress
  run "rejects_invalid_values"... fail
  run "rejects_a_long_name"... pass
tests/validation.tftest.hcl... tearing down
tests/validation.tftest.hcl... fail

Error: Missing expected failure

  on tests/validation.tftest.hcl line 12, in run "rejects_invalid_values":
  12:   expect_failures = [var.name]

Failure! 2 passed, 1 failed.
"""


def test_a_failing_file_fails_its_own_case_only() -> None:
    # GIVEN the output of one `terraform test` over two files, the second failing
    # WHEN each file's report is read
    defaults = _file_report(_TWO_FILES_ONE_FAILING, Path("tests/defaults.tftest.hcl"))
    validation = _file_report(_TWO_FILES_ONE_FAILING, Path("tests/validation.tftest.hcl"))
    missing = _file_report(_TWO_FILES_ONE_FAILING, Path("tests/other.tftest.hcl"))
    # THEN the first passed, the second failed with its error block, the third never ran
    assert defaults[:2] == ("pass", ["pass"])
    assert "Missing expected failure" not in defaults[2]
    assert validation[:2] == ("fail", ["fail", "pass"])
    assert "Error: Missing expected failure" in validation[2]
    assert missing[:2] == (None, [])
