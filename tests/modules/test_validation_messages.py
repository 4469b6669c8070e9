"""A bad value in tfvars fails `terraform plan` with a message that names the allowed range.

Native `terraform test` runs (`expect_failures`) prove *which* rule rejects a value; these
prove what the user reads, end to end through the CLI, for the rules users hit most.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tools.terraform_stage import REPO_ROOT, init, stage, terraform_env

pytestmark = pytest.mark.terraform

CASES = [
    # module, tfvars text, fragments the error must contain
    ("kinesis-stream", 'name = "s"\nretention_period = 10', ["24", "8760"]),
    ("kinesis-stream", 'name = "s"\nretention_period = 9000', ["24", "8760"]),
    ("kinesis-stream", 'name = "s"\nstream_mode = "ONDEMAND"', ["ON_DEMAND", "PROVISIONED"]),
    ("kinesis-stream", 'name = "s"\nshard_level_metrics = ["Bytes"]', ["IncomingBytes"]),
    ("kinesis-stream", 'name = "bad name!"', ["name"]),
    ("alarms", 'name_prefix = "o"\nalarm_emails = ["ops-at-example.com"]', ["name@example.com"]),
    ("alarms", 'name_prefix = "o"\nalarm_overrides = { x = {} }', ["hydrate-errors"]),
    (
        "alarms",
        'name_prefix = "o"\nalarm_overrides = { consumer-errors = { period = 90 } }',
        ["multiple of 60"],
    ),
    (
        "alarms",
        'name_prefix = "o"\nalarm_overrides = { consumer-errors = { threshold = -1 } }',
        [">= 0"],
    ),
    (
        "alarms",
        'name_prefix = "o"\nalarm_overrides = '
        "{ hydrate-errors = { evaluation_periods = 1, datapoints_to_alarm = 2 } }",
        ["between 1 and evaluation_periods"],
    ),
    (
        "alarms",
        'name_prefix = "o"\nsubscriptions = [{ protocol = "http", endpoint = "http://a.example" }]',
        ["https", "email-json"],
    ),
    (
        "hydrating-dlq",
        'name = "orders"\nfilename = "../../build/hydrate.zip"\n'
        'source_stream_arns = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]\n'
        "maximum_retry_attempts = 3",
        ["between 0 and 2"],
    ),
    (
        "hydrating-dlq",
        'name = "orders"\nfilename = "../../build/hydrate.zip"\n'
        'source_stream_arns = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]\n'
        "maximum_event_age_in_seconds = 30",
        ["60", "21,600"],
    ),
    (
        "hydrating-dlq",
        'name = "orders"\nfilename = "../../build/hydrate.zip"\n'
        'source_stream_arns = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]\n'
        "s3_expiration_days = 0",
        ["1 and 3650"],
    ),
    # Wrappers pass the function's inputs to lambda-function, which validates them: its message
    # must reach the user through the wrapper.
    (
        "stream-consumer",
        'name = "orders-processor"\nhandler = "stream_processor.app.lambda_handler"\n'
        'filename = "../../build/stream_processor.zip"\n'
        'event_source_arn = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"\n'
        'on_failure_destination_arn = "arn:aws:sns:eu-west-1:111122223333:orders-on-failure"\n'
        "memory_size = 64",
        ["memory_size", "128", "10,240"],
    ),
    (
        "hydrating-dlq",
        'name = "orders"\nfilename = "../../build/hydrate.zip"\n'
        'source_stream_arns = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]\n'
        "timeout = 901",
        ["timeout", "1 and 900"],
    ),
]


@pytest.mark.parametrize(
    ("module", "tfvars", "fragments"),
    CASES,
    ids=[f"{m}:{t.splitlines()[-1]}" for m, t, _ in CASES],
)
def test_bad_tfvars_fail_plan_with_a_clear_message(
    tmp_path: Path, module: str, tfvars: str, fragments: list[str]
) -> None:
    # GIVEN a module and a tfvars file with one out-of-range value
    staged = stage(REPO_ROOT / "modules" / module, tmp_path)
    init(staged)
    (tmp_path / "bad.tfvars").write_text(tfvars + "\n")
    # WHEN it is planned
    result = subprocess.run(
        ["terraform", "plan", "-no-color", "-input=false", f"-var-file={tmp_path / 'bad.tfvars'}"],
        cwd=staged,
        env=terraform_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    # THEN the plan fails on the variable and the message names what is allowed
    assert result.returncode != 0, result.stdout
    message = " ".join(result.stderr.split())
    assert "Invalid value for variable" in message, message
    for fragment in fragments:
        assert fragment in message, message
