"""Deletion protection against the applied stack: with `deletion_protection = true`, a
`terraform destroy` and a rename both fail at plan time; the documented removal (drop the guard
from the state, turn protection off) lets the destroy plan through.

environments/local turns protection off; the scenario applies the guard alone (`-target`),
then leaves the state as it found it. Nothing is applied beyond the guard, which has no cloud
object: the plans are only planned.
"""

from __future__ import annotations

import pytest
from e2e_pipeline import Pipeline

from stream_pipeline.local.stack import StackError

GUARD = "module.pipeline.terraform_data.deletion_protection[0]"


def _terraform(pipeline: Pipeline, *args: str) -> str:
    """plan/apply of the local root with the variables its apply had."""
    return pipeline.stack.terraform(
        *args,
        "-input=false",
        "-no-color",
        f"-var=local_endpoint={pipeline.stack.endpoint}",
        capture=True,
    )


def _refused(pipeline: Pipeline, *args: str) -> str:
    with pytest.raises(StackError) as refused:
        _terraform(pipeline, "plan", "-refresh=false", *args)
    return str(refused.value)


def test_protected_pipeline_cannot_be_destroyed_or_renamed_until_released(
    pipeline: Pipeline,
) -> None:
    # GIVEN the applied local environment with its deletion protection turned on
    _terraform(
        pipeline,
        "apply",
        "-auto-approve",
        "-refresh=false",
        f"-target={GUARD}",
        "-var=deletion_protection=true",
    )
    try:
        # WHEN a destroy and a rename are planned
        destroy = _refused(pipeline, "-destroy", "-var=deletion_protection=true")
        rename = _refused(pipeline, "-var=deletion_protection=true", "-var=project=renamed")

        # THEN both plans fail on the guard before anything is deleted
        for error in (destroy, rename):
            assert "Instance cannot be destroyed" in error, error
            assert "deletion_protection" in error, error
    finally:
        # WHEN the guard is dropped from the state as the README says (also the cleanup)
        pipeline.stack.terraform("state", "rm", GUARD, capture=True)

    # THEN, protection off, the destroy plan goes through
    plan = _terraform(
        pipeline, "plan", "-refresh=false", "-destroy", "-var=deletion_protection=false"
    )
    assert "to destroy" in plan
    assert "terraform_data.deletion_protection" not in plan
