"""`make plan|destroy ENV=<env>` stops on a placeholder with one sentence per value to set.

The shipped environments hold readable example values (tools/check_placeholders.py: anything
under a documentation domain such as `example.com`, the `example-org` prefix, or `CHANGE-ME`).
The check runs before the credential check and `terraform init`, so an operator reads which
file and which value to change, never a backend or provider error.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from make_harness import fill_in, make, scratch_repo, without_aws_credentials

from tools import check_placeholders
from tools.terraform_stage import REPO_ROOT

DEV_BUCKET = (
    'environments/dev/backend.hcl: bucket = "example-org-terraform-state-dev" is a placeholder: '
    "set it to your state bucket's name."
)
DEV_SENDER = (
    'environments/dev/terraform.tfvars: email_notifier.sender_address = "notifications@dev.'
    'example.com" is a placeholder: set it to the address the notifier sends from, within an '
    "SES identity of the account."
)
# `make plan` skips packaging here (`-o package`): what is tested is the order of the checks.
PLAN_DEV = ("-o", "package", "plan", "ENV=dev")


def sentences(result: subprocess.CompletedProcess[str]) -> list[str]:
    """What the check printed: stderr without make's own `make: *** [...] Error 2` line (or
    `make[N]: ...` when the tests themselves run under make, as in `make test`)."""
    return [line for line in result.stderr.splitlines() if not re.match(r"make(\[\d+\])?: ", line)]


def terraform_ran(result: subprocess.CompletedProcess[str]) -> bool:
    output = result.stdout + result.stderr
    return any(text in output for text in ("Initializing", "terraform -chdir", "Error:"))


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [
        ("example-org-terraform-state-dev", True),
        ("notifications@dev.example.com", True),
        ("example.com", True),
        ("ops@Example.Org", True),
        ("CHANGE-ME", True),
        ("change-me-state-bucket", True),
        ("acme-terraform-state-dev", False),
        ("notifications@acme-corp.io", False),
        ("myexample.com", False),
        ("eu-west-1", False),
    ],
)
def test_the_placeholder_convention(value: str, placeholder: bool) -> None:
    assert check_placeholders.is_placeholder(value) is placeholder


def test_shipped_environments_name_each_placeholder_and_local_is_exempt() -> None:
    # GIVEN the environments as shipped / WHEN each is checked
    def check(environment: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tools.check_placeholders", environment],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )

    # THEN dev, staging and prod stop with one line per placeholder, naming file and value
    for environment in ("dev", "staging", "prod"):
        result = check(environment)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.splitlines()
        assert f"environments/{environment}/backend.hcl: bucket = " in lines[0]
        assert all(" is a placeholder: set it to " in line for line in lines), lines
        assert all(line.endswith(".") for line in lines)
    assert DEV_BUCKET in check("dev").stderr.splitlines()
    assert DEV_SENDER in check("dev").stderr.splitlines()
    # AND local, whose values are the emulator's, passes
    local = check("local")
    assert (local.returncode, local.stderr) == (0, "")


def test_make_plan_of_the_shipped_dev_stops_on_its_placeholders(tmp_path: Path) -> None:
    # GIVEN the repository as shipped and no AWS credentials
    # WHEN dev is planned (the whole target, packaging included)
    result = make(REPO_ROOT, "plan", "ENV=dev", env=without_aws_credentials(tmp_path))
    # THEN it stops with exit status 2 on the placeholders, before the credential check and
    # before terraform
    assert result.returncode == 2, result.stderr
    assert DEV_BUCKET in sentences(result)
    assert "No AWS credentials found" not in result.stderr
    assert "Traceback" not in result.stderr
    assert not terraform_ran(result)


def test_a_placeholder_in_backend_hcl_alone_stops_the_plan(tmp_path: Path) -> None:
    # GIVEN dev with its terraform.tfvars filled in but the example state bucket kept
    root = scratch_repo(tmp_path)
    fill_in(root / "environments" / "dev" / "terraform.tfvars")
    # WHEN dev is planned
    result = make(root, *PLAN_DEV, env=without_aws_credentials(tmp_path))
    # THEN the one sentence names backend.hcl and the bucket, and nothing else ran
    assert result.returncode == 2, result.stderr
    assert sentences(result) == [DEV_BUCKET]
    assert not terraform_ran(result)


def test_a_placeholder_in_terraform_tfvars_alone_stops_the_plan(tmp_path: Path) -> None:
    # GIVEN dev with its state bucket set but the example SES sender and alarm address kept
    root = scratch_repo(tmp_path)
    fill_in(root / "environments" / "dev" / "backend.hcl")
    # WHEN dev is planned
    result = make(root, *PLAN_DEV, env=without_aws_credentials(tmp_path))
    # THEN each sentence names terraform.tfvars and the value to set, and nothing else ran
    assert result.returncode == 2, result.stderr
    lines = sentences(result)
    assert DEV_SENDER in lines
    assert all(line.startswith("environments/dev/terraform.tfvars: ") for line in lines), lines
    assert not terraform_ran(result)


def test_once_filled_in_the_plan_goes_on_to_the_credential_check(tmp_path: Path) -> None:
    # GIVEN dev with both files filled in
    root = scratch_repo(tmp_path)
    for name in ("backend.hcl", "terraform.tfvars"):
        fill_in(root / "environments" / "dev" / name)
    # WHEN the check runs on its own THEN it passes
    assert check_placeholders.messages(root / "environments" / "dev") == []
    # AND WHEN dev is planned without credentials THEN the next check is the one that stops it
    result = make(root, *PLAN_DEV, env=without_aws_credentials(tmp_path))
    assert result.returncode == 2, result.stderr
    assert "No AWS credentials found" in result.stderr
    assert " is a placeholder" not in result.stderr
    assert not terraform_ran(result)


def test_make_destroy_checks_placeholders_too(tmp_path: Path) -> None:
    result = make(
        REPO_ROOT, "-o", "setup", "destroy", "ENV=prod", env=without_aws_credentials(tmp_path)
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("environments/prod/backend.hcl: bucket = ")
    assert not terraform_ran(result)
