"""``stream-pipeline verify``: a post-deploy canary (manual: docs/verify.md).

Puts a few canary records tagged with a run id into a deployed pipeline -- a valid event, a
poison record, and a purchase (e-mailed when the pipeline has the e-mail notifier) -- waits until
each one has ended somewhere or the deadline passes, reports per record where it ended (stored
in the results table, dead-lettered with a reason, e-mail sent or not), removes what the run
wrote (its items, the notifier's idempotency records of its purchase, its DLQ messages) and
exits 1 when any canary did not end where it should, naming it. With the alarm topic known
(output alarm_topic_arn), it also fails while an alarm subscription is still pending
confirmation: such an address receives no alarm, and CloudWatch has no metric for it.

Only what the run can prove is its own is removed: an item under the run's own keys, a DLQ
message whose envelope names exactly one of the run's records (shard and sequence number). A
range envelope (hydrate function, a whole failed batch) may stand for other producers' records
too: it is reported and left for ``stream-pipeline replay``.
"""

from __future__ import annotations

import argparse
import io
import secrets
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console

from stream_pipeline.cli_common import (
    add_aws_arguments,
    aws_session,
    client_options,
    first_output,
    progress_bar,
    read_terraform_outputs,
    region_from_stream_arn,
)
from stream_pipeline.local.accounting import (
    DlqMessage,
    delete_messages,
    function_name,
    read_manifest,
    release_messages,
)
from stream_pipeline.producer.sender import ProduceError, produce
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, EnvelopeParseError
from stream_pipeline.verify_canaries import (
    DEFAULT_RECIPIENT,
    Canary,
    Outcome,
    make_canaries,
    notifier_idempotency_key,
)

DEFAULT_TIMEOUT: Final = 300.0

EXIT_STATUS: Final = """exit status:
  0  every canary ended where it should (stored; poison in the DLQ; purchase e-mailed) and
     what the run wrote was removed
  1  a canary is lost or ended elsewhere (named), something of the run was left behind, or
     an alarm subscription is still pending confirmation (named)
  2  usage or configuration error (no stream/table/queue, AWS unreachable)"""


@dataclass(frozen=True)
class Targets:
    """The deployed resources the run uses."""

    stream: str
    table: str
    dlq_url: str
    notifier_table: str | None = None
    notifier_function: str | None = None
    alarm_topic: str | None = None


PENDING_CONFIRMATION: Final = "PendingConfirmation"
"""The SubscriptionArn SNS lists for a subscription nobody confirmed yet."""


def pending_subscriptions(sns: Any, topic_arn: str) -> list[str]:
    """``protocol:endpoint`` of each subscription of the topic still pending confirmation."""
    pending = []
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        for subscription in page.get("Subscriptions", []):
            if subscription.get("SubscriptionArn") == PENDING_CONFIRMATION:
                pending.append(f"{subscription.get('Protocol')}:{subscription.get('Endpoint')}")
    return sorted(pending)


@dataclass
class Cleanup:
    items: int = 0
    idempotency_records: int = 0
    messages: int = 0
    left: list[str] = field(default_factory=list)
    """What the run could not remove, said plainly."""


class Verifier:
    """Puts the canaries, observes them, removes what the run wrote."""

    def __init__(self, clients: Mapping[str, Any], targets: Targets, canaries: Sequence[Canary]):
        self.kinesis = clients["kinesis"]
        self.dynamodb = clients["dynamodb"]
        self.sqs = clients["sqs"]
        self.targets = targets
        self.canaries = list(canaries)
        self.outcomes: list[Outcome] = []
        self.cleanup = Cleanup()
        self.keep = False
        self.dlq_interval = 0.0
        """Seconds between looks at the DLQ: each look receives every message in it, and SQS
        leaves a message received 3 times or more out of ApproximateAgeOfOldestMessage (the
        DLQ age alarm's metric)."""
        self._last_dlq_look: float | None = None

    def put(self) -> list[Outcome]:
        manifest = io.StringIO()
        report = produce(
            self.kinesis, self.targets.stream, [c.record for c in self.canaries], manifest=manifest
        )
        if report.total_failed:
            msg = f"the stream refused canaries: {report.failure_reasons}"
            raise ProduceError(msg, report)
        entries = {entry.record_id: entry for entry in read_manifest(manifest.getvalue())}
        self.outcomes = [Outcome(c, entries[c.record_id]) for c in self.canaries]
        return self.outcomes

    def observe(self) -> None:
        """One look at the table, the notifier's idempotency table and the DLQ. The run's own
        single-record DLQ messages are deleted once noted (unless ``keep``)."""
        for outcome in self.outcomes:
            key = outcome.canary.table_key
            if key and not outcome.stored:
                outcome.stored = self._exists(self.targets.table, key)
            if outcome.canary.notify and not outcome.email_sent and self.targets.notifier_table:
                outcome.email_sent = self._email_recorded(outcome.canary.record_id)
        now = time.monotonic()
        if self._last_dlq_look is None or now - self._last_dlq_look >= self.dlq_interval:
            self._last_dlq_look = now
            self._observe_dlq()

    def _exists(self, table: str, key: Mapping[str, str]) -> bool:
        response = self.dynamodb.get_item(
            TableName=table,
            Key={name: {"S": value} for name, value in key.items()},
            ConsistentRead=True,
        )
        return "Item" in response

    def _email_recorded(self, event_id: str) -> bool:
        response = self.dynamodb.get_item(
            TableName=self.targets.notifier_table,
            Key={"id": {"S": notifier_idempotency_key(event_id)}},
            ConsistentRead=True,
        )
        status = response.get("Item", {}).get("status", {}).get("S")
        return bool(status == "COMPLETED")

    def _is_notifier(self, consumer: str) -> bool:
        if self.targets.notifier_function:
            return function_name(consumer) == function_name(self.targets.notifier_function)
        return function_name(consumer).endswith("-notifier")

    def _observe_dlq(self) -> None:
        messages = _receive_all(self.sqs, self.targets.dlq_url)
        own: list[DlqMessage] = []
        by_position = {(o.entry.shard_id, o.entry.sequence_number): o for o in self.outcomes}
        for message in messages:
            try:
                envelope = DlqEnvelope.parse(message.body)
            except EnvelopeParseError:
                continue  # a hydrate failure record or a stranger: never the run's to remove
            if envelope.is_range:
                self._note_range(envelope)
                continue
            outcome = by_position.get((envelope.shard_id, envelope.sequence_number))
            if outcome is None:
                continue
            reason = str(envelope.error_category)
            if self._is_notifier(envelope.consumer):
                outcome.email_dead_letter = reason
            else:
                outcome.dead_letters[envelope.envelope_id] = reason
            own.append(message)
        others = [m for m in messages if m not in own]
        if self.keep:
            release_messages(self.sqs, self.targets.dlq_url, messages)
            return
        release_messages(self.sqs, self.targets.dlq_url, others)
        delete_messages(self.sqs, self.targets.dlq_url, own)
        self.cleanup.messages += len(own)

    def _note_range(self, envelope: DlqEnvelope) -> None:
        numbers = (envelope.sequence_number, envelope.end_sequence_number or "0")
        if not all(n.isascii() and n.isdigit() for n in numbers):
            return  # a damaged or forged envelope: not one of the run's, and no reason to stop
        for outcome in self.outcomes:
            entry = outcome.entry
            if entry.shard_id != envelope.shard_id or not entry.sequence_number:
                continue
            first = int(envelope.sequence_number) + (1 if envelope.after_sequence_number else 0)
            last = int(envelope.end_sequence_number or envelope.sequence_number)
            if first <= int(entry.sequence_number) <= last:
                reason = str(envelope.error_category)
                if reason not in outcome.in_range:
                    outcome.in_range.append(reason)
                    self.cleanup.left.append(
                        f"{outcome.canary.record_id}: in a range envelope ({reason}) that may "
                        "hold other records; left in the DLQ (stream-pipeline replay)"
                    )

    def remove(self) -> Cleanup:
        """Delete the run's items and idempotency records; one more DLQ sweep for messages
        that arrived after the last look (at-least-once)."""
        if self.keep:
            return self.cleanup
        for outcome in self.outcomes:
            key = outcome.canary.table_key
            if key:
                old = self.dynamodb.delete_item(
                    TableName=self.targets.table,
                    Key={name: {"S": value} for name, value in key.items()},
                    ReturnValues="ALL_OLD",
                )
                self.cleanup.items += 1 if "Attributes" in old else 0
            if outcome.canary.notify and self.targets.notifier_table:
                old = self.dynamodb.delete_item(
                    TableName=self.targets.notifier_table,
                    Key={"id": {"S": notifier_idempotency_key(outcome.canary.record_id)}},
                    ReturnValues="ALL_OLD",
                )
                self.cleanup.idempotency_records += 1 if "Attributes" in old else 0
        self._observe_dlq()
        return self.cleanup


def _receive_all(sqs: Any, queue_url: str) -> list[DlqMessage]:
    """Every message visible now, kept invisible until released or deleted."""
    messages: dict[str, DlqMessage] = {}
    empty = 0
    while empty < 2:
        response = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60, WaitTimeSeconds=0
        )
        fresh = [m for m in response.get("Messages", []) if m["MessageId"] not in messages]
        empty = 0 if fresh else empty + 1
        for m in fresh:
            messages[m["MessageId"]] = DlqMessage(m["MessageId"], m["ReceiptHandle"], m["Body"])
    return list(messages.values())


def wait(
    verifier: Verifier,
    *,
    timeout: float,
    poll_interval: float,
    on_round: Callable[[int], None] = lambda settled: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Observe until every canary settled or ``timeout`` seconds passed; True when settled."""
    deadline = clock() + timeout
    while True:
        verifier.observe()
        settled = sum(o.settled for o in verifier.outcomes)
        on_round(settled)
        if settled == len(verifier.outcomes):
            return True
        if clock() >= deadline:
            return False
        sleep(poll_interval)


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stream-pipeline verify",
        description="Post-deploy canary: put a valid event, a poison record and a purchase "
        "tagged with a run id, report where each one ended, remove what the run wrote.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--terraform-outputs",
        metavar="FILE",
        help="`terraform output -json` of the environment (`-`: stdin); gives stream_name, "
        "results_table_name, dlq_url and the e-mail notifier's names",
    )
    parser.add_argument("--stream", help="stream name or ARN (default: output stream_name)")
    parser.add_argument("--table", help="results table (default: output results_table_name)")
    parser.add_argument("--dlq-url", help="dead-letter queue URL (default: output dlq_url)")
    parser.add_argument(
        "--notifier-table",
        help="the e-mail notifier's idempotency table (default: output "
        "email_notifier_idempotency_table_name; without one no e-mail is expected)",
    )
    parser.add_argument("--notifier-function", help="the e-mail notifier's function name")
    parser.add_argument(
        "--alarm-topic",
        help="ARN of the alarm topic whose subscriptions must be confirmed (default: output "
        "alarm_topic_arn; without one they are not checked)",
    )
    parser.add_argument(
        "--email-to",
        default=DEFAULT_RECIPIENT,
        help=f"recipient of the purchase's e-mail (default: {DEFAULT_RECIPIENT}, SES' mailbox "
        "simulator)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds to wait for every canary to end somewhere (default {DEFAULT_TIMEOUT:.0f})",
    )
    parser.add_argument(
        "--poll-interval", type=float, default=2.0, help="seconds between looks at the tables"
    )
    parser.add_argument(
        "--dlq-interval",
        type=float,
        default=15.0,
        help="seconds between looks at the DLQ (default 15): each look receives every message "
        "in it, and a message received 3 times or more drops out of the DLQ age alarm's metric",
    )
    parser.add_argument("--run-id", help="tag of the run's records (default: random)")
    parser.add_argument(
        "--keep", action="store_true", help="leave the run's items and DLQ messages in place"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress display")
    add_aws_arguments(parser, region_help="AWS region (default: from the stream ARN, else config)")
    return parser


def _targets(args: argparse.Namespace, outputs: Mapping[str, Any]) -> Targets:
    stream = args.stream or first_output(outputs, ["stream_arn", "stream_name"])
    table = args.table or first_output(outputs, ["results_table_name"])
    dlq_url = args.dlq_url or first_output(outputs, ["dlq_url"])
    missing = [
        name
        for name, value in (("--stream", stream), ("--table", table), ("--dlq-url", dlq_url))
        if not value
    ]
    if missing:
        msg = (
            f"missing {', '.join(missing)}: pass them, or ENV=<environment> "
            "(outputs stream_name, results_table_name, dlq_url)"
        )
        raise ValueError(msg)
    return Targets(
        stream=str(stream),
        table=str(table),
        dlq_url=str(dlq_url),
        notifier_table=args.notifier_table
        or first_output(outputs, ["email_notifier_idempotency_table_name"]),
        notifier_function=args.notifier_function
        or first_output(outputs, ["email_notifier_function_name"]),
        alarm_topic=args.alarm_topic or first_output(outputs, ["alarm_topic_arn"]),
    )


def _report(console: Console, outcomes: Sequence[Outcome], run_id: str) -> None:
    """One line per canary, never wrapped (logs and CI keep each record id whole)."""
    console.print(f"verify run {run_id}:", soft_wrap=True)
    for outcome in outcomes:
        expected = outcome.canary.expected + (" + e-mail" if outcome.canary.notify else "")
        verdict = "[red]FAIL[/red]" if outcome.problems() else "[green]ok[/green]  "
        console.print(
            f"  {verdict} {outcome.canary.name:<8} {outcome.canary.record_id}: expected "
            f"{expected}; ended: {outcome.where()}",
            soft_wrap=True,
            highlight=False,
        )


def main(
    argv: Sequence[str] | None = None,
    *,
    clients: Mapping[str, Any] | None = None,
    console: Console | None = None,
    error_console: Console | None = None,
    stdin: Any = None,
) -> int:
    args = _parser().parse_args(argv)
    out = console or Console()
    err = error_console or Console(stderr=True)
    try:
        outputs = read_terraform_outputs(args.terraform_outputs, stdin or sys.stdin)
        targets = _targets(args, outputs)
        if args.timeout <= 0 or args.poll_interval <= 0 or args.dlq_interval < 0:
            raise ValueError("--timeout and --poll-interval must be positive, --dlq-interval >= 0")
    except (OSError, ValueError) as exc:
        err.print(f"error: {exc}")
        return 2

    run_id = args.run_id or secrets.token_hex(4)
    canaries = make_canaries(
        run_id,
        now_ms=int(time.time() * 1000),
        notify=targets.notifier_table is not None,
        recipient=args.email_to,
    )
    try:
        if clients is None:
            session = aws_session(
                region=args.region or region_from_stream_arn(targets.stream), profile=args.profile
            )
            options = client_options(args.endpoint_url)
            clients = {
                name: session.client(name, **options)
                for name in ("kinesis", "dynamodb", "sqs", "sns")
            }
        verifier = Verifier(clients, targets, canaries)
        verifier.keep = args.keep
        verifier.dlq_interval = args.dlq_interval
        outcomes = verifier.put()
        out.print(
            f"verify {run_id}: put {len(outcomes)} canaries into {targets.stream}", soft_wrap=True
        )
        with progress_bar(err, not args.no_progress and err.is_terminal) as progress:
            task = progress.add_task("canaries settled", total=len(outcomes))
            settled = wait(
                verifier,
                timeout=args.timeout,
                poll_interval=args.poll_interval,
                on_round=lambda n: progress.update(task, completed=n),
            )
        cleanup = verifier.remove()
        topic = targets.alarm_topic
        pending = pending_subscriptions(clients["sns"], topic) if topic else []
    except (BotoCoreError, ClientError, ProduceError) as exc:
        err.print(f"error: {exc}")
        return 2

    _report(out, outcomes, run_id)
    if not settled:
        out.print(
            f"deadline ({args.timeout:.0f} s) passed before every canary ended somewhere",
            soft_wrap=True,
        )
    failed = [(o.canary.record_id, p) for o in outcomes for p in o.problems()]
    for record_id, problem in failed:
        out.print(f"FAILED {record_id}: {problem}", soft_wrap=True)
    if args.keep:
        out.print("kept: the run's items, idempotency records and DLQ messages are in place")
    else:
        out.print(
            f"removed: {cleanup.items} items, {cleanup.idempotency_records} idempotency "
            f"records, {cleanup.messages} DLQ messages"
        )
    for left in cleanup.left:
        out.print(f"LEFT {left}", soft_wrap=True)
    if pending:
        out.print(
            f"FAILED alarm subscriptions pending confirmation, which receive no alarm: "
            f"{', '.join(pending)} (confirm the link AWS e-mailed; docs/verify.md)",
            soft_wrap=True,
        )
    return 1 if failed or cleanup.left or pending else 0
