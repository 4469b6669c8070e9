"""The inventory harness (`tests/inventory.py`) on a hand-made plan summary: no terraform."""

from __future__ import annotations

from pathlib import Path

import inventory
import pytest
import yaml
from plan_harness import UNKNOWN, PlanSummary

ESM = "aws_lambda_event_source_mapping.this"
HEAD = f"""proves: >-
  The mapping retries a failed batch 10 times, bisecting it, then sends it to the topic.
keep:
  {ESM}: [bisect_batch_on_function_error, maximum_retry_attempts, destination_config]
  '*aws_kms_key.this': [enable_key_rotation]
  'aws_sqs_queue.this["*"]': []
  outputs: [event_source_type]
"""


def _summary(**changes: object) -> PlanSummary:
    esm = {
        "batch_size": 100,
        "bisect_batch_on_function_error": True,
        "destination_config": [
            {"on_failure": [{"destination_arn": "arn:aws:sns:eu-west-1:111122223333:failed"}]}
        ],
        "maximum_retry_attempts": 10,
        "function_arn": UNKNOWN,
    }
    esm.update(changes)
    return PlanSummary(
        values={
            ESM: esm,
            "module.function.module.kms_key[0].aws_kms_key.this": {
                "enable_key_rotation": True,
                "deletion_window_in_days": 30,
            },
            'aws_sqs_queue.this["dlq"]': {"name": "orders-dlq"},
        },
        counts={"aws_kms_key": 1, "aws_lambda_event_source_mapping": 1, "resources": 3},
        outputs={"event_source_type": "kinesis", "function_arn": UNKNOWN},
    )


@pytest.fixture
def written(tmp_path: Path) -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(HEAD + inventory.MARKER + "\n")
    assert inventory.update(path, _summary(), tmp_path / "case.tfvars") == []
    return path


def test_update_writes_only_the_kept_paths(written: Path) -> None:
    # GIVEN an inventory head with a keep list WHEN --update-inventories rewrites it
    text = written.read_text()
    data = yaml.safe_load(text)
    # THEN the head is kept as written, and the body holds the counts, the kept outputs and the
    # kept attributes only: no batch_size, no deletion window, no unknown ARN
    assert text.startswith(HEAD + inventory.MARKER + "\n")
    assert data["counts"] == _summary().counts
    assert data["outputs"] == {"event_source_type": "kinesis"}
    assert data["values"] == {
        ESM: {
            "bisect_batch_on_function_error": True,
            "destination_config": [
                {"on_failure": [{"destination_arn": "arn:aws:sns:eu-west-1:111122223333:failed"}]}
            ],
            "maximum_retry_attempts": 10,
        },
        "module.function.module.kms_key[0].aws_kms_key.this": {"enable_key_rotation": True},
        'aws_sqs_queue.this["dlq"]': {},
    }
    # AND the plan it was written from matches it
    assert inventory.compare(inventory.load(written), _summary()) == []


def test_a_changed_kept_value_fails_with_a_diff(written: Path) -> None:
    # GIVEN an inventory WHEN a kept value changes in the plan
    problems = inventory.compare(inventory.load(written), _summary(maximum_retry_attempts=-1))
    # THEN the comparison fails with a unified diff naming the attribute and both values
    assert len(problems) == 1
    diff = problems[0]
    assert "--- values (inventory)" in diff
    assert "+++ values (plan)" in diff
    assert "-    maximum_retry_attempts: 10" in diff
    assert "+    maximum_retry_attempts: -1" in diff


def test_a_changed_value_that_is_not_kept_passes(written: Path) -> None:
    # GIVEN an inventory WHEN only an attribute it does not keep changes THEN it still matches
    assert inventory.compare(inventory.load(written), _summary(batch_size=10)) == []


def test_a_changed_count_fails(written: Path) -> None:
    summary = _summary()
    summary.counts["aws_kms_key"] = 2
    problems = inventory.compare(inventory.load(written), summary)
    assert len(problems) == 1
    assert "-  aws_kms_key: 1" in problems[0]
    assert "+  aws_kms_key: 2" in problems[0]


def test_a_keep_path_that_matches_nothing_fails(written: Path) -> None:
    # GIVEN an inventory WHEN the plan no longer has a kept attribute, resource or output
    summary = _summary()
    del summary.values[ESM]["destination_config"]
    del summary.values['aws_sqs_queue.this["dlq"]']
    del summary.outputs["event_source_type"]
    problems = inventory.compare(inventory.load(written), summary)
    # THEN each keep entry that matches nothing is named, before the diff
    assert problems[:3] == [
        f"keep: {ESM}: attribute 'destination_config' is not in the plan",
        "keep: 'aws_sqs_queue.this[\"*\"]' matches no resource of the plan",
        "keep: output 'event_source_type' is not an output of the plan",
    ]
    # AND --update-inventories refuses to write the inventory without them
    before = written.read_text()
    assert inventory.update(written, summary, written) == problems[:3]
    assert written.read_text() == before


def test_paths_enter_blocks_and_brackets_are_literal() -> None:
    summary = PlanSummary(
        values={
            "module.kms_key[0].aws_kms_key.this": {"enable_key_rotation": True},
            "module.kms_key0.aws_kms_key.this": {"enable_key_rotation": False},
            "aws_lambda_function.this": {
                "logging_config": [{"log_format": "JSON", "log_group": "/aws/lambda/x"}]
            },
        }
    )
    keep = {
        "module.kms_key[0].aws_kms_key.this": ["enable_key_rotation"],
        "aws_lambda_function.this": ["logging_config.log_format"],
    }
    body, problems = inventory.select(summary, keep)
    assert problems == []
    assert body["values"] == {
        "module.kms_key[0].aws_kms_key.this": {"enable_key_rotation": True},
        "aws_lambda_function.this": {"logging_config": [{"log_format": "JSON"}]},
    }


def test_an_inventory_must_say_what_it_proves() -> None:
    with pytest.raises(inventory.InventoryError, match="proves"):
        inventory.parse("keep: {}\n" + inventory.MARKER + "\n")
