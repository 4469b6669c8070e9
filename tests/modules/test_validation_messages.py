"""A bad value in tfvars fails `terraform plan` with a message that names the allowed range.

Native `terraform test` runs (`expect_failures`) prove *which* rule rejects a value; these
prove what the user reads, end to end through the CLI, for the rules users hit most.

Every case is one `module` block of a single root (tools/terraform_stage.stage_calls), planned
once: Terraform reports every invalid variable of every call, each error naming the call
(`in module "case_3"`), or -- for a value a wrapper passes on to lambda-function -- the
wrapper's file and the variable.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tools.terraform_stage import REPO_ROOT, ModuleCall, init, stage_calls, terraform_env

pytestmark = [pytest.mark.terraform, pytest.mark.xdist_group("validation-messages")]

_PIPELINE = (
    'name = "orders"\nhydrate_package = "../../build/hydrate.zip"\n'
    'dependencies_layer_package = "../../build/dependencies-python3.12-arm64.zip"\n'
    'email_notifier_package = "../../build/email_notifier.zip"\n'
)
_SENDER_ONLY = 'sender_address = "notifications@example.com", '
_SENDER = _SENDER_ONLY + 'recipients = { allowed_domains = ["example.com"] }, '


_PROCESSOR = (
    'package = { filename = "../../build/stream_processor.zip" }, '
    'handler = "stream_processor.app.lambda_handler", write_results_table = true'
)


def _notifier(attributes: str) -> str:
    return (
        _PIPELINE
        + f"consumers = {{ processor = {{ {_PROCESSOR} }} }}\n"
        + (f"email_notifier = {{ {attributes} }}")
    )


def _consumers(entries: str) -> str:
    return _PIPELINE + "consumers = { " + entries + " }"


_ZIP = 'package = { filename = "../../build/stream_processor.zip" }, handler = "app.lambda_handler"'


def _stream_consumer(package: str) -> str:
    """modules/stream-consumer with ``package`` (the last line: the variable at fault)."""
    return (
        'name = "orders-processor"\nhandler = "app.lambda_handler"\nlayers = []\n'
        'event_source_arn = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"\n'
        'on_failure_destination_arn = "arn:aws:sns:eu-west-1:111122223333:orders-on-failure"\n'
        f"package = {{ {package} }}"
    )


_FIXTURES = "../../modules/stream-consumer/tests/fixtures"
_FRAUD = 'name = "shop"\npackage = { filename = "../../build/fraud_detector.zip" }\n'
_HASH = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


def _consumer(attributes: str) -> str:
    return _PIPELINE + (
        "consumers = { processor = { "
        + _PROCESSOR
        + " }, audit = { "
        + 'package = { filename = "../../build/stream_processor.zip" }, '
        + f'handler = "app.lambda_handler", {attributes} }} }}'
    )


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
    # The zero-loss alarms' bounded inputs (issue #15): each message names its range.
    ("alarms", 'name_prefix = "o"\nduration_timeout_percent = 100', ["50 and 99"]),
    ("alarms", 'name_prefix = "o"\nfunction_timeouts = { orders-processor = 901 }', ["1 and 900"]),
    ("alarms", 'name_prefix = "o"\nstream_retention_hours = 12', ["24 and 8760"]),
    ("alarms", 'name_prefix = "o"\ndlq_message_retention_seconds = 30', ["60 and 1,209,600"]),
    ("alarms", 'name_prefix = "o"\ndeadline_fractions = { dlq_critical = 1 }', ["0.05 and 0.95"]),
    (
        "alarms",
        'name_prefix = "o"\ndeadline_fractions = { stream_warning = 0.6 }',
        ["stream_warning must be below stream_critical"],
    ),
    (
        "alarms",
        'name_prefix = "o"\nalarm_overrides = { dlq-stream-deadline-critical = { period = 60 } }',
        ["accept only enabled"],
    ),
    (
        "stream-consumer",
        'name = "orders-processor"\nhandler = "app.lambda_handler"\nlayers = []\n'
        'event_source_arn = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"\n'
        'on_failure_destination_arn = "arn:aws:sns:eu-west-1:111122223333:orders-on-failure"\n'
        'package = { filename = "../../build/stream_processor.zip" }\n'
        'mapping_metrics = ["KafkaMetrics"]',
        ["EventCount", "Kafka sources"],
    ),
    (
        "hydrating-dlq",
        'name = "orders"\nfilename = "../../build/hydrate.zip"\n'
        'layers = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]\n'
        'source_stream_arns = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]\n'
        "maximum_retry_attempts = 3",
        ["between 0 and 2"],
    ),
    (
        "hydrating-dlq",
        'name = "orders"\nfilename = "../../build/hydrate.zip"\n'
        'layers = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]\n'
        'source_stream_arns = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]\n'
        "maximum_event_age_in_seconds = 30",
        ["60", "21,600"],
    ),
    (
        "hydrating-dlq",
        'name = "orders"\nfilename = "../../build/hydrate.zip"\n'
        'layers = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]\n'
        'source_stream_arns = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]\n'
        "s3_expiration_days = 13",
        ["between 14", "DLQ's retention", "3650"],
    ),
    (
        "hydrating-dlq",
        'name = "orders"\nfilename = "../../build/hydrate.zip"\n'
        'layers = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]\n'
        'source_stream_arns = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]\n'
        'replay_role_arns = ["arn:aws:iam::111122223333:user/operator"]',
        ["replay_role_arns", "IAM role ARN"],
    ),
    (
        "hydrating-dlq",
        'name = "orders"\nfilename = "../../build/hydrate.zip"\n'
        'layers = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]\n'
        'source_stream_arns = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]\n'
        's3_on_failure_writer_role_arns = ["orders-processor"]',
        ["s3_on_failure_writer_role_arns", "IAM role ARN"],
    ),
    (
        "pipeline",
        _consumers(f"processor = {{ {_PROCESSOR} }}")
        + '\nreplay_role_arns = ["arn:aws:sts::111122223333:assumed-role/ops/me"]',
        ["replay_role_arns", "not a user or a session ARN"],
    ),
    # The e-mail notifier's settings: one object, one rule per attribute.
    ("pipeline", _notifier('sender_address = "notifications-at-example.com"'), ["name@example"]),
    ("pipeline", _notifier('identity = "example.com"'), ["sender_address is required"]),
    ("pipeline", _notifier(_SENDER + 'identity = "example.org"'), ["its domain", "parent domain"]),
    ("pipeline", _notifier(_SENDER + "event_types = []"), ["1-20 distinct"]),
    ("pipeline", _notifier(_SENDER + 'event_types = ["purchase", "view"]'), ["template"]),
    (
        "pipeline",
        _notifier(_SENDER + "idempotency_expires_after_seconds = 3600"),
        ["86,400", "34,560,000"],
    ),
    ("pipeline", _notifier(_SENDER + "batch_size = 0"), ["1 and 10,000"]),
    ("pipeline", _notifier(_SENDER + "maximum_retry_attempts = -1"), ["0 and 10,000"]),
    ("pipeline", _notifier(_SENDER + "memory_size = 64"), ["128 and 10,240"]),
    ("pipeline", _notifier(_SENDER + "timeout = 901"), ["1 and 900"]),
    # The notifier's abuse limits.
    ("pipeline", _notifier(_SENDER_ONLY), ["allowed_domains must list 1-100", '["*"] alone']),
    (
        "pipeline",
        _notifier(_SENDER_ONLY + 'recipients = { allowed_domains = ["*", "example.com"] }'),
        ["allowed_domains must list 1-100"],
    ),
    (
        "pipeline",
        _notifier(_SENDER_ONLY + 'recipients = { allowed_domains = ["@example.com"] }'),
        ["lowercase domain names"],
    ),
    (
        "pipeline",
        # 40 valid domains of 65 characters: 2,639 once joined.
        _notifier(
            _SENDER_ONLY
            + "recipients = { allowed_domains = ["
            + ", ".join(f'"{"x" * 55}{n:02d}.example"' for n in range(40))
            + "] }"
        ),
        ["fit in 2,048 characters"],
    ),
    (
        "pipeline",
        _notifier(
            _SENDER + 'recipients = { allowed_domains = ["example.com"], '
            'mailbox_simulator = "blackhole" }'
        ),
        ["success, bounce, ooto, complaint or suppressionlist"],
    ),
    ("pipeline", _notifier(_SENDER + "rate_limit = { max_emails = 0 }"), ["1 and 1,000"]),
    ("pipeline", _notifier(_SENDER + "rate_limit = { max_emails = 1001 }"), ["1 and 1,000"]),
    ("pipeline", _notifier(_SENDER + "rate_limit = { window_seconds = 59 }"), ["60 and 604,800"]),
    (
        "pipeline",
        _notifier(_SENDER + "rate_limit = { window_seconds = 604801 }"),
        ["60 and 604,800"],
    ),
    (
        "pipeline",
        _notifier(_SENDER + "configuration_set = { bounce_rate_alarm_threshold = 0.05 }"),
        ["bounce_rate_alarm_threshold", "below 0.05"],
    ),
    (
        "pipeline",
        _notifier(_SENDER + "configuration_set = { bounce_rate_alarm_threshold = 0 }"),
        ["bounce_rate_alarm_threshold", "above 0"],
    ),
    (
        "pipeline",
        _notifier(_SENDER + "configuration_set = { complaint_rate_alarm_threshold = 0.001 }"),
        ["complaint_rate_alarm_threshold", "below 0.001"],
    ),
    # The results table's sensitive fields (field-level encryption).
    (
        "pipeline",
        _consumers(f"p = {{ {_PROCESSOR} }}") + '\nsensitive_fields = ["e mail"]',
        ["at most 20", "[A-Za-z0-9_.-]"],
    ),
    (
        "pipeline",
        _consumers(f"p = {{ {_PROCESSOR} }}") + '\nsensitive_fields = ["userId"]',
        ["must not name the results table's keys"],
    ),
    (
        "pipeline",
        _consumers(f"p = {{ {_PROCESSOR} }}")
        + f"\nsensitive_fields = {[f'f{n}' for n in range(21)]!r}".replace("'", '"'),
        ["at most 20"],
    ),
    (
        "pipeline",
        _consumers(f'p = {{ {_ZIP}, environment_variables = {{ SENSITIVE_FIELDS = "x" }} }}'),
        ["SENSITIVE_FIELDS"],
    ),
    # A consumer of the pipeline's consumers map: one rule per attribute.
    ("pipeline", _consumers(f"Audit = {{ {_ZIP} }}"), ["1-20 characters of [a-z0-9-]"]),
    ("pipeline", _consumers(f"notifier = {{ {_ZIP} }}"), ["neither hydrate nor notifier"]),
    (
        "pipeline",
        _consumers(", ".join(f"c{n} = {{ {_ZIP} }}" for n in range(20))),
        ["At most 19 consumers", "enhanced_fan_out"],
    ),
    (
        "pipeline",
        _consumers(
            'audit = { package = { filename = "../../build/stream_processor.zip", '
            'source_dir = "./examples/complete/consumers/order_audit" }, '
            'handler = "app.lambda_handler" }'
        ),
        ["exactly one of filename", "source_dir"],
    ),
    (
        "pipeline",
        _consumers(
            'audit = { package = { filename = "../../build/stream_processor.zip" }, '
            'handler = "lambda_handler" }'
        ),
        ["<module path>.<function>"],
    ),
    ("pipeline", _consumer("batch_size = 10001"), ["batch_size", "1 and 10,000"]),
    ("pipeline", _consumer("batch_size = 0"), ["batch_size", "1 and 10,000"]),
    (
        "pipeline",
        _consumer("maximum_batching_window_in_seconds = 301"),
        ["maximum_batching_window_in_seconds", "0 and 300"],
    ),
    ("pipeline", _consumer("parallelization_factor = 0"), ["parallelization_factor", "1 and 10"]),
    (
        "pipeline",
        _consumer("maximum_record_age_in_seconds = -1"),
        ["60 and 604,800", "-1 is not accepted"],
    ),
    ("pipeline", _consumer("maximum_retry_attempts = -1"), ["0 and 10,000", "-1, retry"]),
    ("pipeline", _consumer("tumbling_window_in_seconds = 901"), ["0 (no window) and 900"]),
    # A window on a function that does not return the window's state fails every invocation.
    (
        "pipeline",
        _consumer("tumbling_window_in_seconds = 60"),
        ["must declare window_aware = true (audit do not)", "TumblingWindowConsumer"],
    ),
    ("pipeline", _consumer("memory_size = 64"), ["memory_size", "128 and 10,240"]),
    ("pipeline", _consumer("timeout = 901"), ["timeout", "1 and 900"]),
    (
        "pipeline",
        _consumer("reserved_concurrent_executions = 0"),
        ["-1 (no reservation)", "at least 1"],
    ),
    (
        "pipeline",
        _consumer('environment_variables = { TABLE_NAME = "elsewhere" }'),
        ["TABLE_NAME", "the pipeline sets them"],
    ),
    (
        "pipeline",
        _consumer('environment_variables = { PAYLOAD_KEY_PREFIX = "anywhere/" }'),
        ["PAYLOAD_KEY_PREFIX", "the pipeline sets them"],
    ),
    (
        "pipeline",
        _consumer('write_results_table = true, table_name = "audit-trail"'),
        ["write_results_table = true or a table_name, not both"],
    ),
    (
        "pipeline",
        _consumer('table_name = "arn:aws:dynamodb:eu-west-1:111122223333:table/audit-trail"'),
        ["a name, not an ARN"],
    ),
    (
        "pipeline",
        _consumer('iam_statements = [{ sid = "All", actions = ["s3:*"], resources = ["*"] }]'),
        ["service:Action", "no * anywhere"],
    ),
    (
        "pipeline",
        _consumer('iam_statements = [{ sid = "All", actions = ["*"], resources = ["*"] }]'),
        ["service:Action", "no * anywhere"],
    ),
    (
        "pipeline",
        _consumer(
            'iam_statements = [{ sid = "None", actions = ["events:PutEvents"], resources = [] }]'
        ),
        ["at least one action and at least one resource"],
    ),
    (
        "pipeline",
        _consumer(
            'iam_statements = [{ sid = "SendToDeadLetterQueue", actions = ["sqs:SendMessage"], '
            'resources = ["arn:aws:sqs:eu-west-1:111122223333:elsewhere"] }]'
        ),
        ["none of the module's own"],
    ),
    # The on-failure path must end inside the stream's retention (hydrate re-reads the payload).
    (
        "pipeline",
        _consumers(f"processor = {{ {_PROCESSOR} }}")
        + "\nmaximum_record_age_in_seconds = 86400\nretention_period = 24",
        ["Pipeline orders:", "24 hours (86400 s)", "86400 s of", "(21600 s)", "3600 s margin"],
    ),
    (
        "pipeline",
        _consumer("maximum_record_age_in_seconds = 79200") + "\nretention_period = 24",
        ["79200 s of consumer audit", "retention_period = 24 hours"],
    ),
    (
        "pipeline",
        _consumers(f"processor = {{ {_PROCESSOR} }}") + "\nmaximum_record_age_in_seconds = -1",
        ["60 and 604,800", "-1, no limit"],
    ),
    (
        "pipeline",
        _consumers(f"processor = {{ {_PROCESSOR} }}")
        + "\nhydrate = { maximum_event_age_in_seconds = 30 }",
        ["hydrate.maximum_event_age_in_seconds", "60 and 21,600"],
    ),
    (
        "pipeline",
        _consumers(f"processor = {{ {_PROCESSOR} }}")
        + "\nhydrate = { maximum_retry_attempts = 3 }",
        ["hydrate.maximum_retry_attempts", "0 and 2"],
    ),
    # Wrappers pass the function's inputs to lambda-function, which validates them: its message
    # must reach the user through the wrapper.
    (
        "stream-consumer",
        'name = "orders-processor"\nhandler = "stream_processor.app.lambda_handler"\n'
        'package = { filename = "../../build/stream_processor.zip" }\n'
        'layers = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]\n'
        'event_source_arn = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"\n'
        'on_failure_destination_arn = "arn:aws:sns:eu-west-1:111122223333:orders-on-failure"\n'
        "memory_size = 64",
        ["memory_size", "128", "10,240"],
    ),
    # stream-consumer's package: a prebuilt zip or a source folder, one rule per mistake.
    (
        "stream-consumer",
        _stream_consumer(
            'filename = "../../build/stream_processor.zip", '
            f'source_dir = "{_FIXTURES}/orders_consumer"'
        ),
        ["exactly one of filename", "source_dir"],
    ),
    ("stream-consumer", _stream_consumer('python = "python3.12"'), ["exactly one of filename"]),
    (
        "stream-consumer",
        _stream_consumer(
            f'filename = "../../build/stream_processor.tar.gz", source_code_hash = "{_HASH}"'
        ),
        ["package.filename", ".zip deployment package"],
    ),
    (
        "stream-consumer",
        _stream_consumer(
            f'source_dir = "{_FIXTURES}/orders_consumer", source_code_hash = "{_HASH}"'
        ),
        ["source_code_hash goes with package.filename only"],
    ),
    (
        "stream-consumer",
        _stream_consumer(
            'filename = "../../build/stream_processor.zip", source_code_hash = "e3b0c44298fc1c149a"'
        ),
        ["base64-encoded SHA-256 digest"],
    ),
    (
        "stream-consumer",
        _stream_consumer(f'source_dir = "{_FIXTURES}/no_python"'),
        ["package.source_dir", "at least one Python file"],
    ),
    (
        "stream-consumer",
        _stream_consumer(f'source_dir = "{_FIXTURES}/does_not_exist"'),
        ["package.source_dir", "at least one Python file"],
    ),
    (
        "stream-consumer",
        _stream_consumer(f'source_dir = "{_FIXTURES}/orders_consumer", python = " "'),
        ["package.python", "Python interpreter"],
    ),
    (
        "hydrating-dlq",
        'name = "orders"\nfilename = "../../build/hydrate.zip"\n'
        'layers = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]\n'
        'source_stream_arns = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]\n'
        "timeout = 901",
        ["timeout", "1 and 900"],
    ),
    (
        "fraud-detector",
        _FRAUD + "thresholds = { purchase_count = 1001 }",
        ["thresholds.purchase_count", "1 and 1,000"],
    ),
    (
        "fraud-detector",
        _FRAUD + "thresholds = { purchase_amount = 12.345 }",
        ["thresholds.purchase_amount", "0.01 and 10,000,000", "2 decimals"],
    ),
    (
        "fraud-detector",
        _FRAUD + "thresholds = { velocity_window_seconds = 30 }",
        ["thresholds.velocity_window_seconds", "60 and 86,400"],
    ),
    ("fraud-detector", _FRAUD + "history_ttl_days = 400", ["history_ttl_days", "1 and 365"]),
]


_ERROR = re.compile(r"^Error: ", re.MULTILINE)
_CALL = re.compile(r'in module "(case_\d+)"')
_WRAPPER_FILE = re.compile(r"modules/([a-z0-9-]+)/[a-z_]+\.tf line")


def _label(index: int) -> str:
    return f"case_{index}"


def _bad_variable(tfvars: str) -> str:
    return tfvars.splitlines()[-1].split("=", 1)[0].strip()


def _owner(block: str) -> str:
    """The case an error block belongs to: the call it names, else (an error raised inside a
    wrapper's own module call) the one case of that wrapper whose bad variable it names."""
    named = _CALL.search(block)
    if named:
        return named.group(1)
    wrapper = _WRAPPER_FILE.search(block)
    candidates = [
        _label(i)
        for i, (module, tfvars, _) in enumerate(CASES)
        if wrapper and module == wrapper.group(1) and f"var.{_bad_variable(tfvars)} " in block
    ]
    assert len(candidates) == 1, f"cannot tell which case this error belongs to:\n{block}"
    return candidates[0]


_ERRORS: dict[str, list[str]] = {}
_PLANS: list[subprocess.CompletedProcess[str]] = []


def _plan(indexes: list[int], scratch: Path) -> subprocess.CompletedProcess[str]:
    calls = [
        ModuleCall(_label(i), REPO_ROOT / "modules" / CASES[i][0], CASES[i][1]) for i in indexes
    ]
    staged = stage_calls(calls, scratch)
    init(staged)
    return subprocess.run(
        ["terraform", "plan", "-no-color", "-input=false"],
        cwd=staged,
        env=terraform_env(),
        capture_output=True,
        text=True,
        check=False,
    )


def _errors_by_case(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Plan every case once per worker (the cases share an xdist group).

    Terraform checks the literal arguments of every call before it plans anything, and a value
    a wrapper passes on to lambda-function only while planning; so the cases that got no error
    from the first plan are planned again on their own, which reaches that second check.
    """
    if not _PLANS:
        pending = list(range(len(CASES)))
        while pending:
            result = _plan(pending, tmp_path_factory.mktemp("validation"))
            _PLANS.append(result)
            for block in _ERROR.split(result.stderr):
                if block.strip():
                    _ERRORS.setdefault(_owner(block), []).append(" ".join(block.split()))
            unanswered = [i for i in pending if _label(i) not in _ERRORS]
            if unanswered == pending:
                break
            pending = unanswered
    return _ERRORS


@pytest.mark.parametrize(
    ("index", "fragments"),
    [(i, fragments) for i, (_, _, fragments) in enumerate(CASES)],
    ids=[f"{m}:{t.splitlines()[-1]}" for m, t, _ in CASES],
)
def test_bad_tfvars_fail_plan_with_a_clear_message(
    tmp_path_factory: pytest.TempPathFactory, index: int, fragments: list[str]
) -> None:
    # GIVEN a module call with one out-of-range value (among the other cases' calls)
    # WHEN the root is planned
    errors = _errors_by_case(tmp_path_factory)
    # THEN the plan fails on that call's variable and the message names what is allowed
    messages = errors.get(_label(index), [])
    said = "\n".join(f"{plan.stdout}\n{plan.stderr}" for plan in _PLANS)
    assert messages, f"no error for this case; the plans said:\n{said}"
    assert any(
        message.startswith("Invalid value for variable")
        and all(fragment in message for fragment in fragments)
        for message in messages
    ), messages
