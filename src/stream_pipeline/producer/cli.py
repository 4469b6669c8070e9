"""stream-pipeline produce: the command line of the producer (see docs/producer.md)."""

from __future__ import annotations

import argparse
import contextlib
import math
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any, Final, TextIO

from botocore.exceptions import BotoCoreError
from rich.console import Console
from rich.table import Table

from stream_pipeline.cli_common import (
    add_aws_arguments,
    aws_session,
    client_options,
    first_output,
    progress_bar,
    read_terraform_outputs,
    region_from_stream_arn,
)
from stream_pipeline.producer.generator import (
    DEFAULT_MEAN_GAP_MS,
    DEFAULT_PRODUCTS,
    DEFAULT_USERS,
    PLANT_MIN_COUNT,
    RecordKind,
    generate_records,
)
from stream_pipeline.producer.sender import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_POLICY,
    ProduceError,
    ProduceReport,
    produce,
)
from stream_pipeline.runtime.aws_errors import RetryPolicy, describe_exception

EXIT_STATUS: Final = """exit status:
  0  every record was accepted by the stream
  1  some records failed (after the retries) and are reported
  2  usage or configuration error (no stream, no credentials, bad option)"""
STREAM_OUTPUTS: Final = ("stream_name", "stream_arn")
DEFAULT_COUNT: Final = 1_000

# --------------------------------------------------------------------------- output


def render_report(report: ProduceReport, stream: str, console: Console) -> None:
    table = Table(title=f"records put into {stream}")
    table.add_column("kind")
    table.add_column("expected outcome")
    table.add_column("sent", justify="right")
    table.add_column("failed", justify="right")
    for kind in RecordKind:
        if report.sent[kind.value] or report.failed[kind.value]:
            table.add_row(
                kind.value,
                kind.expected,
                str(report.sent[kind.value]),
                str(report.failed[kind.value]),
            )
    table.add_section()
    table.add_row("total", "", str(report.total_sent), str(report.total_failed))
    console.print(table)
    poison = report.total_sent - report.sent[RecordKind.VALID.value]
    console.print(
        f"sent: {report.total_sent} ({poison} poison); failed: {report.total_failed}; "
        f"PutRecords requests: {report.requests}; entries retried: {report.retried}; "
        f"elapsed: {report.elapsed_seconds:.2f} s; {report.events_per_second:.0f} events/s"
    )
    if report.entry_errors:
        errors = ", ".join(f"{code} x{n}" for code, n in report.entry_errors.most_common())
        console.print(f"failed entries over all attempts: {errors}")
    if report.failure_reasons:
        reasons = ", ".join(f"{code} x{n}" for code, n in report.failure_reasons.most_common())
        console.print(f"[bold]records given up on: {reasons}[/bold]")


# --------------------------------------------------------------------------- CLI


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        msg = f"must be a number from 0 to 1 (the share of poison records), got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value >= 0.0 and math.isfinite(value)):
        msg = f"must be events per second, 0 or more (0: as fast as possible), got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"must be a whole number of at least 1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stream-pipeline produce",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Put realistic retail events (and optionally poison records) into a "
        "Kinesis stream, PutRecords with retries of the failed entries only.",
    )
    where = parser.add_argument_group("stream")
    where.add_argument("--stream-name", metavar="NAME|ARN", help="the Kinesis stream")
    where.add_argument(
        "--terraform-outputs",
        metavar="FILE",
        help="`terraform output -json` of an environment ('-': stdin); gives stream_name",
    )
    what = parser.add_argument_group("records")
    what.add_argument(
        "--count", type=_positive, default=DEFAULT_COUNT, help=f"events (default {DEFAULT_COUNT})"
    )
    what.add_argument(
        "--rate",
        type=_rate,
        default=0.0,
        metavar="EVENTS_PER_SECOND",
        help="throughput cap (token bucket); 0, the default: as fast as possible",
    )
    what.add_argument(
        "--poison-rate",
        type=_fraction,
        default=0.0,
        metavar="0-1",
        help="share of poison records (bad JSON, not UTF-8, wrong types, missing fields, not "
        "an object); default 0",
    )
    what.add_argument("--seed", type=int, help="random seed (default: drawn and printed)")
    what.add_argument(
        "--plant-fraud",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"plant one fraudulent user per fraud detector rule, marked `planted` in the "
        f"manifest (default on; only with --count {PLANT_MIN_COUNT} or more)",
    )
    what.add_argument(
        "--users",
        type=_positive,
        default=DEFAULT_USERS,
        help=f"user pool (default {DEFAULT_USERS})",
    )
    what.add_argument(
        "--products",
        type=_positive,
        default=DEFAULT_PRODUCTS,
        help=f"product catalogue (default {DEFAULT_PRODUCTS})",
    )
    out = parser.add_argument_group("sending and output")
    out.add_argument(
        "--max-attempts",
        type=_positive,
        default=DEFAULT_MAX_ATTEMPTS,
        help=f"attempts per record before it is reported failed (default {DEFAULT_MAX_ATTEMPTS})",
    )
    out.add_argument("--manifest", metavar="FILE", help="write one JSON line per record here")
    out.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_aws_arguments(
        parser, region_help="AWS region (default: from the stream ARN, else the AWS config)"
    )
    return parser


def main(
    argv: list[str] | None = None,
    *,
    client: Any = None,
    console: Console | None = None,
    error_console: Console | None = None,
    stdin: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    start_ms: int | None = None,
) -> int:
    args = _parser().parse_args(argv)
    out = console or Console()
    err = error_console or Console(stderr=True)
    try:
        outputs = read_terraform_outputs(args.terraform_outputs, stdin or sys.stdin)
        stream = args.stream_name or first_output(outputs, STREAM_OUTPUTS)
        if not stream:
            msg = (
                "no stream: pass --stream-name NAME, or --terraform-outputs FILE "
                "(output stream_name)"
            )
            raise ValueError(msg)
    except (OSError, ValueError) as exc:
        err.print(f"error: {exc}")
        return 2

    seed = args.seed if args.seed is not None else secrets.randbits(32)
    records = generate_records(
        args.count,
        seed=seed,
        poison_rate=args.poison_rate,
        users=args.users,
        products=args.products,
        start_ms=start_ms,
        mean_gap_ms=1000 / args.rate if args.rate else DEFAULT_MEAN_GAP_MS,
        plant_fraud=args.plant_fraud,
    )
    policy = RetryPolicy(
        max_attempts=args.max_attempts,
        base_delay=DEFAULT_POLICY.base_delay,
        max_delay=DEFAULT_POLICY.max_delay,
    )
    err.print(f"producing {args.count} events into {stream} (seed {seed})")
    show_progress = not args.no_progress and err.is_terminal
    with contextlib.ExitStack() as stack:
        try:
            if client is None:
                session = aws_session(
                    region=args.region or region_from_stream_arn(stream), profile=args.profile
                )
                client = session.client("kinesis", **client_options(args.endpoint_url))
            manifest = (
                stack.enter_context(open(args.manifest, "w", encoding="utf-8"))
                if args.manifest
                else None
            )
        except (BotoCoreError, OSError) as exc:
            err.print(f"error: {describe_exception(exc)}")
            return 2
        try:
            with progress_bar(err, show_progress) as progress:
                task = progress.add_task("putting records", total=args.count)
                report = produce(
                    client,
                    stream,
                    records,
                    rate=args.rate,
                    policy=policy,
                    sleep=sleep,
                    clock=clock,
                    manifest=manifest,
                    on_progress=lambda n: progress.advance(task, n),
                )
        except ProduceError as exc:
            render_report(exc.report, stream, out)
            err.print(f"error: {exc}")
            return 2
    render_report(report, stream, out)
    if args.manifest:
        out.print(f"manifest: {args.manifest}")
    return 1 if report.total_failed else 0
