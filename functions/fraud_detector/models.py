"""The fields of a retail event the fraud detector reads (the producer's schema, docs/producer.md).
Unknown fields are allowed and ignored."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MIN_TIMESTAMP_MS: Final = 946_684_800_000
"""2000-01-01T00:00:00Z, as the stream processor's schema: also rejects epoch seconds."""
MAX_TIMESTAMP_MS: Final = 4_102_444_800_000
"""2100-01-01T00:00:00Z (exclusive): 13 digits, the history's key prefix."""
MAX_AMOUNT: Final = Decimal("1000000000")


class FraudEvent(BaseModel):
    """A purchase or add-to-cart. ``country``/``currency``/``amount`` may be missing (an older
    producer): a rule that needs one then does not apply to the event."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    userId: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    eventType: Annotated[str, StringConstraints(max_length=128)]
    timestamp: Annotated[int, Field(ge=MIN_TIMESTAMP_MS, lt=MAX_TIMESTAMP_MS)]
    """Epoch milliseconds: the event time every window is measured in."""
    eventId: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    sessionId: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    """ISO 3166-1 alpha-2, upper case."""
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    """ISO 4217."""
    amount: Annotated[float, Field(ge=0, le=float(MAX_AMOUNT))] | None = None
    """Major units (quantity x price)."""

    def amount_cents(self) -> int:
        """The amount in minor units (2 decimals), 0 without one. Through its decimal text, so
        ``19.99`` is 1999 cents, not 1998."""
        if self.amount is None:
            return 0
        return int((Decimal(repr(self.amount)) * 100).to_integral_value())
