"""The replay's and the statistics' tables (rich)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from rich.console import Console
from rich.table import Table

from stream_pipeline.replay.bucket import BUCKET_STATS_COLUMNS, Bucket
from stream_pipeline.replay.model import (
    STATS_COLUMNS,
    Outcome,
    QueueAttributes,
    ReplayReport,
    StatsReport,
)


@dataclass(frozen=True, slots=True)
class ReportText:
    """What the replay tables call the source and its items."""

    title: str = "DLQ replay"
    source: str | None = None
    """Printed above the tables when set (a bucket URI: too long for a title)."""
    items: str = "messages"
    kept_title: str = "left in the queue"
    item_id: str = "message id"
    envelope_ids: bool = True
    """Kept items name their envelope (DLQ messages; an S3 object holds a whole batch)."""
    volume: str = "records put: {records} in {requests} PutRecords call(s)"


DLQ_TEXT: Final = ReportText()
REDRIVE_TEXT: Final = ReportText(
    title="DLQ redrive (each record to the consumer named in its envelope)",
    volume="records handed to their consumer: {records} in {requests} invocation(s)",
)
INSPECT_WARNING: Final = (
    "warning: --inspect receives every message, and each receive counts: SQS leaves a message "
    "received 3 or more times out of ApproximateAgeOfOldestMessage, the metric the DLQ age "
    "alarm watches. Without --inspect, stats reads only the queue's attributes."
)


def render_replay(report: ReplayReport, console: Console, text: ReportText = DLQ_TEXT) -> None:
    done = Outcome.WOULD_REPLAY if report.dry_run else Outcome.REPLAYED
    if text.source:
        console.print(f"{text.title}: {text.source}")
    table = Table(title=text.title + (" (dry run: nothing put, nothing deleted)" * report.dry_run))
    table.add_column("reason")
    for name in (text.items, done.value, "kept", "filtered out"):
        table.add_column(name, justify="right")
    totals: Counter[Outcome] = Counter()
    for label in sorted(report.counts):
        counter = report.counts[label]
        totals.update(counter)
        table.add_row(
            label,
            str(sum(counter.values())),
            str(counter[done]),
            str(counter[Outcome.KEPT]),
            str(counter[Outcome.FILTERED]),
        )
    table.add_section()
    table.add_row(
        "total",
        str(sum(totals.values())),
        str(totals[done]),
        str(totals[Outcome.KEPT]),
        str(totals[Outcome.FILTERED]),
    )
    console.print(table)
    if report.kept:
        kept = Table(title=text.kept_title)
        # Ids whole, on one line (S3 keys are long): they are what one copies.
        widest = max(len(item.message_id) for item in report.kept)
        kept.add_column(text.item_id, no_wrap=True, min_width=widest)
        for name in ("envelope id", "reason", "why") if text.envelope_ids else ("reason", "why"):
            kept.add_column(name, overflow="fold")
        for item in report.kept:
            cells = (item.message_id, item.envelope_id or "-", item.label, item.why)
            kept.add_row(*(cells if text.envelope_ids else (cells[0], *cells[2:])))
        console.print(kept)
    volume = text.volume.format(records=report.records_put, requests=report.put_requests)
    console.print(f"{volume}; duplicate envelopes: {report.duplicates}")


def render_stats(
    report: StatsReport,
    console: Console,
    *,
    title: str = "DLQ contents",
    source: str | None = None,
    columns: Sequence[str] = STATS_COLUMNS,
) -> None:
    if source:
        console.print(f"{title}: {source}")
    table = Table(title=title)
    table.add_column("reason")
    for name in columns:
        table.add_column(name, justify="right")
    table.add_column("oldest failure")
    for label in sorted(report.counts):
        counter = report.counts[label]
        oldest = report.oldest.get(label)
        table.add_row(
            label,
            *(str(counter[name]) for name in columns),
            oldest.isoformat() if oldest else "-",
        )
    console.print(table)
    for stream, count in report.streams.most_common():
        console.print(f"{count:>8}  {stream}")
    if report.received_three_times:
        console.print(
            f"{report.received_three_times} message(s) have now been received 3 or more times: "
            "SQS leaves them out of ApproximateAgeOfOldestMessage (the DLQ age alarm)"
        )


def _number(value: int | None) -> str:
    return "?" if value is None else str(value)


def render_queue_attributes(queue: QueueAttributes, console: Console) -> None:
    """The DLQ as its attributes describe it: no message received."""
    table = Table(title="DLQ (queue attributes; no message received)")
    for name in ("visible", "in flight", "delayed", "oldest message age"):
        table.add_column(name, justify="right")
    age = (
        f"{queue.oldest_age_seconds:.0f} s"
        if queue.oldest_age_seconds is not None
        else f"- ({queue.oldest_age_note})"
    )
    table.add_row(_number(queue.visible), _number(queue.in_flight), _number(queue.delayed), age)
    console.print(table)
    console.print(
        "messages per reason: stats --inspect (receives each message once: see docs/replay.md)"
    )


def bucket_report_text(bucket: Bucket) -> ReportText:
    return ReportText(
        title="S3 on-failure replay",
        source=bucket.uri,
        items="objects",
        kept_title="left in the bucket",
        item_id="object key",
        envelope_ids=False,
    )


def render_bucket_stats(report: StatsReport, bucket: Bucket, console: Console) -> None:
    render_stats(
        report,
        console,
        title="S3 on-failure objects",
        source=bucket.uri,
        columns=BUCKET_STATS_COLUMNS,
    )
