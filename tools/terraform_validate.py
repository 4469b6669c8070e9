"""`terraform validate` every module, example and environment, from scratch copies, in parallel.

Usage: python -m tools.terraform_validate [ROOT ...]   (default: every root in the repository)
"""

from __future__ import annotations

import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tools.terraform_stage import REPO_ROOT, init, roots, run, stage


def validate(root: Path) -> tuple[Path, str | None]:
    with tempfile.TemporaryDirectory(prefix="tf-validate-") as scratch:
        try:
            staged = stage(root, Path(scratch))
            init(staged)
            run(["validate"], staged)
        except RuntimeError as error:
            return root, str(error)
    return root, None


def main(argv: list[str]) -> int:
    targets = [Path(arg).resolve() for arg in argv] or roots()
    if not targets:
        print("no Terraform roots found")
        return 1
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
