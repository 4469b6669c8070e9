"""``make demo``: the pipeline on this machine, end to end, with every record accounted for.

    python -m tools.demo [--root build/local] [--count 2000] [--poison-rate 0.02] [--seed S]
                         [--timeout 180]

Expects the local stack to be up (``make demo`` runs ``make local-up`` first). Produces
``--count`` retail events with a share of poison records into the stream (the producer, with a
manifest), waits until the local runtime has drained (bounded), then reconciles the manifest
with the results table and the DLQ and prints:

- produced, stored, in the DLQ by reason, lost (= produced - stored - in the DLQ);
- duplicates: stored items of the same event, records dead-lettered under two envelopes, records
  both stored and dead-lettered, plus DLQ messages repeated with the same ``envelope_id``
  (the DLQ is at-least-once; readers de-duplicate on it);
- the e-mail notifier (when the stack has one): purchase events produced, e-mails sent during
  the run (moto counts every e-mail its SES accepts: ``GetSendQuota``'s ``SentLast24Hours``,
  read before and after), purchases the notifier dead-lettered, and duplicates (e-mails sent
  minus distinct events to mail), which must be 0, as must the purchases left without one;
- a sample of stored insights, and how to look around and stop the stack.

The DLQ is read without consuming it (messages are made visible again). Exit status 0 when
nothing was lost, 1 when a record is missing or duplicated (or a purchase was e-mailed twice,
or neither e-mailed nor dead-lettered), 2 when the demo could not run.

Importable: :func:`reconcile` and friends (the end-to-end suite proves zero loss with them).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import boto3
from botocore.config import Config
from rich.console import Console
from rich.table import Table

from tools import cli_common
from tools.local_runtime.client import NotDrainedError, wait_drained
from tools.local_stack import (
    DEFAULT_ROOT,
    LocalStack,
    StackError,
    client_kwargs,
    local_region,
    relative,
)
from tools.producer import ProducedRecord, RecordKind, generate_records, produce

cli_common.add_functions_to_path()

from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, EnvelopeParseError  # noqa: E402
from stream_pipeline.runtime.hydration.models import (  # noqa: E402
    MalformedAsyncInvocationRecordError,
    MalformedOnFailureRecordError,
    parse_async_invocation_record,
    parse_on_failure_record,
)

HYDRATE_FAILED: Final = "HYDRATE_FAILED"
NOTIFIER_SUFFIX: Final = "-notifier"
"""modules/pipeline names the e-mail notifier ``<name>-notifier``."""
NOTIFIED_EVENT_TYPES: Final = frozenset({"purchase"})
"""What the local environment's notifier e-mails (its NOTIFY_EVENT_TYPES default)."""
SDK_CONFIG: Final = Config(retries={"max_attempts": 5, "mode": "standard"})


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class ManifestEntry:
    """One record a producer put (a ``sent`` manifest line, or one built by a test)."""

    record_id: str
    expected: str
    """``stored`` or the DLQ error category the consumer must give it."""
    sha256: str
    shard_id: str | None = None
    sequence_number: str | None = None
    dynamodb_keys: Mapping[str, Any] | None = None
    """For DynamoDB stream sources: the item's key, DynamoDB JSON (the envelope's ``Keys``)."""

    @classmethod
    def from_line(cls, line: Mapping[str, Any]) -> ManifestEntry:
        return cls(
            record_id=str(line["id"]),
            expected=str(line["expected"]),
            sha256=str(line["sha256"]),
            shard_id=line.get("shardId"),
            sequence_number=line.get("sequenceNumber"),
        )


def read_manifest(text: str) -> list[ManifestEntry]:
    """The records a producer manifest says were accepted by the stream."""
    entries = []
    for line in text.splitlines():
        if line.strip():
            document = json.loads(line)
            if document.get("status") == "sent":
                entries.append(ManifestEntry.from_line(document))
    return entries


@dataclass(frozen=True)
class DlqMessage:
    message_id: str
    receipt_handle: str
    body: str


def read_dlq(sqs: Any, queue_url: str, *, release: bool = True) -> list[DlqMessage]:
    """Every message in the queue, received once (kept invisible while reading); made visible
    again at the end unless ``release`` is False (the caller deletes or releases them)."""
    messages: dict[str, DlqMessage] = {}
    empty_receives = 0
    while empty_receives < 2:
        response = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=120, WaitTimeSeconds=0
        )
        fresh = [m for m in response.get("Messages", []) if m["MessageId"] not in messages]
        empty_receives = 0 if fresh else empty_receives + 1
        for message in fresh:
            messages[message["MessageId"]] = DlqMessage(
                message["MessageId"], message["ReceiptHandle"], message["Body"]
            )
    if release:
        release_messages(sqs, queue_url, list(messages.values()))
    return list(messages.values())


def _batches(messages: Sequence[DlqMessage]) -> Iterable[Sequence[DlqMessage]]:
    for start in range(0, len(messages), 10):
        yield messages[start : start + 10]


def release_messages(sqs: Any, queue_url: str, messages: Sequence[DlqMessage]) -> None:
    for batch in _batches(messages):
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                for n, m in enumerate(batch)
            ],
        )


def delete_messages(sqs: Any, queue_url: str, messages: Sequence[DlqMessage]) -> None:
    for batch in _batches(messages):
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m.receipt_handle} for n, m in enumerate(batch)
            ],
        )


def scan_items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every item of the results table, plain values (``{"S": x}`` -> ``x``)."""
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            items.append({key: next(iter(value.values())) for key, value in item.items()})
    return items


def emails_sent(ses: Any) -> int:
    """E-mails the emulator's SES has accepted so far (moto counts one per recipient, and the
    notifier sends to one): read before and after a run, the difference is the run's."""
    return int(ses.get_send_quota()["SentLast24Hours"])


def notified_events(records: Iterable[ProducedRecord]) -> set[str]:
    """The ids of the valid events of a notified type (purchases): one e-mail each."""
    ids = set()
    for record in records:
        if record.kind is RecordKind.VALID:
            event = json.loads(record.data)
            if event.get("eventType") in NOTIFIED_EVENT_TYPES:
                ids.add(record.record_id)
    return ids


# --------------------------------------------------------------------------- reconciling


@dataclass
class Reconciliation:
    """Where every record of a manifest ended up."""

    produced: int = 0
    stored: int = 0
    """Records stored (exactly once or more: see ``stored_duplicates``) and not dead-lettered."""
    dead_lettered: Counter[str] = field(default_factory=Counter)
    """Records in the DLQ (and not stored), by reason."""
    lost: list[ManifestEntry] = field(default_factory=list)
    stored_duplicates: int = 0
    """Extra items for an event already stored (items whose eventId appears more than once)."""
    dlq_duplicates: int = 0
    """Records dead-lettered under more than one distinct envelope."""
    stored_and_dead_lettered: list[ManifestEntry] = field(default_factory=list)
    dlq_redeliveries: int = 0
    """DLQ messages repeating an envelope (same ``envelope_id``): the DLQ is at-least-once and
    readers de-duplicate on it. Not a duplicate in effect."""
    without_original_bytes: list[ManifestEntry] = field(default_factory=list)
    """Dead-lettered records whose envelope does not hold the bytes the producer sent."""
    unexpected: list[tuple[ManifestEntry, str]] = field(default_factory=list)
    """Records that ended elsewhere than the manifest's ``expected`` (e.g. a valid event
    dead-lettered because its batch exhausted its retries): not lost, but worth a look."""
    messages: list[DlqMessage] = field(default_factory=list)
    """The DLQ messages that belong to this manifest."""
    items: list[dict[str, Any]] = field(default_factory=list)
    """The stored items that belong to this manifest."""

    @property
    def in_dlq(self) -> int:
        return sum(self.dead_lettered.values())

    @property
    def duplicates(self) -> int:
        return self.stored_duplicates + self.dlq_duplicates + len(self.stored_and_dead_lettered)

    @property
    def ok(self) -> bool:
        return not self.lost and not self.duplicates and not self.without_original_bytes

    def problems(self) -> str:
        """A readable account of what is wrong (empty when ``ok``)."""
        lines = []
        if self.lost:
            lines.append(f"lost: {[e.record_id for e in self.lost[:20]]}")
        if self.stored_duplicates or self.dlq_duplicates:
            lines.append(
                f"duplicates: {self.stored_duplicates} stored, {self.dlq_duplicates} in the DLQ"
            )
        if self.stored_and_dead_lettered:
            ids = [e.record_id for e in self.stored_and_dead_lettered[:20]]
            lines.append(f"both stored and dead-lettered: {ids}")
        if self.without_original_bytes:
            ids = [e.record_id for e in self.without_original_bytes[:20]]
            lines.append(f"dead-lettered without their original bytes: {ids}")
        return "\n".join(lines)


@dataclass
class _DlqHit:
    reason: str
    envelope_id: str
    payload_sha256: str | None


def _ddb_key(keys: Mapping[str, Any] | None) -> str | None:
    return json.dumps(keys, sort_keys=True) if keys else None


def function_name(consumer: str) -> str:
    """The function an envelope's ``consumer`` names: a name, or an ARN (qualifier dropped)."""
    if ":function:" in consumer:
        return consumer.split(":function:", 1)[1].split(":", 1)[0]
    return consumer


def counts_for(consumer: str, wanted: str | None) -> bool:
    """Whether dead letters of ``consumer`` belong to the reconciliation of ``wanted`` (a
    function name or ARN; None: every consumer but an e-mail notifier)."""
    name = function_name(consumer)
    if wanted is None:
        return not (name.endswith(NOTIFIER_SUFFIX) or name == "email_notifier")
    return name == function_name(wanted)


def _hydrate_failure_ranges(body: str, consumer: str | None) -> list[tuple[str, int, int]]:
    """(shard, first, last) of every batch a failed hydrate invocation was given, for the
    consumers ``consumer`` selects (:func:`counts_for`)."""
    try:
        record = parse_async_invocation_record(body)
        failures = [parse_on_failure_record(m.raw) for m in record.on_failure_messages()]
    except (MalformedAsyncInvocationRecordError, MalformedOnFailureRecordError):
        return []
    return [
        (f.batch.shard_id, int(f.batch.start_sequence_number), int(f.batch.end_sequence_number))
        for f in failures
        if counts_for(f.request_context.function_arn, consumer)
    ]


def reconcile(
    manifest: Sequence[ManifestEntry],
    items: Iterable[Mapping[str, Any]],
    messages: Iterable[DlqMessage],
    *,
    consumer: str | None = None,
) -> Reconciliation:
    """Match the manifest with the table's items (by eventId) and the DLQ's messages (by stream
    coordinates: shard and sequence number, or range; DynamoDB keys). Items and messages of
    other records are ignored, so scenarios sharing one stack each count only their own. A
    record dead-lettered again after a replay (new coordinates) is therefore reported lost:
    the check errs on the side of failing.

    One DLQ serves every consumer of the pipeline (the envelope's ``consumer`` names the
    function); only the dead letters of ``consumer`` (a function name or ARN) count. By default
    those of every consumer but the e-mail notifier (``<name>-notifier``), which dead-letters
    the purchases it cannot mail, poison records of that type included: those account for
    e-mails, not for stored records (:func:`account_emails`)."""
    result = Reconciliation(produced=len(manifest))
    by_id: dict[str, list[ManifestEntry]] = defaultdict(list)
    by_coordinates: dict[tuple[str, int], ManifestEntry] = {}
    by_shard: dict[str, list[tuple[int, ManifestEntry]]] = defaultdict(list)
    by_ddb_key: dict[str, ManifestEntry] = {}
    for entry in manifest:
        by_id[entry.record_id].append(entry)
        if entry.shard_id and entry.sequence_number:
            position = (entry.shard_id, int(entry.sequence_number))
            by_coordinates[position] = entry
            by_shard[entry.shard_id].append((int(entry.sequence_number), entry))
        key = _ddb_key(entry.dynamodb_keys)
        if key:
            by_ddb_key[key] = entry

    stored_count: Counter[str] = Counter()
    for item in items:
        event_id = str(item.get("eventId"))
        if event_id in by_id:
            stored_count[event_id] += 1
            result.items.append(dict(item))

    hits: dict[int, list[_DlqHit]] = defaultdict(list)  # id(entry) -> hits
    for message in messages:
        matched: list[ManifestEntry] = []
        try:
            envelope = DlqEnvelope.parse(message.body)
        except EnvelopeParseError:
            for shard, first, last in _hydrate_failure_ranges(message.body, consumer):
                matched += [e for seq, e in by_shard.get(shard, []) if first <= seq <= last]
            for entry in matched:
                hits[id(entry)].append(_DlqHit(HYDRATE_FAILED, message.message_id, None))
            if matched:
                result.messages.append(message)
            continue
        if not counts_for(envelope.consumer, consumer):
            continue
        if envelope.dynamodb_keys:
            found = by_ddb_key.get(_ddb_key(envelope.dynamodb_keys) or "")
            matched = [found] if found else []
        elif envelope.shard_id and envelope.end_sequence_number is not None:
            first = int(envelope.sequence_number) + (1 if envelope.after_sequence_number else 0)
            last = int(envelope.end_sequence_number)
            matched = [e for seq, e in by_shard.get(envelope.shard_id, []) if first <= seq <= last]
        elif envelope.shard_id:
            found = by_coordinates.get((envelope.shard_id, int(envelope.sequence_number)))
            matched = [found] if found else []
        if not matched:
            continue
        result.messages.append(message)
        sha = envelope.payload_sha256 if envelope.payload_available else None
        for entry in matched:
            hits[id(entry)].append(
                _DlqHit(envelope.error_category.value, envelope.envelope_id, sha)
            )

    counted_ids: set[str] = set()
    for entry in manifest:
        entry_hits = hits.get(id(entry), [])
        stored = stored_count[entry.record_id] > 0
        if entry.record_id not in counted_ids:
            counted_ids.add(entry.record_id)
            result.stored_duplicates += max(0, stored_count[entry.record_id] - 1)
        if stored and entry_hits:
            result.stored_and_dead_lettered.append(entry)
        if stored:
            result.stored += 1
            if entry.expected != "stored":
                result.unexpected.append((entry, "stored"))
            continue
        if not entry_hits:
            result.lost.append(entry)
            continue
        envelopes = {hit.envelope_id for hit in entry_hits}
        result.dlq_duplicates += len(envelopes) - 1
        result.dlq_redeliveries += len(entry_hits) - len(envelopes)
        reason = entry_hits[0].reason
        result.dead_lettered[reason] += 1
        if not any(hit.payload_sha256 == entry.sha256 for hit in entry_hits):
            result.without_original_bytes.append(entry)
        if entry.expected not in {hit.reason for hit in entry_hits}:
            result.unexpected.append((entry, reason))
    return result


@dataclass
class EmailAccounting:
    """The e-mail notifier's side of a run: one e-mail per notified (purchase) event."""

    notified: int = 0
    """Valid events of a notified type the stream accepted: the distinct events to mail."""
    sent: int = 0
    """E-mails SES accepted during the run."""
    dead_lettered: Counter[str] = field(default_factory=Counter)
    """Notified events the notifier dead-lettered (not mailed), by reason."""
    other_dead_lettered: int = 0
    """Other records the filter let through and the notifier dead-lettered: poison records
    whose eventType is a notified one (the processor dead-letters them too)."""

    @property
    def expected(self) -> int:
        """Distinct events that should have been mailed."""
        return self.notified - sum(self.dead_lettered.values())

    @property
    def duplicates(self) -> int:
        """E-mails sent minus distinct events mailed (0: no event mailed twice)."""
        return max(0, self.sent - self.expected)

    @property
    def missing(self) -> int:
        """Events neither mailed nor dead-lettered."""
        return max(0, self.expected - self.sent)

    @property
    def ok(self) -> bool:
        return self.duplicates == 0 and self.missing == 0

    def problems(self) -> str:
        lines = []
        if self.duplicates:
            lines.append(f"{self.duplicates} e-mails more than distinct events to mail")
        if self.missing:
            lines.append(f"{self.missing} events neither e-mailed nor dead-lettered")
        return "\n".join(lines)


def account_emails(
    manifest: Sequence[ManifestEntry],
    notified: Iterable[str],
    sent: int,
    messages: Iterable[DlqMessage],
    notifier: str,
) -> EmailAccounting:
    """``sent`` e-mails against the notified events of ``manifest`` (``notified``: their ids,
    see :func:`notified_events`), less those in the DLQ under the notifier's name."""
    ids = set(notified)
    entries = [entry for entry in manifest if entry.record_id in ids]
    messages = list(messages)
    dead = reconcile(entries, [], messages, consumer=notifier)
    others = [entry for entry in manifest if entry.record_id not in ids]
    return EmailAccounting(
        notified=len(entries),
        sent=sent,
        dead_lettered=dead.dead_lettered,
        other_dead_lettered=reconcile(others, [], messages, consumer=notifier).in_dlq,
    )


# --------------------------------------------------------------------------- output


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
    python = ".venv/bin/python"
    client = (
        f"boto3.client('dynamodb', endpoint_url='{endpoint}', region_name='{local_region()}', "
        "aws_access_key_id='test', aws_secret_access_key='test')"
    )
    scan = f"{client}.scan(TableName='{outputs['results_table_name']}', Limit=3)['Items']"
    return "\n".join(
        [
            "The stack is still up. Look around:",
            f"  {python} -m tools.local_stack status",
            f"  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test {python} -m tools.replay stats "
            f"--queue-url {outputs['dlq_url']} --endpoint-url {endpoint} --region {local_region()}",
            f'  {python} -c "import boto3; print({scan})"',
            f'  {python} -c "import boto3; print({client.replace("dynamodb", "ses")}'
            '.get_send_quota())"  # e-mails sent',
            f"  {python} -m tools.local_runtime status --state-dir {relative(stack.state_dir)}",
            f"  terraform -chdir={relative(stack.terraform_dir)} output",
            "Stop it: make local-down",
        ]
    )


# --------------------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.demo",
        description="make demo: the local pipeline end to end, every record accounted for.",
    )
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="the local stack's root")
    parser.add_argument("--count", type=int, default=2000, help="events (default 2000)")
    parser.add_argument("--poison-rate", type=float, default=0.02, help="default 0.02")
    parser.add_argument("--seed", type=int, default=None, help="producer seed (default: drawn)")
    parser.add_argument("--timeout", type=float, default=180.0, help="drain timeout, seconds")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console()
    stack = LocalStack(root=args.root.resolve())
    try:
        if stack.runtime_pid() is None:
            raise StackError("the local stack is not running: run `make local-up` (or make demo)")
        outputs = stack.outputs()
        endpoint = stack.endpoint
    except StackError as exc:
        console.print(f"error: {exc}")
        return 2
    kwargs = {**client_kwargs(endpoint), "config": SDK_CONFIG}
    kinesis = boto3.client("kinesis", **kwargs)
    dynamodb = boto3.client("dynamodb", **kwargs)
    sqs = boto3.client("sqs", **kwargs)

    ses = boto3.client("ses", **kwargs)
    notifier = outputs.get("email_notifier_function_name")
    sent_before = emails_sent(ses) if notifier else 0

    seed = args.seed if args.seed is not None else int(time.time())
    manifest_path = stack.root / "demo-manifest.jsonl"
    console.print(
        f"producing {args.count} events ({args.poison_rate:.0%} poison, seed {seed}) into "
        f"{outputs['stream_name']}; manifest {manifest_path}"
    )
    started = time.monotonic()
    manifest_buffer = io.StringIO()
    records = list(generate_records(args.count, seed=seed, poison_rate=args.poison_rate))
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
    render_sample(result.items, console)
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
    return status


if __name__ == "__main__":
    sys.exit(main())
