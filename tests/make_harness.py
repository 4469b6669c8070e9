"""Run `make` targets of this repository against a scratch copy of its environments.

`make plan|apply|destroy ENV=<env>` reads `environments/<env>/` relative to the Makefile; a
test that edits an environment's files (to plant or remove a placeholder) runs make in a
scratch root instead: the Makefile, .python-version, src, tools, functions, modules,
requirements and virtualenvs are links to this repository, `environments/` is a copy the
test may change.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
_LINKED = (
    "Makefile",
    "pyproject.toml",
    ".python-version",
    "src",
    "tools",
    "functions",
    "modules",
    "requirements",
    ".venv",
    ".venv-checkov",
)
# What the shipped placeholders become in a copy that an operator has filled in.
FILLED_IN = {"example-org": "acme", "example.com": "acme-corp.io"}


def scratch_repo(tmp_path: Path) -> Path:
    """A root where `make` finds this repository's tooling and a copy of its environments."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in _LINKED:
        if (REPO_ROOT / name).exists():
            (root / name).symlink_to(REPO_ROOT / name)
    shutil.copytree(
        REPO_ROOT / "environments",
        root / "environments",
        symlinks=True,
        ignore=shutil.ignore_patterns(".terraform", "tfplan", "*.tfstate*"),
    )
    return root


def fill_in(path: Path) -> None:
    """Replace the shipped placeholders of one file with an operator's values."""
    text = path.read_text()
    for placeholder, value in FILLED_IN.items():
        text = text.replace(placeholder, value)
    path.write_text(text)


def without_aws_credentials(home: Path) -> dict[str, str]:
    """The caller's environment with no credential source at all: no variables, no files,
    no instance metadata."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def make(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`make -s ARGS` in `root`, with `env` (default: the caller's environment)."""
    return subprocess.run(
        ["make", "--no-print-directory", "-s", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
