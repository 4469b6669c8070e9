"""Deployment zips (``stream_pipeline.packaging``, ``stream-pipeline-package``): a repository
function or a consumer's source folder, each with the shared runtime and kit, reproducible."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from stream_pipeline import packaging

SHARED_NAMES = [
    "stream_pipeline/__init__.py",
    "stream_pipeline/kit/__init__.py",
    "stream_pipeline/runtime/__init__.py",
    "stream_pipeline/runtime/dlq_envelope.py",
]


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch checkout: src/stream_pipeline (runtime, kit and command-line code) and
    functions/demo; the packaging module reads both from it."""
    source = tmp_path / "src"
    shared = source / "stream_pipeline"
    (shared / "runtime" / "__pycache__").mkdir(parents=True)
    (shared / "kit").mkdir()
    (shared / "__init__.py").write_text("")
    (shared / "cli.py").write_text("import rich\n")
    (shared / "runtime" / "__init__.py").write_text("")
    (shared / "runtime" / "dlq_envelope.py").write_text("VERSION = 1\n")
    (shared / "runtime" / "__pycache__" / "dlq_envelope.cpython-312.pyc").write_bytes(b"\0")
    (shared / "kit" / "__init__.py").write_text("")
    functions = tmp_path / "functions"
    (functions / "demo" / "__pycache__").mkdir(parents=True)
    (functions / "demo" / "__init__.py").write_text("")
    (functions / "demo" / "app.py").write_text("def lambda_handler(event, context):\n    pass\n")
    (functions / "demo" / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"\0")
    monkeypatch.setattr(packaging, "FUNCTIONS_DIR", functions)
    monkeypatch.setattr(packaging, "SOURCE_DIR", source)
    return source


@pytest.fixture
def consumer_dir(tmp_path: Path) -> Path:
    """A team's consumer: a handler module, a helper package, a data file, and what never
    belongs in a zip (bytecode, a hidden folder)."""
    folder = tmp_path / "orders_consumer"
    (folder / "rules" / "__pycache__").mkdir(parents=True)
    (folder / ".venv" / "lib").mkdir(parents=True)
    (folder / "app.py").write_text("def handle(record):\n    return None\n")
    (folder / "rules" / "__init__.py").write_text("")
    (folder / "rules" / "limits.yaml").write_text("max: 3\n")
    (folder / "rules" / "__pycache__" / "__init__.cpython-312.pyc").write_bytes(b"\0")
    (folder / ".venv" / "lib" / "site.py").write_text("")
    return folder


def _names(target: Path) -> list[str]:
    with zipfile.ZipFile(target) as archive:
        return archive.namelist()


def test_function_zip_holds_the_function_and_the_shared_package(
    source: Path, tmp_path: Path
) -> None:
    # GIVEN a function package and the shared package
    # WHEN it is packaged
    target = packaging.build("demo", tmp_path / "out")
    # THEN both sit at the zip root (handler demo.app.lambda_handler), sorted; bytecode is left
    # out, and so is the command-line code next to the runtime
    assert _names(target) == ["demo/__init__.py", "demo/app.py", *SHARED_NAMES]


def test_function_zip_is_reproducible(source: Path, tmp_path: Path) -> None:
    # GIVEN the same sources packaged twice, with different file modification times
    first = packaging.build("demo", tmp_path / "a").read_bytes()
    (packaging.FUNCTIONS_DIR / "demo" / "app.py").touch()
    os.utime(source / "stream_pipeline" / "runtime" / "dlq_envelope.py", (0, 0))
    # WHEN packaged again
    second = packaging.build("demo", tmp_path / "b").read_bytes()
    # THEN the bytes (and so Terraform's source_code_hash) are identical
    assert first == second


def test_entries_have_fixed_date_and_mode(source: Path, tmp_path: Path) -> None:
    # GIVEN a function zip
    target = packaging.build("demo", tmp_path / "out")
    # WHEN its entries are read
    with zipfile.ZipFile(target) as archive:
        infos = archive.infolist()
    # THEN every entry has the fixed 1980-01-01 date and rw-r--r--
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o644}


def test_unknown_function_is_a_clear_error(source: Path, tmp_path: Path) -> None:
    with pytest.raises(
        packaging.PackagingError, match=r"functions/nope/app\.py not found; functions: demo"
    ):
        packaging.build("nope", tmp_path)


def test_source_dir_zip_holds_the_folder_at_the_root_and_the_shared_package(
    source: Path, consumer_dir: Path, tmp_path: Path
) -> None:
    # GIVEN a consumer's source folder with bytecode and a hidden folder in it
    # WHEN it is packaged
    target = packaging.build_source_dir(consumer_dir, tmp_path / "out" / "orders.zip")
    # THEN its files sit at the zip root (handler app.handle) with their data files, next to
    # the shared runtime and kit; neither bytecode nor hidden files are packaged
    assert _names(target) == ["app.py", "rules/__init__.py", "rules/limits.yaml", *SHARED_NAMES]


def test_source_dir_zip_is_reproducible(source: Path, consumer_dir: Path, tmp_path: Path) -> None:
    # GIVEN a source folder packaged once
    first = packaging.build_source_dir(consumer_dir, tmp_path / "a.zip").read_bytes()
    # WHEN its files are touched and it is packaged again
    os.utime(consumer_dir / "app.py", (0, 0))
    second = packaging.build_source_dir(consumer_dir, tmp_path / "b.zip").read_bytes()
    # THEN the bytes are identical
    assert first == second


def test_source_dir_without_python_is_a_clear_error(source: Path, tmp_path: Path) -> None:
    # GIVEN a folder with no .py file (only a README and bytecode)
    folder = tmp_path / "empty_consumer"
    (folder / "__pycache__").mkdir(parents=True)
    (folder / "README.md").write_text("# consumer\n")
    (folder / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"\0")
    # WHEN it is packaged
    # THEN it fails, saying what is missing, and writes no zip
    with pytest.raises(packaging.PackagingError, match=r"holds no Python file \(\*\.py\)"):
        packaging.build_source_dir(folder, tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()


def test_source_dir_that_is_not_a_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(packaging.PackagingError, match=r"not a directory"):
        packaging.build_source_dir(tmp_path / "missing", tmp_path / "out.zip")


def test_source_dir_with_its_own_stream_pipeline_is_refused(
    source: Path, consumer_dir: Path, tmp_path: Path
) -> None:
    # GIVEN a source folder that vendors a stream_pipeline package of its own
    (consumer_dir / "stream_pipeline").mkdir()
    (consumer_dir / "stream_pipeline" / "__init__.py").write_text("")
    # WHEN it is packaged THEN it is refused rather than shadowing the library's
    with pytest.raises(packaging.PackagingError, match=r"has its own stream_pipeline/"):
        packaging.build_source_dir(consumer_dir, tmp_path / "out.zip")


def test_command_builds_a_source_dir_with_only_the_source_tree_on_the_path(
    consumer_dir: Path, tmp_path: Path
) -> None:
    # GIVEN nothing installed but PYTHONPATH=<checkout>/src (how modules/stream-consumer runs it)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(Path(packaging.__file__).resolve().parent.parent),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    target = tmp_path / "out" / "orders.zip"
    # WHEN the module's command runs
    result = subprocess.run(
        [
            *(sys.executable, "-S", "-m", "stream_pipeline.packaging"),
            *("--source-dir", str(consumer_dir), "--output", str(target)),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    # THEN it builds the zip with this checkout's runtime and kit
    assert result.returncode == 0, result.stderr
    names = _names(target)
    assert names[:3] == ["app.py", "rules/__init__.py", "rules/limits.yaml"]
    assert "stream_pipeline/kit/__init__.py" in names
    assert "stream_pipeline/runtime/__init__.py" in names
    assert not any(name.startswith("stream_pipeline/local/") for name in names)


def test_command_reports_a_folder_without_python_with_exit_2(tmp_path: Path) -> None:
    # GIVEN an empty folder
    (tmp_path / "empty").mkdir()
    # WHEN the command packages it
    status = packaging.main(["--source-dir", str(tmp_path / "empty"), "--output", "x.zip"])
    # THEN it exits 2 (usage or configuration error, as every command of the project)
    assert status == packaging.EXIT_USAGE


def test_command_refuses_output_without_source_dir(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        packaging.main(["--output", str(tmp_path / "x.zip")])
    assert exited.value.code == 2
