"""``stream-pipeline demo`` (``make demo``): the pipeline on this machine, end to end, with
every record accounted for (see docs/local.md)."""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

import boto3
from rich.console import Console
from rich.table import Table

from stream_pipeline.local.accounting import (
    SDK_CONFIG,
    EmailAccounting,
    Reconciliation,
    account_emails,
    emails_sent,
    notified_events,
    read_dlq,
    read_manifest,
    reconcile,
    scan_items,
)
from stream_pipeline.local.fraud_report import report_fraud
from stream_pipeline.local.runtime.client import NotDrainedError, wait_drained
from stream_pipeline.local.stack import LocalStack, StackError, client_kwargs, local_region
from stream_pipeline.local.stack_cli import add_arguments, relative, stack_from
from stream_pipeline.local.trending_report import report as trending_report
from stream_pipeline.producer.generator import generate_records
from stream_pipeline.producer.sender import produce


def render(result: Reconciliation, console: Console, *, title: str = "zero-loss check") -> None:
    table = Table(title=title)
    table.add_column("records")
    table.add_column("count", justify="right")
    table.add_row("produced (accepted by the stream)", str(result.produced))
    table.add_row("stored in the results table", str(result.stored))
    for reason, count in sorted(result.dead_lettered.items()):
        table.add_row(f"  in the DLQ: {reason}", str(count))
    table.add_row("in the DLQ (all reasons)", str(result.in_dlq))
    table.add_section()
    style = "bold red" if result.lost else "bold green"
    table.add_row(f"[{style}]lost[/{style}]", f"[{style}]{len(result.lost)}[/{style}]")
    table.add_row("duplicates: stored items of one event", str(result.stored_duplicates))
    table.add_row("duplicates: records under 2+ DLQ envelopes", str(result.dlq_duplicates))
    table.add_row("duplicates: stored and dead-lettered", str(len(result.stored_and_dead_lettered)))
    table.add_row("DLQ without original bytes", str(len(result.without_original_bytes)))
    table.add_row(
        "DLQ messages repeating an envelope_id (readers de-duplicate)",
        str(result.dlq_redeliveries),
    )
    table.add_row("elsewhere than the manifest expected", str(len(result.unexpected)))
    console.print(table)


def render_emails(result: EmailAccounting, console: Console, *, total: int) -> None:
    table = Table(title="e-mail notifier: one e-mail per purchase")
    table.add_column("purchases and e-mails")
    table.add_column("count", justify="right")
    table.add_row("purchase events produced (valid, accepted by the stream)", str(result.notified))
    for reason, count in sorted(result.dead_lettered.items()):
        table.add_row(f"  dead-lettered by the notifier: {reason}", str(count))
    table.add_row("e-mails sent (SES in the emulator, this run)", str(result.sent))
    table.add_row(
        "poison records of type purchase the notifier dead-lettered too",
        str(result.other_dead_lettered),
    )
    table.add_section()
    style = "bold red" if result.duplicates else "bold green"
    table.add_row(
        f"[{style}]duplicates: e-mails sent - distinct events[/{style}]",
        f"[{style}]{result.duplicates}[/{style}]",
    )
    style = "bold red" if result.missing else "bold green"
    table.add_row(
        f"[{style}]purchases without an e-mail (nor in the DLQ)[/{style}]",
        f"[{style}]{result.missing}[/{style}]",
    )
    table.add_row("e-mails in the emulator, every run (SentLast24Hours)", str(total))
    console.print(table)


def render_sample(items: Sequence[Mapping[str, Any]], console: Console, size: int = 5) -> None:
    console.print(f"a sample of stored insights ({min(size, len(items))} of {len(items)}):")
    for item in sorted(items, key=lambda i: str(i.get("processedAt")))[:size]:
        console.print(
            f"  {item.get('insight')}  (score {item.get('eventScore')}, "
            f"eventKey {item.get('eventKey')})",
            soft_wrap=True,
            highlight=False,
        )


def hints(stack: LocalStack, outputs: Mapping[str, Any]) -> str:
    endpoint = stack.endpoint
    python = "python"
    region = local_region(stack.checkout)
    client = (
        f"boto3.client('dynamodb', endpoint_url='{endpoint}', region_name='{region}', "
        "aws_access_key_id='test', aws_secret_access_key='test')"
    )
    scan = f"{client}.scan(TableName='{outputs['results_table_name']}', Limit=3)['Items']"
    return "\n".join(
        [
            "The stack is still up. Look around:",
            "  stream-pipeline local status",
            "  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test stream-pipeline replay stats "
            f"--queue-url {outputs['dlq_url']} --endpoint-url {endpoint} --region {region}",
            f'  {python} -c "import boto3; print({scan})"',
            f'  {python} -c "import boto3; print({client.replace("dynamodb", "ses")}'
            '.get_send_quota())"  # e-mails sent',
            f"  {python} -m stream_pipeline.local.runtime status --state-dir "
            f"{relative(stack.state_dir)}",
            f"  terraform -chdir={relative(stack.terraform_dir)} output",
            "Stop it: stream-pipeline local down (make local-down)",
        ]
    )


# --------------------------------------------------------------------------- CLI


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """The ``demo`` command's options, on ``parser``."""
    add_arguments(parser)
    parser.add_argument("--count", type=int, default=2000, help="events (default 2000)")
    parser.add_argument("--poison-rate", type=float, default=0.02, help="default 0.02")
    parser.add_argument("--seed", type=int, default=None, help="producer seed (default: drawn)")
    parser.add_argument("--timeout", type=float, default=180.0, help="drain timeout, seconds")


def run(args: argparse.Namespace) -> int:
    """Runs ``stream-pipeline demo``: 0 zero loss and one e-mail per purchase, 1 a record
    lost or duplicated (or an e-mail missing or sent twice), 2 the stack is not running."""
    console = Console()
    stack = stack_from(args)
    try:
        if stack.runtime_pid() is None:
            msg = "the local stack is not running: run `stream-pipeline local up` (or make demo)"
            raise StackError(msg)
        outputs = stack.outputs()
        endpoint = stack.endpoint
    except StackError as exc:
        console.print(f"error: {exc}")
        return 2
    kwargs = {**client_kwargs(endpoint, local_region(stack.checkout)), "config": SDK_CONFIG}
    kinesis = boto3.client("kinesis", **kwargs)
    dynamodb = boto3.client("dynamodb", **kwargs)
    sqs = boto3.client("sqs", **kwargs)

    ses = boto3.client("ses", **kwargs)
    notifier = outputs.get("email_notifier_function_name")
    sent_before = emails_sent(ses) if notifier else 0

    seed = args.seed if args.seed is not None else int(time.time())
    manifest_path = stack.base / "demo-manifest.jsonl"
    console.print(
        f"producing {args.count} events ({args.poison_rate:.0%} poison, seed {seed}) into "
        f"{outputs['stream_name']}; manifest {manifest_path}"
    )
    started = time.monotonic()
    manifest_buffer = io.StringIO()
    records = list(
        generate_records(args.count, seed=seed, poison_rate=args.poison_rate, plant_fraud=True)
    )
    report = produce(kinesis, outputs["stream_name"], records, manifest=manifest_buffer)
    manifest_path.write_text(manifest_buffer.getvalue(), encoding="utf-8")
    console.print(
        f"put {report.total_sent} records in {report.elapsed_seconds:.1f} s "
        f"({report.total_failed} failed); waiting for the pipeline to drain..."
    )
    try:
        wait_drained(stack.state_dir, timeout=args.timeout)
    except NotDrainedError as exc:
        console.print(f"[bold red]not drained after {args.timeout:.0f} s[/bold red]: {exc}")
    console.print(f"drained {time.monotonic() - started:.1f} s after the first put")

    manifest = read_manifest(manifest_buffer.getvalue())
    messages = read_dlq(sqs, outputs["dlq_url"])
    result = reconcile(
        manifest,
        scan_items(dynamodb, outputs["results_table_name"]),
        messages,
        consumer=outputs["consumer_function_name"],
    )
    render(result, console, title=f"{report.total_sent} events through the local pipeline")
    if report.total_failed:
        console.print(f"[bold red]{report.total_failed} records were refused by the stream[/]")
    emails: EmailAccounting | None = None
    if notifier:
        total = emails_sent(ses)
        emails = account_emails(
            manifest, notified_events(records), total - sent_before, messages, notifier
        )
        render_emails(emails, console, total=total)
    fraud = report_fraud(dynamodb, outputs, manifest_buffer.getvalue(), console)
    render_sample(result.items, console)
    trending_report(dynamodb, outputs, console)
    console.print(hints(stack, outputs), soft_wrap=True, highlight=False)
    status = 0
    if not result.ok:
        console.print(f"[bold red]NOT zero loss[/bold red]\n{result.problems()}")
        status = 1
    else:
        console.print("[bold green]zero loss: every record is stored once or in the DLQ[/]")
    if emails is not None:
        if emails.ok:
            console.print(
                "[bold green]one e-mail per purchase: each purchase e-mailed once "
                "(or dead-lettered by the notifier), no duplicates[/]"
            )
        else:
            console.print(
                f"[bold red]e-mails are NOT one per purchase[/bold red]\n{emails.problems()}"
            )
            status = 1
    if fraud is not None and not fraud.ok:
        status = 1
    return status


EXIT_STATUS: Final = """exit status:
  0  zero loss: every record stored once or in the DLQ; one e-mail per purchase; each planted
     fraudulent user flagged once, no clean user flagged
  1  a record lost or duplicated, a purchase e-mailed twice or not at all, or fraud flags
     other than the planted ones
  2  the local stack is not running (stream-pipeline local up), or a usage error"""


def parser() -> argparse.ArgumentParser:
    demo = argparse.ArgumentParser(
        prog="stream-pipeline demo",
        description="The local pipeline end to end (the stack of `stream-pipeline local up`): "
        "put retail events with a share of poison records on the stream, wait until it has "
        "drained, and account for every record. Manual: docs/local.md.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(demo)
    return demo


def main(argv: list[str] | None = None) -> int:
    return run(parser().parse_args(argv))
