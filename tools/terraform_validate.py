"""`terraform validate` every module, example and environment, from scratch copies.

Usage: python -m tools.terraform_validate [--each] [ROOT ...]

Default (no ROOT): one root that calls every example -- so every module, as the examples use
it -- and every environment with its own terraform.tfvars as arguments
(tools/terraform_stage.stage_calls), validated once: one provider start-up instead of one per
root, which is what made this the slowest lint step. `--each`, or naming ROOTs, validates
each root on its own, in parallel (modules then need no arguments: validate does not ask for
required variables).
"""

from __future__ import annotations

import re
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tools.terraform_stage import REPO_ROOT, ModuleCall, init, roots, run, stage, stage_calls

# A call's label must be a Terraform identifier.
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_-]")


def validate(root: Path) -> tuple[Path, str | None]:
    with tempfile.TemporaryDirectory(prefix="tf-validate-") as scratch:
        try:
            staged = stage(root, Path(scratch))
            init(staged)
            run(["validate"], staged)
        except RuntimeError as error:
            return root, str(error)
    return root, None


def _call(root: Path) -> ModuleCall:
    relative = root.relative_to(REPO_ROOT).as_posix()
    label = _NOT_IDENTIFIER.sub("_", relative.replace("/", "__"))
    tfvars = root / "terraform.tfvars"
    return ModuleCall(label, root, tfvars.read_text() if tfvars.exists() else "")


def validate_together(targets: list[Path]) -> str | None:
    """Validate `targets` (examples and environments) as calls of one root."""
    with tempfile.TemporaryDirectory(prefix="tf-validate-") as scratch:
        try:
            staged = stage_calls([_call(root) for root in targets], Path(scratch), "validate")
            init(staged)
            run(["validate"], staged)
        except RuntimeError as error:
            return str(error)
    return None


def _validate_each(targets: list[Path]) -> int:
    failures = 0
    with ThreadPoolExecutor(max_workers=4) as pool:
        for root, error in pool.map(validate, targets):
            name = root.relative_to(REPO_ROOT)
            if error is None:
                print(f"ok      {name}")
            else:
                failures += 1
                print(f"FAILED  {name}\n{error}")
    print(f"terraform validate: {len(targets) - failures} passed, {failures} failed")
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    each = "--each" in argv
    explicit = [Path(arg).resolve() for arg in argv if arg != "--each"]
    if explicit or each:
        return _validate_each(explicit or roots())
    modules = roots("modules")
    callers = [root for root in roots() if root not in modules]
    if not callers:
        print("no Terraform roots found")
        return 1
    uncalled = [m for m in modules if not any(c.parent.parent == m for c in callers)]
    # A module without an example is validated on its own.
    if uncalled and _validate_each(uncalled):
        return 1
    error = validate_together(callers)
    names = ", ".join(str(root.relative_to(REPO_ROOT)) for root in callers)
    if error is not None:
        print(f"FAILED  one root calling {names}\n{error}")
        return 1
    print(f"ok      {len(modules)} modules through {names}")
    print(f"terraform validate: {len(callers)} roots in one root, passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
