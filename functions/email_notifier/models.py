"""What the notifier reads from an event: :class:`NotifierEvent`, the fields every record must
have (validated by the consumer kit), and :class:`NotificationFields`, the fields of a notified
event (validated only for the event types that are notified).

The recipient is the event's ``email`` field. It must be a
plain address (``local-part@domain``) SES can deliver to; :func:`check_address` is deliberately
stricter than RFC 5322 (no display names, comments, quoted local parts, IP-literal domains or
non-ASCII characters), because anything else is a producer bug rather than a real customer
address, and an address SES refuses would cost a call and a ``BadRequestException``.

Validation messages name the rule that was broken, never the address itself (it is personal
data and ends up in logs and in the dead-letter envelope's reason).
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

MIN_TIMESTAMP_MS: Final = 946_684_800_000
"""2000-01-01T00:00:00Z. Also rejects epoch *seconds* sent by mistake."""
MAX_TIMESTAMP_MS: Final = 4_102_444_800_000
"""2100-01-01T00:00:00Z (exclusive)."""

MAX_ADDRESS_CHARS: Final = 254
"""RFC 5321 path limit (256) minus the angle brackets."""
MAX_LOCAL_PART_CHARS: Final = 64
MAX_DOMAIN_CHARS: Final = 253

_ATEXT: Final = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM: Final = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_DOMAIN_LABEL: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


class InvalidAddressError(ValueError):
    """Not an address the notifier sends to; the message says which rule it breaks."""


def check_address(value: str) -> str:
    """``value`` unchanged when it is a plain ``local-part@domain`` address, else
    :class:`InvalidAddressError` naming the broken rule (never the value)."""
    if not value:
        msg = "is empty"
        raise InvalidAddressError(msg)
    if len(value) > MAX_ADDRESS_CHARS:
        msg = f"is longer than {MAX_ADDRESS_CHARS} characters"
        raise InvalidAddressError(msg)
    if not value.isascii():
        msg = "must be ASCII (an internationalised domain must be given in punycode)"
        raise InvalidAddressError(msg)
    if any(char.isspace() or not char.isprintable() for char in value):
        msg = "contains whitespace or control characters"
        raise InvalidAddressError(msg)
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        msg = "must have the form local-part@domain"
        raise InvalidAddressError(msg)
    if len(local) > MAX_LOCAL_PART_CHARS:
        msg = f"has a local part longer than {MAX_LOCAL_PART_CHARS} characters"
        raise InvalidAddressError(msg)
    if not _DOT_ATOM.fullmatch(local):
        msg = (
            "has an invalid local part (letters, digits and !#$%&'*+/=?^_`{|}~- in runs "
            "separated by single dots; no quotes, no second @)"
        )
        raise InvalidAddressError(msg)
    labels = domain.split(".")
    if (
        len(domain) > MAX_DOMAIN_CHARS
        or len(labels) < 2
        or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        msg = "has an invalid domain (a host name with at least two labels is required)"
        raise InvalidAddressError(msg)
    return value


def _address(value: str) -> str:
    try:
        return check_address(value)
    except InvalidAddressError as exc:
        # pydantic reports ValueErrors as "Value error, <message>".
        msg = f"not a valid e-mail address: it {exc}"
        raise ValueError(msg) from exc


EmailAddress = Annotated[str, AfterValidator(_address)]


class NotifierEvent(BaseModel):
    """The fields of a stream event the notifier reads, validated strictly for every record
    (same bounds as the retail schema's); other fields are ignored here.

    A violation is a permanent error of the record (dead-lettered as ``SCHEMA_VIOLATION`` by
    the consumer kit). The event id is ``eventId`` or, without one, the kit's derived id
    (``StreamRecord.derived_id``: ``sha256-`` + sha256 of the canonical JSON payload).
    """

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    userId: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    eventType: Annotated[str, StringConstraints(max_length=128)]
    productId: Annotated[str, StringConstraints(max_length=256)]
    timestamp: Annotated[int, Field(ge=MIN_TIMESTAMP_MS, lt=MAX_TIMESTAMP_MS)]
    """Epoch milliseconds."""
    eventId: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None


class NotificationFields(BaseModel):
    """The event's fields a notification uses, validated strictly; other fields are ignored.

    A violation is a permanent error of the record (dead-lettered as ``SCHEMA_VIOLATION``): the
    event is valid for the stream, but not notifiable.
    """

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    email: EmailAddress
    """The recipient."""
    productName: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None
    """Shown instead of ``productId`` when present."""
    quantity: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    """Defaults to 1."""
    priceCents: Annotated[int, Field(ge=0, le=10**12)] | None = None
    """Unit price in the currency's minor unit; the total is ``priceCents * quantity``."""
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    """ISO 4217 code shown after the amounts, when present."""
