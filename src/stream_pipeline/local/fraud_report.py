"""The fraud detector's side of ``make demo`` and of the e2e suite: the flags it raised, read
from its flags table, against the fraudulent users the producer planted (the manifest's
``planted`` field): each planted (user, rule) flagged exactly once, no other user flagged."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from rich.console import Console
from rich.table import Table

FLAGS_OUTPUT = "fraud_flags_table_name"
"""The environments' output naming the flags table."""


def planted_fraud(manifest_text: str) -> tuple[set[tuple[str, str]], set[str]]:
    """From a producer manifest: the planted (user, rule) pairs, and every user of the run
    (the partition key is the user) -- records the stream accepted only."""
    planted: set[tuple[str, str]] = set()
    users: set[str] = set()
    for line in manifest_text.splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        if entry.get("status") != "sent":
            continue
        users.add(str(entry["partitionKey"]))
        if entry.get("planted"):
            planted.add((str(entry["partitionKey"]), str(entry["planted"])))
    return planted, users


def read_flags(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every flag of the table, as plain values."""
    deserializer = TypeDeserializer()
    flags: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        flags += [
            {name: deserializer.deserialize(value) for name, value in item.items()}
            for item in page["Items"]
        ]
    return flags


@dataclass
class FraudAccounting:
    planted: set[tuple[str, str]]
    flags: list[dict[str, Any]]
    """The flags of this run's users (a table kept between runs holds others)."""
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def found(self) -> set[tuple[str, str]]:
        return {pair for pair in self.planted if self.counts[pair] >= 1}

    @property
    def missed(self) -> set[tuple[str, str]]:
        return self.planted - self.found

    @property
    def flagged_twice(self) -> set[tuple[str, str]]:
        return {pair for pair, count in self.counts.items() if count > 1}

    @property
    def wrongly_flagged(self) -> set[tuple[str, str]]:
        """Flags of a clean user, or of a planted user for a rule not planted for it."""
        return set(self.counts) - self.planted

    @property
    def ok(self) -> bool:
        return not (self.missed or self.flagged_twice or self.wrongly_flagged)

    def problems(self) -> str:
        lines = [f"planted, not flagged: {user} {rule}" for user, rule in sorted(self.missed)]
        lines += [
            f"flagged {self.counts[pair]} times: {pair[0]} {pair[1]}"
            for pair in sorted(self.flagged_twice)
        ]
        lines += [f"not planted: {u} {r}" for u, r in sorted(self.wrongly_flagged)]
        return "\n".join(lines)


def account_fraud(
    planted: set[tuple[str, str]], users: Iterable[str], flags: Sequence[Mapping[str, Any]]
) -> FraudAccounting:
    run_users = set(users)
    mine = [dict(flag) for flag in flags if flag.get("userId") in run_users]
    counts = Counter((str(flag["userId"]), str(flag["rule"])) for flag in mine)
    return FraudAccounting(planted=planted, flags=mine, counts=counts)


def _seen(flag: Mapping[str, Any]) -> str:
    """What the rule saw against its limit; amounts (stored in cents) in major units."""
    seen, limit = str(flag.get("observed")), str(flag.get("threshold"))
    if flag.get("rule") == "purchase-amount" and seen.isdigit() and limit.isdigit():
        currency = f" {flag['currency']}" if flag.get("currency") else ""
        return f"{int(seen) / 100:.2f}{currency} / {int(limit) / 100:.2f}"
    return f"{seen} / {limit}"


def _window(start_ms: Any, end_ms: Any) -> str:
    """``HH:MM:SS.mmm +N.NN s``: where the window starts and how long it lasted."""
    start = datetime.fromtimestamp(int(start_ms) / 1000, tz=UTC)
    seconds = (int(end_ms) - int(start_ms)) / 1000
    return f"{start.strftime('%H:%M:%S.%f')[:-3]} +{seconds:.2f} s"


def render_fraud(result: FraudAccounting, console: Console) -> None:
    table = Table(title="fraud detector: flags raised for this run's users")
    table.add_column("user", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("seen / limit")
    table.add_column("window (event time, UTC)")
    table.add_column("planted", no_wrap=True)
    for flag in sorted(result.flags, key=lambda f: (str(f["rule"]), str(f["userId"]))):
        pair = (str(flag["userId"]), str(flag["rule"]))
        planted = "[green]yes[/green]" if pair in result.planted else "[bold red]NO[/bold red]"
        table.add_row(
            pair[0][:13] + ("…" if len(pair[0]) > 13 else ""),  # user-<8 hex>: enough to tell
            pair[1],
            _seen(flag),
            _window(flag["windowStart"], flag["windowEnd"]),
            planted,
        )
    console.print(table)
    summary = Table(show_header=False)
    summary.add_column("what")
    summary.add_column("count", justify="right")
    summary.add_row(
        "fraudulent users planted by the producer (user, rule)", str(len(result.planted))
    )
    summary.add_row("  found: flagged", str(len(result.found)))
    for label, pairs in (
        ("  missed: not flagged", result.missed),
        ("flagged more than once", result.flagged_twice),
        ("clean users (or rules) flagged", result.wrongly_flagged),
    ):
        style = "bold red" if pairs else "bold green"
        summary.add_row(f"[{style}]{label}[/{style}]", f"[{style}]{len(pairs)}[/{style}]")
    console.print(summary)


def report_fraud(
    dynamodb: Any, outputs: Mapping[str, Any], manifest_text: str, console: Console
) -> FraudAccounting | None:
    """The demo's fraud section: None when the stack has no fraud detector."""
    table = outputs.get(FLAGS_OUTPUT)
    if not table:
        return None
    planted, users = planted_fraud(manifest_text)
    result = account_fraud(planted, users, read_flags(dynamodb, str(table)))
    render_fraud(result, console)
    if result.ok:
        console.print(
            "[bold green]fraud: every planted fraudulent user flagged once, no clean user "
            "flagged[/]"
        )
    else:
        console.print(f"[bold red]fraud flags are NOT as planted[/bold red]\n{result.problems()}")
    return result
