"""stream-pipeline replay: the command line of the replay (see docs/replay.md)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TextIO

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console

from stream_pipeline.cli_common import (
    add_aws_arguments,
    first_output,
    progress_bar,
    read_terraform_outputs,
)
from stream_pipeline.replay import bucket as replay_bucket
from stream_pipeline.replay.model import (
    BUCKET_OUTPUTS,
    CONSUMER_OUTPUTS,
    DEFAULT_S3_PREFIX,
    MAC_KEY_OUTPUTS,
    NON_ENVELOPE_REASONS,
    QUEUE_URL_OUTPUTS,
    STREAM_OUTPUTS,
    Clients,
    Mode,
    ReplayReport,
    RunOptions,
)
from stream_pipeline.replay.redrive import FunctionRef, Redriver
from stream_pipeline.replay.render import (
    DLQ_TEXT,
    INSPECT_WARNING,
    REDRIVE_TEXT,
    ReportText,
    bucket_report_text,
    render_bucket_stats,
    render_queue_attributes,
    render_replay,
    render_stats,
)
from stream_pipeline.replay.replayer import Replayer
from stream_pipeline.replay.sqs import Queue, collect_stats
from stream_pipeline.runtime.aws_errors import describe_exception
from stream_pipeline.runtime.dlq_envelope import MalformedReasonCodeError, validate_reason_code
from stream_pipeline.runtime.hydration.reader import ShardRangeReader, StreamKind

EXIT_STATUS: Final = """exit status:
  0  every message or object considered was replayed (or would be, with --dry-run)
  1  some stay in the queue or the bucket (listed, with why)
  2  usage or configuration error; the queue or the bucket could not be reached"""
_SQS_URL_REGION: Final = re.compile(r"^https://sqs[.-]([a-z0-9-]+)\.amazonaws\.com")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--queue-url", help="URL of the DLQ (SQS)")
    common.add_argument(
        "--bucket",
        help="failure bucket of an S3 on-failure destination: its objects too (with or "
        "without --queue-url)",
    )
    common.add_argument(
        "--prefix",
        default=DEFAULT_S3_PREFIX,
        help=f"key prefix of the on-failure objects in --bucket (default {DEFAULT_S3_PREFIX})",
    )
    common.add_argument(
        "--terraform-outputs",
        metavar="FILE",
        help="`terraform output -json` of an environment ('-': stdin); gives dlq_url "
        "(and the bucket: failure_bucket_name or bucket_name, when not null)",
    )
    add_aws_arguments(
        common, region_help="AWS region (default: from the queue URL, else the AWS config)"
    )
    common.add_argument(
        "--visibility-timeout",
        type=int,
        default=300,
        metavar="SECONDS",
        help="how long received messages stay invisible while being handled (default 300)",
    )
    common.add_argument(
        "--wait-seconds",
        type=int,
        default=2,
        choices=range(21),
        metavar="0-20",
        help="long-poll wait of each ReceiveMessage (default 2)",
    )
    common.add_argument("--no-progress", action="store_true", help="no progress bar")

    parser = argparse.ArgumentParser(
        prog="stream-pipeline replay",
        description="Replay the dead-letter queue (--queue-url) and the objects of an S3 "
        "on-failure destination (--bucket) into the stream(s) the records came from. "
        "Manual: docs/replay.md.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        parents=[common],
        help="put DLQ records back into their stream, delete them",
        description="Put the records of the DLQ (and of --bucket) back into their stream; "
        "delete a message or object only once all of its records were accepted.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--mode",
        choices=[mode.value for mode in Mode],
        default=Mode.STREAM.value,
        help="stream (default): put each record back into its stream, where every consumer "
        "reads it again; redrive: hand it to the consumer that dead-lettered it only (a "
        "synchronous Invoke with the event its mapping would build), see docs/replay.md",
    )
    run.add_argument(
        "--consumer",
        action="append",
        default=[],
        metavar="FUNCTION",
        help="--mode redrive: a consumer function (name or ARN) it may invoke (repeatable, or "
        "comma-separated); added to the outputs consumer_function_names and "
        "email_notifier_function_name of --terraform-outputs. A message naming any other "
        "function is refused and stays",
    )
    run.add_argument("--target", help="put every record into this Kinesis stream (name or ARN)")
    run.add_argument(
        "--stream",
        action="append",
        default=[],
        metavar="STREAM",
        help="a stream (ARN, or Kinesis stream name) records may be read from and put into "
        "(repeatable, or comma-separated); added to the outputs stream_arn / source_stream_arns "
        "of --terraform-outputs. A message or object naming any other stream is refused and "
        "stays",
    )
    run.add_argument(
        "--payload-bucket",
        action="append",
        default=[],
        metavar="BUCKET",
        help="a bucket claim-check payloads may be read from (repeatable), besides the failure "
        "bucket (--bucket or the outputs); an envelope pointing elsewhere is refused and stays",
    )
    run.add_argument(
        "--mac-key",
        metavar="KEY_ARN",
        help="the KMS HMAC key the envelopes are signed with (default: output dlq_mac_key_arn "
        "or mac_key_arn of --terraform-outputs); a forged or altered envelope is refused",
    )
    run.add_argument(
        "--accept-unsigned",
        action="store_true",
        help="also replay envelopes without envelope_mac (written before this version signed "
        "them); without it they are refused and stay. A wrong MAC is refused either way",
    )
    run.add_argument("--dry-run", action="store_true", help="report only: put/delete nothing")
    run.add_argument(
        "--max",
        type=int,
        dest="max_messages",
        help="handle at most N messages (and at most N objects of --bucket)",
    )
    run.add_argument(
        "--reason",
        action="append",
        default=[],
        metavar="REASON",
        help="only messages of this reason (repeatable, or comma-separated): a reason code -- "
        "built-in (e.g. SCHEMA_VIOLATION, RETRIES_EXHAUSTED) or a team's namespace.CODE (e.g. "
        f"orders.INVALID_CURRENCY) -- or {' or '.join(sorted(NON_ENVELOPE_REASONS))}",
    )
    stats = commands.add_parser(
        "stats",
        parents=[common],
        help="the DLQ's counts and oldest age (and failure bucket objects per reason); "
        "changes nothing",
        description="The DLQ's message counts and the age of its oldest message, from the "
        "queue's attributes and CloudWatch, without receiving any message; with --inspect, "
        "its messages per reason. The failure bucket's objects per reason. Changes nothing.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    stats.add_argument(
        "--inspect",
        action="store_true",
        help="receive every DLQ message to count them per reason. Each look is a receive: SQS "
        "leaves a message received 3 or more times out of ApproximateAgeOfOldestMessage, the "
        "metric the DLQ age alarm watches",
    )
    return parser


def _region(explicit: str | None, queue_url: str) -> str | None:
    if explicit:
        return explicit
    match = _SQS_URL_REGION.match(queue_url)
    return match.group(1) if match else None


def _reasons(values: Sequence[str]) -> frozenset[str]:
    """The ``--reason`` values. Case does not matter (the rules fix it: namespace lowercase, code
    uppercase); a code no envelope has yet is accepted when well-formed, a malformed one is a
    usage error, since it could never match."""
    reasons: set[str] = set()
    problems: list[str] = []
    for value in values:
        for part in (part.strip() for part in value.split(",")):
            if not part:
                continue
            reason = _reason_spelling(part)
            if reason in NON_ENVELOPE_REASONS:
                reasons.add(reason)
                continue
            try:
                reasons.add(str(validate_reason_code(reason, accept_future_builtins=True)))
            except MalformedReasonCodeError as exc:
                problems.append(f"--reason {part!r:.110}: {exc}")
    if problems:
        raise ValueError("; ".join(problems))
    return frozenset(reasons)


def _consumers(args: argparse.Namespace, outputs: Mapping[str, Any]) -> frozenset[str]:
    """The functions a redrive may invoke: ``--consumer`` and the environment's outputs."""
    names: set[str] = set()
    for value in args.consumer:
        names.update(part.strip() for part in value.split(",") if part.strip())
    for output in CONSUMER_OUTPUTS:
        value = outputs.get(output)
        if isinstance(value, Mapping):
            names.update(str(name) for name in value.values() if name)
        elif isinstance(value, list):
            names.update(str(name) for name in value if name)
        elif value:
            names.add(str(value))
    bad = sorted(name for name in names if FunctionRef.parse(name) is None)
    if bad:
        msg = f"--consumer: not a Lambda function name or ARN: {', '.join(map(repr, bad))}"
        raise ValueError(msg)
    return frozenset(names)


def _listed(values: Sequence[str]) -> set[str]:
    return {part.strip() for value in values for part in value.split(",") if part.strip()}


def _streams(args: argparse.Namespace, outputs: Mapping[str, Any]) -> frozenset[str]:
    """The streams the run may read and write: ``--stream`` and the environment's outputs."""
    names = _listed(args.stream)
    for output in STREAM_OUTPUTS:
        value = outputs.get(output)
        if isinstance(value, list):
            names.update(str(item) for item in value if item)
        elif value:
            names.add(str(value))
    return frozenset(names)


def _reason_spelling(text: str) -> str:
    """``text`` in the one case a well-formed reason can have; non-ASCII text as it is (upper()
    would turn some of it into ASCII letters, e.g. German sharp s into "SS")."""
    if not text.isascii():
        return text
    namespace, dot, code = text.partition(".")
    return f"{namespace.lower()}.{code.upper()}" if dot else text.upper()


def main(
    argv: Sequence[str] | None = None,
    *,
    clients: Clients | None = None,
    console: Console | None = None,
    error_console: Console | None = None,
    stdin: TextIO | None = None,
    reader: Callable[[StreamKind], ShardRangeReader] | None = None,
) -> int:
    args = _parser().parse_args(argv)
    out = console or Console()
    err = error_console or Console(stderr=True)
    try:
        outputs = read_terraform_outputs(args.terraform_outputs, stdin or sys.stdin)
        queue_url = args.queue_url or first_output(outputs, QUEUE_URL_OUTPUTS)
        bucket = args.bucket or first_output(outputs, BUCKET_OUTPUTS)
        if not queue_url and not bucket:
            msg = (
                "no queue: pass --queue-url URL, or ENV=<environment> (output dlq_url); "
                "and no bucket: pass --bucket NAME to replay the objects of an S3 on-failure "
                f"destination (outputs {' / '.join(BUCKET_OUTPUTS)})"
            )
            raise ValueError(msg)
        reasons = _reasons(getattr(args, "reason", []))
        mode = Mode(getattr(args, "mode", Mode.STREAM.value))
        consumers = _consumers(args, outputs) if mode is Mode.REDRIVE else frozenset()
        if mode is Mode.STREAM and getattr(args, "consumer", []):
            msg = "--consumer names the functions --mode redrive may invoke; add --mode redrive"
            raise ValueError(msg)
        if mode is Mode.REDRIVE:
            if not queue_url:
                msg = "--mode redrive needs the DLQ: --queue-url URL or ENV=<environment>"
                raise ValueError(msg)
            if args.bucket or args.target:
                msg = (
                    "--mode redrive hands DLQ records to their consumers: it takes neither "
                    "--bucket nor --target (replay those with --mode stream)"
                )
                raise ValueError(msg)
            if not consumers:
                msg = (
                    "--mode redrive needs the functions it may invoke: --consumer FUNCTION "
                    "(repeatable), or --terraform-outputs with consumer_function_names"
                )
                raise ValueError(msg)
            bucket = None  # the outputs' failure bucket is for --mode stream
        if getattr(args, "max_messages", None) is not None and args.max_messages < 1:
            msg = "--max must be at least 1"
            raise ValueError(msg)
        streams: frozenset[str] = frozenset()
        mac_key: str | None = None
        if args.command == "run":
            streams = _streams(args, outputs)
            if not streams and not args.target:
                msg = (
                    "no stream configured: pass --stream STREAM (repeatable) or ENV=<environment> "
                    "(output stream_arn); the replay never takes a stream from a message alone"
                )
                raise ValueError(msg)
            mac_key = args.mac_key or first_output(outputs, MAC_KEY_OUTPUTS)
            if queue_url and not mac_key and not args.accept_unsigned:
                msg = (
                    "no MAC key to authenticate the DLQ envelopes: pass --mac-key KEY_ARN or "
                    "ENV=<environment> (output dlq_mac_key_arn), or --accept-unsigned"
                )
                raise ValueError(msg)
    except (OSError, ValueError) as exc:
        err.print(f"error: {exc}")
        return 2

    show_progress = not args.no_progress and err.is_terminal
    done: list[tuple[ReplayReport, ReportText]] = []
    try:
        clients = clients or Clients.create(
            region=_region(args.region, queue_url or ""),
            endpoint_url=args.endpoint_url,
            profile=args.profile,
        )
        if args.command == "stats":
            if queue_url:
                queue = Queue(
                    clients.sqs,
                    queue_url,
                    visibility_timeout=args.visibility_timeout,
                    wait_seconds=args.wait_seconds,
                )
                render_queue_attributes(queue.attributes(clients.cloudwatch), out)
                if args.inspect:
                    err.print(INSPECT_WARNING)
                    with progress_bar(err, show_progress) as progress:
                        task = progress.add_task("reading the DLQ", total=queue.approximate_size())
                        stats = collect_stats(queue, lambda: progress.advance(task))
                    render_stats(stats, out)
            if bucket:
                source = replay_bucket.Bucket(clients.s3, bucket, args.prefix)
                with progress_bar(err, show_progress) as progress:
                    task = progress.add_task("reading the failure bucket", total=None)
                    stats = replay_bucket.collect_stats(source, lambda: progress.advance(task))
                render_bucket_stats(stats, source, out)
            return 0

        options = RunOptions(
            queue_url=queue_url,
            bucket=bucket,
            prefix=args.prefix,
            target=args.target,
            dry_run=args.dry_run,
            max_messages=args.max_messages,
            reasons=reasons,
            visibility_timeout=args.visibility_timeout,
            wait_seconds=args.wait_seconds,
            mode=mode,
            consumers=consumers,
            streams=streams,
            # The failure bucket holds the claim-checks too, also in --mode redrive.
            buckets=frozenset(
                _listed(args.payload_bucket)
                | {name for name in (args.bucket, first_output(outputs, BUCKET_OUTPUTS)) if name}
            ),
            mac_key=mac_key,
            accept_unsigned=args.accept_unsigned,
        )
        if queue_url:
            with progress_bar(err, show_progress) as progress:
                redrive = mode is Mode.REDRIVE
                task = progress.add_task("redriving the DLQ" if redrive else "replaying the DLQ")
                advance: Callable[[], None] = lambda: progress.advance(task)  # noqa: E731
                replayer = (
                    Redriver(clients, options, reader=reader, on_message=advance)
                    if redrive
                    else Replayer(clients, options, reader=reader, on_message=advance)
                )
                progress.update(
                    task, total=options.max_messages or replayer.source.approximate_size()
                )
                done.append((replayer.run(), REDRIVE_TEXT if redrive else DLQ_TEXT))
        if bucket:
            with progress_bar(err, show_progress) as progress:
                task = progress.add_task("replaying the failure bucket", total=args.max_messages)
                objects = replay_bucket.BucketReplayer(
                    clients, options, reader=reader, on_message=lambda: progress.advance(task)
                )
                done.append((objects.run(), bucket_report_text(objects.bucket)))
    except (ClientError, BotoCoreError) as exc:
        for report, text in done:  # the DLQ was replayed; the bucket could not be
            render_replay(report, out, text)
        err.print(f"error: {describe_exception(exc)}")
        return 2
    for report, text in done:
        render_replay(report, out, text)
    return 1 if any(report.kept for report, _ in done) else 0
