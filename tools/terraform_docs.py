"""Generate (or check) the Inputs/Outputs tables of every module README, and the conventions
the tables rely on.

It needs nothing beyond the project's virtualenv (no terraform-docs, no tflint): it reads
`variables.tf` and `outputs.tf` with python-hcl2 and writes the tables between the markers

    <!-- BEGIN_TF_DOCS -->
    <!-- END_TF_DOCS -->

It also enforces what a reader of those tables counts on: every variable has a type and a
description, collection variables are `nullable = false`, every output has a description, and
both are in alphabetical order.

Usage: python -m tools.terraform_docs [--check] [MODULE_DIR ...]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

from tools.terraform_stage import REPO_ROOT

BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"
_OPTIONS = SerializationOptions(
    with_comments=False,
    explicit_blocks=False,
    preserve_heredocs=False,
    strip_string_quotes=True,
)
_COLLECTION_TYPE = re.compile(r"^(map|list|set|object|tuple)\(")


@dataclass(frozen=True)
class Variable:
    name: str
    type: str | None
    description: str | None
    default: Any
    required: bool
    nullable: bool | None


@dataclass(frozen=True)
class Output:
    name: str
    description: str | None
    sensitive: bool


def _expression(value: Any) -> str:
    text = str(value)
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return text


def _blocks(path: Path, kind: str) -> list[tuple[str, dict[str, Any]]]:
    if not path.exists():
        return []
    parsed = hcl2.loads(path.read_text(), serialization_options=_OPTIONS)
    return [(name, body) for block in parsed.get(kind, []) for name, body in block.items()]


def read_module(module: Path) -> tuple[list[Variable], list[Output]]:
    variables = [
        Variable(
            name=name,
            type=_expression(body["type"]) if "type" in body else None,
            description=body.get("description"),
            default=body.get("default"),
            required="default" not in body,
            nullable=body.get("nullable"),
        )
        for name, body in _blocks(module / "variables.tf", "variable")
    ]
    outputs = [
        Output(
            name=name, description=body.get("description"), sensitive=bool(body.get("sensitive"))
        )
        for name, body in _blocks(module / "outputs.tf", "output")
    ]
    return variables, outputs


def convention_errors(module: Path, variables: list[Variable], outputs: list[Output]) -> list[str]:
    where = module.relative_to(REPO_ROOT)
    errors = []
    for variable in variables:
        if not variable.type:
            errors.append(f"{where}: variable {variable.name!r} has no type")
        if not variable.description:
            errors.append(f"{where}: variable {variable.name!r} has no description")
        if (
            variable.type
            and _COLLECTION_TYPE.match(variable.type)
            and variable.nullable is not False
        ):
            errors.append(f"{where}: collection variable {variable.name!r} needs nullable = false")
    errors += [
        f"{where}: output {output.name!r} has no description"
        for output in outputs
        if not output.description
    ]
    for kind, names in (
        ("variables", [v.name for v in variables]),
        ("outputs", [o.name for o in outputs]),
    ):
        if names != sorted(names):
            errors.append(f"{where}: {kind} are not in alphabetical order: {', '.join(names)}")
    return errors


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(variable: Variable) -> str:
    if variable.required:
        return "n/a"
    return f"`{_cell(json.dumps(variable.default, sort_keys=True))}`"


def render_tables(variables: list[Variable], outputs: list[Output]) -> str:
    lines = ["## Inputs", ""]
    if variables:
        lines += ["| Name | Description | Type | Default | Required |", "|---|---|---|---|:---:|"]
        lines += [
            f"| `{v.name}` | {_cell(v.description or '')} | `{_cell(v.type or 'any')}` "
            f"| {_default(v)} | {'yes' if v.required else 'no'} |"
            for v in variables
        ]
    else:
        lines.append("No inputs.")
    lines += ["", "## Outputs", ""]
    if outputs:
        lines += ["| Name | Description | Sensitive |", "|---|---|:---:|"]
        lines += [
            f"| `{o.name}` | {_cell(o.description or '')} | {'yes' if o.sensitive else 'no'} |"
            for o in outputs
        ]
    else:
        lines.append("No outputs.")
    return "\n".join(lines)


def updated_readme(readme: str, tables: str) -> str:
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"missing {BEGIN} / {END} markers")
    return readme[: start + len(BEGIN)] + "\n" + tables + "\n" + readme[end:]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail instead of writing")
    parser.add_argument("modules", nargs="*", type=Path)
    args = parser.parse_args(argv)
    modules = [m.resolve() for m in args.modules] or sorted(
        p for p in (REPO_ROOT / "modules").glob("*") if (p / "variables.tf").exists()
    )
    problems: list[str] = []
    for module in modules:
        variables, outputs = read_module(module)
        problems += convention_errors(module, variables, outputs)
        readme_path = module / "README.md"
        where = readme_path.relative_to(REPO_ROOT)
        if not readme_path.exists():
            problems.append(f"{where}: missing")
            continue
        readme = readme_path.read_text()
        try:
            expected = updated_readme(readme, render_tables(variables, outputs))
        except ValueError as error:
            problems.append(f"{where}: {error}")
            continue
        if expected != readme:
            if args.check:
                problems.append(f"{where}: inputs/outputs tables are out of date (run `make docs`)")
            else:
                readme_path.write_text(expected)
                print(f"updated {where}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
