"""One Python everywhere: the virtualenv the tests run in, the local runtime's workers, the tools'
target version and the functions' Lambda runtime are the version in `.python-version`."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest

from stream_pipeline.local.runtime.invoker import WORKER_RUNTIME
from tools import dependencies_layer, terraform_docs
from tools.terraform_stage import REPO_ROOT

VERSION = dependencies_layer.python_version()
RUNTIME = dependencies_layer.lambda_runtime()
MODULES = sorted(path.parent for path in (REPO_ROOT / "modules").glob("*/variables.tf"))


def test_the_tests_run_on_the_project_python() -> None:
    """GIVEN .python-version
    WHEN the interpreter running the tests (the virtualenv's, `make setup`) is asked its version
    THEN it is that version."""
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == VERSION


def test_the_local_runtime_workers_are_the_lambda_runtime() -> None:
    """GIVEN the local runtime
    WHEN it names the Lambda runtime its workers are
    THEN it is the functions' runtime (it refuses functions of any other)."""
    assert WORKER_RUNTIME == RUNTIME


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_module_runtime_defaults_are_the_project_python(module: Path) -> None:
    """GIVEN a module with a `runtime` input
    WHEN its default is read
    THEN it is the project's Python, so the deployed functions run what the tests ran."""
    variables, _ = terraform_docs.read_module(module)
    runtimes = [variable.default for variable in variables if variable.name == "runtime"]

    assert runtimes in ([], [RUNTIME])


def test_every_layer_path_names_the_project_python() -> None:
    """GIVEN every Terraform file and tfvars of the modules, their examples and the environments
    (module test cases may exercise the other supported runtime)
    WHEN the dependencies layer zips they reference are listed
    THEN each is the one built for the project's Python."""
    sources = [
        path
        for folder in ("modules", "environments")
        for pattern in ("*.tf", "*.tfvars")
        for path in (REPO_ROOT / folder).rglob(pattern)
        if ".terraform" not in path.parts
    ]
    named = {
        (path.relative_to(REPO_ROOT).as_posix(), runtime)
        for path in sources
        for runtime in re.findall(r"dependencies-(python[0-9.]+)-", path.read_text())
    }

    assert named, "no layer path found: the test would prove nothing"
    assert {where for where, runtime in named if runtime != RUNTIME} == set()


def test_python_tooling_targets_the_project_python() -> None:
    """GIVEN pyproject.toml
    WHEN the Python version of the package, ruff and mypy is read
    THEN each is the project's Python."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())

    assert project["project"]["requires-python"] == f">={VERSION}"
    assert project["tool"]["ruff"]["target-version"] == "py" + VERSION.replace(".", "")
    assert project["tool"]["mypy"]["python_version"] == VERSION


def test_workflows_take_python_from_the_version_file() -> None:
    """GIVEN the GitHub workflows
    WHEN they set up Python
    THEN they read .python-version instead of naming a version of their own."""
    workflows = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
    from_file = "python-version-file: .python-version"
    texts = {path.name: path.read_text() for path in workflows}

    assert texts
    assert {
        name: text.count("actions/setup-python")
        for name, text in texts.items()
        if text.count("actions/setup-python") != text.count(from_file)
    } == {}
    assert not any(re.search(r"python-version:\s", text) for text in texts.values())
