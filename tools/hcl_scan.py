"""Read the repository's Terraform files as data, for the static checks of its HCL.

python-hcl2 parses a file into nested dicts and lists: block labels and string literals keep
their quotes, expressions come back as ``${...}`` strings, comments are dropped. These helpers
hide that shape: the blocks of a kind with their unquoted labels, every string of a body (the
expressions a reference can hide in), and the Terraform files of a tree.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2

REPO_ROOT = Path(__file__).resolve().parents[1]
# The trees whose HCL the library ships: its modules (with their examples) and environments.
SHIPPED_TREES = ("modules", "environments")

Body = dict[str, Any]


def unquote(label: str) -> str:
    """A block label or string literal as written, without python-hcl2's quotes."""
    if len(label) >= 2 and label[0] == label[-1] == '"':
        return label[1:-1]
    return label


def tf_files(*trees: Path) -> list[Path]:
    """Every ``*.tf`` file under ``trees`` (a tree may be a file), once each: environments
    link the shared files, so a file reached through a symlink is read once, at its first
    path. Never in ``.terraform``."""
    seen: set[Path] = set()
    found: list[Path] = []
    for tree in trees:
        for path in [tree] if tree.is_file() else sorted(tree.rglob("*.tf")):
            if ".terraform" in path.parts or not path.is_file():
                continue
            real = path.resolve()
            if real not in seen:
                seen.add(real)
                found.append(path)
    return found


def parse(path: Path) -> Body:
    """The parsed file (read-only: parses are cached by content); a syntax error names the
    file."""
    try:
        return _loads(path.read_text())
    except Exception as error:
        raise ValueError(f"{path}: cannot be parsed as HCL: {error}") from error


@functools.lru_cache(maxsize=512)
def _loads(text: str) -> Body:
    # python-hcl2 is slow (seconds for the repository): the checks that scan every file share
    # one parse per file content.
    parsed: Body = hcl2.loads(text)
    return parsed


def blocks(document: Body, kind: str) -> Iterator[tuple[list[str], Body]]:
    """``(labels, body)`` of every top-level block of ``kind`` (``resource``, ``data``,
    ``provider``, ``variable``, ``terraform``...), labels unquoted."""
    for entry in document.get(kind, []):
        yield from _labelled(entry, [])


def _labelled(node: Any, labels: list[str]) -> Iterator[tuple[list[str], Body]]:
    if not isinstance(node, dict):
        return
    if node.get("__is_block__") or not node:
        yield labels, node
        return
    for label, inner in node.items():
        yield from _labelled(inner, [*labels, unquote(label)])


def nested(body: Body, name: str) -> list[Body]:
    """The nested blocks ``name`` of ``body``, including the ``content`` of ``dynamic "name"``
    blocks, and object values assigned to an attribute of that name."""
    found: list[Body] = []
    value = body.get(name)
    values = value if isinstance(value, list) else [value]
    found += [item for item in values if isinstance(item, dict)]
    for dynamic in body.get("dynamic", []):
        for label, dynamic_body in dynamic.items():
            if unquote(label) == name and isinstance(dynamic_body, dict):
                found += [c for c in dynamic_body.get("content", []) if isinstance(c, dict)]
    return found


def sets(body: Body, path: list[str]) -> bool:
    """Whether ``body`` sets the argument or block at ``path`` (nested names)."""
    head, rest = path[0], path[1:]
    present = head in body or any(
        unquote(label) == head for dynamic in body.get("dynamic", []) for label in dynamic
    )
    if not present:
        return False
    if not rest:
        return True
    return any(sets(inner, rest) for inner in nested(body, head))


def strings(node: Any) -> Iterator[str]:
    """Every string in ``node`` (keys included): the expressions a reference can sit in."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def relative(path: Path) -> str:
    """``path`` relative to the repository when it is inside it, as given otherwise."""
    try:
        return path.absolute().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return path.as_posix()
