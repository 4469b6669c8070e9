"""``stream-pipeline rewind``: reprocess a time range still in the stream through one consumer
(manual: docs/rewind.md).

AWS allows one event source mapping per function and stream, and the deployed mapping keeps
serving live traffic, so the rewind runs a **temporary clone** of the consumer: the same code,
role, layers, environment (the same results table and DLQ) and log group, under another name,
with a mapping from ``AT_TIMESTAMP --from`` and the deployed mapping's error handling. It is
removed once its ``IteratorAge`` (what Lambda publishes for every stream batch) shows it reads
records that arrived after ``--until``, or once it has had no batch for ``--idle`` seconds (it
read everything up to the stream's tip), or at ``--max-duration``. The consumer's writes must
be idempotent: every record from ``--from`` on is processed a second time.
"""

from __future__ import annotations

import argparse
import io
import secrets
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console

from stream_pipeline.cli_common import (
    add_aws_arguments,
    aws_session,
    client_options,
    read_terraform_outputs,
    region_from_stream_arn,
)

MAX_FUNCTION_NAME: Final = 64
COPIED_FUNCTION_SETTINGS: Final = (
    "Runtime",
    "Role",
    "Handler",
    "Timeout",
    "MemorySize",
    "KMSKeyArn",
    "Architectures",
    "LoggingConfig",
)
COPIED_MAPPING_SETTINGS: Final = (
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "MaximumRecordAgeInSeconds",
    "FunctionResponseTypes",
    "DestinationConfig",
    "FilterCriteria",
    "TumblingWindowInSeconds",
)
EXIT_STATUS: Final = """exit status:
  0  the temporary consumer caught up (past --until, or idle at the stream's tip); removed
  1  --max-duration passed first (the temporary consumer is removed all the same)
  2  usage or configuration error (unknown consumer, no mapping on the stream, AWS errors)"""


def parse_time(text: str) -> datetime:
    """ISO 8601; a time without offset is UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _is_local(endpoint_url: str | None) -> bool:
    host = urllib.parse.urlparse(endpoint_url or "").hostname or ""
    return host in {"localhost", "127.0.0.1", "::1"}


def clone_name(function: str, run_id: str) -> str:
    suffix = f"-rewind-{run_id}"
    return function[: MAX_FUNCTION_NAME - len(suffix)] + suffix


@dataclass(frozen=True)
class Progress:
    """What the latest look at the clone's IteratorAge says."""

    caught_up: bool
    reason: str


def assess(
    datapoints: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    until: datetime,
    since: datetime,
    period: int,
    idle: float,
) -> Progress:
    """Caught up when the latest period's largest IteratorAge shows records that arrived after
    ``until``, or when no batch came for ``idle`` seconds (since the last period with one, or
    since ``since`` when there was none).

    A batch of that period was read at or after the period's start, so its last record arrived
    at or after ``start - Maximum``; measuring from ``now`` instead would count the time the
    datapoint took to be seen as progress, and stop early."""
    if datapoints:
        latest = max(datapoints, key=lambda point: point["Timestamp"])
        threshold_ms = (latest["Timestamp"] - until).total_seconds() * 1000
        if float(latest["Maximum"]) < threshold_ms:
            return Progress(True, "reading records that arrived after --until")
        quiet = (now - (latest["Timestamp"] + timedelta(seconds=period))).total_seconds()
        if quiet >= idle:
            return Progress(True, f"no batch for {quiet:.0f} s: read up to the stream's tip")
        age = timedelta(milliseconds=float(latest["Maximum"]))
        return Progress(False, f"reading records {age} old")
    quiet = (now - since).total_seconds()
    if quiet >= idle:
        return Progress(True, f"no batch in {quiet:.0f} s: nothing to read after --from")
    return Progress(False, "waiting for the first batch")


class Rewind:
    """Creates the clone and its mapping, watches it, removes both."""

    def __init__(self, awslambda: Any, cloudwatch: Any, *, endpoint_url: str | None = None) -> None:
        self.awslambda = awslambda
        self.cloudwatch = cloudwatch
        self.endpoint_url = endpoint_url
        self.function: str | None = None
        self.mapping_uuid: str | None = None
        self.created_at = datetime.now(UTC)
        self.enabled_at: datetime | None = None

    def deployed_mapping(self, function: str, stream_arn: str) -> dict[str, Any]:
        """The consumer's mapping on the stream (directly, or through an EFO consumer)."""
        paginator = self.awslambda.get_paginator("list_event_source_mappings")
        # Filtered by stream (not by function: an EFO mapping's source is its consumer ARN).
        for page in paginator.paginate():
            for mapping in page["EventSourceMappings"]:
                source = str(mapping.get("EventSourceArn", ""))
                named = str(mapping.get("FunctionArn", "")).split(":")[6:7] == [function]
                if named and (source == stream_arn or source.startswith(f"{stream_arn}/consumer/")):
                    return dict(mapping)
        msg = f"{function} has no event source mapping on {stream_arn}"
        raise LookupError(msg)

    def _code(self, location: str) -> bytes:
        try:
            with urllib.request.urlopen(location, timeout=60) as response:  # noqa: S310 -- Lambda's presigned URL
                return bytes(response.read())
        except (OSError, ValueError):
            if not _is_local(self.endpoint_url):
                raise
        # The local emulator's URL is not served; its runtime runs the checkout's handler code.
        # Only on loopback: in AWS a clone without the consumer's code would fail every batch.
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("rewind_placeholder.py", "# the local runtime runs functions/\n")
        return buffer.getvalue()

    def create_clone(self, function: str, name: str) -> str:
        source = self.awslambda.get_function(FunctionName=function)
        config = source["Configuration"]
        settings = {key: config[key] for key in COPIED_FUNCTION_SETTINGS if config.get(key)}
        if config.get("Layers"):
            settings["Layers"] = [layer["Arn"] for layer in config["Layers"]]
        if config.get("TracingConfig", {}).get("Mode"):
            settings["TracingConfig"] = {"Mode": config["TracingConfig"]["Mode"]}
        variables = config.get("Environment", {}).get("Variables")
        if variables:
            settings["Environment"] = {"Variables": variables}
        self.awslambda.create_function(
            FunctionName=name,
            Code={"ZipFile": self._code(source["Code"]["Location"])},
            Description=f"temporary rewind of {function} (stream-pipeline rewind)",
            **settings,
        )
        self.function = name
        self.awslambda.get_waiter("function_active_v2").wait(FunctionName=name)
        return name

    def create_mapping(self, stream_arn: str, deployed: Mapping[str, Any], start: datetime) -> str:
        settings = {key: deployed[key] for key in COPIED_MAPPING_SETTINGS if deployed.get(key)}
        if "ParallelizationFactor" in settings and settings["ParallelizationFactor"] == 1:
            del settings["ParallelizationFactor"]
        response = self.awslambda.create_event_source_mapping(
            EventSourceArn=stream_arn,
            FunctionName=self.function,
            StartingPosition="AT_TIMESTAMP",
            StartingPositionTimestamp=start,
            Enabled=True,
            **settings,
        )
        self.mapping_uuid = str(response["UUID"])
        self.created_at = datetime.now(UTC)
        return self.mapping_uuid

    def enabled_since(self) -> datetime | None:
        """When the mapping was first seen Enabled (Lambda takes a while to create it): the idle
        clock starts there, not at creation. None while it is not."""
        if self.enabled_at is None and self.mapping_uuid:
            state = self.awslambda.get_event_source_mapping(UUID=self.mapping_uuid)["State"]
            if state == "Enabled":
                self.enabled_at = datetime.now(UTC)
        return self.enabled_at

    def iterator_ages(self, period: int) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        response = self.cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName="IteratorAge",
            Dimensions=[{"Name": "FunctionName", "Value": self.function}],
            StartTime=self.created_at - timedelta(seconds=period),
            EndTime=now + timedelta(seconds=period),
            Period=period,
            Statistics=["Maximum"],
        )
        return [dict(point) for point in response["Datapoints"]]

    def remove(self) -> list[str]:
        """Delete the mapping, then the clone; what could not be deleted, said plainly."""
        left = []
        if self.mapping_uuid:
            try:
                self.awslambda.delete_event_source_mapping(UUID=self.mapping_uuid)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    left.append(f"event source mapping {self.mapping_uuid}: {exc}")
        if self.function:
            try:
                self.awslambda.delete_function(FunctionName=self.function)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    left.append(f"function {self.function}: {exc}")
        return left


def watch(
    rewind: Rewind,
    *,
    until: datetime,
    period: int,
    idle: float,
    max_duration: float,
    poll_interval: float,
    on_look: Callable[[Progress], None] = lambda progress: None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> Progress:
    """Look at the clone's IteratorAge until it caught up or ``max_duration`` passed."""
    deadline = clock() + timedelta(seconds=max_duration)
    while True:
        now = clock()
        since = rewind.enabled_since()
        progress = (
            assess(
                rewind.iterator_ages(period),
                now=now,
                until=until,
                since=since,
                period=period,
                idle=idle,
            )
            if since is not None
            else Progress(False, "waiting for the mapping to be enabled")
        )
        on_look(progress)
        if progress.caught_up or now >= deadline:
            return progress
        sleep(poll_interval)


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stream-pipeline rewind",
        description="Reprocess the records of a time range still in the stream through one "
        "consumer, with a temporary clone of it (its writes must be idempotent).",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--consumer",
        required=True,
        help="the consumer: a key of output consumer_function_names (e.g. processor) or a "
        "function name",
    )
    parser.add_argument(
        "--from", dest="start", required=True, help="ISO 8601 time (UTC if no offset)"
    )
    parser.add_argument("--until", help="ISO 8601 time; default: now (when the command starts)")
    parser.add_argument(
        "--terraform-outputs", metavar="FILE", help="`terraform output -json` (`-`: stdin)"
    )
    parser.add_argument("--stream", help="stream ARN (default: output stream_arn)")
    parser.add_argument(
        "--idle",
        type=float,
        default=180.0,
        help="seconds without a batch after which the clone has read everything (default 180)",
    )
    parser.add_argument(
        "--max-duration", type=float, default=3600.0, help="give up after this (default 3600 s)"
    )
    parser.add_argument(
        "--metric-period",
        type=int,
        default=60,
        help="IteratorAge period in seconds (default 60, Lambda's resolution)",
    )
    parser.add_argument("--poll-interval", type=float, default=15.0, help="seconds between looks")
    add_aws_arguments(parser, region_help="AWS region (default: from the stream ARN, else config)")
    return parser


def _function(consumer: str, outputs: Mapping[str, Any]) -> str:
    names = outputs.get("consumer_function_names")
    if isinstance(names, Mapping) and consumer in names:
        return str(names[consumer])
    return consumer


def main(
    argv: Sequence[str] | None = None,
    *,
    clients: Mapping[str, Any] | None = None,
    console: Console | None = None,
    stdin: Any = None,
) -> int:
    args = _parser().parse_args(argv)
    out = console or Console()
    try:
        outputs = read_terraform_outputs(args.terraform_outputs, stdin or sys.stdin)
        stream_arn = args.stream or outputs.get("stream_arn")
        if not stream_arn or not str(stream_arn).startswith("arn:"):
            raise ValueError("no stream ARN: pass --stream ARN, or ENV=<environment>")
        stream_arn = str(stream_arn)
        start = parse_time(args.start)
        until = parse_time(args.until) if args.until else datetime.now(UTC)
        if start >= until:
            raise ValueError("--from must be before --until")
        if min(args.idle, args.max_duration, args.poll_interval, args.metric_period) <= 0:
            raise ValueError("--idle, --max-duration, --poll-interval, --metric-period: > 0")
        function = _function(args.consumer, outputs)
    except (OSError, ValueError) as exc:
        out.print(f"error: {exc}", soft_wrap=True)
        return 2

    if clients is None:
        session = aws_session(
            region=args.region or region_from_stream_arn(stream_arn), profile=args.profile
        )
        options = client_options(args.endpoint_url)
        clients = {name: session.client(name, **options) for name in ("lambda", "cloudwatch")}
    rewind = Rewind(clients["lambda"], clients["cloudwatch"], endpoint_url=args.endpoint_url)
    name = clone_name(function, secrets.token_hex(3))
    progress: Progress | None = None
    try:
        deployed = rewind.deployed_mapping(function, stream_arn)
        rewind.create_clone(function, name)
        rewind.create_mapping(stream_arn, deployed, start)
        out.print(
            f"rewind: {name} reads {stream_arn} from {start.isoformat()} (mapping "
            f"{rewind.mapping_uuid}) until past {until.isoformat()}",
            soft_wrap=True,
        )
        with out.status("rewinding") as status:
            progress = watch(
                rewind,
                until=until,
                period=args.metric_period,
                idle=args.idle,
                max_duration=args.max_duration,
                poll_interval=args.poll_interval,
                on_look=lambda p: status.update(f"rewinding: {p.reason}"),
            )
    except (BotoCoreError, ClientError, LookupError, OSError) as exc:
        out.print(f"error: {exc}", soft_wrap=True)
        return 2
    finally:
        for left in rewind.remove():
            out.print(f"LEFT {left}: delete it by hand", soft_wrap=True)
    if progress is not None and progress.caught_up:
        out.print(f"caught up ({progress.reason}); {name} and its mapping removed", soft_wrap=True)
        return 0
    out.print(
        f"--max-duration passed before {name} caught up; removed. Rewind the rest with "
        "--from set to a later time.",
        soft_wrap=True,
    )
    return 1
