"""Plan every module case and every example, and compare with its YAML inventory.

Cases are discovered, not listed:
- `tests/modules/<module>/<case>.tfvars` + `<case>.yaml` plan `modules/<module>` with the tfvars;
- `tests/modules/<module>/examples/<example>.yaml` plans `modules/<module>/examples/<example>`,
  and every example must have one;
- `tests/environments/<env>.yaml` plans `environments/<env>` with its own terraform.tfvars (the
  S3 backend swapped for a local one), and every environment must have one;
- `tests/examples/<example>.yaml` plans the root module `examples/<example>` (a team's own
  consumer on the pipeline), planned with the environments; every one must have one.

An inventory says what its case proves (`proves:`) and which resources, attributes and outputs
prove it (`keep:`, see `tests/inventory.py`); the test asserts exactly those values and the
resource counts, and fails on a keep entry that no longer matches the plan. After an intended
change, `make inventories` (`--update-inventories`) rewrites the values from the plan, keeping
only what each keep list names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import inventory
import pytest
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
        if self.root.parent.name == "examples" and self.root.parent.parent == REPO_ROOT:
            return f"example_root_{self.root.name}"
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
        elif environment.parent == REPO_ROOT / "examples":
            # Root modules with their own provider, like the environments: planned with them.
            inventory = REPO_ROOT / "tests" / "examples" / f"{environment.name}.yaml"
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
    if case.label.startswith("example_root_"):
        return f"examples/{case.root.name}"
    if case.group == "environments":
        return f"environments/{case.root.name}"
    if case.tfvars:
        return f"{case.group}/{case.tfvars.stem}"
    return f"{case.group}/examples/{case.root.name}"


def _described_by(case: Case) -> Path:
    """Where the case says what it is about: its tfvars, the example's or environment's files."""
    if case.tfvars:
        return case.tfvars
    for name in ("terraform.tfvars", "main.tf"):
        if (case.root / name).exists():
            return case.root / name
    return case.root / "main.tf"


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
    path = case.inventory
    regenerate = (
        f"  .venv/bin/pytest 'tests/modules/test_plan_inventories.py::"
        f"test_plan_matches_inventory[{request.node.callspec.id}]' --update-inventories"
    )

    if request.config.getoption("--update-inventories"):
        problems = inventory.update(path, summary, _described_by(case))
        assert not problems, f"{path.relative_to(REPO_ROOT)} not written:\n" + "\n".join(problems)
        return

    # THEN the plan holds exactly what its inventory keeps, and every keep entry matches
    assert path.exists(), (
        f"no inventory {path.relative_to(REPO_ROOT)}; create it with:\n{regenerate}"
    )
    problems = inventory.compare(inventory.load(path), summary)
    assert not problems, (
        f"plan of {case.root.relative_to(REPO_ROOT)} differs from "
        f"{path.relative_to(REPO_ROOT)}:\n"
        + "\n".join(problems)
        + f"\nIf the change is intended, fix the keep list or regenerate the inventory with:\n"
        f"{regenerate}"
    )
