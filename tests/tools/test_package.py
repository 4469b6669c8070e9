"""Deployment zips: function package + the shared Lambda runtime, reproducible."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tools import package


@pytest.fixture
def functions_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "functions"
    (root / "demo" / "__pycache__").mkdir(parents=True)
    (root / "demo" / "__init__.py").write_text("")
    (root / "demo" / "app.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    (root / "demo" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    source = tmp_path / "src"
    (source / "stream_pipeline" / "runtime").mkdir(parents=True)
    (source / "stream_pipeline" / "__init__.py").write_text("")
    (source / "stream_pipeline" / "cli.py").write_text("import rich\n")
    (source / "stream_pipeline" / "runtime" / "__init__.py").write_text("")
    (source / "stream_pipeline" / "runtime" / "dlq_envelope.py").write_text("VERSION = 1\n")
    monkeypatch.setattr(package, "FUNCTIONS_DIR", root)
    monkeypatch.setattr(package, "SOURCE_DIR", source)
    return root


def test_zip_holds_the_function_and_the_shared_package(functions_dir: Path, tmp_path: Path) -> None:
    # GIVEN a function package and the shared package
    # WHEN it is packaged
    target = package.build("demo", tmp_path / "out")
    # THEN both sit at the zip root (handler demo.app.lambda_handler) and bytecode is left out,
    # and so is the command-line code next to the runtime
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == [
            "demo/__init__.py",
            "demo/app.py",
            "stream_pipeline/__init__.py",
            "stream_pipeline/runtime/__init__.py",
            "stream_pipeline/runtime/dlq_envelope.py",
        ]


def test_zip_is_reproducible(functions_dir: Path, tmp_path: Path) -> None:
    # GIVEN the same sources packaged twice, with different file modification times
    first = package.build("demo", tmp_path / "a").read_bytes()
    (functions_dir / "demo" / "app.py").touch()
    # WHEN packaged again
    second = package.build("demo", tmp_path / "b").read_bytes()
    # THEN the bytes (and so Terraform's source_code_hash) are identical
    assert first == second


def test_unknown_function_is_a_clear_error(functions_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"functions/nope/app\.py not found; functions: demo"):
        package.build("nope", tmp_path)
