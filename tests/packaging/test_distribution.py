"""The distribution: the wheel installs into a fresh virtualenv and its console script answers
``--help`` for every subcommand; the installed package's modules form no import cycle, import
no private name across modules, never touch ``sys.path`` and stay under 600 lines; the Lambda
runtime imports nothing a Lambda function's environment lacks."""

from __future__ import annotations

import ast
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tools import release_notes
from tools.terraform_stage import REPO_ROOT

# One worker builds and installs the wheel once for every test that needs it.
pytestmark = pytest.mark.xdist_group("packaging")

PACKAGE_DIR = REPO_ROOT / "src" / "stream_pipeline"
MAX_LINES = 600
SUBCOMMANDS = (
    (),
    ("produce",),
    ("replay",),
    ("replay", "run"),
    ("replay", "stats"),
    ("local",),
    ("local", "up"),
    ("local", "down"),
    ("local", "status"),
    ("local", "outputs"),
    ("demo",),
    ("results",),
)
LAMBDA_IMPORTS = frozenset(
    {"boto3", "botocore", "pydantic", "aws_lambda_powertools", "aws_xray_sdk", "stream_pipeline"}
)


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def _imports(name: str, path: Path) -> set[str]:
    """Absolute names of every module (or module attribute) ``path`` imports, at any level."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: {imported for imported in _imports(name, path) if imported in modules} - {name}
        for name, path in modules.items()
    }


def test_no_import_cycle_between_the_package_modules() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if node.startswith(target + "."):
                continue  # a module's own package (its __init__) is imported before it
            if state.get(target) == 1:
                cycles.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_no_module_touches_sys_path_or_grows_past_600_lines() -> None:
    offenders: dict[str, str] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(REPO_ROOT))
        if "sys.path" in text:
            offenders[where] = "mentions sys.path"
        if len(text.splitlines()) > MAX_LINES:
            offenders[where] = f"{len(text.splitlines())} lines"
    assert offenders == {}


def test_no_private_name_is_imported_across_modules() -> None:
    private = {
        f"{name}: {imported}"
        for name, path in _modules().items()
        for imported in _imports(name, path)
        if imported.startswith("stream_pipeline.")
        and imported.rpartition(".")[2].startswith("_")
        and not imported.rpartition(".")[2].startswith("__")
    }
    assert private == set()


def test_the_lambda_runtime_imports_only_what_a_function_has() -> None:
    """stream_pipeline/__init__.py and runtime/ go into every deployment zip: no rich, no moto,
    nothing of the command-line code."""
    outside = {
        f"{name}: {imported}"
        for name, path in _modules().items()
        if name == "stream_pipeline" or name.startswith("stream_pipeline.runtime")
        for imported in _imports(name, path)
        if imported.split(".")[0] not in LAMBDA_IMPORTS | set(sys.stdlib_module_names)
        or (
            imported.startswith("stream_pipeline.")
            and not imported.startswith("stream_pipeline.runtime")
        )
    }
    assert outside == set()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout, installed (without dependencies) into a fresh
    virtualenv that finds the dependencies in this one's site-packages."""
    scratch = tmp_path_factory.mktemp("distribution")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(scratch / "dist"), str(REPO_ROOT)],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    version = release_notes.project_version()
    wheels = list((scratch / "dist").glob(f"terraform_aws_stream_pipeline-{version}-*.whl"))
    assert len(wheels) == 1, wheels
    venv = scratch / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # A directory named in a .pth file is added to sys.path, but its own .pth files are not
    # run: the editable install of the checkout (a .pth here) stays out; only the wheel counts.
    purelib = Path(sysconfig.get_paths()["purelib"])
    target = next(venv.glob("lib/python*/site-packages"))
    (target / "dependencies.pth").write_text(f"{purelib}\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--no-deps", "-q", str(wheels[0])],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    return venv


@pytest.mark.parametrize("words", SUBCOMMANDS, ids=lambda words: " ".join(words) or "top")
def test_the_console_script_answers_help(installed: Path, words: tuple[str, ...]) -> None:
    result = subprocess.run(
        [str(installed / "bin" / "stream-pipeline"), *words, "--help"],
        cwd=installed,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: stream-pipeline" in result.stdout
    if len(words) < 2:  # the command and each tool document their exit status
        assert "exit status" in result.stdout


def test_the_packaging_script_builds_a_source_folder_from_the_wheel(
    installed: Path, tmp_path: Path
) -> None:
    # GIVEN the installed wheel and a consumer's source folder
    (tmp_path / "consumer").mkdir()
    (tmp_path / "consumer" / "app.py").write_text("def lambda_handler(event, context):\n    pass\n")
    target = tmp_path / "consumer.zip"
    # WHEN its packaging command zips the folder
    result = subprocess.run(
        [str(installed / "bin" / "stream-pipeline-package"), "--source-dir",
         str(tmp_path / "consumer"), "--output", str(target)],
        cwd=installed, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    # THEN the zip holds the folder and the wheel's own runtime and kit
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
    assert "app.py" in names
    assert "stream_pipeline/kit/__init__.py" in names
    assert "stream_pipeline/runtime/__init__.py" in names


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Path) -> None:
    result = subprocess.run(
        [str(installed / "bin" / "python"), "-c",
         "import stream_pipeline, stream_pipeline.cli; "
         "print(stream_pipeline.__file__); print(stream_pipeline.__version__)"],
        cwd=installed, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    location, version = result.stdout.split()
    assert Path(location).is_relative_to(installed)
    assert version == "0.1.0"
