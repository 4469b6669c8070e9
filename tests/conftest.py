"""Shared fixtures: Terraform plan harness (in the style of cloud-foundation-fabric).

`plan_summary` stages a module, example or environment in a scratch directory (see
`tools/terraform_stage.py`), runs `terraform plan` through tftest and reduces the JSON plan to
what an inventory asserts: planned values by resource address, resource counts by type, and
outputs known at plan time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import tftest

from tools.terraform_stage import REPO_ROOT, stage, terraform_env

UNKNOWN = "__unknown_at_plan__"
PACKAGE_HASH = "__hash_of_the_built_package__"
# Attributes that change with every edit of a function's code, not with the module: an
# inventory records that they are set, not their value.
PACKAGE_DERIVED_ATTRIBUTES = frozenset({"source_code_hash"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-inventories",
        action="store_true",
        default=False,
        help="rewrite plan inventories (tests/**/<case>.yaml) from the current plans",
    )


@dataclass
class PlanSummary:
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    def as_inventory(self) -> dict[str, Any]:
        return {"values": self.values, "counts": self.counts, "outputs": self.outputs}


def _walk(module: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(module address, resource) for every resource, the root module's address being ""."""
    for resource in module.get("resources", []):
        yield module.get("address", ""), resource
    for child in module.get("child_modules", []):
        yield from _walk(child)


def _without_package_hashes(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: PACKAGE_HASH if key in PACKAGE_DERIVED_ATTRIBUTES and value else value
        for key, value in values.items()
    }


def summarize(plan: tftest.TerraformPlanOutput) -> PlanSummary:
    root = plan._raw.get("planned_values", {}).get("root_module", {})
    managed = [(address, r) for address, r in _walk(root) if r.get("mode") == "managed"]
    resources = [r for _, r in managed]
    counts = Counter(r["type"] for r in resources)
    counts["resources"] = len(resources)
    counts["modules"] = len({address for address, _ in managed if address})
    outputs = {
        name: output.get("value", UNKNOWN)
        for name, output in plan._raw.get("planned_values", {}).get("outputs", {}).items()
    }
    return PlanSummary(
        values={r["address"]: _without_package_hashes(r.get("values", {})) for r in resources},
        counts=dict(sorted(counts.items())),
        outputs=dict(sorted(outputs.items())),
    )


def run_plan(
    root: Path, scratch: Path, tf_var_files: list[Path] | None = None, **tf_vars: Any
) -> PlanSummary:
    staged = stage(root, scratch)
    test = tftest.TerraformTest(str(staged), binary="terraform", env=terraform_env())
    test.setup(upgrade=False)
    plan = test.plan(
        output=True,
        refresh=False,
        tf_var_file=[str(f) for f in tf_var_files or []],
        tf_vars=tf_vars or None,
    )
    return summarize(plan)


@pytest.fixture
def plan_summary(tmp_path: Path) -> Callable[..., PlanSummary]:
    """`plan_summary("modules/kinesis-stream", tf_var_files=[...], name="x")`."""

    def _plan(
        root: str | Path, tf_var_files: list[Path] | None = None, **tf_vars: Any
    ) -> PlanSummary:
        return run_plan(REPO_ROOT / root, tmp_path, tf_var_files, **tf_vars)

    return _plan
