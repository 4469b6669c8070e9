"""Section ``end_to_end``: records put into a stream until they are stored in DynamoDB, through
the local runtime (``python -m stream_pipeline.local.runtime serve``: moto's server plus the event
source
mapping poller and the real ``stream_processor`` handler in worker processes).

The runtime is started on a free loopback port in a scratch directory with its default
intervals and stopped afterwards. For each shard count a fresh stream, table, DLQ, function
(``stream_processor.app.lambda_handler`` from ``functions/``) and event source mapping are
created with boto3 against it, as the runtime's own tests do; the mapping uses the module
defaults (batch size, batching window, parallelization factor 1, ReportBatchItemFailures).
After a warm-up (25 records per shard put and stored, so that the workers' cold starts stay
out), ``stream_pipeline.producer.sender.produce`` puts n valid events as fast as it can, each
event's
``timestamp`` set to the wall clock as the producer hands it to PutRecords (a few ms before the
request), and the table is counted every 0.5 s until every record is stored.

* records/s = n / (latest ``processedAt`` - earliest put time);
* put -> processed latency of a record = its item's ``processedAt`` (set by the consumer while
  preparing the record, just before its BatchWriteItem) - its ``timestamp`` (put time): both
  from this machine's clock, exact per record, independent of the 0.5 s polling;
* observed = time from the first put until the count showed every record (polling included).

Two phases per shard count: a *burst* of n records measures drain throughput (later records
wait behind earlier ones, so its latency percentiles include that queueing); a *steady* phase
(full mode: 200 records/s for 5 s, below the drain rate) measures the latency a record sees
when nothing is queued: polling, batching window, invocation, write. Everything (emulator,
runtime, workers, producer) shares this machine's cores: these are local figures, not AWS's.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from bench.common import (
    FUNCTIONS_DIR,
    REGION,
    REPO_ROOT,
    Options,
    Result,
    Target,
    functions_on_path,
    percentile,
)
from stream_pipeline.local.runtime.invoker import WORKER_RUNTIME

SECTION: Final = "end_to_end"
RECORDS: Final = 3_000
QUICK_RECORDS: Final = 100
SHARDS: Final = (1, 4)
QUICK_SHARDS: Final = (1,)
BATCH_SIZE: Final = 100
BATCHING_WINDOW_SECONDS: Final = 1
PARALLELIZATION_FACTOR: Final = 1
START_TIMEOUT: Final = 60.0
POLL_SECONDS: Final = 0.5
STEADY_RATE: Final = 200
STEADY_SECONDS: Final = 5
PACE_SECONDS: Final = 0.1
WARM_UP_RECORDS: Final = 25
"""Per shard, put and stored before the measured burst: the workers' cold starts stay out."""
SKIPPED: Final = "skipped: local runtime not available"


class RuntimeUnavailableError(RuntimeError):
    """The local runtime is missing, does not start, or does not deliver: ``str()`` says why."""


class _Runtime:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.state_dir = root / "state"
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stderr_tail(self) -> str:
        path = self.root / "stderr.txt"
        return path.read_text(errors="replace")[-1500:].strip() if path.exists() else ""

    def state(self) -> dict[str, Any] | None:
        try:
            state: dict[str, Any] = json.loads((self.state_dir / "state.json").read_text())
        except (OSError, ValueError):
            return None
        return state

    def start(self) -> None:
        if importlib.util.find_spec("moto") is None:
            msg = "the local runtime needs moto (the `local` extra)"
            raise RuntimeUnavailableError(msg)
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "POWERTOOLS_")) and key not in ("PYTHONPATH",)
        }
        environment.update(PYTHONPATH=str(REPO_ROOT), PYTHONDONTWRITEBYTECODE="1")
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
            str(FUNCTIONS_DIR),
            "--region",
            REGION,
        ]
        self.process = subprocess.Popen(
            command,
            cwd=self.root,
            env=environment,
            stdout=(self.root / "stdout.txt").open("wb"),
            stderr=(self.root / "stderr.txt").open("wb"),
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            state = self.state()
            if state is not None and state.get("port") and state.get("config_generation", 0) >= 1:
                self.port = int(state["port"])
                return
            if self.process.poll() is not None:
                msg = (
                    f"`python -m stream_pipeline.local.runtime serve` exited with status "
                    f"{self.process.returncode}: {self.stderr_tail() or 'no output'}"
                )
                raise RuntimeUnavailableError(msg)
            time.sleep(0.1)
        msg = (
            f"`python -m stream_pipeline.local.runtime serve` wrote no state.json with a port and "
            f"config_generation >= 1 within {START_TIMEOUT:.0f} s: {self.stderr_tail()}"
        )
        raise RuntimeUnavailableError(msg)

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def _placeholder_zip() -> bytes:
    """The emulator wants a package; the runtime imports the handler from functions/."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", "# the local runtime runs functions/ itself\n")
    return buffer.getvalue()


def run(options: Options) -> tuple[Result, list[Target]]:
    functions_on_path()
    records = QUICK_RECORDS if options.quick else RECORDS
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as scratch:
        runtime = _Runtime(Path(scratch))
        try:
            options.log("end_to_end: starting the local runtime")
            runtime.start()
            runs = [
                _run(runtime, shards, records, options)
                for shards in (QUICK_SHARDS if options.quick else SHARDS)
            ]
        except RuntimeUnavailableError as exc:
            return {"status": f"{SKIPPED}: {exc}", "method": __doc__}, []
        except (BotoCoreError, ClientError) as exc:
            # The runtime started but refused or failed a request of the setup or the run.
            detail = f"{type(exc).__name__}: {exc}; runtime stderr: {runtime.stderr_tail()[-500:]}"
            return {"status": f"{SKIPPED}: {detail}", "method": __doc__}, []
        finally:
            status = runtime.stop()
    result: Result = {
        "status": "ok",
        "method": __doc__,
        "runtime": {
            "command": "python -m stream_pipeline.local.runtime serve --port 0 (default intervals)",
            "exit_status": status,
        },
        "mapping": {
            "BatchSize": BATCH_SIZE,
            "MaximumBatchingWindowInSeconds": BATCHING_WINDOW_SECONDS,
            "ParallelizationFactor": PARALLELIZATION_FACTOR,
            "StartingPosition": "TRIM_HORIZON",
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
        "runs": runs,
    }
    return result, []


def _stamped(records: Iterable[Any]) -> Iterator[Any]:
    """Each event's ``timestamp`` = now (ms), set as ``produce`` pulls it for PutRecords."""
    for record in records:
        document = json.loads(record.data)
        document["timestamp"] = int(time.time() * 1000)
        yield record._replace(data=json.dumps(document, separators=(",", ":")).encode())


def _put(kinesis: Any, stream: str, records: list[Any], rate: float) -> tuple[int, float]:
    """``stream_pipeline.producer.sender.produce`` the records: at once (``rate`` 0), or in slices
    every
    ``PACE_SECONDS`` (``rate`` records/s) -- paced here, so that each record's timestamp is
    still taken as it goes out rather than before a rate limiter's wait."""
    from stream_pipeline.producer.sender import produce

    started = time.monotonic()
    if not rate:
        report = produce(kinesis, stream, _stamped(records))
        return report.total_sent, time.monotonic() - started
    per_slice = max(1, round(rate * PACE_SECONDS))
    sent = 0
    for index, start in enumerate(range(0, len(records), per_slice)):
        delay = started + index * PACE_SECONDS - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        report = produce(kinesis, stream, _stamped(records[start : start + per_slice]))
        sent += report.total_sent
    return sent, time.monotonic() - started


def _run(runtime: _Runtime, shards: int, records: int, options: Options) -> Result:
    import boto3
    from botocore.config import Config

    from stream_pipeline.producer.generator import generate_records

    options.log(f"end_to_end: {records:,} records, {shards} shard(s)")
    session = boto3.session.Session(
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 -- a dummy for the emulator
        region_name=REGION,
    )
    config = Config(retries={"mode": "standard", "max_attempts": 3})

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=runtime.endpoint, config=config)

    kinesis, dynamodb, sqs, awslambda, iam = (
        client(name) for name in ("kinesis", "dynamodb", "sqs", "lambda", "iam")
    )
    suffix = f"{shards}-{int(time.time())}"
    table = f"bench-results-{suffix}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "userId", "KeyType": "HASH"},
            {"AttributeName": "eventKey", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "userId", "AttributeType": "S"},
            {"AttributeName": "eventKey", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    queue_url = sqs.create_queue(QueueName=f"bench-dlq-{suffix}")["QueueUrl"]
    role = iam.create_role(RoleName=f"bench-role-{suffix}", AssumeRolePolicyDocument="{}")
    function = f"bench-consumer-{suffix}"
    awslambda.create_function(
        FunctionName=function,
        Runtime=WORKER_RUNTIME,
        Role=role["Role"]["Arn"],
        Handler="stream_processor.app.lambda_handler",
        Code={"ZipFile": _placeholder_zip()},
        Timeout=60,
        MemorySize=256,
        Environment={
            "Variables": {
                "TABLE_NAME": table,
                "DLQ_URL": queue_url,
                "POWERTOOLS_SERVICE_NAME": function,
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
        },
    )
    stream = f"bench-stream-{suffix}"
    kinesis.create_stream(StreamName=stream, ShardCount=shards)
    stream_arn = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["StreamARN"]
    mapping = awslambda.create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=function,
        StartingPosition="TRIM_HORIZON",
        BatchSize=BATCH_SIZE,
        MaximumBatchingWindowInSeconds=BATCHING_WINDOW_SECONDS,
        ParallelizationFactor=PARALLELIZATION_FACTOR,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )["UUID"]
    _wait_for_mapping(runtime, mapping)

    def put_and_wait(count: int, seed: int, expected: int, rate: float) -> tuple[float, float]:
        started = time.time()
        sent, put_seconds = _put(kinesis, stream, list(generate_records(count, seed=seed)), rate)
        if sent != count:
            msg = f"the producer put {sent} of {count} records"
            raise RuntimeUnavailableError(msg)
        deadline = time.monotonic() + max(60.0, count / 20)
        stored = 0
        while time.monotonic() < deadline:
            stored = _count(dynamodb, table)
            if stored >= expected:
                return put_seconds, time.time() - started
            time.sleep(POLL_SECONDS)
        counters = _mapping_counters(runtime, mapping)
        msg = (
            f"{stored} of {expected} records stored after {time.time() - started:.0f} s "
            f"(mapping counters: {counters}; runtime: {runtime.stderr_tail()[-500:]})"
        )
        raise RuntimeUnavailableError(msg)

    total = 0

    def phase(count: int, seed: int, rate: float = 0.0) -> Result:
        """Put ``count`` records (``rate`` per second, 0: as fast as possible), wait until all
        are stored, and measure them."""
        nonlocal total
        total += count
        before = _mapping_counters(runtime, mapping)
        from_ms = int(time.time() * 1000)
        put_seconds, observed_seconds = put_and_wait(count, seed, total, rate)
        items = [item for item in _items(dynamodb, table) if int(item["timestamp"]["N"]) >= from_ms]
        put_ms = [int(item["timestamp"]["N"]) for item in items]
        processed_ms = [_epoch_ms(item["processedAt"]["S"]) for item in items]
        latencies = [done - put for put, done in zip(put_ms, processed_ms, strict=True)]
        span_seconds = (max(processed_ms) - min(put_ms)) / 1000
        counters = {
            name: value - before.get(name, 0)
            for name, value in _mapping_counters(runtime, mapping).items()
        }
        return {
            "records": count,
            "rate": rate or "as fast as possible",
            "stored": len(items),
            "put_seconds": round(put_seconds, 3),
            "records_per_second": round(count / span_seconds) if span_seconds > 0 else None,
            "observed_all_stored_seconds": round(observed_seconds, 2),
            "latency_ms": {
                "p50": percentile(latencies, 0.50),
                "p99": percentile(latencies, 0.99),
                "min": min(latencies),
                "max": max(latencies),
            },
            "mapping_counters": counters,
            "mean_batch_size": round(counters["records_delivered"] / counters["batches"], 1)
            if counters.get("batches")
            else None,
        }

    # Warm-up: workers started (cold starts) on every shard before anything is measured.
    phase(WARM_UP_RECORDS * shards, options.seed + 1)
    burst = phase(records, options.seed)
    steady = (
        None
        if options.quick
        else phase(STEADY_RATE * STEADY_SECONDS, options.seed + 2, rate=STEADY_RATE)
    )
    awslambda.delete_event_source_mapping(UUID=mapping)
    return {
        "shards": shards,
        "burst": burst,
        "steady": steady,
        "dlq_messages": _queue_depth(sqs, queue_url),
    }


def _mapping_counters(runtime: _Runtime, mapping: str) -> dict[str, int]:
    counters = (runtime.state() or {}).get("counters", {}).get("mappings", {}).get(mapping, {})
    return {str(name): int(value) for name, value in counters.items()}


def _wait_for_mapping(runtime: _Runtime, mapping: str) -> None:
    """The runtime reads configuration every few seconds: wait until it runs the mapping."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        state = runtime.state() or {}
        if mapping in (state.get("mappings") or {}):
            return
        time.sleep(0.1)
    msg = f"the runtime did not pick up event source mapping {mapping} within {START_TIMEOUT} s"
    raise RuntimeUnavailableError(msg)


def _count(dynamodb: Any, table: str) -> int:
    """Items in the table (a Scan page stops at 1 MB: the counts of every page are summed)."""
    pages = dynamodb.get_paginator("scan").paginate(TableName=table, Select="COUNT")
    return sum(int(page["Count"]) for page in pages)


def _items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    paginator = dynamodb.get_paginator("scan")
    for page in paginator.paginate(
        TableName=table,
        ProjectionExpression="#t, processedAt",
        ExpressionAttributeNames={"#t": "timestamp"},
    ):
        items.extend(page["Items"])
    return items


def _epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def _queue_depth(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])
