"""Check that each root's `required_version` floor admits only Terraform versions that can run it.

A root (a module, an example, an environment) that uses a language feature newer than the
oldest Terraform its `required_version` allows fails on that version with a parse or init
error instead of the clear "unsupported Terraform version". The features this library could
reach for, and the release each needs:

- `use_lockfile` in an S3 backend (S3-native state locking): Terraform 1.10;
- `ephemeral` blocks or `ephemeral = true` variables and outputs: 1.10;
- a validation rule that refers to anything but its own variable (another variable, a local,
  a data source, a module), and `templatestring`: 1.9;
- provider-defined functions (`provider::aws::arn_parse(...)`): 1.8.

References to a resource from a validation rule are not recognised (they look like any
attribute access); nothing here uses one.

Usage: python -m tools.terraform_floor [ROOT ...]   (default: every directory of .tf files
under modules/ and environments/)
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from tools.hcl_scan import REPO_ROOT, SHIPPED_TREES, Body, blocks, parse, relative, strings, unquote

Version = tuple[int, ...]

_CONSTRAINT = re.compile(r"^\s*(>=|~>|=|>|<=|<|!=)?\s*v?(\d+(?:\.\d+)*)\s*$")
_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")
_VAR_REFERENCE = re.compile(r"(?<![A-Za-z0-9_.])var\.([A-Za-z_][A-Za-z0-9_-]*)")
_OTHER_REFERENCE = re.compile(r"(?<![A-Za-z0-9_.])(?:local|data|module)\.[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Use:
    feature: str
    needs: Version
    file: str


@dataclass(frozen=True)
class Finding:
    root: str
    required_version: str | None
    use: Use

    def __str__(self) -> str:
        needs = ".".join(map(str, self.use.needs))
        allowed = (
            f'required_version = "{self.required_version}"'
            if self.required_version
            else "no required_version"
        )
        return (
            f"{self.root}: {self.use.file} uses {self.use.feature}, which needs Terraform >= "
            f"{needs}, but {allowed} admits older versions: raise the floor to >= {needs}."
        )


def floor(constraint: str | None) -> Version:
    """The oldest version ``constraint`` admits, as far as its lower bounds say (0 if none)."""
    lowest: Version = (0,)
    for part in (constraint or "").split(","):
        match = _CONSTRAINT.match(part)
        if not match:
            if part.strip():
                raise ValueError(f"unrecognised version constraint: {constraint!r}")
            continue
        operator, version = match.group(1) or "=", tuple(int(n) for n in match[2].split("."))
        if operator in (">=", "~>", "=", ">"):
            lowest = max(lowest, version)
    return lowest


def _at_least(version: Version, needed: Version) -> bool:
    width = max(len(version), len(needed))
    return version + (0,) * (width - len(version)) >= needed + (0,) * (width - len(needed))


def _validation_references(variable: str, body: Body) -> list[str]:
    """What a variable's validation rules refer to besides the variable itself."""
    found: list[str] = []
    for rule in body.get("validation", []):
        condition = _STRING_LITERAL.sub('""', str(rule.get("condition", "")))
        message = " ".join(_INTERPOLATION.findall(str(rule.get("error_message", ""))))
        for text in (condition, _STRING_LITERAL.sub('""', message)):
            found += [f"var.{n}" for n in _VAR_REFERENCE.findall(text) if n != variable]
            found += _OTHER_REFERENCE.findall(text)
    return sorted(set(found))


def uses(path: Path) -> tuple[list[str], list[Use]]:
    """The ``required_version`` constraints of one file and the versioned features it uses."""
    document = parse(path)
    name = relative(path)
    constraints: list[str] = []
    found: list[Use] = []
    for _, body in blocks(document, "terraform"):
        if "required_version" in body:
            constraints.append(unquote(str(body["required_version"])))
        for backend in body.get("backend", []):
            for label, backend_body in backend.items():
                if isinstance(backend_body, dict) and "use_lockfile" in backend_body:
                    feature = f'use_lockfile in backend "{unquote(label)}"'
                    found.append(Use(feature, (1, 10), name))
    for labels, body in blocks(document, "variable"):
        references = _validation_references(labels[0], body)
        if references:
            feature = f"a validation of var.{labels[0]} that refers to {', '.join(references)}"
            found.append(Use(feature, (1, 9), name))
    for kind in ("variable", "output"):
        for labels, body in blocks(document, kind):
            if body.get("ephemeral") is True:
                found.append(Use(f"ephemeral {kind} {labels[0]}", (1, 10), name))
    if document.get("ephemeral"):
        found.append(Use("an ephemeral block", (1, 10), name))
    texts = list(strings(document))
    if any("provider::" in text for text in texts):
        found.append(Use("a provider-defined function (provider::...)", (1, 8), name))
    if any(re.search(r"(?<![A-Za-z0-9_.])templatestring\(", text) for text in texts):
        found.append(Use("templatestring()", (1, 9), name))
    return constraints, found


def check_root(root: Path) -> list[Finding]:
    """Every feature of ``root`` (its own ``*.tf`` files) newer than its floor admits."""
    constraints: list[str] = []
    found: list[Use] = []
    for path in sorted(root.glob("*.tf")):
        file_constraints, file_uses = uses(path)
        constraints += file_constraints
        found += file_uses
    # Terraform requires every constraint of the root; the strictest floor wins.
    oldest = max((floor(c) for c in constraints), default=(0,))
    required = ", ".join(constraints) or None
    name = relative(root)
    return [Finding(name, required, use) for use in found if not _at_least(oldest, use.needs)]


def roots() -> list[Path]:
    """Every directory holding ``.tf`` files under modules/ and environments/."""
    found: set[Path] = set()
    for tree in SHIPPED_TREES:
        for path in (REPO_ROOT / tree).rglob("*.tf"):
            if ".terraform" not in path.parts:
                found.add(path.parent)
    return sorted(found)


def main(argv: list[str]) -> int:
    findings = [f for root in ([Path(a) for a in argv] or roots()) for f in check_root(root)]
    for finding in findings:
        print(finding, file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
