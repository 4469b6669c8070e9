"""Plan inventories: what a case keeps of its plan, and how the plan is compared with it.

An inventory (`tests/modules/<module>/<case>.yaml`, `.../examples/<example>.yaml`,
`tests/environments/<env>.yaml`) has a hand-written head and a generated body:

    proves: <one sentence: what the case is meant to prove>
    keep:
      <resource address or glob>: [<attribute path or glob>, ...]
      outputs: [<output name or glob>, ...]
    # --- written by --update-inventories ... ---
    counts: {<resource type>: <n>, ..., modules: <n>, resources: <n>}
    outputs: {<kept output>: <value>}
    values: {<kept address>: {<kept attribute paths>}}

`keep` maps resource addresses to attribute paths. In both, `*` matches any run of characters
(brackets and quotes are literal: `aws_sqs_queue.this["dlq"]`). A path is dotted
(`logging_config.log_format`): a map is entered by key, a list (a block) element by element,
so a path keeps the same attribute of every block. An empty list keeps only that the resource
exists. `outputs` names the outputs kept. `counts` is always the whole count per type.

`--update-inventories` keeps the head as written and rewrites the body from the plan with only
what `keep` names; the comparison asserts exactly that body. A keep entry that matches nothing in
the plan fails both, so the list cannot rot silently.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from plan_harness import PlanSummary

MARKER = "# --- written by --update-inventories from the plan and the keep list: do not edit below"
OUTPUTS = "outputs"
"""The key of `keep` that names outputs (a resource address always holds a dot)."""
SECTIONS = ("counts", "outputs", "values")


@dataclass(frozen=True)
class Inventory:
    head: str
    """The hand-written part, verbatim (`proves`, `keep`, comments)."""
    proves: str
    keep: dict[str, list[str]]
    body: dict[str, Any]
    """The generated sections (counts, outputs, values) as the file holds them."""


class InventoryError(Exception):
    """An inventory that cannot be used as written (no head, a malformed keep list)."""


def parse(text: str) -> Inventory:
    head, marker, _ = text.partition(MARKER)
    if not marker:
        raise InventoryError(f"no line {MARKER!r} between the keep list and the generated body")
    meta = yaml.safe_load(head) or {}
    body = yaml.safe_load(text) or {}
    proves = meta.get("proves")
    if not isinstance(proves, str) or not proves.strip():
        raise InventoryError("`proves:` must say in a sentence what the case proves")
    keep = meta.get("keep") or {}
    if not isinstance(keep, dict) or not all(
        isinstance(paths, list) and all(isinstance(p, str) for p in paths)
        for paths in keep.values()
    ):
        raise InventoryError("`keep:` must map addresses (and `outputs`) to lists of paths")
    return Inventory(
        head=head,
        proves=proves.strip(),
        keep={str(k): list(v) for k, v in keep.items()},
        body={section: body.get(section, {}) or {} for section in SECTIONS},
    )


def load(path: Path) -> Inventory:
    try:
        return parse(path.read_text())
    except InventoryError as error:
        raise InventoryError(f"{path}: {error}") from None


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def _matching(pattern: str, names: list[str]) -> list[str]:
    return [name for name in names if _glob(pattern).fullmatch(name)]


class _Missing(Exception):
    pass


def _project(node: Any, segments: list[str]) -> Any:
    """The part of `node` a dotted path selects, shaped like `node` (lists entered element by
    element); _Missing when a segment names nothing."""
    if not segments:
        return node
    if isinstance(node, list):
        return [_project(item, segments) for item in node]
    if not isinstance(node, dict):
        raise _Missing
    keys = _matching(segments[0], sorted(node))
    if not keys:
        raise _Missing
    return {key: _project(node[key], segments[1:]) for key in keys}


def _merge(left: Any, right: Any) -> Any:
    """Union of two projections of the same value."""
    if isinstance(left, dict) and isinstance(right, dict):
        merged = dict(left)
        for key, value in right.items():
            merged[key] = _merge(merged[key], value) if key in merged else value
        return merged
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [_merge(a, b) for a, b in zip(left, right, strict=True)]
    return right


def select(summary: PlanSummary, keep: Mapping[str, list[str]]) -> tuple[dict[str, Any], list[str]]:
    """The body an inventory with this keep list holds for this plan, and the keep entries that
    match nothing in it."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    addresses = sorted(summary.values)
    for pattern, paths in keep.items():
        if pattern == OUTPUTS:
            for name_pattern in paths:
                names = _matching(name_pattern, sorted(summary.outputs))
                if not names:
                    problems.append(f"keep: output {name_pattern!r} is not an output of the plan")
                outputs.update({name: summary.outputs[name] for name in names})
            continue
        matched = _matching(pattern, addresses)
        if not matched:
            problems.append(f"keep: {pattern!r} matches no resource of the plan")
        for address in matched:
            kept = values.setdefault(address, {})
            for path in paths:
                try:
                    kept = _merge(kept, _project(summary.values[address], path.split(".")))
                except _Missing:
                    problems.append(f"keep: {address}: attribute {path!r} is not in the plan")
            values[address] = kept
    body = {"counts": summary.counts, "outputs": outputs, "values": values}
    return body, problems


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=True, width=100, default_flow_style=False)


def render(head: str, body: dict[str, Any]) -> str:
    """The inventory file: the head as written, the marker, then the non-empty sections."""
    sections = "".join(_dump({s: body[s]}) for s in SECTIONS if body.get(s))
    return head.rstrip("\n") + "\n" + MARKER + "\n" + sections


def compare(inventory: Inventory, summary: PlanSummary) -> list[str]:
    """Why the plan does not match the inventory: keep entries that match nothing, then a
    unified diff of what the inventory holds against what the plan gives for its keep list."""
    actual, problems = select(summary, inventory.keep)
    for section in SECTIONS:
        expected_text = _dump({section: inventory.body[section]}).splitlines()
        actual_text = _dump({section: actual[section]}).splitlines()
        if inventory.body[section] != actual[section]:
            diff = difflib.unified_diff(
                expected_text,
                actual_text,
                f"{section} (inventory)",
                f"{section} (plan)",
                n=2,
                lineterm="",
            )
            problems.append("\n".join(diff))
    return problems


def header_comment(path: Path) -> str:
    """The leading comment block of a tfvars or .tf file, as one sentence-like line: the
    `proves` of a new inventory."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(line for line in lines if line) or "TODO: say what this case proves"


def new_head(proves: str) -> str:
    """The head written for a case that has no inventory yet: it keeps only the counts."""
    return _dump({"proves": proves}) + "keep: {}\n"


def update(path: Path, summary: PlanSummary, described_by: Path) -> list[str]:
    """Rewrite the body of the inventory at `path` from the plan, keeping its head (or, for a
    new inventory, a head whose `proves` is the header comment of `described_by` and whose keep
    list is empty). Nothing is written while a keep entry matches nothing."""
    head = load(path).head if path.exists() else new_head(header_comment(described_by))
    body, problems = select(summary, parse(head + MARKER).keep)
    if not problems:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(head, body))
    return problems
