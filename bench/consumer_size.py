"""Section ``consumer_size``: what a team writes for a consumer of its own, on the kit.

Counted on the example a team copies (``examples/orders``): the lines of Python of its function
package (``functions/orders_validator``) and the lines of HCL of its consumer: its table and key
(``orders.tf``) and its entry in ``modules/pipeline``'s ``consumers`` (the ``consumers``
argument of ``main.tf``). A counted line holds code: blank lines, comments and docstrings are
left out. Nothing else is needed: the modules package the folder with the kit (no packaging
step of the team's own).
"""

from __future__ import annotations

import ast
import io
import tokenize
from typing import Final

from bench.common import REPO_ROOT, Options, Result, Target, at_most

SECTION: Final = "consumer_size"
EXAMPLE: Final = REPO_ROOT / "examples" / "orders"
PYTHON_PACKAGE: Final = EXAMPLE / "functions" / "orders_validator"
CONSUMER_HCL: Final = EXAMPLE / "orders.tf"
ROOT_HCL: Final = EXAMPLE / "main.tf"
CONSUMERS_ARGUMENT: Final = "consumers"
TARGET_PYTHON_LINES: Final = 30
TARGET_HCL_LINES: Final = 25


def python_code_lines(source: str) -> int:
    """Lines holding a token other than a comment, and not only a docstring."""
    docstring_lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                end = body[0].end_lineno or body[0].lineno
                docstring_lines.update(range(body[0].lineno, end + 1))
    code_lines: set[int] = set()
    ignored = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in ignored and token.type != tokenize.ENDMARKER:
            code_lines.update(range(token.start[0], token.end[0] + 1))
    return len(code_lines - docstring_lines)


def hcl_code_lines(source: str) -> int:
    """Lines that are neither blank nor a comment (``#`` or ``//``; the example has no block
    comments)."""
    return sum(
        1
        for line in source.splitlines()
        if line.strip() and not line.strip().startswith(("#", "//"))
    )


def hcl_argument(source: str, name: str) -> str:
    """The lines of the argument ``name = {...}`` (up to its closing brace) in ``source``."""
    lines = source.splitlines()
    for start, line in enumerate(lines):
        if line.strip().startswith(f"{name} ") and line.rstrip().endswith("{"):
            depth = 0
            for end in range(start, len(lines)):
                code = lines[end].split("#", 1)[0]
                depth += code.count("{") - code.count("}")
                if depth == 0:
                    return "\n".join(lines[start : end + 1])
    msg = f"no argument {name} = {{...}} found"
    raise ValueError(msg)


def run(options: Options) -> tuple[Result, list[Target]]:
    python_files = sorted(PYTHON_PACKAGE.glob("*.py"))
    python = {
        path.relative_to(REPO_ROOT).as_posix(): python_code_lines(path.read_text())
        for path in python_files
    }
    consumers = hcl_argument(ROOT_HCL.read_text(), CONSUMERS_ARGUMENT)
    hcl = {
        CONSUMER_HCL.relative_to(REPO_ROOT).as_posix(): hcl_code_lines(CONSUMER_HCL.read_text()),
        f"{ROOT_HCL.relative_to(REPO_ROOT).as_posix()} ({CONSUMERS_ARGUMENT})": hcl_code_lines(
            consumers
        ),
    }
    options.log(
        f"bench: {SECTION}: {sum(python.values())} lines of Python, {sum(hcl.values())} of HCL"
    )
    result: Result = {
        "status": "ok",
        "method": __doc__,
        "python_lines": python,
        "hcl_lines": hcl,
    }
    targets = [
        at_most(
            SECTION,
            "lines of Python of the example consumer (examples/orders)",
            sum(python.values()),
            TARGET_PYTHON_LINES,
            "lines",
        ),
        at_most(
            SECTION,
            "lines of HCL of the example consumer (its table, key and consumers entry)",
            sum(hcl.values()),
            TARGET_HCL_LINES,
            "lines",
        ),
    ]
    return result, targets
