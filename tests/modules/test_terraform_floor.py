"""Each root's `required_version` admits only Terraform versions that can run what it uses.

`use_lockfile` in an S3 backend needs Terraform 1.10, a validation rule that refers to another
variable 1.9: a floor below that fails on the old version with a confusing error instead of
"unsupported Terraform version" (tools/terraform_floor.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools import terraform_floor
from tools.hcl_scan import REPO_ROOT

# Both scans of every .tf file share a worker, and so its cache of parsed files.
pytestmark = pytest.mark.xdist_group("hcl-scan")


def test_every_module_and_environment_floor_covers_what_it_uses() -> None:
    # GIVEN every directory of .tf files under modules/ and environments/
    roots = terraform_floor.roots()
    assert REPO_ROOT / "environments" / "dev" in roots
    # WHEN each root's features are compared with its required_version
    findings = [finding for root in roots for finding in terraform_floor.check_root(root)]
    # THEN none uses something its floor does not support
    assert not findings, "\n".join(map(str, findings))


def test_environments_use_the_s3_lockfile_so_their_floor_is_1_10() -> None:
    # GIVEN an environment root (what the check above must not pass vacuously for)
    dev = REPO_ROOT / "environments" / "dev"
    uses = [use for path in sorted(dev.glob("*.tf")) for use in terraform_floor.uses(path)[1]]
    # THEN it uses use_lockfile, and its versions.tf declares >= 1.10
    assert any("use_lockfile" in use.feature and use.needs == (1, 10) for use in uses)
    constraints = terraform_floor.uses(dev / "versions.tf")[0]
    assert terraform_floor.floor(constraints[0]) >= (1, 10)


def test_use_lockfile_below_1_10_is_reported(tmp_path: Path) -> None:
    # GIVEN a copy of environments/dev whose versions.tf allows Terraform 1.7
    root = tmp_path / "dev"
    shutil.copytree(REPO_ROOT / "environments" / "dev", root, symlinks=False)
    versions = root / "versions.tf"
    text = versions.read_text()
    assert 'required_version = ">= 1.10"' in text
    versions.write_text(text.replace('">= 1.10"', '">= 1.7"'))
    # WHEN the floor is checked
    findings = [str(f) for f in terraform_floor.check_root(root)]
    # THEN it names the file, the feature and the version to require (other findings name the
    # root's features of 1.8-1.9, e.g. validations that refer to other variables)
    lockfile = [f for f in findings if "uses use_lockfile" in f]
    assert len(lockfile) == 1, findings
    assert 'backend.tf uses use_lockfile in backend "s3"' in lockfile[0]
    assert 'required_version = ">= 1.7"' in lockfile[0]
    assert "raise the floor to >= 1.10" in lockfile[0]


CROSS_VARIABLE = """
terraform {
  required_version = "%s"
}

variable "low" {
  type = number
  validation {
    condition     = var.low < var.high && can(regex("local.text", "local.text"))
    error_message = "low must stay below high (${var.high})."
  }
}

variable "high" {
  type = number
  validation {
    condition     = var.high > 0
    error_message = "high must be positive; data.x in a message is only text."
  }
}
"""


@pytest.mark.parametrize(("required", "reported"), [(">= 1.7", True), (">= 1.9", False)])
def test_validation_referring_to_another_variable_needs_1_9(
    tmp_path: Path, required: str, reported: bool
) -> None:
    # GIVEN a module whose validation of `low` reads `high`
    (tmp_path / "variables.tf").write_text(CROSS_VARIABLE % required)
    # WHEN the floor is checked
    findings = [str(f) for f in terraform_floor.check_root(tmp_path)]
    # THEN a floor below 1.9 is reported (naming the reference), 1.9 is enough
    if reported:
        assert len(findings) == 1, findings
        assert "a validation of var.low that refers to var.high" in findings[0]
        assert "raise the floor to >= 1.9" in findings[0]
    else:
        assert findings == []


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        (">= 1.10", (1, 10)),
        (">= 1.7, < 2.0", (1, 7)),
        ("~> 1.9.0", (1, 9, 0)),
        ("1.11.4", (1, 11, 4)),
        ("< 2.0", (0,)),
        (None, (0,)),
    ],
)
def test_floor_of_a_constraint(constraint: str | None, expected: tuple[int, ...]) -> None:
    assert terraform_floor.floor(constraint) == expected
