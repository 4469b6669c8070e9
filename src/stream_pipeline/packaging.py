"""Reproducible Lambda deployment zips: ``stream-pipeline-package``.

Two ways to build one:

- this repository's functions (what ``make package`` does): ``build/<name>.zip`` for every
  ``functions/<name>/app.py`` of a checkout, the function's package at the zip root (handler
  ``<name>.app.lambda_handler``);
- a team's own consumer (``--source-dir DIR --output ZIP``, what ``modules/stream-consumer``
  runs at apply when given ``package.source_dir``): the folder's contents at the zip root.

Either zip also holds the shared Lambda code of this package: ``stream_pipeline/__init__.py``,
``stream_pipeline/runtime/`` and the consumer kit ``stream_pipeline/kit/`` (none of the
command-line code). Third-party dependencies (Powertools, pydantic) come from the dependencies
layer, not the zip. Zips are reproducible: sorted entries, fixed timestamps and permissions, so
the same sources give the same bytes, the same ``source_code_hash`` and no spurious diff.

Standard library only: ``PYTHONPATH=<checkout>/src python3 -m stream_pipeline.packaging`` works
without installing anything, which is how the Terraform module runs it.

What goes in, kept in step with the file selection of ``modules/stream-consumer/package.tf``
(the module hashes exactly these files at plan time):

- from a source folder, every file except hidden ones (a path part starting with ``.``),
  ``__pycache__/`` and ``*.pyc``;
- from a function package and from the shared package, ``*.py``, ``*.json`` and ``*.txt``
  outside ``__pycache__/``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

SHARED_DIR = Path(__file__).resolve().parent
"""This package, ``stream_pipeline``, whose Lambda-side parts every zip holds."""
SOURCE_DIR = SHARED_DIR.parent
"""The directory holding ``stream_pipeline`` (``<checkout>/src`` in a checkout)."""
REPO_ROOT = SOURCE_DIR.parent
"""The checkout this module sits in (meaningful only when it does: ``src/`` layout)."""
FUNCTIONS_DIR = REPO_ROOT / "functions"
LAMBDA_PACKAGES = ("runtime", "kit")
"""What of ``stream_pipeline`` each zip holds, next to its ``__init__.py``: the shared runtime
and the consumer kit built on it."""
PACKAGED_SUFFIXES = frozenset({".py", ".json", ".txt"})
"""What of a function package and of the shared package goes into a zip."""
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_MODE = 0o644

EXIT_OK = 0
EXIT_USAGE = 2


class PackagingError(Exception):
    """A package that cannot be built, with what to do about it."""


def _package_sources(package: Path) -> list[Path]:
    return sorted(
        p
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in PACKAGED_SUFFIXES
    )


def _folder_sources(folder: Path) -> list[Path]:
    """Every file of a consumer's source folder but hidden files, ``__pycache__`` and bytecode."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix != ".pyc"
        and not any(
            part.startswith(".") or part == "__pycache__" for part in p.relative_to(folder).parts
        )
    )


def shared_files(source_dir: Path | None = None) -> list[tuple[Path, str]]:
    """The shared Lambda code as (file, name in the zip): ``stream_pipeline/__init__.py``,
    ``runtime/`` and ``kit/``. ``source_dir`` holds ``stream_pipeline`` (default: where this
    module is)."""
    root = source_dir or SOURCE_DIR
    shared = root / "stream_pipeline"
    files = [shared / "__init__.py"]
    for name in LAMBDA_PACKAGES:
        files += _package_sources(shared / name)
    return [(path, path.relative_to(root).as_posix()) for path in files]


def write_zip(files: Iterable[tuple[Path, str]], target: Path) -> Path:
    """Write ``files`` (file, name in the zip) to ``target`` reproducibly: entries sorted by
    name, fixed date and mode. The zip appears whole or not at all (written next to it, then
    renamed), so a concurrent reader never sees half of one."""
    entries = sorted(files, key=lambda entry: entry[1])
    names = [name for _, name in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise PackagingError(f"two files would have the same name in the zip: {duplicates}")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(
            scratch, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9
        ) as archive:
            for path, name in entries:
                info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
                info.external_attr = _MODE << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
        os.chmod(scratch, _MODE)
        os.replace(scratch, target)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return target


def build_source_dir(source_dir: Path, output: Path) -> Path:
    """Zip a consumer's source folder (its contents at the zip root) with the shared code."""
    if not source_dir.is_dir():
        raise PackagingError(f"--source-dir {source_dir}: not a directory")
    sources = _folder_sources(source_dir)
    if not any(path.suffix == ".py" for path in sources):
        raise PackagingError(
            f"--source-dir {source_dir} holds no Python file (*.py): a consumer package needs at "
            "least the module of its handler (e.g. app.py for handler app.lambda_handler)"
        )
    if (source_dir / "stream_pipeline").exists():
        raise PackagingError(
            f"--source-dir {source_dir} has its own stream_pipeline/: the zip adds this "
            "library's stream_pipeline (runtime and kit); rename the folder"
        )
    files = [(path, path.relative_to(source_dir).as_posix()) for path in sources]
    return write_zip(files + shared_files(), output)


def function_names(functions_dir: Path | None = None) -> list[str]:
    """This repository's functions: every ``functions/<name>/app.py``."""
    return sorted(p.parent.name for p in (functions_dir or FUNCTIONS_DIR).glob("*/app.py"))


def build(name: str, out_dir: Path) -> Path:
    """``<out_dir>/<name>.zip`` for the repository's function ``functions/<name>``."""
    package = FUNCTIONS_DIR / name
    if not (package / "app.py").exists():
        raise PackagingError(
            f"functions/{name}/app.py not found; functions: {', '.join(function_names())}"
        )
    files = [(p, p.relative_to(FUNCTIONS_DIR).as_posix()) for p in _package_sources(package)]
    return write_zip(files + shared_files(), out_dir / f"{name}.zip")


def _describe(target: Path) -> str:
    digest = hashlib.sha256(target.read_bytes()).hexdigest()[:12]
    shown = target.relative_to(REPO_ROOT) if target.is_relative_to(REPO_ROOT) else target
    return f"{shown}  {target.stat().st_size:>8} bytes  sha256:{digest}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stream-pipeline-package",
        description="Build reproducible Lambda deployment zips: this checkout's functions "
        "(build/<function>.zip), or one source folder (--source-dir DIR --output ZIP), each "
        "with the shared runtime and consumer kit.",
        epilog="exit status: 0 ok; 2 usage or configuration error (a bad option, no such "
        "function, a source folder without any .py file).",
    )
    parser.add_argument(
        "--source-dir",
        type=Path,
        help="a consumer's source folder: its contents go to the zip root (needs --output)",
    )
    parser.add_argument("--output", type=Path, help="the zip to write (with --source-dir)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where the functions' zips go (default: <checkout>/build)",
    )
    parser.add_argument(
        "functions", nargs="*", help="functions/<name> to package (default: every one)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.source_dir is not None or args.output is not None:
            if args.source_dir is None or args.output is None:
                parser.error("--source-dir and --output go together")
            if args.functions or args.out is not None:
                parser.error("--source-dir builds one zip: no FUNCTION and no --out with it")
            print(_describe(build_source_dir(args.source_dir, args.output)))
            return EXIT_OK
        names = args.functions or function_names()
        if not names:
            print(f"no functions/<name>/app.py in {FUNCTIONS_DIR.parent}: nothing to package")
            return EXIT_OK
        out_dir = args.out or REPO_ROOT / "build"
        for name in names:
            print(_describe(build(name, out_dir)))
    except PackagingError as error:
        print(f"stream-pipeline-package: {error}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
