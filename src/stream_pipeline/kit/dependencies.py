"""The consumer kit's outside world: :class:`Dependencies` (settings, AWS clients, clock, retry
policies, the consumer's extras), built once per execution environment from its variables and
replaced by tests."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import boto3
from botocore.config import Config

from stream_pipeline.kit.dynamodb_sink import DynamoDBSink
from stream_pipeline.kit.field_encryption import FieldEncryptor
from stream_pipeline.kit.settings import ConsumerSettings
from stream_pipeline.runtime.aws_errors import RetryPolicy
from stream_pipeline.runtime.lambda_setup import SDK_CONFIG
from stream_pipeline.runtime.request_pool import SHARED_POOL, RequestPool

# Items are built by the kit, not by callers: botocore's parameter validation would re-check
# every attribute of every item (about half the CPU per record, docs/performance.md) for
# nothing; DynamoDB still validates every request server-side.
DYNAMODB_CONFIG: Final = SDK_CONFIG.merge(Config(parameter_validation=False))

ExtrasFactory = Callable[[ConsumerSettings], Any]
"""Builds a consumer's own dependencies (its settings, clients) at the cold start."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Dependencies:
    """Everything a consumer needs from the outside world; tests replace it."""

    settings: ConsumerSettings
    sqs: Any
    dynamodb: Any = None
    """Only with a sink: the BatchWriteItem client."""
    s3: Any = None
    """Only with a payload bucket (settings.payload_bucket): the claim-check's PutObject."""
    mac_kms: Any = None
    """The KMS client that signs the DLQ envelopes (GenerateMac, settings.mac_key_arn): made by
    :meth:`mac_client` when the first record is dead-lettered, never at the cold start."""
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random
    clock: Callable[[], datetime] = _utc_now
    write_policy: RetryPolicy = field(default_factory=RetryPolicy)
    dlq_policy: RetryPolicy = field(default_factory=lambda: RetryPolicy(max_attempts=3))
    pool: RequestPool = SHARED_POOL
    """Runs a batch's BatchWriteItem requests, then its SendMessageBatch requests, concurrently."""
    extras: Any = None
    """The consumer's own dependencies (settings, clients), built by its ``extras`` hook at the
    cold start; the record handler reads them as ``consumer.extras``. None without the hook."""
    field_encryptor: FieldEncryptor | None = None
    """With a sink and sensitive fields (settings.sensitive_fields): encrypts them before the
    write. Its data key cache lives as long as the execution environment."""

    @classmethod
    def from_env(
        cls,
        name: str,
        sink: DynamoDBSink | None,
        *,
        required_env: Sequence[str] = (),
        extras: ExtrasFactory | None = None,
    ) -> Dependencies:
        settings = ConsumerSettings.from_env(
            name=name,
            table_name=sink.table_name if sink is not None else None,
            needs_table=sink is not None,
            required=required_env,
        )
        encryptor = None
        if sink is not None and settings.sensitive_fields and settings.field_key_arn:
            encryptor = FieldEncryptor(
                key_arn=settings.field_key_arn,
                fields=settings.sensitive_fields,
                table=table_name_of(settings.table_name or ""),
            )
        return cls(
            field_encryptor=encryptor,
            settings=settings,
            sqs=boto3.client("sqs", config=SDK_CONFIG),
            dynamodb=boto3.client("dynamodb", config=DYNAMODB_CONFIG) if sink else None,
            s3=boto3.client("s3", config=SDK_CONFIG) if settings.payload_bucket else None,
            extras=extras(settings) if extras is not None else None,
        )

    def mac_client(self) -> Any:
        """The KMS client that signs DLQ envelopes, made once, on first use."""
        if self.mac_kms is None:
            self.mac_kms = boto3.client("kms", config=SDK_CONFIG)
        return self.mac_kms


def table_name_of(name_or_arn: str) -> str:
    # arn:aws:dynamodb:<region>:<account>:table/<name>[/stream/<label>]
    if name_or_arn.startswith("arn:"):
        resource = name_or_arn.split(":", 5)[-1].split("/")
        if len(resource) >= 2 and resource[0] == "table":
            return resource[1]
    return name_or_arn
