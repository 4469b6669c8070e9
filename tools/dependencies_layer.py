"""Build the functions' dependencies layer: `build/dependencies-<runtime>-<arch>.zip`.

The layer holds exactly the packages pinned in requirements/lambda.txt, as wheels built for the
Lambda runtime's Python and the function's architecture (manylinux2014, binary wheels only), under
`python/` as Lambda expects. The tests import every handler from this layer and the function zips
alone, so what is deployed is what was tested. Builds are reproducible: sorted entries, fixed
timestamps and permissions, no bytecode.

Usage: python -m tools.dependencies_layer [--out build] [--arch arm64|x86_64 ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
LAMBDA_REQUIREMENTS: Final = REPO_ROOT / "requirements" / "lambda.txt"
PYTHON_VERSION_FILE: Final = REPO_ROOT / ".python-version"
ARCHITECTURES: Final = ("arm64", "x86_64")
# Lambda's Python runtimes are built on Amazon Linux 2023 (glibc 2.34): manylinux2014 wheels run.
_PIP_PLATFORM: Final = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
_MACHINE_ARCH: Final = {"aarch64": "arm64", "arm64": "arm64", "x86_64": "x86_64", "amd64": "x86_64"}
_FIXED_DATE: Final = (1980, 1, 1, 0, 0, 0)
_PIN: Final = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def python_version() -> str:
    """The project's one Python, as `3.12` (the `.python-version` file pyenv and CI read)."""
    return PYTHON_VERSION_FILE.read_text().strip()


def lambda_runtime() -> str:
    """The Lambda runtime identifier of that Python, e.g. `python3.12`."""
    return f"python{python_version()}"


def host_architecture() -> str:
    """This machine's architecture in Lambda's words (for importing a layer built for it)."""
    machine = platform.machine().lower()
    if machine not in _MACHINE_ARCH:
        raise SystemExit(f"no Lambda architecture matches this machine ({machine})")
    return _MACHINE_ARCH[machine]


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(requirements: Path = LAMBDA_REQUIREMENTS) -> dict[str, str]:
    """`{normalized name: version}` of every `name==version` line (comments and blanks skipped)."""
    pins: dict[str, str] = {}
    for raw in requirements.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PIN.match(line)
        if match is None:
            raise SystemExit(f"{requirements.name}: {line!r} is not an exact pin (name==version)")
        pins[normalize(match[1])] = match[2]
    return pins


def layer_path(out_dir: Path, architecture: str, runtime: str | None = None) -> Path:
    return out_dir / f"dependencies-{runtime or lambda_runtime()}-{architecture}.zip"


def _pip_install(target: Path, architecture: str, requirements: Path) -> None:
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--no-deps", "--only-binary=:all:",
        "--platform", _PIP_PLATFORM[architecture], "--implementation", "cp",
        "--python-version", python_version(), "--target", str(target),
        "--requirement", str(requirements),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(
            f"pip could not install {requirements.name} for {lambda_runtime()} {architecture}:\n"
            + (result.stderr.strip() or result.stdout.strip())
        )


def write_zip(source: Path, target: Path) -> None:
    files = sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            info = zipfile.ZipInfo(str(path.relative_to(source.parent)), date_time=_FIXED_DATE)
            # Shared objects and console scripts keep their execute bit.
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


def _drop_console_scripts(site: Path) -> None:
    """Console scripts (``bin/``, outside the packages): nothing in Lambda runs them, and their
    shebang names the building interpreter, so the zip would differ per checkout; the RECORD
    lines that list them (``../../bin/...``, with that shebang's hash) go too."""
    shutil.rmtree(site / "bin", ignore_errors=True)
    for record in site.glob("*.dist-info/RECORD"):
        lines = record.read_text().splitlines(keepends=True)
        record.write_text("".join(line for line in lines if not line.startswith("../")))


def build(architecture: str, out_dir: Path, requirements: Path = LAMBDA_REQUIREMENTS) -> Path:
    """Build the layer zip for `architecture`; replace an existing one only once it is complete."""
    if architecture not in ARCHITECTURES:
        raise SystemExit(f"architecture must be one of {', '.join(ARCHITECTURES)}")
    pinned(requirements)  # refuses a file that is not all exact pins
    out_dir.mkdir(parents=True, exist_ok=True)
    target = layer_path(out_dir, architecture)
    with tempfile.TemporaryDirectory(prefix="layer-", dir=out_dir) as scratch:
        site = Path(scratch) / "python"
        _pip_install(site, architecture, requirements)
        _drop_console_scripts(site)
        partial = Path(scratch) / target.name
        write_zip(site, partial)
        # Parallel builders (test workers) each write a whole file; the last rename wins.
        partial.replace(target)
    return target


def is_current(path: Path, requirements: Path = LAMBDA_REQUIREMENTS) -> bool:
    """Whether `path` exists and is newer than the requirements it was built from."""
    return path.exists() and path.stat().st_mtime >= requirements.stat().st_mtime


def ensure(architecture: str, out_dir: Path) -> Path:
    """The layer zip for `architecture` in `out_dir`, built only when missing or stale."""
    target = layer_path(out_dir, architecture)
    return target if is_current(target) else build(architecture, out_dir)


def link_into(directory: Path, architecture: str = "arm64") -> Path:
    """The layer for `architecture`, built once into the repository's build/ (it takes a pip
    install) and hard-linked (or copied) into `directory`, e.g. a scratch copy's build/."""
    layer = ensure(architecture, REPO_ROOT / "build")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / layer.name
    target.unlink(missing_ok=True)
    try:
        os.link(layer, target)
    except OSError:  # another file system
        shutil.copyfile(layer, target)
    return target


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build")
    parser.add_argument(
        "--arch", action="append", choices=ARCHITECTURES, help="default: arm64 (repeatable)"
    )
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = parser.parse_args(argv)
    for architecture in args.arch or ["arm64"]:
        target = (build if args.force else ensure)(architecture, args.out)
        print(f"{target}  {target.stat().st_size:>9} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
