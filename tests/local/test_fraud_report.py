"""The demo's fraud section: flags read from the table, accounted against the producer's
planted users (each planted (user, rule) flagged once, no one else), and rendered."""

from __future__ import annotations

import io
import json
from typing import Any

from rich.console import Console

from stream_pipeline.local.fraud_report import account_fraud, planted_fraud, render_fraud

T0 = 1_750_000_000_000


def manifest_line(user: str, *, planted: str | None = None, status: str = "sent") -> str:
    line: dict[str, Any] = {"id": f"e-{user}", "partitionKey": user, "status": status}
    if planted:
        line["planted"] = planted
    return json.dumps(line)


def flag(user: str, rule: str) -> dict[str, Any]:
    return {
        "userId": user,
        "rule": rule,
        "flagKey": f"{rule}#{T0}",
        "observed": "6",
        "threshold": "5",
        "windowStart": T0,
        "windowEnd": T0 + 1000,
    }


MANIFEST = "\n".join(
    [
        manifest_line("fraud-1", planted="purchase-velocity"),
        manifest_line("fraud-2", planted="cart-burst"),
        manifest_line("clean-1"),
        manifest_line("refused", planted="new-country", status="failed"),
    ]
)


def test_planted_users_come_from_the_records_the_stream_accepted() -> None:
    planted, users = planted_fraud(MANIFEST)

    assert planted == {("fraud-1", "purchase-velocity"), ("fraud-2", "cart-burst")}
    assert users == {"fraud-1", "fraud-2", "clean-1"}


def test_flags_exactly_as_planted_are_ok_and_other_runs_users_are_ignored() -> None:
    # GIVEN one flag per planted pair, and a flag of a user of an earlier run
    planted, users = planted_fraud(MANIFEST)
    flags = [flag("fraud-1", "purchase-velocity"), flag("fraud-2", "cart-burst"), flag("old", "x")]

    # WHEN accounted
    result = account_fraud(planted, users, flags)

    # THEN ok; the earlier run's flag is not counted
    assert result.ok
    assert len(result.flags) == 2


def test_a_missed_a_doubled_and_a_wrong_flag_are_each_reported() -> None:
    # GIVEN fraud-1 flagged twice, fraud-2 not at all, the clean user flagged
    planted, users = planted_fraud(MANIFEST)
    flags = [
        flag("fraud-1", "purchase-velocity"),
        {**flag("fraud-1", "purchase-velocity"), "flagKey": "purchase-velocity#1"},
        flag("clean-1", "new-country"),
    ]

    # WHEN accounted and rendered
    result = account_fraud(planted, users, flags)
    out = io.StringIO()
    render_fraud(result, Console(file=out, width=200, no_color=True))

    # THEN not ok, and each problem is named
    assert not result.ok
    assert result.missed == {("fraud-2", "cart-burst")}
    assert result.flagged_twice == {("fraud-1", "purchase-velocity")}
    assert result.wrongly_flagged == {("clean-1", "new-country")}
    assert "planted, not flagged: fraud-2 cart-burst" in result.problems()
    text = out.getvalue()
    assert "clean-1" in text
    assert "NO" in text
