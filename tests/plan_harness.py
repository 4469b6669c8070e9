"""Terraform plan harness (in the style of cloud-foundation-fabric).

`run_plan_calls` stages one root that calls several modules, examples or environments (see
`tools/terraform_stage.stage_calls`), runs `terraform plan` through tftest -- one provider
start-up, init and show for all of them -- and reduces the JSON plan, per call, to what an
inventory may assert: planned values by resource address (attributes known only after apply
marked as such), resource counts by type, and outputs, as the call would have had them as a
root of its own. What an inventory keeps of it is `tests/inventory.py`'s business.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tftest

from tools.terraform_stage import (
    OUTPUT_SEPARATOR,
    ModuleCall,
    call_source,
    stage_calls,
    terraform_env,
)

UNKNOWN = "__unknown_at_plan__"
PACKAGE_HASH = "__hash_of_the_built_package__"
# Attributes that change with every edit of a function's code, not with the module: an
# inventory records that they are set, not their value.
PACKAGE_DERIVED_ATTRIBUTES = frozenset({"source_code_hash"})


@dataclass
class PlanSummary:
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)


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


def _any_unknown(unknown: Any) -> bool:
    if isinstance(unknown, dict):
        return any(_any_unknown(u) for u in unknown.values())
    if isinstance(unknown, list):
        return any(_any_unknown(u) for u in unknown)
    return unknown is True


def _with_unknowns(values: Any, unknown: Any) -> Any:
    """`values` with every attribute the plan knows only after apply (`after_unknown`) set to
    UNKNOWN, so that an inventory can assert that it is set."""
    if unknown is True:
        return UNKNOWN
    if not _any_unknown(unknown):
        return values
    if isinstance(unknown, dict):
        values = dict(values) if isinstance(values, dict) else {}
        for key, nested in unknown.items():
            values[key] = _with_unknowns(values.get(key), nested)
        return values
    if isinstance(unknown, list) and isinstance(values, list) and len(unknown) == len(values):
        return [_with_unknowns(v, u) for v, u in zip(values, unknown, strict=True)]
    return values


def _summary(
    managed: list[tuple[str, dict[str, Any]]], outputs: dict[str, dict[str, Any]]
) -> PlanSummary:
    resources = [r for _, r in managed]
    counts = Counter(r["type"] for r in resources)
    counts["resources"] = len(resources)
    counts["modules"] = len({address for address, _ in managed if address})
    return PlanSummary(
        values={
            r["address"]: _without_package_hashes(
                _with_unknowns(r.get("values", {}), r.get("after_unknown", {}))
            )
            for r in resources
        },
        counts=dict(sorted(counts.items())),
        outputs={name: outputs[name].get("value", UNKNOWN) for name in sorted(outputs)},
    )


def _managed(plan: tftest.TerraformPlanOutput) -> list[tuple[str, dict[str, Any]]]:
    """Managed resources of the planned values, each with its `after_unknown` from the
    resource changes."""
    root = plan._raw.get("planned_values", {}).get("root_module", {})
    unknown = {
        change["address"]: change.get("change", {}).get("after_unknown", {})
        for change in plan._raw.get("resource_changes", [])
    }
    return [
        (address, dict(r, after_unknown=unknown.get(r["address"], {})))
        for address, r in _walk(root)
        if r.get("mode") == "managed"
    ]


def _relocated(value: Any, module_path: str) -> Any:
    """`path.module` of a call is its source path; as a root it would have been `.`."""
    if isinstance(value, str) and value.startswith(module_path + "/"):
        return "./" + value[len(module_path) + 1 :]
    if isinstance(value, dict):
        return {key: _relocated(item, module_path) for key, item in value.items()}
    if isinstance(value, list):
        return [_relocated(item, module_path) for item in value]
    return value


def summarize_calls(
    plan: tftest.TerraformPlanOutput, calls: list[ModuleCall]
) -> dict[str, PlanSummary]:
    """Split the plan of a `stage_calls` root into one summary per call, with the addresses,
    values and outputs the call's module would have had as a root (`module.<label>.` dropped,
    `path.module` back to `.`)."""
    managed = _managed(plan)
    outputs = plan._raw.get("planned_values", {}).get("outputs", {})
    summaries = {}
    for call in calls:
        label, module_path = call.label, call_source(call)
        prefix = f"module.{label}"
        own = []
        for address, resource in managed:
            if address != prefix and not address.startswith(prefix + "."):
                continue
            relocated = dict(
                resource,
                address=resource["address"][len(prefix) + 1 :],
                values=_relocated(resource.get("values", {}), module_path),
            )
            own.append((address[len(prefix) + 1 :], relocated))
        own_outputs = {
            name.split(OUTPUT_SEPARATOR, 1)[1]: _relocated(output, module_path)
            for name, output in outputs.items()
            if name.startswith(label + OUTPUT_SEPARATOR)
        }
        summaries[label] = _summary(own, own_outputs)
    return summaries


def run_plan_calls(calls: list[ModuleCall], scratch: Path) -> dict[str, PlanSummary]:
    test = tftest.TerraformTest(
        str(stage_calls(calls, scratch)), binary="terraform", env=terraform_env()
    )
    test.setup(upgrade=False)
    # tftest 1.8.8 writes the plan file with tempfile and never deletes it (about 200 KB per
    # plan in /tmp): have it write into the scratch directory, which pytest cleans up.
    saved, tempfile.tempdir = tempfile.tempdir, str(scratch)
    try:
        plan = test.plan(output=True, refresh=False)
    finally:
        tempfile.tempdir = saved
    return summarize_calls(plan, calls)
