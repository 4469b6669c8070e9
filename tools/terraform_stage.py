"""Stage a Terraform root (module, example or environment) in a scratch directory.

Plan tests, `terraform test` and `terraform validate` never run in the source tree: the root is
copied (with the `modules/` it may reference by relative path) into a temporary directory, a
provider file with dummy credentials and every `skip_*` flag is added, remote backends are
swapped for a local one, and `terraform init` installs providers as
`tools/terraform_cli_config.py` decides (mirror when present, registry otherwise).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stream_pipeline import packaging as package
from tools import dependencies_layer
from tools.terraform_cli_config import resolve as resolve_cli_config

REPO_ROOT = package.REPO_ROOT
BUILD_DIR = REPO_ROOT / "build"
# The architecture the environments and examples deploy (the modules' default).
STAGED_LAYER_ARCHITECTURE = "arm64"

_PROVIDER_BODY = """
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = true
  # Offline, a call the provider makes while planning (Kinesis DescribeLimits for a stream)
  # fails: fail it at once instead of retrying for half a minute.
  max_retries = 1
"""
_DECLARES_AWS_PROVIDER = re.compile(r'^\s*provider\s+"aws"\s*\{', re.MULTILINE)
_DECLARES_BACKEND = re.compile(r'^\s*backend\s+"[a-z0-9_]+"\s*\{', re.MULTILINE)
_DECLARES_OUTPUT = re.compile(r'^output\s+"([^"]+)"', re.MULTILINE)
_IGNORED = shutil.ignore_patterns(".terraform", "*.tfstate", "*.tfstate.*", "__pycache__")


def terraform_env() -> dict[str, str]:
    """Environment for every terraform command the project runs (tests, lint, Makefile)."""
    env = dict(os.environ)
    env.update(
        TF_CLI_CONFIG_FILE=str(resolve_cli_config(BUILD_DIR / "terraform.rc")),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    # Terraform and the AWS provider allocate heavily while loading the provider's schema, which
    # every plan, validate and test run does: a less eager Go collector cuts their CPU by about
    # a quarter for some more memory.
    env.setdefault("GOGC", "400")
    env.pop("TF_LOG", None)
    return env


def _tf_files_text(root: Path) -> str:
    return "\n".join(path.read_text() for path in sorted(root.glob("*.tf")))


def _stage_modules(scratch: Path) -> None:
    shutil.copytree(REPO_ROOT / "modules", scratch / "modules", ignore=_IGNORED)
    # modules/stream-consumer packages a source folder with src/stream_pipeline (runtime, kit,
    # packaging), which it finds next to modules/ as in a checkout.
    shutil.copytree(
        REPO_ROOT / "src" / "stream_pipeline",
        scratch / "src" / "stream_pipeline",
        ignore=_IGNORED,
        dirs_exist_ok=True,
    )
    # Roots that deploy functions read `build/<function>.zip` (as `make package` leaves it)
    # by relative path; build the zips fresh into the scratch copy.
    for name in package.function_names():
        package.build(name, scratch / "build")
    # ...and the dependencies layer they attach.
    dependencies_layer.link_into(scratch / "build", STAGED_LAYER_ARCHITECTURE)


def stage(root: Path, scratch: Path, provider_file: bool = True) -> Path:
    """Copy `root` (a directory in the repository) into `scratch`; return the staged root.

    `modules/` is always copied next to it so `../../modules/x` and `../..` sources resolve
    exactly as in the repository, and the function zips are built into `build/` beside them.
    `provider_file=False` leaves providers as they are (for
    native `terraform test` suites, which mock the provider themselves).
    """
    root = root.resolve()
    relative = root.relative_to(REPO_ROOT)
    _stage_modules(scratch)
    staged = scratch / relative
    if not staged.exists():
        shutil.copytree(root, staged, ignore=_IGNORED)
    text = _tf_files_text(staged)
    if not provider_file:
        return staged
    if _DECLARES_AWS_PROVIDER.search(text):
        # The root configures its provider: override files merge into it.
        override = 'provider "aws" {' + _PROVIDER_BODY + "}\n"
        if _DECLARES_BACKEND.search(text):
            override += 'terraform {\n  backend "local" {}\n}\n'
        (staged / "zz_test_override.tf").write_text(override)
    else:
        (staged / "zz_test_provider.tf").write_text('provider "aws" {' + _PROVIDER_BODY + "}\n")
    return staged


@dataclass(frozen=True)
class ModuleCall:
    """One `module` block of a root staged by :func:`stage_calls`."""

    label: str
    """The block's label, e.g. `case_default`: every resource of the call is under
    `module.<label>.` and every output `<label>__<output>` in the plan."""
    source: Path
    """A module or an example in the repository."""
    arguments: str = ""
    """HCL attributes for the block: a tfvars file's text is exactly that."""


OUTPUT_SEPARATOR = "__"


def call_source(call: ModuleCall) -> str:
    """The call's `source` in a `stage_calls` root, which is also its `path.module`."""
    return "../../" + call.source.resolve().relative_to(REPO_ROOT).as_posix()


def output_names(root: Path) -> list[str]:
    return sorted(set(_DECLARES_OUTPUT.findall(_tf_files_text(root))))


def stage_calls(calls: Sequence[ModuleCall], scratch: Path, name: str = "calls") -> Path:
    """Stage a root that calls each module/example once: one plan covers them all.

    Planning N roots costs N provider start-ups, N inits and N `show`s; one root with N
    `module` blocks costs one of each and plans the same resources. The root sits two levels
    below `scratch` (`calls/<name>`), like `modules/<module>`, so relative paths in arguments
    (`../../build/<function>.zip`) resolve as they do for the module planned alone. Each
    call's outputs are re-exported as `<label>__<output>`.
    """
    _stage_modules(scratch)
    for call in calls:
        relative = call.source.resolve().relative_to(REPO_ROOT)
        if not (scratch / relative).exists():
            # Environments and other roots outside modules/ (their links become copies).
            shutil.copytree(call.source, scratch / relative, ignore=_IGNORED)
        if _DECLARES_AWS_PROVIDER.search(_tf_files_text(scratch / relative)):
            # A called environment keeps its own provider (default tags, endpoints), with the
            # dummy credentials merged in; its backend block is ignored in a called module.
            (scratch / relative / "zz_test_override.tf").write_text(
                'provider "aws" {' + _PROVIDER_BODY + "}\n"
            )
    staged = scratch / "calls" / name
    staged.mkdir(parents=True)
    blocks = [
        'terraform {\n  required_providers {\n    aws = {\n      source = "hashicorp/aws"\n'
        "    }\n  }\n}\n",
        'provider "aws" {' + _PROVIDER_BODY + "}\n",
    ]
    for call in calls:
        blocks.append(
            f'module "{call.label}" {{\n  source = "{call_source(call)}"\n\n'
            f"{call.arguments.strip()}\n}}\n"
        )
        blocks.extend(
            f'output "{call.label}{OUTPUT_SEPARATOR}{output}" {{\n'
            f"  value = module.{call.label}.{output}\n}}\n"
            for output in output_names(call.source)
        )
    (staged / "main.tf").write_text("\n".join(blocks))
    return staged


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run terraform in `cwd`; raise with its full output when it fails."""
    result = subprocess.run(
        ["terraform", *args, "-no-color"],
        cwd=cwd,
        env=terraform_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"terraform {' '.join(args)} failed in {cwd} (exit {result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def init(staged: Path) -> None:
    # The staged backend is local (remote ones are overridden), so a full init is harmless.
    run(["init", "-input=false"], staged)


def roots(kind: str | None = None) -> list[Path]:
    """Every Terraform root in the repository: modules, their examples, environments, and the
    root modules of examples/ (a team's own consumer on the pipeline)."""
    found = [p for p in sorted((REPO_ROOT / "modules").glob("*")) if (p / "versions.tf").exists()]
    found += sorted(p for p in (REPO_ROOT / "modules").glob("*/examples/*") if p.is_dir())
    environments = REPO_ROOT / "environments"
    # environments/_shared holds the files the environments link; it is not a root itself.
    found += sorted(
        p
        for p in environments.glob("*")
        if p.is_dir() and not p.name.startswith("_") and any(p.glob("*.tf"))
    )
    found += sorted(p for p in (REPO_ROOT / "examples").glob("*") if any(p.glob("*.tf")))
    if kind == "modules":
        return [p for p in found if p.parent.name == "modules"]
    return found
