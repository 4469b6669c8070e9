"""Section ``cold_start``: import time of each function's module in a fresh interpreter, and
the size of each deployment zip.

Each function is packaged with ``tools.package`` (the zip Terraform deploys: the function's
package plus ``stream_pipeline.runtime``; Powertools, pydantic and boto3 come from the layer /
runtime) and the
zip is extracted to a scratch directory. Every run is a new ``python`` process that imports
``<function>.app`` from there, timed with ``time.perf_counter`` (wall) and
``time.process_time`` (CPU) around the ``import`` statement alone, then times
the dependencies the first invocation builds (the boto3 clients: ``consumer.get_dependencies()``
of a consumer built on the kit, ``Dependencies.from_env()`` otherwise). The function's
own modules are compiled from source on every run (no bytecode is written, as in a zip);
third-party packages load from the virtualenv with their bytecode cached (pip compiles at
install). Variants: as deployed (``LAMBDA_TASK_ROOT`` set and tracing on, so Powertools'
Tracer imports the X-Ray SDK and patches botocore), with ``POWERTOOLS_TRACE_DISABLED=true``,
and (what-if) with the function's own bytecode compiled ahead as if the zip held it. Not
included: the Lambda sandbox and runtime start (interpreter start-up, the runtime interface
client) -- only what our code adds to it.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Final

from bench.common import REGION, Options, Result, Target, at_most, summary
from tools import package

MAC_KEY_ID: Final = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
"""A KMS key id of the form DLQ_MAC_KEY_ARN takes (nothing calls KMS at a cold start)."""

SECTION: Final = "cold_start"
RUNS: Final = 7
QUICK_RUNS: Final = 2
TOP_IMPORTS: Final = 8
TARGET_IMPORT_MS: Final = 200.0
TARGET_ZIP_KB: Final = 100.0
TARGETED_FUNCTION: Final = "stream_processor"

_PROBE: Final = """
import json, sys, time
module = sys.argv[1]
wall, cpu = time.perf_counter(), time.process_time()
app = __import__(module + ".app", fromlist=["app"])
imported_wall, imported_cpu = time.perf_counter(), time.process_time()
# A consumer built on the kit builds its dependencies through the consumer.
consumer = getattr(app, "consumer", None)
consumer.get_dependencies() if consumer is not None else app.Dependencies.from_env()
print(json.dumps({
    "import_ms": (imported_wall - wall) * 1000,
    "import_cpu_ms": (imported_cpu - cpu) * 1000,
    "clients_ms": (time.perf_counter() - imported_wall) * 1000,
}))
"""

_THIRD_PARTY_PROBE: Final = """
import json, sys
module = sys.argv[1]
__import__(module + ".app")
print(json.dumps([
    name for name, loaded in list(sys.modules.items())
    if "site-packages" in (getattr(loaded, "__file__", None) or "")
]))
"""
"""The third-party modules (from site-packages) that importing the function loads, in order."""

_FLOOR_PROBE: Final = """
import importlib, json, sys, time
names = json.loads(sys.stdin.read())
wall = time.perf_counter()
for name in names:
    try:
        importlib.import_module(name)
    except Exception:  # a module that only imports as a side effect of another: skip it
        pass
print(json.dumps({"import_ms": (time.perf_counter() - wall) * 1000}))
"""
"""Imports those modules, in the same order, without any of the function's own code: the part
of the import time that the function's code cannot remove."""

VARIANTS: Final = {
    "as_deployed": {"LAMBDA_TASK_ROOT": "{root}"},
    "tracing_disabled": {"LAMBDA_TASK_ROOT": "{root}", "POWERTOOLS_TRACE_DISABLED": "true"},
    "bytecode_in_zip": {"LAMBDA_TASK_ROOT": "{root}"},
}
"""``bytecode_in_zip`` is a what-if: the same, with the function's modules compiled ahead (the
zip holds only sources, and Lambda cannot write bytecode into /var/task)."""


def _environment(root: Path, function: str, variant: str) -> dict[str, str]:
    """What Lambda sets (no AWS credentials needed: clients are built, never called)."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 -- only a fallback
        "PYTHONPATH": str(root),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "POWERTOOLS_SERVICE_NAME": function,
        "TABLE_NAME": "retail-events-enriched",
        "DLQ_URL": f"https://sqs.{REGION}.amazonaws.com/123456789012/dlq",
        # As deployed: envelopes signed (the KMS client is made on the first one, not here),
        # and hydrate's served streams.
        "DLQ_MAC_KEY_ARN": f"arn:aws:kms:{REGION}:123456789012:key/{MAC_KEY_ID}",
        "SOURCE_STREAM_ARNS": f"arn:aws:kinesis:{REGION}:123456789012:stream/retail-events",
        # email_notifier's required settings (the other functions ignore them).
        "SENDER_ADDRESS": "shop@example.com",
        "IDEMPOTENCY_TABLE_NAME": "email-notifier-idempotency",
        "RATE_LIMIT_TABLE_NAME": "email-notifier-rate-limit",
        "CONFIGURATION_SET_NAME": "email-notifier",
        "ALLOWED_RECIPIENT_DOMAINS": "example.com",
        # fraud_detector's.
        "HISTORY_TABLE_NAME": "fraud-history",
        "FLAGS_TABLE_NAME": "fraud-flags",
        "ALERT_TOPIC_ARN": f"arn:aws:sns:{REGION}:123456789012:fraud-alerts",
    }
    environment.update({name: value.format(root=root) for name, value in VARIANTS[variant].items()})
    return environment


def _python_json(
    code: str, *args: str, env: dict[str, str], cwd: Path, what: str, stdin: str | None = None
) -> Any:
    """Run ``python -c code args`` in a fresh interpreter; its last stdout line, as JSON."""
    completed = subprocess.run(
        [sys.executable, "-c", code, *args],
        input=stdin,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if completed.returncode != 0:
        msg = f"{what} failed: {completed.stderr.strip()[-2000:]}"
        raise RuntimeError(msg)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _run_probe(root: Path, function: str, variant: str) -> dict[str, float]:
    measured: dict[str, float] = _python_json(
        _PROBE,
        function,
        env=_environment(root, function, variant),
        cwd=root,
        what=f"importing {function}.app",
    )
    return measured


def _third_party_floor_ms(root: Path, function: str, runs: int) -> dict[str, float | int]:
    """Median import time of the third-party modules the function loads, without its code."""
    environment = _environment(root, function, "as_deployed")
    names: list[str] = _python_json(
        _THIRD_PARTY_PROBE,
        function,
        env=environment,
        cwd=root,
        what=f"listing the third-party modules of {function}.app",
    )
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as empty:
        samples = [
            _python_json(
                _FLOOR_PROBE,
                env={**environment, "PYTHONPATH": empty},
                cwd=Path(empty),
                what=f"importing the third-party modules of {function}.app",
                stdin=json.dumps(names),
            )["import_ms"]
            for _ in range(runs)
        ]
    return {**_rounded(summary(samples)), "modules": len(names)}


def _import_time_by_package(root: Path, function: str) -> list[dict[str, Any]]:
    """Where the import time goes: ``python -X importtime`` self time summed by top-level
    package (boto3, botocore, pydantic, ...), the largest first."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {function}.app"],
        env=_environment(root, function, "as_deployed"),
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    by_package: dict[str, int] = {}
    for line in completed.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3 or "cumulative" in line:
            continue
        self_us, _cumulative_us, name = parts
        root_package = name.strip().split(".")[0]
        by_package[root_package] = by_package.get(root_package, 0) + int(self_us)
    ranked = sorted(by_package.items(), key=lambda entry: -entry[1])
    return [
        {"package": name, "self_ms": round(micros / 1000, 1)}
        for name, micros in ranked[:TOP_IMPORTS]
    ]


def run(options: Options) -> tuple[Result, list[Target]]:
    runs = QUICK_RUNS if options.quick else RUNS
    variants = ("as_deployed",) if options.quick else tuple(VARIANTS)
    functions: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-cold-start-") as scratch:
        for function in package.function_names():
            options.log(f"cold_start: {function}")
            target = package.build(function, Path(scratch) / "zips")
            root = Path(scratch) / function
            with zipfile.ZipFile(target) as archive:
                archive.extractall(root)
                files = len(archive.namelist())
            entry: dict[str, Any] = {
                "zip_bytes": target.stat().st_size,
                "zip_files": files,
            }
            compiled = Path(scratch) / f"{function}-compiled"
            shutil.copytree(root, compiled)
            compileall.compile_dir(compiled, quiet=1)
            for variant in variants:
                where = compiled if variant == "bytecode_in_zip" else root
                samples = [_run_probe(where, function, variant) for _ in range(runs)]
                entry[variant] = {
                    key: _rounded(summary([sample[key] for sample in samples]))
                    for key in ("import_ms", "import_cpu_ms", "clients_ms")
                }
            entry["third_party_import_ms"] = _third_party_floor_ms(root, function, runs)
            entry["import_time_by_package"] = (
                [] if options.quick else _import_time_by_package(root, function)
            )
            functions[function] = entry

    result: Result = {
        "status": "ok",
        "method": __doc__,
        "runs_per_measurement": runs,
        "statistic": "median",
        "functions": functions,
    }
    targets: list[Target] = []
    consumer = functions.get(TARGETED_FUNCTION)
    if consumer is not None:
        targets.append(
            at_most(
                SECTION,
                f"{TARGETED_FUNCTION}.app import (as deployed), median of {runs}",
                consumer["as_deployed"]["import_ms"]["median"],
                TARGET_IMPORT_MS,
                "ms",
                "fresh interpreter, wall time of the import statement",
            )
        )
        targets.append(
            at_most(
                SECTION,
                f"{TARGETED_FUNCTION} deployment zip (without the Powertools layer)",
                round(consumer["zip_bytes"] / 1000, 1),
                TARGET_ZIP_KB,
                "KB",
                "tools.package output",
            )
        )
    return result, targets


def _rounded(values: dict[str, float | int]) -> dict[str, float | int]:
    return {
        key: round(value, 1) if isinstance(value, float) else value for key, value in values.items()
    }
