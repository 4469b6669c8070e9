"""Build the release artifacts into `dist/`, with a `SHA256SUMS` file.

- `<function>.zip` for every Lambda function (the same bytes `make package` builds);
- `dependencies-<runtime>-<arch>.zip`, the dependencies layer, for both architectures;
- the Python distribution: a wheel and an sdist (`python -m build`);
- `SHA256SUMS`, in the format `sha256sum --check` reads.

Release assets keep the names `build/` uses, so downloading them into `build/` of a checkout of
the same tag is the same as running `make package` there.

Usage: python -m tools.dist [--out dist]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

from stream_pipeline import packaging as package
from tools import dependencies_layer

REPO_ROOT: Final = package.REPO_ROOT
CHECKSUMS: Final = "SHA256SUMS"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build_python_distribution(out_dir: Path) -> list[Path]:
    """The wheel and the sdist of the repository's pyproject.toml."""
    before = set(out_dir.glob("*"))
    result = subprocess.run(
        # No isolation: the pinned setuptools of requirements/dev.txt builds it, no download.
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            "--sdist",
            "--wheel",
            "--outdir",
            str(out_dir),
            ".",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit("python -m build failed:\n" + (result.stderr or result.stdout)[-4000:])
    return sorted(set(out_dir.glob("*")) - before)


def write_checksums(out_dir: Path) -> Path:
    files = sorted(p for p in out_dir.iterdir() if p.is_file() and p.name != CHECKSUMS)
    target = out_dir / CHECKSUMS
    target.write_text("".join(f"{_sha256(p)}  {p.name}\n" for p in files))
    return target


def build(out_dir: Path) -> list[Path]:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    artifacts = [package.build(name, out_dir) for name in package.function_names()]
    # The layers take a pip install each: build them in build/ (reused when current), copy here.
    for architecture in dependencies_layer.ARCHITECTURES:
        layer = dependencies_layer.ensure(architecture, REPO_ROOT / "build")
        artifacts.append(Path(shutil.copy2(layer, out_dir / layer.name)))
    artifacts += build_python_distribution(out_dir)
    artifacts.append(write_checksums(out_dir))
    return artifacts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "dist")
    args = parser.parse_args(argv)
    for artifact in build(args.out):
        print(f"{artifact.name:<48} {artifact.stat().st_size:>10} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
