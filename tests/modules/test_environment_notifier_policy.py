"""The environments refuse the SES mailbox simulator in prod (environments/_shared/variables.tf):
in prod it would replace every customer's address, so no customer would be notified."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tools.terraform_stage import REPO_ROOT, ModuleCall, init, stage_calls, terraform_env

pytestmark = [pytest.mark.terraform]

_NOTIFIER = (
    'email_notifier = { sender_address = "notifications@shop.test", identity = "shop.test", '
    'recipients = { allowed_domains = ["shop.test"], mailbox_simulator = "success" } }'
)


def _plan(tmp_path: Path, environment: str) -> str:
    arguments = f'environment = "{environment}"\naws_region = "eu-west-1"\nowner = "team"\n'
    staged = stage_calls(
        [ModuleCall("env", REPO_ROOT / "environments" / "prod", arguments + _NOTIFIER)], tmp_path
    )
    init(staged)
    result = subprocess.run(
        ["terraform", "plan", "-no-color", "-input=false", "-refresh=false"],
        cwd=staged,
        env=terraform_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout + result.stderr


def test_the_mailbox_simulator_is_refused_in_prod_only(tmp_path: Path) -> None:
    # GIVEN the environments' composition with a notifier sending through the mailbox simulator
    # WHEN it is planned as prod, then as staging
    prod = _plan(tmp_path / "prod", "prod")
    staging = _plan(tmp_path / "staging", "staging")
    # THEN prod fails on email_notifier with the reason; staging raises no such error
    assert "mailbox_simulator must be null in prod" in prod, prod[-3000:]
    assert "mailbox_simulator must be null in prod" not in staging, staging[-3000:]
    assert "Invalid value for variable" not in staging, staging[-3000:]
