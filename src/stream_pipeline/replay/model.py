"""What the replay works with, whatever its source: the items (DLQ messages or failure-bucket
objects), the plan of what goes back into which stream, the run's options and report."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Protocol

from botocore.config import Config

from stream_pipeline.cli_common import aws_session, client_options
from stream_pipeline.runtime.dlq_envelope import (
    DYNAMODB_SOURCE,
    KINESIS_SOURCE,
    DlqEnvelope,
    EnvelopeParseError,
    PayloadFormat,
)
from stream_pipeline.runtime.hydration.models import looks_like_async_invocation_record

STREAM_SEQUENCE_NUMBER: Final = re.compile(r"[0-9]{1,128}")
"""A Kinesis or DynamoDB stream sequence number: ASCII digits only (``str.isdigit`` also accepts
e.g. "\N{SUPERSCRIPT TWO}", which ``int`` refuses)."""
MAX_ENTRIES_PER_SQS_BATCH: Final = 10
MAX_RECEIVES_WITHOUT_NEW_MESSAGES: Final = 3
INVALID_ENVELOPE: Final = "INVALID_ENVELOPE"
"""Table label of messages whose body is neither a valid envelope nor a record of a failed
hydrate invocation."""
HYDRATE_FAILED: Final = "HYDRATE_FAILED"
"""Table label (and ``--reason``) of Lambda's records of failed hydrate invocations."""
S3_ON_FAILURE: Final = "S3_ON_FAILURE"
"""Table label (and ``--reason``) of the objects of an S3 on-failure destination
(``stream_pipeline.replay.bucket``)."""
INVALID_S3_OBJECT: Final = "INVALID_S3_OBJECT"
"""Table label of objects under the prefix that are not readable on-failure records."""
UNTRUSTED_ENVELOPE: Final = "UNTRUSTED_ENVELOPE"
"""Table label of envelopes whose MAC is missing, wrong or cannot be checked (kept)."""
NON_ENVELOPE_REASONS: Final = frozenset({HYDRATE_FAILED, S3_ON_FAILURE})
"""The labels of items that are not envelopes but stand for records, which ``--reason`` accepts
besides reason codes (every label of this module is a reserved reason code: no envelope can
carry one, see ``RESERVED_REASON_CODES``)."""
QUEUE_URL_OUTPUTS: Final = ("dlq_url", "dlq_queue_url")
CONSUMER_OUTPUTS: Final = ("consumer_function_names", "email_notifier_function_name")
"""Terraform outputs naming the functions a redrive may invoke: every consumer of the
environment (a map, by consumers key) and the e-mail notifier (null without it)."""
BUCKET_OUTPUTS: Final = ("failure_bucket_name", "bucket_name")
"""Terraform outputs naming the failure bucket: ``failure_bucket_name`` is what modules/pipeline
and the environments output (null unless the bucket is enabled), ``bucket_name`` what
modules/hydrating-dlq and its s3-destination example output."""
STREAM_OUTPUTS: Final = ("stream_arn", "source_stream_arns")
"""Terraform outputs naming the streams the replay may read and write: ``stream_arn`` (modules/
pipeline, the environments), ``source_stream_arns`` (modules/hydrating-dlq, a list)."""
MAC_KEY_OUTPUTS: Final = ("dlq_mac_key_arn", "mac_key_arn")
"""Terraform outputs naming the KMS HMAC key the envelopes are signed with (pipeline and
environments, hydrating-dlq)."""
DEFAULT_S3_PREFIX: Final = "aws/lambda/"
"""Where Lambda writes the objects of an S3 on-failure destination."""
DYNAMODB_SKIPPED: Final = (
    "skipped: a DynamoDB stream record cannot be put back into its stream; "
    "pass --target STREAM to put it into a Kinesis stream"
)


class Mode(StrEnum):
    """What ``run`` does with a DLQ record."""

    STREAM = "stream"
    """Put it back into its stream, where every consumer reads it again (the default)."""
    REDRIVE = "redrive"
    """Hand it to the consumer that dead-lettered it only: invoke that function synchronously
    with the event its event source mapping would have built (``replay.redrive``)."""


class Outcome(StrEnum):
    REPLAYED = "replayed"
    WOULD_REPLAY = "would replay"
    KEPT = "kept"
    FILTERED = "filtered out"


class NotReplayableError(Exception):
    """This message's record cannot be put back now; ``str()`` says why."""


@dataclass(frozen=True, slots=True)
class Message:
    """One DLQ message -- or one object of an S3 on-failure destination (``message_id``: its
    key; ``receipt_handle`` and ``body`` unused: the object is read when it is handled)."""

    message_id: str
    receipt_handle: str
    body: str
    receive_count: int | None = None
    """SQS' ApproximateReceiveCount, this receive included (``stats --inspect``)."""


class Source(Protocol):
    """Where the replayed items come from and go when replayed: the DLQ (:class:`Queue`) or a
    failure bucket (``stream_pipeline.replay.bucket.Bucket``)."""

    def batches(self, limit: int | None) -> Iterator[list[Message]]:
        """Items not handled yet in this run, a batch at a time, at most ``limit`` in all."""
        ...

    def approximate_size(self) -> int | None: ...

    def delete(self, messages: Sequence[Message]) -> dict[str, str]:
        """Deletes; returns message id -> why it was not deleted."""
        ...

    def release(self, messages: Sequence[Message]) -> None:
        """Makes kept items available again at once (best effort)."""
        ...


@dataclass(frozen=True, slots=True)
class PutEntry:
    data: bytes
    partition_key: str


@dataclass(slots=True)
class Planned:
    """The records of one envelope (several for a range pointer) and its message(s): the first
    one and any duplicate (same ``envelope_id``) received in this run."""

    envelope: DlqEnvelope
    stream: str
    entries: list[PutEntry]
    messages: list[Message]


@dataclass(frozen=True, slots=True)
class PlannedGroup:
    """A message that stands for several envelopes (a record of a failed hydrate invocation:
    every record of its failed batch). It is deleted only when all of them were put."""

    message: Message
    label: str
    envelope_ids: tuple[str, ...]


class NoLog:
    """The Hydrator's log, silenced: the replay reports in its own table."""

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        pass

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        pass

    def error(self, msg: object, *args: object, **kwargs: Any) -> None:
        pass


@dataclass(frozen=True, slots=True)
class StreamPayload:
    """One record's bytes and what is known of it (a range pointer read from the stream gives
    several, each with its own sequence number)."""

    data: bytes | None
    partition_key: str | None
    payload_format: PayloadFormat | None
    sequence_number: str | None = None
    """Set when read from the stream; else the envelope's."""
    arrival: datetime | None = None
    event_id: str | None = None
    event_name: str | None = None
    """DynamoDB stream records read from the stream: INSERT, MODIFY or REMOVE."""
    dynamodb_keys: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class KeptMessage:
    message_id: str
    envelope_id: str | None
    label: str
    why: str


@dataclass(slots=True)
class ReplayReport:
    dry_run: bool = False
    counts: dict[str, Counter[Outcome]] = field(default_factory=dict)
    kept: list[KeptMessage] = field(default_factory=list)
    records_put: int = 0
    put_requests: int = 0
    duplicates: int = 0

    def add(self, label: str, outcome: Outcome, count: int = 1) -> None:
        self.counts.setdefault(label, Counter())[outcome] += count

    def total(self, outcome: Outcome) -> int:
        return sum(counter[outcome] for counter in self.counts.values())


@dataclass(frozen=True, slots=True)
class RunOptions:
    queue_url: str | None = None
    bucket: str | None = None
    """Failure bucket (S3 on-failure destination) replayed by ``stream_pipeline.replay.bucket``."""
    prefix: str = DEFAULT_S3_PREFIX
    target: str | None = None
    dry_run: bool = False
    max_messages: int | None = None
    reasons: frozenset[str] = frozenset()
    visibility_timeout: int = 300
    wait_seconds: int = 2
    mode: Mode = Mode.STREAM
    consumers: frozenset[str] = frozenset()
    """Redrive only: the consumer functions (names or ARNs) a redrive may invoke -- from the
    configuration (``--consumer``, the environment's terraform outputs), never from a message."""
    streams: frozenset[str] = frozenset()
    """The streams (ARNs, or Kinesis stream names) records may be read from and put into -- from
    the configuration (``--stream``, the outputs), never from a message. ``target`` is allowed
    too. A message naming any other stream is refused and stays."""
    buckets: frozenset[str] = frozenset()
    """The buckets claim-check objects may be read from (``--payload-bucket``, the outputs),
    besides ``bucket``. An envelope pointing anywhere else is refused and stays."""
    mac_key: str | None = None
    """The KMS HMAC key (ARN) envelopes must be signed with (``--mac-key``, the outputs)."""
    accept_unsigned: bool = False
    """Replay envelopes without ``envelope_mac`` (written before envelopes were signed)."""


LAMBDA_INVOKE_READ_TIMEOUT: Final = 900 + 30
"""Seconds a synchronous Invoke may take: Lambda's longest timeout (15 min), and a margin."""


@dataclass(slots=True)
class Clients:
    sqs: Any
    kinesis: Any
    dynamodbstreams: Any
    s3: Any
    awslambda: Any = None
    """Redrive: ``lambda`` (synchronous Invoke; its read timeout outlasts any function's)."""
    cloudwatch: Any = None
    """``stats``: the queue's ApproximateAgeOfOldestMessage."""
    kms: Any = None
    """VerifyMac of the envelopes' ``envelope_mac``."""

    @classmethod
    def create(
        cls, *, region: str | None, endpoint_url: str | None, profile: str | None = None
    ) -> Clients:
        session = aws_session(region=region, profile=profile)
        extra = client_options(endpoint_url)
        return cls(
            sqs=session.client("sqs", **extra),
            kinesis=session.client("kinesis", **extra),
            dynamodbstreams=session.client("dynamodbstreams", **extra),
            s3=session.client("s3", **extra),
            awslambda=session.client(
                "lambda",
                **{
                    **extra,
                    # No retry of an invocation that may have run: a retry would run it twice.
                    "config": Config(
                        read_timeout=LAMBDA_INVOKE_READ_TIMEOUT,
                        connect_timeout=10,
                        retries={"mode": "standard", "max_attempts": 1},
                    ),
                },
            ),
            cloudwatch=session.client("cloudwatch", **extra),
            kms=session.client("kms", **extra),
        )


def is_async_invocation_record(body: str) -> bool:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return looks_like_async_invocation_record(document)


@dataclass(slots=True)
class StatsReport:
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    oldest: dict[str, datetime] = field(default_factory=dict)
    streams: Counter[str] = field(default_factory=Counter)
    received_three_times: int = 0
    """``--inspect``: messages received 3 or more times (this look included): SQS leaves them
    out of ApproximateAgeOfOldestMessage."""


@dataclass(frozen=True, slots=True)
class QueueAttributes:
    """What ``stats`` reads without receiving a message (a receive would count as a look)."""

    url: str
    visible: int | None
    in_flight: int | None
    delayed: int | None
    oldest_age_seconds: float | None
    """CloudWatch's latest ApproximateAgeOfOldestMessage (None: no datapoint, or unreadable)."""
    oldest_age_note: str | None = None
    """Why there is no age (no datapoint yet, CloudWatch unreachable, ...)."""


STATS_COLUMNS: Final = ("messages", "payload in message", "payload in S3", "pointer only", "other")


def parse_envelope(body: str) -> DlqEnvelope:
    """``DlqEnvelope.parse``, and a stream record's sequence numbers must be ASCII digits: the
    replay compares them as integers. (The envelope model accepts any text, so that a writer
    never fails a batch over it; a reader must not fail a run over it.)"""
    envelope = DlqEnvelope.parse(body)
    if envelope.event_source in (KINESIS_SOURCE, DYNAMODB_SOURCE):
        for name in ("sequence_number", "end_sequence_number"):
            value = getattr(envelope, name)
            if value is not None and not STREAM_SEQUENCE_NUMBER.fullmatch(value):
                msg = (
                    f"malformed DLQ envelope: {name} of a stream record must be 1 to 128 ASCII "
                    f"digits, got {value!r:.40}"
                )
                raise EnvelopeParseError(msg)
    return envelope
