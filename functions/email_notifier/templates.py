"""E-mail templates and their rendering: subject, text body and HTML body of one notification.

Templates are ``string.Template`` texts (``${name}`` placeholders) kept in code, one per event
type (:data:`TEMPLATES`); ``NOTIFY_EVENT_TYPES`` may only name types listed there. The values
come from :func:`template_values` and are the same for every template:

``event_id`` (alias ``order_id``), ``user_id``, ``product_id``, ``product`` (``productName``,
else ``productId``), ``quantity``, ``unit_price``, ``total``, ``placed_at`` (the event's
timestamp, UTC).

Safety rules applied by :func:`render`, whatever the template:

* every value is reduced to one line (control and format characters dropped, line breaks and
  other whitespace runs collapsed to one space), so no value can add lines to a body;
* every value is cut to :data:`MAX_VALUE_CHARS` characters, and the producer's free text, the
  product name, to :data:`MAX_PRODUCT_CHARS` (an ellipsis marks the cut), before escaping: a
  producer cannot fill an e-mail with its own text;
* every value is HTML-escaped (``&<>"'``) in the HTML body -- a product name holding markup or
  a script arrives as text;
* the subject is one line (no CR/LF: nothing can be smuggled into the message headers) of at most
  :data:`MAX_SUBJECT_CHARS` characters.

A template that references an unknown placeholder, or holds an invalid ``$``, raises
:class:`TemplateError`: a permanent error of the record (dead-lettered as
``NOTIFICATION_REJECTED``; replay it once the template is fixed).
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from string import Template
from typing import Final

from email_notifier.models import NotificationFields, NotifierEvent

MAX_SUBJECT_CHARS: Final = 200
MAX_VALUE_CHARS: Final = 128
"""Every placeholder's value (the longest legitimate one, an eventId, has 128)."""
MAX_PRODUCT_CHARS: Final = 80
"""``product``: the product name, the one free text a producer writes into an e-mail."""
VALUE_CAPS: Final = {"product": MAX_PRODUCT_CHARS}
NOT_AVAILABLE: Final = "n/a"


class TemplateError(ValueError):
    """The template cannot be rendered (unknown placeholder, invalid ``$``)."""


@dataclass(frozen=True, slots=True)
class EmailTemplate:
    name: str
    """Stable identifier (part of the idempotency key: renaming one re-sends replayed events)."""
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    template: str
    subject: str
    text: str
    html: str


def single_line(value: str) -> str:
    """Control characters dropped, whitespace runs (CR, LF, tabs, U+2028, ...) -> one space."""
    visible = "".join(
        char for char in value if char.isspace() or unicodedata.category(char) not in {"Cc", "Cf"}
    )
    return " ".join(visible.split())


def shorten(text: str, limit: int) -> str:
    """``text`` when it has at most ``limit`` characters, else its start and an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "\N{HORIZONTAL ELLIPSIS}"


def _subject(text: str) -> str:
    return shorten(single_line(text), MAX_SUBJECT_CHARS)


def render(template: EmailTemplate, values: Mapping[str, str]) -> RenderedEmail:
    """Subject, text and HTML of ``template`` with ``values`` (see the module's safety rules)."""
    plain = {
        name: shorten(single_line(value), VALUE_CAPS.get(name, MAX_VALUE_CHARS))
        for name, value in values.items()
    }
    escaped = {name: html.escape(value, quote=True) for name, value in plain.items()}
    try:
        subject = _subject(Template(template.subject).substitute(plain))
        text = Template(template.text).substitute(plain)
        body = Template(template.html).substitute(escaped)
    except KeyError as exc:
        msg = f"template {template.name!r} uses the unknown placeholder ${{{exc.args[0]}}}"
        raise TemplateError(msg) from exc
    except ValueError as exc:
        msg = f"template {template.name!r} cannot be rendered: {exc}"
        raise TemplateError(msg) from exc
    return RenderedEmail(template=template.name, subject=subject, text=text, html=body)


def _amount(cents: int, currency: str | None) -> str:
    units, rest = divmod(cents, 100)
    amount = f"{units:,}.{rest:02d}"
    return f"{amount} {currency}" if currency else amount


def template_values(
    event: NotifierEvent, event_id: str, fields: NotificationFields
) -> dict[str, str]:
    """The placeholders' values for one event (plain text; :func:`render` escapes them).
    ``event_id``: the event's ``eventId``, or its derived id when it has none."""
    quantity = fields.quantity or 1
    placed_at = datetime.fromtimestamp(event.timestamp / 1000, UTC)
    return {
        "event_id": event_id,
        "order_id": event_id,
        "user_id": event.userId,
        "product_id": event.productId,
        "product": fields.productName or event.productId,
        "quantity": str(quantity),
        "unit_price": (
            _amount(fields.priceCents, fields.currency)
            if fields.priceCents is not None
            else NOT_AVAILABLE
        ),
        "total": (
            _amount(fields.priceCents * quantity, fields.currency)
            if fields.priceCents is not None
            else NOT_AVAILABLE
        ),
        "placed_at": placed_at.strftime("%Y-%m-%d %H:%M UTC"),
    }


ORDER_CONFIRMATION: Final = EmailTemplate(
    name="order-confirmation",
    subject="Your order confirmation: ${product}",
    text="""\
Hello,

thank you for your order. Here is a summary:

  Product:    ${product} (${product_id})
  Quantity:   ${quantity}
  Unit price: ${unit_price}
  Total:      ${total}
  Order:      ${order_id}
  Placed at:  ${placed_at}

You receive this e-mail because an order was placed with this address.
""",
    html="""\
<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Your order confirmation</title></head>
<body>
<p>Hello,</p>
<p>thank you for your order. Here is a summary:</p>
<table>
<tr><th align="left">Product</th><td>${product} (${product_id})</td></tr>
<tr><th align="left">Quantity</th><td>${quantity}</td></tr>
<tr><th align="left">Unit price</th><td>${unit_price}</td></tr>
<tr><th align="left">Total</th><td>${total}</td></tr>
<tr><th align="left">Order</th><td>${order_id}</td></tr>
<tr><th align="left">Placed at</th><td>${placed_at}</td></tr>
</table>
<p>You receive this e-mail because an order was placed with this address.</p>
</body>
</html>
""",
)

TEMPLATES: Final[Mapping[str, EmailTemplate]] = {"purchase": ORDER_CONFIRMATION}
"""Event type -> its notification."""
