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

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.terraform_stage import REPO_ROOT, roots

TESTS_DIR = Path(__file__).parent
pytestmark = pytest.mark.terraform


def _cases() -> list[Any]:
    cases = []
    for tfvars in sorted(TESTS_DIR.glob("*/*.tfvars")):
        module = tfvars.parent.name
        cases.append(
            pytest.param(
                Path("modules") / module,
                tfvars,
                tfvars.with_suffix(".yaml"),
                id=f"{module}/{tfvars.stem}",
            )
        )
    for example in sorted((REPO_ROOT / "modules").glob("*/examples/*")):
        if example.is_dir():
            module = example.parent.parent.name
            inventory = TESTS_DIR / module / "examples" / f"{example.name}.yaml"
            cases.append(
                pytest.param(
                    example.relative_to(REPO_ROOT),
                    None,
                    inventory,
                    id=f"{module}/examples/{example.name}",
                )
            )
    environments_inventories = REPO_ROOT / "tests" / "environments"
    for environment in roots():
        if environment.parent.name == "environments":
            cases.append(
                pytest.param(
                    environment.relative_to(REPO_ROOT),
                    None,
                    environments_inventories / f"{environment.name}.yaml",
                    id=f"environments/{environment.name}",
                )
            )
    return cases


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


@pytest.mark.parametrize(("root", "tfvars", "inventory"), _cases())
def test_plan_matches_inventory(
    request: pytest.FixtureRequest,
    plan_summary: Callable[..., Any],
    root: Path,
    tfvars: Path | None,
    inventory: Path,
) -> None:
    # GIVEN a Terraform root and, for module cases, its tfvars
    # WHEN it is planned offline against dummy credentials
    summary = plan_summary(root, tf_var_files=[tfvars] if tfvars else None)

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
        f"plan of {root} differs from {inventory.relative_to(REPO_ROOT)}:\n  "
        + "\n  ".join(problems)
        + f"\nIf the change is intended, regenerate the inventory with:\n{regenerate}"
    )
