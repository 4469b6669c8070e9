"""Who the notifier may e-mail: the recipient policy, and the SES mailbox simulator.

Anyone who can write to the stream chooses the recipient of an e-mail sent from the company's
verified identity, so the recipient is checked against configuration, never trusted:

* ``ALLOWED_RECIPIENT_DOMAINS``: the domains a recipient may have (exact match, case-insensitive;
  ``shop.example`` does not admit ``mail.shop.example``). ``*`` alone admits every domain: an
  explicit choice for a shop that mails the public, which then relies on the per-recipient rate
  cap (``rate_limit.py``) and the SES reputation alarms. A recipient outside the policy is not
  sent: the record is dead-lettered as :data:`RECIPIENT_NOT_ALLOWED`.
* The SES mailbox simulator's domain (:data:`SIMULATOR_DOMAIN`) is always allowed, and not
  rate capped: its addresses reach nobody and count neither against the sending quota nor in
  the account's bounce and complaint rates (``stream-pipeline verify`` mails ``success@`` there
  on every run).
* ``MAILBOX_SIMULATOR`` (outside production): every allowed recipient is replaced by
  ``<mailbox>@simulator.amazonses.com`` (``success``, ``bounce``, ``ooto``, ``complaint`` or
  ``suppressionlist``), so a test environment exercises the whole path without mailing anyone.
  The real address is used only for the policy and the rate cap, and never logged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from stream_pipeline.kit import reason_code

NAMESPACE: Final = "email-notifier"
"""The notifier's reason code namespace (reason codes allow ``[a-z0-9-]``, not ``_``)."""
RECIPIENT_NOT_ALLOWED: Final = reason_code(NAMESPACE, "RECIPIENT_NOT_ALLOWED")
"""The recipient's domain is not in the recipient policy: not sent, dead-lettered."""

SIMULATOR_DOMAIN: Final = "simulator.amazonses.com"
SIMULATOR_MAILBOXES: Final = frozenset(
    {"success", "bounce", "ooto", "complaint", "suppressionlist"}
)
"""The SES mailbox simulator's scenarios (AWS SES developer guide, "mailbox simulator")."""
ANY_DOMAIN: Final = "*"


class RecipientNotAllowedError(Exception):
    """The recipient is outside the policy; the message says why without quoting it."""


@dataclass(frozen=True, slots=True)
class RecipientPolicy:
    allowed_domains: frozenset[str]
    """Lowercase domains; ``{"*"}``: every domain."""
    mailbox_simulator: str | None = None
    """A :data:`SIMULATOR_MAILBOXES` scenario every allowed recipient is replaced by, or None."""

    @classmethod
    def of(cls, domains: Iterable[str], mailbox_simulator: str | None = None) -> RecipientPolicy:
        return cls(frozenset(domain.strip().lower() for domain in domains), mailbox_simulator)

    def exempt_from_rate_cap(self, recipient: str) -> bool:
        """True for a mailbox simulator address named by the record itself (it reaches
        nobody); an address the simulator mode rewrites is capped as the real one."""
        return is_simulator(recipient)

    def destination(self, recipient: str) -> str:
        """The address to send to for ``recipient`` (a valid ``local-part@domain``), or
        :class:`RecipientNotAllowedError`."""
        if is_simulator(recipient):
            return recipient
        domain = recipient.rpartition("@")[2].lower()
        if ANY_DOMAIN not in self.allowed_domains and domain not in self.allowed_domains:
            msg = (
                "the recipient's domain is not in the notifier's recipient policy "
                "(ALLOWED_RECIPIENT_DOMAINS); nothing was sent"
            )
            raise RecipientNotAllowedError(msg)
        if self.mailbox_simulator is not None:
            return f"{self.mailbox_simulator}@{SIMULATOR_DOMAIN}"
        return recipient


def is_simulator(address: str) -> bool:
    """The address is the SES mailbox simulator's (its whole domain, case-insensitive)."""
    return address.rpartition("@")[2].lower() == SIMULATOR_DOMAIN
