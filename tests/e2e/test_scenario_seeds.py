"""The e2e scenarios share one stack and one ``seed_base`` per session (conftest.py): a scenario's
records are its own only if its seed is. Two scenarios with the same seed put the same first
events (same eventIds, same users' addresses): the second one's purchase is then an idempotent
duplicate the notifier does not mail again, and its rows and dead letters are the other's.

A static check of the test sources: no stack needed."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).parent


def _seed_parameters(tree: ast.Module) -> dict[str, int]:
    """Functions of the module taking a ``seed`` parameter: its position."""
    positions = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            names = [a.arg for a in node.args.posonlyargs + node.args.args]
            if "seed" in names:
                positions[node.name] = names.index("seed")
    return positions


def _int(node: ast.expr) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def scenario_seeds(path: Path) -> list[tuple[int, str]]:
    """Each literal seed in ``path``: ``seed=<n>``, ``seed_base + <n>`` and ``<n>`` passed as the
    ``seed`` argument of the module's own helpers; with where it is."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    helpers = _seed_parameters(tree)
    found: list[tuple[int | None, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            found += [(_int(k.value), node.lineno) for k in node.keywords if k.arg == "seed"]
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name in helpers and len(node.args) > helpers[name]:
                found.append((_int(node.args[helpers[name]]), node.lineno))
        elif (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Add)
            and isinstance(node.left, ast.Attribute)
            and node.left.attr == "seed_base"
        ):
            found.append((_int(node.right), node.lineno))
    return [(seed, f"{path.name}:{line}") for seed, line in found if seed is not None]


def test_every_scenario_has_a_seed_of_its_own() -> None:
    # GIVEN every e2e test module
    uses: dict[int, list[str]] = defaultdict(list)
    for path in sorted(HERE.glob("test_*.py")):
        for seed, where in scenario_seeds(path):
            uses[seed].append(where)
    # WHEN their literal seeds are collected THEN some are found (the check sees them) and none
    # is used in two places
    assert len(uses) > 10, dict(uses)
    shared = {seed: places for seed, places in uses.items() if len(places) > 1}
    assert shared == {}, f"seeds used by more than one scenario: {shared}"
