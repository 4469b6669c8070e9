"""Authentication of DLQ envelopes: an HMAC made by the pipeline's functions with a KMS HMAC key.

Any principal allowed ``sqs:SendMessage`` could otherwise plant an envelope naming chosen bytes,
coordinates and claim-check objects, and the payload's sha256 in the same message proves nothing.
The functions that write envelopes (the consumers through the kit's DLQ publisher, the hydrate
function, the e-mail notifier) may ``kms:GenerateMac`` with the pipeline's key; the replay role
may only ``kms:VerifyMac``. The key never leaves KMS.

What is authenticated: the envelope's JSON object without its ``envelope_mac`` field, as
:func:`~stream_pipeline.runtime.dlq_envelope.canonical_json` (sorted keys, no whitespace), so
every field counts -- payload hash and length, coordinates, claim-check location, reason, and
fields a newer writer adds that this reader does not know. KMS takes at most 4096 bytes per
message, an envelope up to 256 KiB: the MAC is over a domain-separated SHA-256 of those bytes.

Cost: one GenerateMac per dead-lettered record (never per good record), one VerifyMac per DLQ
message replayed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from stream_pipeline.runtime.aws_errors import AWS_SDK_ERRORS, describe_exception, error_code
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, canonical_json

MAC_KEY_VARIABLE: Final = "DLQ_MAC_KEY_ARN"
"""Environment variable naming the KMS HMAC key the function signs its envelopes with."""
MAC_FIELD: Final = "envelope_mac"
MAC_ALGORITHM: Final = "HMAC_SHA_256"
MAC_DOMAIN: Final = b"stream-pipeline/dlq-envelope/v1\n"
"""Prefix of the MAC'd message: a MAC made for an envelope means nothing anywhere else."""
MAC_FIELD_BYTES: Final = len(f',"{MAC_FIELD}":""') + 44
"""What the field adds to an envelope's JSON (44: base64 of a 32-byte HMAC-SHA-256)."""
UNSIGNED: Final = "unsigned: it carries no envelope_mac"
"""Why of a message without MAC (written before envelopes were signed, or forged)."""


_KMS_KEY_ARN: Final = re.compile(
    r"arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(?:key/[A-Za-z0-9-]{1,128}|alias/[A-Za-z0-9/_-]{1,250})"
)


def mac_key_from_env(env: Mapping[str, str]) -> str | None:
    """The function's MAC key (``DLQ_MAC_KEY_ARN``), None when unset; ValueError when it is not
    a KMS key or alias ARN (a deployment mistake worth failing on)."""
    key = env.get(MAC_KEY_VARIABLE, "").strip() or None
    if key is not None and not _KMS_KEY_ARN.fullmatch(key):
        msg = f"environment variable {MAC_KEY_VARIABLE} must be a KMS key ARN, got {key!r:.200}"
        raise ValueError(msg)
    return key


class EnvelopeMacError(Exception):
    """The envelope could not be signed (KMS refused or was unreachable); ``str()`` says why."""


def mac_message(document: Mapping[str, Any]) -> bytes:
    """The bytes MAC'd for an envelope's JSON object (its ``envelope_mac`` left out)."""
    unsigned = {name: value for name, value in document.items() if name != MAC_FIELD}
    return MAC_DOMAIN + hashlib.sha256(canonical_json(unsigned)).hexdigest().encode("ascii")


class EnvelopeSigner:
    """Adds ``envelope_mac`` to envelopes with ``kms:GenerateMac`` on ``key_id``."""

    def __init__(
        self, kms: Any, key_id: str, *, kms_factory: Callable[[], Any] | None = None
    ) -> None:
        self._kms = kms
        self._factory = kms_factory
        self.key_id = key_id

    @classmethod
    def configured(
        cls, key_id: str | None, kms_factory: Callable[[], Any]
    ) -> EnvelopeSigner | None:
        """The signer of a function configured with a key (``DLQ_MAC_KEY_ARN``), None without.
        Its KMS client comes from ``kms_factory`` when the first envelope is signed: a cold
        start, and an invocation without poison records, pay nothing for it."""
        return cls(None, key_id, kms_factory=kms_factory) if key_id is not None else None

    def client(self) -> Any:
        """The KMS client, made now if needed (call it on one thread before signing on many:
        boto3 does not create clients thread-safely)."""
        if self._kms is None:
            if self._factory is None:
                msg = f"envelope not signed with {self.key_id}: no KMS client"
                raise EnvelopeMacError(msg)
            self._kms = self._factory()
        return self._kms

    def sign(self, envelope: DlqEnvelope) -> DlqEnvelope:
        document = json.loads(envelope.model_copy(update={MAC_FIELD: None}).to_json())
        document.pop(MAC_FIELD, None)
        try:
            response = self.client().generate_mac(
                KeyId=self.key_id, MacAlgorithm=MAC_ALGORITHM, Message=mac_message(document)
            )
        except AWS_SDK_ERRORS as exc:
            msg = f"envelope not signed with {self.key_id}: {describe_exception(exc)}"
            raise EnvelopeMacError(msg) from exc
        mac = base64.b64encode(response["Mac"]).decode("ascii")
        return envelope.model_copy(update={MAC_FIELD: mac})


class EnvelopeVerifier:
    """Checks a DLQ message's ``envelope_mac`` with ``kms:VerifyMac`` on the configured key --
    never a key the message names."""

    def __init__(self, kms: Any, key_id: str) -> None:
        self._kms = kms
        self.key_id = key_id

    def problem(self, body: str | bytes) -> str | None:
        """None when the message is an envelope signed with the key, else why not. A missing
        MAC is reported as :data:`UNSIGNED` (the caller decides whether to accept it)."""
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return "not a JSON object"
        if not isinstance(document, dict):
            return "not a JSON object"
        mac_text = document.get(MAC_FIELD)
        if mac_text is None:
            return UNSIGNED
        try:
            mac = base64.b64decode(str(mac_text), validate=True)
        except (binascii.Error, ValueError):
            return "forged or altered: its envelope_mac is not base64"
        if not mac:
            return "forged or altered: its envelope_mac is empty"
        try:
            response = self._kms.verify_mac(
                KeyId=self.key_id,
                MacAlgorithm=MAC_ALGORITHM,
                Message=mac_message(document),
                Mac=mac,
            )
        except AWS_SDK_ERRORS as exc:
            if error_code(exc) == "KMSInvalidMacException":
                return self._mismatch()
            return f"its envelope_mac cannot be checked now: {describe_exception(exc)}"
        return None if response.get("MacValid") else self._mismatch()

    def _mismatch(self) -> str:
        return f"forged or altered: its envelope_mac does not match its content for {self.key_id}"
