"""Plan every module case and every example, and compare with its YAML inventory.

Cases are discovered, not listed:
- `tests/modules/<module>/<case>.tfvars` + `<case>.yaml` plan `modules/<module>` with the tfvars;
- `tests/modules/<module>/examples/<example>.yaml` plans `modules/<module>/examples/<example>`,
  and every example must have one;
- `tests/environments/<env>.yaml` plans `environments/<env>` with its own terraform.tfvars (the
  S3 backend swapped for a local one), and every environment must have one.

An inventory asserts a subset of the plan: the listed attributes of the listed resources, the
resource counts and the outputs known at plan time. Regenerate one after an intended change
with the command a mismatch prints (`--update-inventories`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from plan_harness import PlanSummary, run_plan_calls

from tools.terraform_stage import REPO_ROOT, ModuleCall, roots

TESTS_DIR = Path(__file__).parent
pytestmark = pytest.mark.terraform


@dataclass(frozen=True)
class Case:
    group: str
    """Cases of one group are planned together: a module's cases and examples, or the
    environments (each with its own provider configuration)."""
    root: Path
    """What the case plans: the module (with `tfvars`), an example or an environment."""
    tfvars: Path | None
    inventory: Path

    @property
    def label(self) -> str:
        if self.group == "environments":
            return f"environment_{self.root.name}"
        kind = "case" if self.tfvars else "example"
        name = self.tfvars.stem if self.tfvars else self.root.name
        return f"{kind}_{name}"

    def call(self) -> ModuleCall:
        """The case as a module block: a module case's tfvars, an environment's own
        terraform.tfvars (which Terraform would load for it as a root), as its arguments."""
        tfvars = self.tfvars or self.root / "terraform.tfvars"
        return ModuleCall(self.label, self.root, tfvars.read_text() if tfvars.exists() else "")


def _cases() -> list[Case]:
    cases = []
    for tfvars in sorted(TESTS_DIR.glob("*/*.tfvars")):
        module = tfvars.parent.name
        inventory = tfvars.with_suffix(".yaml")
        cases.append(Case(module, REPO_ROOT / "modules" / module, tfvars, inventory))
    for example in sorted((REPO_ROOT / "modules").glob("*/examples/*")):
        if example.is_dir():
            module = example.parent.parent.name
            inventory = TESTS_DIR / module / "examples" / f"{example.name}.yaml"
            cases.append(Case(module, example, None, inventory))
    environments_inventories = REPO_ROOT / "tests" / "environments"
    for environment in roots():
        if environment.parent.name == "environments":
            inventory = environments_inventories / f"{environment.name}.yaml"
            cases.append(Case("environments", environment, None, inventory))
    return cases


CASES = _cases()
_PLANS: dict[str, dict[str, PlanSummary]] = {}
"""Per pytest worker: each group is planned once, by its first case (the group's cases share an
xdist group, so they run on the same worker)."""


def _summary(case: Case, tmp_path_factory: pytest.TempPathFactory) -> PlanSummary:
    if case.group not in _PLANS:
        group = [c.call() for c in CASES if c.group == case.group]
        _PLANS[case.group] = run_plan_calls(group, tmp_path_factory.mktemp("plan"))
    return _PLANS[case.group][case.label]


def _case_id(case: Case) -> str:
    if case.group == "environments":
        return f"environments/{case.root.name}"
    if case.tfvars:
        return f"{case.group}/{case.tfvars.stem}"
    return f"{case.group}/examples/{case.root.name}"


def _mismatches(expected: Any, actual: Any, path: str) -> list[str]:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a map, plan has {actual!r}"]
        problems = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing from the plan")
            else:
                problems += _mismatches(value, actual[key], f"{path}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {expected!r}, plan has {actual!r}"]
        return [
            p
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for p in _mismatches(e, a, f"{path}[{i}]")
        ]
    return [] if expected == actual else [f"{path}: expected {expected!r}, plan has {actual!r}"]


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=_case_id(c), marks=pytest.mark.xdist_group(c.group)) for c in CASES],
)
def test_plan_matches_inventory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, case: Case
) -> None:
    # GIVEN a Terraform root and, for module cases, its tfvars
    # WHEN it is planned offline against dummy credentials (with the other cases of its group)
    summary = _summary(case, tmp_path_factory)
    inventory = case.inventory

    if request.config.getoption("--update-inventories"):
        inventory.parent.mkdir(parents=True, exist_ok=True)
        inventory.write_text(yaml.safe_dump(summary.as_inventory(), sort_keys=True, width=100))
        return

    # THEN the plan holds everything its inventory lists
    regenerate = (
        f"  .venv/bin/pytest 'tests/modules/test_plan_inventories.py::"
        f"test_plan_matches_inventory[{request.node.callspec.id}]' --update-inventories"
    )
    assert inventory.exists(), (
        f"no inventory {inventory.relative_to(REPO_ROOT)}; create it with:\n{regenerate}"
    )
    expected = yaml.safe_load(inventory.read_text()) or {}
    problems = _mismatches(expected.get("values", {}), summary.values, "values")
    problems += _mismatches(expected.get("counts", {}), summary.counts, "counts")
    problems += _mismatches(expected.get("outputs", {}), summary.outputs, "outputs")
    assert not problems, (
        f"plan of {case.root.relative_to(REPO_ROOT)} differs from "
        f"{inventory.relative_to(REPO_ROOT)}:\n  "
        + "\n  ".join(problems)
        + f"\nIf the change is intended, regenerate the inventory with:\n{regenerate}"
    )
