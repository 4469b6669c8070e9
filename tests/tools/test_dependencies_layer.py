"""The dependencies layer: exactly the pinned versions, for the Lambda runtime's Python, and enough
on its own (with a function's zip) to import every handler."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tools import dependencies_layer, package, terraform_docs
from tools.terraform_stage import BUILD_DIR, REPO_ROOT

# Imports every module of the function's package and of the packages shipped beside it, the way
# Lambda's Python runtime sees them (/var/task, then the layer's /opt/python), with nothing else
# but the standard library on sys.path; reports any module loaded from elsewhere.
_IMPORT_PROBE = """
import importlib, json, pkgutil, sys, sysconfig
task, layer, handler = sys.argv[1:4]
sys.path[:0] = [task, layer]
module_name, _, attribute = handler.rpartition(".")
function = getattr(importlib.import_module(module_name), attribute)
for info in pkgutil.walk_packages([task]):
    importlib.import_module(info.name)
allowed = [task, layer] + [sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")]
foreign = sorted(
    name for name, module in list(sys.modules.items())
    if getattr(module, "__file__", None)
    and not any(module.__file__.startswith(root) for root in allowed)
)
print(json.dumps({"callable": callable(function), "foreign": foreign}))
"""

# What the Lambda service sets before the runtime imports a handler (the ones our code reads).
_LAMBDA_ENVIRONMENT = {
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_LAMBDA_FUNCTION_NAME": "probe",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "LAMBDA_TASK_ROOT": "/var/task",
}


def _layer_versions(layer: Path) -> dict[str, str]:
    """`{normalized name: version}` of every distribution installed in the layer zip."""
    versions: dict[str, str] = {}
    with zipfile.ZipFile(layer) as archive:
        for entry in archive.namelist():
            parts = entry.split("/")
            if len(parts) == 3 and parts[1].endswith(".dist-info") and parts[2] == "METADATA":
                metadata = archive.read(entry).decode()
                fields = dict(
                    line.split(": ", 1) for line in metadata.splitlines()[:5] if ": " in line
                )
                versions[dependencies_layer.normalize(fields["Name"])] = fields["Version"]
    return versions


@pytest.fixture(scope="module")
def host_layer() -> Path:
    return dependencies_layer.ensure(dependencies_layer.host_architecture(), BUILD_DIR)


@pytest.mark.parametrize("architecture", dependencies_layer.ARCHITECTURES)
def test_layer_holds_exactly_the_pinned_versions(architecture: str) -> None:
    """GIVEN requirements/lambda.txt
    WHEN the layer is built for an architecture
    THEN it holds every pinned distribution at its pinned version, and nothing else."""
    layer = dependencies_layer.ensure(architecture, BUILD_DIR)

    assert _layer_versions(layer) == dependencies_layer.pinned()
    with zipfile.ZipFile(layer) as archive:
        assert [name for name in archive.namelist() if not name.startswith("python/")] == []
        # No console script (its shebang would name the building machine's interpreter), nor a
        # RECORD line pointing at one: the bytes do not depend on where the layer was built.
        assert [name for name in archive.namelist() if name.startswith("python/bin/")] == []
        records = [name for name in archive.namelist() if name.endswith(".dist-info/RECORD")]
        assert records
        assert not any(b"\n../" in b"\n" + archive.read(name) for name in records)


def test_layer_wheels_are_built_for_the_architecture_and_python() -> None:
    """GIVEN the arm64 layer
    WHEN its compiled extensions are listed
    THEN each is built for aarch64 and the project's CPython (pydantic-core is one)."""
    layer = dependencies_layer.ensure("arm64", BUILD_DIR)
    tag = "cpython-" + dependencies_layer.python_version().replace(".", "")

    with zipfile.ZipFile(layer) as archive:
        extensions = [name for name in archive.namelist() if name.endswith(".so")]

    assert any("pydantic_core" in name for name in extensions)
    for name in (name for name in extensions if "pydantic_core" in name):
        assert tag in name, name
        assert "aarch64" in name, name


def test_the_tests_run_on_the_pinned_versions() -> None:
    """GIVEN the virtualenv the tests run in
    WHEN the versions of the Lambda's dependencies are read from it
    THEN they are the deployed (pinned) ones: what was tested is what is deployed."""
    installed = {name: importlib.metadata.version(name) for name in dependencies_layer.pinned()}

    assert installed == dependencies_layer.pinned()


@pytest.mark.parametrize("function", package.function_names())
def test_handler_imports_from_the_artifacts_alone(
    function: str, host_layer: Path, tmp_path: Path
) -> None:
    """GIVEN a function's zip and the layer for this machine, unpacked as Lambda lays them out
    WHEN a clean interpreter (no site-packages, no environment) imports the handler and every
    module of the zip
    THEN the handler is callable and no module came from outside the zip, the layer and the
    standard library: a dependency missing from the layer fails here, not in AWS."""
    task, opt = tmp_path / "task", tmp_path / "opt"
    with zipfile.ZipFile(package.build(function, tmp_path / "zips")) as archive:
        archive.extractall(task)
    with zipfile.ZipFile(host_layer) as archive:
        archive.extractall(opt)

    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _IMPORT_PROBE, str(task), str(opt / "python"),
         f"{function}.app.lambda_handler"],
        env=_LAMBDA_ENVIRONMENT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report == {"callable": True, "foreign": []}


def test_environments_deploy_the_layer_built_for_their_runtime_and_architecture() -> None:
    """GIVEN the composition every environment deploys
    WHEN its dependencies layer path is read
    THEN it is the zip `make package` builds for the project's Python and arm64, the
    architecture modules/lambda-layer and the functions default to."""
    composition = (REPO_ROOT / "environments/_shared/main.tf").read_text()
    (layer_package,) = re.findall(r'dependencies_layer_package\s*=\s*"([^"]+)"', composition)
    variables, _ = terraform_docs.read_module(REPO_ROOT / "modules/lambda-layer")
    defaults = {variable.name: variable.default for variable in variables}

    expected = dependencies_layer.layer_path(Path("build"), "arm64").name
    assert layer_package.endswith(f"/build/{expected}")
    assert defaults["architecture"] == "arm64"
    assert defaults["runtime"] == dependencies_layer.lambda_runtime()


def test_requirements_must_be_exact_pins(tmp_path: Path) -> None:
    """GIVEN a requirements file with a range instead of a pin
    WHEN it is read for the layer
    THEN the build stops and names the line (a range would deploy whatever is newest)."""
    requirements = tmp_path / "lambda.txt"
    requirements.write_text("# comment\nboto3==1.44.5  # pinned\npydantic>=2\n")

    with pytest.raises(SystemExit, match=r"'pydantic>=2' is not an exact pin"):
        dependencies_layer.pinned(requirements)


def test_layer_zip_is_reproducible(tmp_path: Path) -> None:
    """GIVEN the same installed files written twice with different modification times
    WHEN each is zipped
    THEN the bytes (and so Terraform's source_code_hash) are identical."""
    site = tmp_path / "python"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg" / "__init__.py").write_text("VERSION = 1\n")
    (site / "pkg" / "_speedups.so").write_bytes(b"\x7fELF")
    (site / "pkg" / "_speedups.so").chmod(0o755)
    dependencies_layer.write_zip(site, tmp_path / "a.zip")
    (site / "pkg" / "__init__.py").touch()
    dependencies_layer.write_zip(site, tmp_path / "b.zip")

    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert archive.namelist() == ["python/pkg/__init__.py", "python/pkg/_speedups.so"]
        assert archive.getinfo("python/pkg/_speedups.so").external_attr >> 16 == 0o755
