"""The fraud detector's settings: its tables, its alert topic and the rules' thresholds, read
once from the environment (modules/fraud-detector sets them from its validated inputs).

The DLQ, the claim-check bucket and the envelopes' ``consumer`` name are the consumer kit's
settings; the kit checks :data:`REQUIRED_VARIABLES` with its own, so the cold start's error
names every missing variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

from stream_pipeline.kit import ConfigurationError

NAME: Final = "fraud_detector"
REQUIRED_VARIABLES: Final = ("HISTORY_TABLE_NAME", "FLAGS_TABLE_NAME", "ALERT_TOPIC_ARN")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The rules' limits; a rule trips when a count or amount is *more than* its limit.
    The defaults are modules/fraud-detector's."""

    purchase_count: int = 5
    """Purchases of one user in ``velocity_window_seconds``."""
    purchase_amount_cents: int = 100_000
    """Amount of one user's purchases in one currency in ``velocity_window_seconds``."""
    velocity_window_seconds: int = 600
    cart_burst_count: int = 6
    """Add-to-carts of one session in ``cart_burst_window_seconds``."""
    cart_burst_window_seconds: int = 300
    history_ttl_seconds: int = 90 * 24 * 3600
    """How long an event is remembered (DynamoDB TTL from its event time): the new-country
    rule's memory, and what a replay can still be evaluated against."""


# variable -> (Thresholds field, lowest, highest): the module's validated ranges.
_INTEGER_VARIABLES: Final = {
    "PURCHASE_COUNT_THRESHOLD": ("purchase_count", 1, 1_000),
    "VELOCITY_WINDOW_SECONDS": ("velocity_window_seconds", 60, 86_400),
    "CART_BURST_THRESHOLD": ("cart_burst_count", 1, 1_000),
    "CART_BURST_WINDOW_SECONDS": ("cart_burst_window_seconds", 60, 86_400),
    "HISTORY_TTL_SECONDS": ("history_ttl_seconds", 86_400, 31_536_000),
}
AMOUNT_VARIABLE: Final = "PURCHASE_AMOUNT_THRESHOLD"
AMOUNT_RANGE: Final = (Decimal("0.01"), Decimal("10000000"))


@dataclass(frozen=True, slots=True)
class Settings:
    history_table_name: str
    flags_table_name: str
    alert_topic_arn: str
    thresholds: Thresholds = Thresholds()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; the error names every missing or invalid variable."""
        env = os.environ if environ is None else environ
        problems = [
            f"missing {name}" for name in REQUIRED_VARIABLES if not env.get(name, "").strip()
        ]
        values: dict[str, int] = {}
        for name, (field, low, high) in _INTEGER_VARIABLES.items():
            raw = env.get(name, "").strip()
            if not raw:
                continue
            try:
                number = int(raw)
            except ValueError:
                number = low - 1
            if not low <= number <= high:
                problems.append(f"{name} must be a whole number from {low} to {high}, got {raw!r}")
            else:
                values[field] = number
        raw_amount = env.get(AMOUNT_VARIABLE, "").strip()
        if raw_amount:
            try:
                amount = Decimal(raw_amount)
            except InvalidOperation:
                amount = Decimal(-1)
            lowest, highest = AMOUNT_RANGE
            if not (
                amount.is_finite() and lowest <= amount <= highest and amount == round(amount, 2)
            ):
                problems.append(
                    f"{AMOUNT_VARIABLE} must be an amount from {lowest} to {highest} with "
                    f"at most 2 decimals, got {raw_amount!r}"
                )
            else:
                values["purchase_amount_cents"] = int(amount * 100)
        if problems:
            raise ConfigurationError(f"{NAME}: " + "; ".join(problems))
        return cls(
            history_table_name=env["HISTORY_TABLE_NAME"].strip(),
            flags_table_name=env["FLAGS_TABLE_NAME"].strip(),
            alert_topic_arn=env["ALERT_TOPIC_ARN"].strip(),
            thresholds=Thresholds(**values),
        )
