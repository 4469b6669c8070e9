"""The command blocks of the operator guides (docs/operations.md and the pages it lists)."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
GUIDES = tuple(
    REPO_ROOT / "docs" / name
    for name in (
        "operations.md",
        "partition-keys.md",
        "scaling.md",
        "ordering-and-delivery.md",
        "cost.md",
        "teardown.md",
    )
)
SETUP_GUIDE = "operations.md"
MARKER = "<!-- runs-on-local-stack -->"
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>\S*)[ \t]*$")


@dataclass(frozen=True)
class Block:
    guide: str
    line: int
    lang: str
    marked: bool
    text: str


def blocks(path: Path) -> list[Block]:
    """Every fenced block of ``path``, with whether the marker line comes right before it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        start = index
        index += 1
        body = []
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index])
            index += 1
        previous = next(
            (lines[i].strip() for i in range(start - 1, -1, -1) if lines[i].strip()), ""
        )
        found.append(
            Block(
                guide=path.name,
                line=start + 1,
                lang=opening["lang"],
                marked=previous == MARKER,
                text=textwrap.dedent("\n".join(body)),
            )
        )
        index += 1
    return found
