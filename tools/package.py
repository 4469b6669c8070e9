"""Build one deployment zip per Lambda function: `build/<function>.zip`.

Each zip holds the function's package (`functions/<name>/`) and the shared Lambda runtime
(`src/stream_pipeline/__init__.py`, `src/stream_pipeline/runtime/` and the consumer kit
`src/stream_pipeline/kit/`; none of the command-line code), at the zip root, so the
handler is `<name>.app.lambda_handler` and the functions import `stream_pipeline.runtime`.
Third-party dependencies (Powertools, pydantic) come from the Powertools Lambda layer, not the
zip. Zips are reproducible: sorted entries, fixed timestamps
and permissions, so the same sources give the same `source_code_hash` and no spurious diff.

Usage: python -m tools.package [--out build] [FUNCTION ...]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
SOURCE_DIR = REPO_ROOT / "src"
LAMBDA_PACKAGES = ("runtime", "kit")
"""What of ``src/stream_pipeline`` each zip holds, next to its ``__init__.py``: the shared runtime
and the consumer kit built on it."""
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def function_names() -> list[str]:
    return sorted(p.parent.name for p in FUNCTIONS_DIR.glob("*/app.py"))


def _sources(package: Path) -> list[Path]:
    return sorted(
        p
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in {".py", ".json", ".txt"}
    )


def build(name: str, out_dir: Path) -> Path:
    package = FUNCTIONS_DIR / name
    if not (package / "app.py").exists():
        raise SystemExit(
            f"functions/{name}/app.py not found; functions: {', '.join(function_names())}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{name}.zip"
    files = [(path, path.relative_to(FUNCTIONS_DIR)) for path in _sources(package)]
    shared = SOURCE_DIR / "stream_pipeline"
    runtime = [shared / "__init__.py"]
    for name in LAMBDA_PACKAGES:
        runtime += _sources(shared / name)
    files += [(path, path.relative_to(SOURCE_DIR)) for path in runtime]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path, arcname in files:
            info = zipfile.ZipInfo(arcname.as_posix(), date_time=_FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return target


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build")
    parser.add_argument("functions", nargs="*")
    args = parser.parse_args(argv)
    names = args.functions or function_names()
    if not names:
        print("no functions/<name>/app.py found: nothing to package")
        return 0
    for name in names:
        target = build(name, args.out)
        digest = hashlib.sha256(target.read_bytes()).hexdigest()[:12]
        print(
            f"{target.relative_to(REPO_ROOT) if target.is_relative_to(REPO_ROOT) else target}"
            f"  {target.stat().st_size:>8} bytes  sha256:{digest}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
