"""Harness for the local runtime suite: the runtime process, and builders for the resources a
test creates against it with boto3 (no Terraform), each uniquely named so tests share one
runtime without seeing each other's records."""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from stream_pipeline.local.runtime.client import read_state, wait_drained, wait_for
from stream_pipeline.local.runtime.invoker import WORKER_RUNTIME
from tools.terraform_stage import REPO_ROOT

REGION = "eu-west-1"
ACCOUNT = "123456789012"
PROBE_HANDLER = "rt_probe.app.handler"
PROBE_SOURCE = Path(__file__).with_name("probe_handlers")
DRAIN_TIMEOUT = 30.0
_names = itertools.count(1)


def unique(base: str) -> str:
    return f"{base}-{next(_names)}-{uuid.uuid4().hex[:6]}"


def dummy_zip() -> bytes:
    """moto wants a deployment package; the runtime imports from --functions-dir instead."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", "# the local runtime runs functions/ itself\n")
    return buffer.getvalue()


def runtime_environment() -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key not in ("PYTHONPATH", "TABLE_NAME", "DLQ_URL")
    }
    environment.update(PYTHONPATH=str(REPO_ROOT), PYTHONDONTWRITEBYTECODE="1")
    return environment


def processes_in(directory: Path) -> list[int]:
    """Processes whose working directory is ``directory`` (the workers of one runtime)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if Path(os.readlink(entry / "cwd")) == directory:
                    found.append(int(entry.name))
    return found


@dataclass
class RuntimeProcess:
    """``python -m stream_pipeline.local.runtime serve`` on a free loopback port, in a scratch
    dir."""

    root: Path
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def functions_dir(self) -> Path:
        return self.root / "functions"

    @property
    def probe_log_dir(self) -> Path:
        return self.root / "probe"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RuntimeProcess:
        shutil.copytree(PROBE_SOURCE, self.functions_dir)
        self.probe_log_dir.mkdir()
        command = [
            sys.executable,
            "-m",
            "stream_pipeline.local.runtime",
            "serve",
            "--port",
            "0",
            "--state-dir",
            str(self.state_dir),
            "--functions-dir",
            str(self.functions_dir),
            "--functions-dir",
            str(REPO_ROOT / "functions"),
            "--region",
            REGION,
            "--poll-interval",
            "0.05",
            "--config-interval",
            "1",
            "--retry-delay",
            "0",
            "--async-retry-delay",
            "0.05",
            "--seed",
            "7",
            *self.extra_args,
        ]
        self.process = subprocess.Popen(
            command,
            cwd=self.root,
            env=runtime_environment(),
            stdout=(self.root / "stdout.txt").open("wb"),
            stderr=(self.root / "stderr.txt").open("wb"),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = read_state(self.state_dir)
            if state is not None and state.get("config_generation", 0) >= 1:
                self.port = int(state["port"])
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        msg = f"the runtime did not start: {(self.root / 'stderr.txt').read_text()}"
        raise RuntimeError(msg)

    def stop(self, *, sig: int = signal.SIGTERM) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise
        return self.process.returncode

    def leftover_processes(self, timeout: float = 5.0) -> list[int]:
        deadline = time.monotonic() + timeout
        while True:
            left = processes_in(self.functions_dir)
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.1)

    def write_faults(self, faults: dict[str, list[str]]) -> None:
        current = {}
        path = self.state_dir / "faults.json"
        if path.exists():
            current = json.loads(path.read_text())
        current.update(faults)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(current))
        temporary.replace(path)


@functools.cache
def _clients(endpoint: str) -> dict[str, Any]:
    """One set of clients per runtime: creating boto3 clients is slow, using them is not."""
    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        region_name=REGION,
    )
    config = Config(retries={"max_attempts": 2}, s3={"addressing_style": "path"})
    services = ("kinesis", "lambda", "sqs", "sns", "s3", "dynamodb", "iam", "logs", "cloudwatch")
    return {
        service: session.client(service, endpoint_url=endpoint, config=config)
        for service in services
    }


class Aws:
    """boto3 against the runtime, with builders; ``close()`` deletes the test's mappings and
    functions (the runtime re-reads every function's configuration on each refresh)."""

    def __init__(self, runtime: RuntimeProcess) -> None:
        self.runtime = runtime
        clients = _clients(runtime.endpoint)
        self.kinesis = clients["kinesis"]
        self.awslambda = clients["lambda"]
        self.sqs = clients["sqs"]
        self.sns = clients["sns"]
        self.s3 = clients["s3"]
        self.dynamodb = clients["dynamodb"]
        self.iam = clients["iam"]
        self.logs = clients["logs"]
        self.cloudwatch = clients["cloudwatch"]
        self._mappings: list[str] = []
        self._functions: list[str] = []
        self._role: str | None = None

    def close(self) -> None:
        for mapping in self._mappings:
            with contextlib.suppress(Exception):
                self.awslambda.delete_event_source_mapping(UUID=mapping)
        for function in self._functions:
            with contextlib.suppress(Exception):
                self.awslambda.delete_function(FunctionName=function)

    # ------------------------------------------------------------------ resources

    @property
    def role(self) -> str:
        if self._role is None:
            name = unique("probe-role")
            self._role = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"][
                "Arn"
            ]
        return self._role

    def function(
        self,
        base: str = "probe",
        *,
        mode: str = "ok",
        handler: str = PROBE_HANDLER,
        timeout: int = 10,
        environment: dict[str, str] | None = None,
        runtime: str = WORKER_RUNTIME,
    ) -> str:
        name = unique(base)
        variables = {"PROBE_MODE": mode, "PROBE_LOG_DIR": str(self.runtime.probe_log_dir)}
        variables.update(environment or {})
        self.awslambda.create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=self.role,
            Handler=handler,
            Code={"ZipFile": dummy_zip()},
            Timeout=timeout,
            MemorySize=256,
            Environment={"Variables": variables},
        )
        self._functions.append(name)
        return name

    def stream(self, base: str = "stream", *, shards: int = 1) -> str:
        name = unique(base)
        self.kinesis.create_stream(StreamName=name, ShardCount=shards)
        return str(self.kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"])

    def queue(self, base: str = "queue") -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=unique(base))["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return url, arn["Attributes"]["QueueArn"]

    def topic(self, base: str = "topic") -> str:
        return str(self.sns.create_topic(Name=unique(base))["TopicArn"])

    def mapping(self, function: str, source_arn: str, **settings: Any) -> str:
        settings.setdefault("StartingPosition", "TRIM_HORIZON")
        response = self.awslambda.create_event_source_mapping(
            EventSourceArn=source_arn, FunctionName=function, **settings
        )
        self._mappings.append(response["UUID"])
        return str(response["UUID"])

    def put(
        self, stream_arn: str, payloads: Iterable[Any], *, partition_key: str = "pk"
    ) -> list[str]:
        """One PutRecords call; dicts become JSON, bytes go as they are."""
        entries = []
        for payload in payloads:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            entries.append({"Data": data, "PartitionKey": partition_key})
        response = self.kinesis.put_records(StreamARN=stream_arn, Records=entries)
        return [str(record["SequenceNumber"]) for record in response["Records"]]

    # ------------------------------------------------------------------ observing

    def drain(self, mapping: str | None = None, timeout: float = DRAIN_TIMEOUT) -> dict[str, Any]:
        return wait_drained(self.runtime.state_dir, timeout=timeout, mapping=mapping)

    def wait_for(self, predicate: Any, timeout: float = DRAIN_TIMEOUT) -> dict[str, Any]:
        return wait_for(self.runtime.state_dir, predicate, timeout=timeout)

    def configure_async(self, function: str, **config: Any) -> None:
        """put_function_event_invoke_config, then wait for a configuration refresh that began
        after it: an invocation that starts earlier would use the defaults."""
        self.awslambda.put_function_event_invoke_config(FunctionName=function, **config)
        changed_at = time.time()
        self.wait_for(lambda state: float(state.get("config_read_at", 0)) > changed_at)

    def invocations(self, function: str) -> list[dict[str, Any]]:
        path = self.runtime.probe_log_dir / f"{function}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def batches(self, function: str) -> list[list[str]]:
        return [entry["sequence_numbers"] for entry in self.invocations(function)]

    def counters(self, mapping: str | None = None, function: str | None = None) -> dict[str, int]:
        state = read_state(self.runtime.state_dir) or {}
        counters = state.get("counters", {})
        if mapping is not None:
            return dict(counters.get("mappings", {}).get(mapping, {}))
        if function is not None:
            return dict(counters.get("functions", {}).get(function, {}))
        return dict(counters.get("global", {}))

    def messages(self, queue_url: str, *, expect: int, timeout: float = 10.0) -> list[Any]:
        """Receive (and delete) until ``expect`` messages arrived; bodies parsed as JSON."""
        bodies: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(bodies) < expect and time.monotonic() < deadline:
            response = self.sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            for message in response.get("Messages", []):
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            if len(bodies) < expect:
                time.sleep(0.05)
        return bodies

    def queue_is_empty(self, queue_url: str) -> bool:
        response = self.sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0)
        return not response.get("Messages")


def decode(record: dict[str, Any]) -> Any:
    return json.loads(base64.b64decode(record["kinesis"]["data"]))


@contextlib.contextmanager
def harness(runtime: RuntimeProcess) -> Iterator[Aws]:
    aws = Aws(runtime)
    try:
        yield aws
    finally:
        aws.close()
