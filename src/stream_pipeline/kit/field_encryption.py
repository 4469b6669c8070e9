"""Field-level encryption of a consumer's sensitive attributes before they reach DynamoDB.

A pipeline declares its sensitive fields (``SENSITIVE_FIELDS``, e.g. ``email``) and the KMS key
that protects them (``FIELD_ENCRYPTION_KEY_ARN``). Before the kit's DynamoDB sink writes an
item, every top-level attribute of that name is replaced by an AWS Encryption SDK message
(Powertools' data masking with ``AWSEncryptionSDKProvider``) stored as a Binary attribute:

* envelope encryption: a data key from KMS ``GenerateDataKey`` encrypts the value (AES-256-GCM
  with key commitment); KMS encrypts the data key, which travels inside the message;
* encryption context ``{"table": <table name>, "field": <attribute name>}``: authenticated with
  the value, sent to KMS with the data key, so a reader's ``kms:Decrypt`` can be limited to one
  table and its fields (``kms:EncryptionContext:table`` / ``:field`` conditions), and a value
  copied to another attribute or table no longer decrypts;
* data keys are cached (per encryption context, :data:`MAX_CACHE_AGE_SECONDS`,
  :data:`MAX_MESSAGES_ENCRYPTED`): one KMS call per field and cache period, not per record;
* no digital signature (``AES_256_GCM_HKDF_SHA512_COMMIT_KEY``): the only parties holding
  ``kms:Decrypt`` are readers that cannot write the table, and the signing suite costs about
  four times the CPU and 200 more bytes per value (docs/security.md).

The consumer's role only *encrypts* (``kms:GenerateDataKey``): it cannot decrypt what it
stored. Readers decrypt with :class:`FieldDecryptor` and the policy the pipeline outputs
(``results_reader_policy_json``).

What is encrypted is the value's JSON (``"a@example.com"``, ``42``, ``{"k": 1}``), so a reader
gets back the value of the original type. Values that are None are left as they are.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_masking import DataMasking

# The Encryption SDK and cryptography are imported on first use (data_masker): a consumer
# without sensitive fields does not pay for them at its cold start.

SENSITIVE_FIELDS_VARIABLE: Final = "SENSITIVE_FIELDS"
"""Comma-separated names of the item attributes to encrypt (e.g. ``email,phone``)."""
FIELD_KEY_VARIABLE: Final = "FIELD_ENCRYPTION_KEY_ARN"
"""The ARN of the symmetric KMS key the data keys come from (a key ARN: the Encryption SDK
refuses aliases and bare key ids)."""
CONTEXT_TABLE: Final = "table"
CONTEXT_FIELD: Final = "field"
ALGORITHM_NAME: Final = "AES_256_GCM_HKDF_SHA512_COMMIT_KEY"
"""The Encryption SDK's algorithm suite: key commitment, no signature (docs/security.md)."""
MAX_CACHE_AGE_SECONDS: Final = 300.0
"""How long a data key is reused: an execution environment asks KMS for a new one at most
every five minutes per field (and on its cold start)."""
MAX_MESSAGES_ENCRYPTED: Final = 100_000
"""How many values one data key encrypts at most before KMS is asked for a fresh one."""
_NAME_CHARACTERS: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."
)


class FieldEncryptionError(RuntimeError):
    """A value could not be encrypted or decrypted. The message names the field, never its
    value."""


def _json_default(value: Any) -> Any:
    # DynamoDB stream images decode numbers as Decimal; keep ints ints.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    msg = f"{type(value).__name__} is not JSON serializable"
    raise TypeError(msg)


_SERIALIZE: Final[Callable[..., str]] = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), default=_json_default
).encode


def parse_field_names(raw: str | Iterable[str]) -> tuple[str, ...]:
    """``"email, phone"`` (or an iterable of names) -> ``("email", "phone")``; raises
    ValueError for a name that is not 1-255 characters of ``[A-Za-z0-9_.-]``."""
    names = raw.split(",") if isinstance(raw, str) else list(raw)
    fields = tuple(dict.fromkeys(name.strip() for name in names if name.strip()))
    bad = [name for name in fields if len(name) > 255 or not set(name) <= _NAME_CHARACTERS]
    if bad:
        msg = (
            f"sensitive field names are 1-255 characters of [A-Za-z0-9_.-], got {sorted(bad)} "
            "(top-level item attribute names)"
        )
        raise ValueError(msg)
    return fields


def encryption_context(table: str, field_name: str) -> dict[str, str]:
    """The encryption context of one field of one table: what KMS and readers' policies see."""
    return {CONTEXT_TABLE: table, CONTEXT_FIELD: field_name}


def data_masker(key_arn: str) -> DataMasking:
    """Powertools' data masking over the Encryption SDK with the module's cache bounds."""
    from aws_lambda_powertools.utilities.data_masking import DataMasking
    from aws_lambda_powertools.utilities.data_masking.provider.kms.aws_encryption_sdk import (
        AWSEncryptionSDKProvider,
    )

    provider = AWSEncryptionSDKProvider(
        keys=[key_arn],
        max_cache_age_seconds=MAX_CACHE_AGE_SECONDS,
        max_messages_encrypted=MAX_MESSAGES_ENCRYPTED,
        json_serializer=_SERIALIZE,
    )
    return DataMasking(provider=provider, raise_on_missing_field=False)


@dataclass(slots=True)
class FieldEncryptor:
    """Encrypts the sensitive top-level attributes of the items written to ``table``.

    Built once per execution environment (its data key cache lives as long as it does)."""

    key_arn: str
    fields: Sequence[str]
    table: str
    masker: DataMasking | None = None
    """Tests inject one; by default built on first use from ``key_arn``."""
    _contexts: dict[str, dict[str, str]] = field(default_factory=dict, init=False, repr=False)
    _options: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.fields = parse_field_names(self.fields)
        self._contexts = {name: encryption_context(self.table, name) for name in self.fields}

    def _masker(self) -> DataMasking:
        if self.masker is None:
            self.masker = data_masker(self.key_arn)
        if not self._options:
            from aws_encryption_sdk.identifiers import Algorithm

            self._options = {"algorithm": Algorithm[ALGORITHM_NAME]}
        return self.masker

    def encrypt_item(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``item`` whose sensitive attributes hold their encrypted value (bytes).

        A KMS error propagates (the record is retried, never stored in clear); the error
        names the field only."""
        from aws_lambda_powertools.utilities.data_masking.exceptions import DataMaskingError

        encrypted = dict(item)
        for name, context in self._contexts.items():
            value = encrypted.get(name)
            if value is None:
                continue
            masker = self._masker()
            try:
                ciphertext = masker.encrypt(value, provider_options=self._options, **context)
            except (DataMaskingError, TypeError, ValueError) as exc:
                # The exception's text may quote the value: keep only its type.
                msg = f"could not encrypt sensitive field {name!r}: {type(exc).__name__}"
                raise FieldEncryptionError(msg) from None
            encrypted[name] = base64.b64decode(ciphertext)
        return encrypted


@dataclass(slots=True)
class FieldDecryptor:
    """For readers holding the pipeline's ``results_reader_policy_json``: decrypts the
    sensitive attributes of items read from ``table``.

    ``fields``: the pipeline's sensitive fields (output ``sensitive_fields``); ``key_arn``: its
    field key (output ``field_encryption_key_arn``)."""

    key_arn: str
    fields: Sequence[str]
    table: str
    masker: DataMasking | None = None

    def __post_init__(self) -> None:
        self.fields = parse_field_names(self.fields)

    def decrypt_item(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``item`` (plain values, as boto3's resource or TypeDeserializer gives
        them) with each encrypted sensitive attribute decrypted; others are left as they
        are. Raises :class:`FieldEncryptionError` naming the field that does not decrypt."""
        from aws_lambda_powertools.utilities.data_masking.exceptions import DataMaskingError

        if self.masker is None:
            self.masker = data_masker(self.key_arn)
        decrypted = dict(item)
        for name in self.fields:
            value = decrypted.get(name)
            ciphertext = getattr(value, "value", value)  # boto3's Binary wraps the bytes
            if not isinstance(ciphertext, bytes | bytearray):
                continue
            try:
                decrypted[name] = self.masker.decrypt(
                    base64.b64encode(bytes(ciphertext)).decode("ascii"),
                    None,
                    **encryption_context(self.table, name),
                )
            except DataMaskingError as exc:
                msg = f"could not decrypt sensitive field {name!r}: {type(exc).__name__}"
                raise FieldEncryptionError(msg) from exc
        return decrypted
