"""Find what the hashicorp/aws 6.0 upgrade guide removes, renames or deprecates in our HCL.

The library allows `hashicorp/aws >= 5.73, < 7.0`, but the tests plan and validate only 5.100.0,
the version the lock files pin. So 6.x is checked against the upgrade guide instead:
`tests/data/aws_provider_v6_removed.yaml` lists each removal, rename, deprecation and nested
block that became a list, with the guide's section, and this module reports every use of one
in the `.tf` files under `modules/` and `environments/`:

- a block of a removed or deprecated type;
- an argument or nested block the guide removes, renames, deprecates or makes computed-only,
  set in a resource, data source or `provider "aws"` block (plain or `dynamic`);
- a reference to an attribute it removes, renames, deprecates or gives a new meaning
  (`data.aws_region.current.name`, `aws_eip.this[0].vpc`), or to a nested block that became a
  list without an index (`logging_config.s3_config` where `logging_config[0].s3_config[0]` is
  now needed), in any expression of any block.

References made through a variable (`[for r in aws_eip.this : r.vpc]`) are not seen.

Usage: python -m tools.aws_provider_v6 [PATH ...]   (default: modules/ and environments/)
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from tools.hcl_scan import (
    REPO_ROOT,
    SHIPPED_TREES,
    blocks,
    parse,
    relative,
    sets,
    strings,
    tf_files,
)

DATA_FILE = REPO_ROOT / "tests" / "data" / "aws_provider_v6_removed.yaml"
GUIDE_URL = (
    "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/guides/version-6-upgrade"
)

# What each kind of change forbids: setting the argument, referencing the attribute, or
# referencing the nested block without an index.
TYPE_CHANGES = frozenset({"type_removed", "type_deprecated"})
CONFIG_CHANGES = frozenset({"removed", "renamed", "deprecated", "computed_only"})
REFERENCE_CHANGES = frozenset(
    {"removed", "attribute_removed", "renamed", "deprecated", "meaning_changed"}
)
LIST_CHANGES = frozenset({"now_list"})
CHANGES = TYPE_CHANGES | CONFIG_CHANGES | REFERENCE_CHANGES | LIST_CHANGES
KINDS = frozenset({"resource", "data", "provider"})

_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_-]*"
# An index, a splat, or nothing: `[0]`, `["key"]`, `[*]`, `.*`.
_INDEX = r"(?:\[[^\]]*\]|\.\*)?"


@dataclass(frozen=True)
class Entry:
    kind: str
    type: str
    attribute: str
    change: str
    replacement: str
    source: str

    @property
    def path(self) -> list[str]:
        return self.attribute.split(".")

    def describe(self) -> str:
        what = {
            "type_removed": "is removed",
            "type_deprecated": "is deprecated",
            "removed": "is removed",
            "attribute_removed": "is removed",
            "renamed": "is renamed",
            "deprecated": "is deprecated",
            "computed_only": "can no longer be set",
            "meaning_changed": "holds something else",
            "now_list": "is now a list (index it)",
        }[self.change]
        return f"{what} in hashicorp/aws 6.0; instead: {self.replacement} ({self.source})"

    def reference_pattern(self) -> re.Pattern[str] | None:
        """What a reference to the attribute looks like in an expression, or None."""
        if self.kind == "provider" or self.change not in REFERENCE_CHANGES | LIST_CHANGES:
            return None
        prefix = r"data\." if self.kind == "data" else ""
        segments = self.path
        middle = "".join(rf"\.{re.escape(s)}{_INDEX}" for s in segments[:-1])
        last = rf"\.{re.escape(segments[-1])}"
        # A list that became a list must be indexed; anything else must not be read at all.
        end = r"(?=\.[A-Za-z_])" if self.change in LIST_CHANGES else r"(?![A-Za-z0-9_-])"
        return re.compile(
            rf"(?<![A-Za-z0-9_.-])(?P<address>{prefix}{re.escape(self.type)}\.{_IDENTIFIER}{_INDEX})"
            rf"{middle}{last}{end}"
        )


@dataclass(frozen=True)
class Finding:
    file: str
    address: str
    # "type", "sets" or "reads": what the file does with what the entry lists.
    use: str
    entry: Entry

    def __str__(self) -> str:
        what = (
            f"the type {self.entry.type}"
            if self.use == "type"
            else f"{self.use} {self.entry.attribute}, which"
        )
        return f"{self.file}: {self.address}: {what} {self.entry.describe()}"


def load(path: Path = DATA_FILE) -> list[Entry]:
    """The entries of the data file, each checked for the fields the checker needs."""
    document = yaml.safe_load(path.read_text())
    entries: list[Entry] = []
    for number, raw in enumerate(document["entries"], start=1):
        entry = Entry(**{field: str(raw[field]) for field in Entry.__dataclass_fields__})
        if entry.kind not in KINDS or entry.change not in CHANGES:
            raise ValueError(f"{path}: entry {number} has kind/change {entry.kind}/{entry.change}")
        if (entry.attribute == "*") != (entry.change in TYPE_CHANGES):
            raise ValueError(f"{path}: entry {number}: attribute '*' goes with type_* changes")
        if not entry.source.startswith(GUIDE_URL + "#"):
            raise ValueError(f"{path}: entry {number}: source must be a section of {GUIDE_URL}")
        entries.append(entry)
    return entries


def check_file(path: Path, entries: list[Entry]) -> list[Finding]:
    """Every use in ``path`` of something ``entries`` lists."""
    document = parse(path)
    name = relative(path)
    findings: list[Finding] = []
    for entry in entries:
        kind = entry.kind
        for labels, body in blocks(document, kind):
            if not labels or labels[0] != entry.type:
                continue
            address = ".".join([kind, *labels] if kind != "resource" else labels)
            if entry.change in TYPE_CHANGES:
                findings.append(Finding(name, address, "type", entry))
            elif entry.change in CONFIG_CHANGES and sets(body, entry.path):
                findings.append(Finding(name, address, "sets", entry))
        pattern = entry.reference_pattern()
        if pattern is None:
            continue
        addresses = {m["address"] for text in strings(document) for m in pattern.finditer(text)}
        findings += [Finding(name, address, "reads", entry) for address in sorted(addresses)]
    return findings


def check(paths: list[Path] | None = None, entries: list[Entry] | None = None) -> list[Finding]:
    """Every finding in the ``.tf`` files under ``paths`` (default: modules/, environments/)."""
    trees = paths or [REPO_ROOT / tree for tree in SHIPPED_TREES]
    entries = load() if entries is None else entries
    findings: list[Finding] = []
    for path in tf_files(*trees):
        findings += check_file(path, entries)
    return findings


def main(argv: list[str]) -> int:
    findings = check([Path(arg) for arg in argv] or None)
    for finding in findings:
        print(finding, file=sys.stderr)
    if findings:
        print(f"{len(findings)} use(s) of what hashicorp/aws 6.0 removes.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
