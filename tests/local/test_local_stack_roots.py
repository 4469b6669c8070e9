"""The local stack with a Terraform root of a team's own (make local-up ROOT= FUNCTIONS=): where
it lives, what its working copy holds, how its provider reaches the runtime."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stream_pipeline.local.runtime.client import STATE_FILE
from stream_pipeline.local.stack import (
    DEFAULT_ROOT,
    PROVIDER_OVERRIDE,
    LocalStack,
    StackError,
    provider_override,
)
from stream_pipeline.local.stack_cli import main
from stream_pipeline.packaging import function_names
from tools.terraform_stage import REPO_ROOT

EXAMPLE = Path("examples") / "orders"


def test_another_root_lives_in_its_own_build_folder() -> None:
    """GIVEN the example root WHEN a stack is described for it THEN its pid, state and copy live
    in build/local-examples-orders, and its functions folder is resolved in the checkout."""
    stack = LocalStack(
        checkout=REPO_ROOT, terraform_root=EXAMPLE, functions_dirs=[EXAMPLE / "functions"]
    )

    assert stack.base == REPO_ROOT / "build" / "local-examples-orders"
    assert stack.terraform_dir == stack.base / "stack" / "examples" / "orders"
    assert stack.functions_dirs == [REPO_ROOT / EXAMPLE / "functions"]
    assert LocalStack(checkout=REPO_ROOT).base == REPO_ROOT / DEFAULT_ROOT


def test_a_root_outside_the_checkout_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a root outside the repository (its module sources could not resolve)
    WHEN the stack is described, or `local up` is run THEN it is refused, exit status 2."""
    with pytest.raises(StackError, match="not inside the checkout"):
        LocalStack(checkout=REPO_ROOT, terraform_root=tmp_path)

    status = main(["up", "--checkout", str(REPO_ROOT), "--terraform-root", str(tmp_path)])

    assert status == 2
    assert "not inside the checkout" in capsys.readouterr().err


def test_the_working_copy_holds_the_root_its_folders_and_a_provider_override(
    tmp_path: Path,
) -> None:
    """GIVEN the example root and a runtime listening on port 4999 (its state file)
    WHEN the stack stages Terraform's working copy
    THEN the copy holds the root's .tf files and its functions folder (not its tests), the
    modules and the shared sources the packaging hashes, and an override that points every
    service of the aws provider at the runtime.
    """
    build = tmp_path / "build"
    build.mkdir()
    # Every function of the checkout has its zip (the stack refuses to stage without one).
    for name in (*function_names(), "dependencies-x"):
        (build / f"{name}.zip").write_bytes(b"zip")
    stack = LocalStack(
        root=tmp_path / "stack-root", checkout=REPO_ROOT, build_dir=build, terraform_root=EXAMPLE
    )
    stack.state_dir.mkdir(parents=True)
    (stack.state_dir / STATE_FILE).write_text(json.dumps({"port": 4999}))

    copy = stack.stage()

    assert sorted(p.name for p in copy.glob("*.tf")) == sorted(
        [
            *(p.name for p in (REPO_ROOT / EXAMPLE).glob("*.tf")),
            PROVIDER_OVERRIDE,
            "backend_local.tf",
        ]
    )
    assert (copy / "functions" / "orders_validator" / "app.py").is_file()
    assert not (copy / "tests").exists()
    assert (stack.stack_dir / "src" / "stream_pipeline" / "kit" / "consumer.py").is_file()
    assert (stack.stack_dir / "modules" / "pipeline" / "main.tf").is_file()
    override = (copy / PROVIDER_OVERRIDE).read_text()
    assert override.count('"http://127.0.0.1:4999"') == 12
    assert 'access_key                  = "test"' in override


def test_the_local_environment_keeps_its_own_provider() -> None:
    """GIVEN environments/local, which declares local_endpoint WHEN staged THEN no override is
    needed: the stack passes -var=local_endpoint instead (checked through the declaration)."""
    assert LocalStack(checkout=REPO_ROOT)._declares_local_endpoint()
    assert not LocalStack(checkout=REPO_ROOT, terraform_root=EXAMPLE)._declares_local_endpoint()
    assert 'region                      = "eu-west-1"' in provider_override(
        "http://x:1", "eu-west-1"
    )
