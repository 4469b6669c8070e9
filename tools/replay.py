"""Replay the dead-letter queue -- and the objects of an S3 on-failure destination -- into the
stream(s) the records came from.

    python -m tools.replay run   [--queue-url URL] [--bucket BUCKET [--prefix aws/lambda/]]
                                 [--dry-run] [--max N] [--reason REASON ...] [--target STREAM]
                                 [--endpoint-url URL] [--region REGION] [--profile PROFILE]
    python -m tools.replay stats [--queue-url URL] [--bucket BUCKET [--prefix aws/lambda/]]
                                 [--endpoint-url URL] [--region REGION] [--profile PROFILE]

At least one of ``--queue-url`` and ``--bucket`` is required (neither: usage error, exit 2);
given both, the queue is replayed first, then the bucket, each reported in its own table.

``run`` receives DLQ messages (10 at a time, kept invisible for ``--visibility-timeout``),
parses each envelope with the shared parser and re-puts the record's original bytes, with its
original partition key, into the stream named by the envelope (or ``--target``) with PutRecords
(at most 500 records / 5 MiB per call). A message is deleted (DeleteMessageBatch) only after
*all* of its records were accepted; a record rejected by PutRecords (per-record ``ErrorCode``)
keeps its message. At the end a table gives the counts per reason (error category), followed by
every message left in the queue and why; those messages are made visible again at once.

Where the payload comes from: the envelope itself; else its S3 claim-check object (hydrate
function with ``PAYLOAD_BUCKET``), checked against sha256 + length; else the stream, re-read
with the hydrate function's reader (GetShardIterator ``AT_SEQUENCE_NUMBER``) while it still
retains the record(s). What stays in the queue, reported: bodies that are not valid envelopes,
unreadable on-failure records (the hydrate function's not-hydrated envelopes), records the
stream no longer holds, DynamoDB stream records unless ``--target`` names a Kinesis stream (their
NewImage is then converted to plain JSON with the stream processor's own rules), and records
PutRecords or DeleteMessageBatch refused.

Failed hydrate invocations (reason ``HYDRATE_FAILED``): when the hydrate function itself fails
(after Lambda's asynchronous retries), Lambda sends the DLQ its record of the invocation, whose
``requestPayload`` is the event the function was given -- the SNS event holding the consumer's
on-failure record(s), or an on-failure record passed directly. ``run`` reads the batch(es) back
from the stream with the hydrate function's own code (``stream_pipeline.runtime.hydration.hydrator.Hydrator``: the same
envelopes, so records also dead-lettered individually are put once) and puts every record; the
message is deleted only when all of them were accepted. It stays, reported, when a part of a
batch is no longer in the stream ("payload unavailable": nothing of it is put; invoke the hydrate
function with its ``requestPayload`` to dead-letter the readable records one by one), when it
cannot be read, or when a record was refused.

Safe to run twice: a record put twice (a crash between PutRecords and the delete) is absorbed by
the consumer's idempotent writes; envelopes are de-duplicated on ``envelope_id`` within a run.
``--dry-run`` reads (the queue, S3, the stream) and reports, but puts and deletes nothing.

S3 on-failure objects (``--bucket``, reason ``S3_ON_FAILURE``; ``tools/replay_bucket.py``): an
event source mapping whose on-failure destination is an S3 bucket writes one object per discarded
batch under ``aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/`` -- the on-failure record plus
``payload``, the whole invocation event with the records' data. ``run`` lists the objects under
``--prefix`` (ListObjectsV2, page by page; ``--max`` counts objects), re-puts every Kinesis
record of ``payload`` with its original bytes (``kinesis.data`` base64-decoded) and original
partition key into its stream (the record's ``eventSourceARN``, else the batch's ``streamArn``;
or ``--target``), with the same PutRecords batching, and deletes the object (DeleteObjects) only
when *all* its records were accepted. DynamoDB stream objects follow the DLQ rule above (kept
unless ``--target``). An object without ``payload``, or whose payload was cut or damaged, is read
back from the stream with the hydrate function's reader, like a pointer-only envelope, and stays
when the stream no longer holds its batch. What stays in the bucket, reported: objects that are
not on-failure records (``INVALID_S3_OBJECT``) or cannot be read, batches no longer in the
stream, DynamoDB objects without ``--target``, objects with a record PutRecords refused or that
DeleteObjects refused. In a versioned bucket (modules/hydrating-dlq versions its failure bucket)
the delete only adds a delete marker: the object stays recoverable as a noncurrent version until
the bucket's lifecycle rule expires it -- which is fine. With ``--reason``, objects are handled
only when ``S3_ON_FAILURE`` is one of the reasons (else they are counted as filtered out, not
even read). ``stats --bucket`` reads every object and counts objects, records, objects with their
payload and those to be re-read from the stream. The default prefix leaves out the hydrate
function's claim-check objects (keyed by envelope id at the bucket's root).

Exit status: 0 when every message or object considered was replayed (or would be), 1 when some
stay in the queue or the bucket, 2 when the tool could not run (usage, queue or bucket
unreachable; a bucket that fails after the queue was replayed still shows the queue's table).

``--terraform-outputs FILE`` (``-`` for stdin) reads ``terraform output -json`` and takes the
queue URL from the output ``dlq_url`` (or ``dlq_queue_url``) when ``--queue-url`` is not given,
and the bucket from ``failure_bucket_name`` (or ``bucket_name``, modules/hydrating-dlq's output)
when ``--bucket`` is not given and the output is not null:
``make replay ENV=<environment> REPLAY_ARGS='run --dry-run'`` does exactly that.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Protocol, TextIO

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.table import Table

from tools import cli_common
from tools.cli_common import (
    MAX_PARTITION_KEY_CHARS,
    MAX_RECORDS_PER_PUT,
    add_aws_arguments,
    aws_session,
    client_options,
    first_output,
    progress_bar,
    put_records_batches,
    read_terraform_outputs,
    stream_params,
)

cli_common.add_functions_to_path()  # `python -m tools.replay` from the repository root

from stream_pipeline.runtime.aws_errors import describe_exception  # noqa: E402
from stream_pipeline.runtime.claim_check import fetch_payload  # noqa: E402
from stream_pipeline.runtime.dlq_envelope import (  # noqa: E402
    DYNAMODB_SOURCE,
    KINESIS_SOURCE,
    DlqEnvelope,
    EnvelopeParseError,
    ErrorCategory,
    PayloadFormat,
    PayloadUnavailableError,
    canonical_json,
)
from stream_pipeline.runtime.dynamodb_image import image_to_document  # noqa: E402
from stream_pipeline.runtime.hydration.hydrator import HydrationReport, Hydrator  # noqa: E402
from stream_pipeline.runtime.hydration.models import (  # noqa: E402
    MalformedAsyncInvocationRecordError,
    MalformedOnFailureRecordError,
    OnFailureRecord,
    looks_like_async_invocation_record,
    parse_async_invocation_record,
    parse_on_failure_record,
)
from stream_pipeline.runtime.hydration.reader import ShardRangeReader, StreamKind, StreamReadError  # noqa: E402

MAX_ENTRIES_PER_SQS_BATCH: Final = 10
MAX_RECEIVES_WITHOUT_NEW_MESSAGES: Final = 3
INVALID_ENVELOPE: Final = "INVALID_ENVELOPE"
"""Table label of messages whose body is neither a valid envelope nor a record of a failed
hydrate invocation."""
HYDRATE_FAILED: Final = "HYDRATE_FAILED"
"""Table label (and ``--reason``) of Lambda's records of failed hydrate invocations."""
S3_ON_FAILURE: Final = "S3_ON_FAILURE"
"""Table label (and ``--reason``) of the objects of an S3 on-failure destination
(``tools.replay_bucket``)."""
INVALID_S3_OBJECT: Final = "INVALID_S3_OBJECT"
"""Table label of objects under the prefix that are not readable on-failure records."""
REPLAY_LABELS: Final = frozenset(
    {*(category.value for category in ErrorCategory), HYDRATE_FAILED, S3_ON_FAILURE}
)
"""What ``--reason`` accepts."""
QUEUE_URL_OUTPUTS: Final = ("dlq_url", "dlq_queue_url")
BUCKET_OUTPUTS: Final = ("failure_bucket_name", "bucket_name")
"""Terraform outputs naming the failure bucket: ``failure_bucket_name`` is what modules/pipeline
and the environments output (null unless the bucket is enabled), ``bucket_name`` what
modules/hydrating-dlq and its s3-destination example output."""
DEFAULT_S3_PREFIX: Final = "aws/lambda/"
"""Where Lambda writes the objects of an S3 on-failure destination."""
DYNAMODB_SKIPPED: Final = (
    "skipped: a DynamoDB stream record cannot be put back into its stream; "
    "pass --target STREAM to put it into a Kinesis stream"
)
_SQS_URL_REGION: Final = re.compile(r"^https://sqs[.-]([a-z0-9-]+)\.amazonaws\.com")


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


class Source(Protocol):
    """Where the replayed items come from and go when replayed: the DLQ (:class:`Queue`) or a
    failure bucket (``tools.replay_bucket.Bucket``)."""

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


class _NoLog:
    """The Hydrator's log, silenced: the replay reports in its own table."""

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        pass

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        pass

    def error(self, msg: object, *args: object, **kwargs: Any) -> None:
        pass


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
    """Failure bucket (S3 on-failure destination) replayed by ``tools.replay_bucket``."""
    prefix: str = DEFAULT_S3_PREFIX
    target: str | None = None
    dry_run: bool = False
    max_messages: int | None = None
    reasons: frozenset[str] = frozenset()
    visibility_timeout: int = 300
    wait_seconds: int = 2


@dataclass(slots=True)
class Clients:
    sqs: Any
    kinesis: Any
    dynamodbstreams: Any
    s3: Any

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
        )


# --------------------------------------------------------------------------- SQS helpers


class Queue:
    def __init__(self, client: Any, url: str, *, visibility_timeout: int, wait_seconds: int):
        self._client = client
        self.url = url
        self._visibility_timeout = visibility_timeout
        self._wait_seconds = wait_seconds

    def approximate_size(self) -> int | None:
        try:
            attributes = self._client.get_queue_attributes(
                QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            return int(attributes["ApproximateNumberOfMessages"])
        except (ClientError, BotoCoreError, KeyError, ValueError):
            return None

    def batches(self, limit: int | None) -> Iterator[list[Message]]:
        return _fresh_batches(self, set(), limit)

    def receive(self, count: int) -> list[Message]:
        response = self._client.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=max(1, min(MAX_ENTRIES_PER_SQS_BATCH, count)),
            VisibilityTimeout=self._visibility_timeout,
            WaitTimeSeconds=self._wait_seconds,
        )
        return [
            Message(str(m["MessageId"]), str(m["ReceiptHandle"]), str(m.get("Body", "")))
            for m in response.get("Messages") or []
        ]

    def delete(self, messages: Sequence[Message]) -> dict[str, str]:
        """Deletes; returns message id -> why it was not deleted."""
        return self._batch("delete_message_batch", messages, {})

    def release(self, messages: Sequence[Message]) -> None:
        """Visible again at once (best effort: otherwise they reappear after the timeout)."""
        with contextlib.suppress(ClientError, BotoCoreError):
            self._batch("change_message_visibility_batch", messages, {"VisibilityTimeout": 0})

    def _batch(
        self, operation: str, messages: Sequence[Message], extra: dict[str, Any]
    ) -> dict[str, str]:
        failures: dict[str, str] = {}
        for start in range(0, len(messages), MAX_ENTRIES_PER_SQS_BATCH):
            chunk = messages[start : start + MAX_ENTRIES_PER_SQS_BATCH]
            entries = [
                {"Id": str(index), "ReceiptHandle": m.receipt_handle, **extra}
                for index, m in enumerate(chunk)
            ]
            try:
                response = getattr(self._client, operation)(QueueUrl=self.url, Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                failures.update(
                    dict.fromkeys((m.message_id for m in chunk), describe_exception(exc))
                )
                continue
            succeeded = {str(entry["Id"]) for entry in response.get("Successful") or []}
            failed = {str(entry["Id"]): entry for entry in response.get("Failed") or []}
            for index, message in enumerate(chunk):
                if str(index) in succeeded and str(index) not in failed:
                    continue
                entry = failed.get(str(index), {})
                failures[message.message_id] = (
                    f"{entry.get('Code', 'Unknown')}: {entry.get('Message', 'no result')}"
                )
        return failures


# --------------------------------------------------------------------------- payloads


def _partition_key_for_dynamodb(envelope: DlqEnvelope, payload: bytes) -> str:
    if envelope.partition_key:
        return envelope.partition_key
    basis = canonical_json(envelope.dynamodb_keys) if envelope.dynamodb_keys else payload
    text = basis.decode("utf-8", "replace")
    if 0 < len(text) <= MAX_PARTITION_KEY_CHARS:
        return text
    return hashlib.sha256(basis).hexdigest()


def dynamodb_image_to_json(payload: bytes) -> bytes:
    """A NewImage in DynamoDB JSON -> the plain JSON document the stream processor would have
    derived from it (its own deserialisation rules, so the same event gets the same item)."""
    try:
        image = json.loads(payload)
        if not isinstance(image, dict):
            msg = "NewImage is not a map"
            raise TypeError(msg)
        document = image_to_document(image)
        return json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except (TypeError, ValueError, ArithmeticError, KeyError, AttributeError) as exc:
        msg = f"the DynamoDB NewImage cannot be converted to JSON: {type(exc).__name__}: {exc}"
        raise NotReplayableError(msg) from exc


@dataclass(frozen=True, slots=True)
class _Payload:
    data: bytes | None
    partition_key: str | None
    payload_format: PayloadFormat | None


class Replayer:
    """Replays the items of one source: the DLQ unless ``source`` says otherwise
    (``tools.replay_bucket.BucketReplayer`` passes its bucket and handles objects)."""

    item_noun = "message"
    """How the kept reasons name one item of the source."""

    def __init__(
        self,
        clients: Clients,
        options: RunOptions,
        *,
        source: Source | None = None,
        reader: Callable[[StreamKind], ShardRangeReader] | None = None,
        on_message: Callable[[], None] = lambda: None,
    ) -> None:
        self._clients = clients
        self._options = options
        self._reader = reader or self._default_reader
        self._on_message = on_message
        if source is None:
            if not options.queue_url:
                msg = "RunOptions.queue_url is required to replay the DLQ"
                raise ValueError(msg)
            source = Queue(
                clients.sqs,
                options.queue_url,
                visibility_timeout=options.visibility_timeout,
                wait_seconds=options.wait_seconds,
            )
        self.source: Source = source
        self.report = ReplayReport(dry_run=options.dry_run)
        self._release: list[Message] = []
        self._pending: dict[str, Planned] = {}
        self._groups: list[PlannedGroup] = []
        self._replayed_ids: set[str] = set()

    def _default_reader(self, kind: StreamKind) -> ShardRangeReader:
        client = (
            self._clients.kinesis if kind is StreamKind.KINESIS else self._clients.dynamodbstreams
        )
        return ShardRangeReader(client, kind)

    def _hydrator(self) -> Hydrator:
        """The hydrate function's own code, reading with this run's readers (silenced log)."""
        return Hydrator(
            {kind: self._reader(kind) for kind in StreamKind},
            function_name="replay",
            log=_NoLog(),
        )

    # ------------------------------------------------------------------ main loop

    def run(self) -> ReplayReport:
        for fresh in self.source.batches(self._options.max_messages):
            for message in fresh:
                self._consider(message)
                self._on_message()
                # Per item: an S3 object alone may hold thousands of records.
                if sum(len(p.entries) for p in self._pending.values()) >= MAX_RECORDS_PER_PUT:
                    self._flush()
        self._flush()
        self.source.release(self._release)
        return self.report

    def _keep(self, message: Message, envelope: DlqEnvelope | None, label: str, why: str) -> None:
        self.report.add(label, Outcome.KEPT)
        self.report.kept.append(
            KeptMessage(message.message_id, envelope.envelope_id if envelope else None, label, why)
        )
        self._release.append(message)

    def _consider(self, message: Message) -> None:
        try:
            envelope = DlqEnvelope.parse(message.body)
        except EnvelopeParseError as exc:
            if _is_async_invocation_record(message.body):
                self._consider_hydrate_failure(message)
            else:
                self._keep(message, None, INVALID_ENVELOPE, str(exc))
            return
        label = envelope.error_category.value
        if self._options.reasons and label not in self._options.reasons:
            self.report.add(label, Outcome.FILTERED)
            self._release.append(message)
            return
        if envelope.envelope_id in self._replayed_ids:
            self.report.duplicates += 1
            self._settle_duplicate(message, envelope)
            return
        pending = self._pending.get(envelope.envelope_id)
        if pending is not None:
            self.report.duplicates += 1
            pending.messages.append(message)
            return
        try:
            stream = self._stream_for(envelope)
            entries = self._entries(envelope)
        except NotReplayableError as exc:
            self._keep(message, envelope, label, str(exc))
            return
        if self._options.dry_run:
            self.report.add(label, Outcome.WOULD_REPLAY)
            self._release.append(message)
            self._replayed_ids.add(envelope.envelope_id)
            return
        self._pending[envelope.envelope_id] = Planned(envelope, stream, entries, [message])

    def _consider_hydrate_failure(self, message: Message) -> None:
        """Lambda's record of a failed hydrate invocation: hydrate its batch(es) again, from the
        stream, and plan every record; the message goes only when all of them are put."""
        label = HYDRATE_FAILED
        if self._options.reasons and label not in self._options.reasons:
            self.report.add(label, Outcome.FILTERED)
            self._release.append(message)
            return
        try:
            plan = self._hydrate_failure_plan(message.body)
        except NotReplayableError as exc:
            self._keep(message, None, label, str(exc))
            return
        self._plan_group(message, label, plan)

    def _plan_group(self, message: Message, label: str, plan: Sequence[Planned]) -> None:
        """Plans every record of ``plan`` (once: a record planned or put already in this run is
        not planned again) for ``message``, which is deleted only when all of them were put."""
        if self._options.dry_run:
            self.report.add(label, Outcome.WOULD_REPLAY)
            self._release.append(message)
            self._replayed_ids.update(item.envelope.envelope_id for item in plan)
            return
        for item in plan:
            envelope_id = item.envelope.envelope_id
            if envelope_id not in self._replayed_ids and envelope_id not in self._pending:
                self._pending[envelope_id] = item
        self._groups.append(
            PlannedGroup(message, label, tuple(item.envelope.envelope_id for item in plan))
        )

    def _hydrate_failure_plan(self, body: str) -> list[Planned]:
        """The records of every on-failure record in the invocation's ``requestPayload``, read
        back with the hydrate function's own code (same envelopes, same ``envelope_id``s: a
        record also dead-lettered on its own is put once). Raises NotReplayableError unless
        every record can be put back."""
        try:
            record = parse_async_invocation_record(body)
        except MalformedAsyncInvocationRecordError as exc:
            msg = f"not replayable: {exc}"
            raise NotReplayableError(msg) from exc
        failure = record.failure_reason()
        messages = record.on_failure_messages()
        on_failure: list[OnFailureRecord] = []
        for incoming in messages:
            try:
                on_failure.append(parse_on_failure_record(incoming.raw))
            except MalformedOnFailureRecordError as exc:
                msg = (
                    f"not replayable: its requestPayload holds no readable on-failure record "
                    f"({exc}); {failure}"
                )
                raise NotReplayableError(msg) from exc

        hydrator = self._hydrator()
        envelopes: list[DlqEnvelope] = []
        gone: list[str] = []
        for incoming, batch_record in zip(messages, on_failure, strict=True):
            try:
                hydrated = hydrator.envelopes(incoming, HydrationReport())
            except StreamReadError as exc:
                msg = f"payload unavailable for now: {exc}; {failure}"
                raise NotReplayableError(msg) from exc
            gone.extend(_missing_parts(batch_record, hydrated))
            envelopes.extend(hydrated)
        if gone:
            readable = sum(1 for envelope in envelopes if not envelope.is_range)
            hint = (
                f"{readable} record(s) of the batch are still in the stream: invoke the hydrate "
                "function with this message's requestPayload to dead-letter them one by one"
                if readable
                else "nothing of the batch is left in the stream (look at the requestPayload)"
            )
            msg = f"payload unavailable: {'; '.join(gone)}. {hint}; {failure}"
            raise NotReplayableError(msg)
        return [
            Planned(envelope, self._stream_for(envelope), self._entries(envelope), [])
            for envelope in envelopes
        ]

    def _settle_duplicate(self, message: Message, envelope: DlqEnvelope) -> None:
        label = envelope.error_category.value
        if self._options.dry_run:
            self.report.add(label, Outcome.WOULD_REPLAY)
            self._release.append(message)
            return
        failures = self.source.delete([message])
        if message.message_id in failures:
            self._keep(message, envelope, label, f"not deleted: {failures[message.message_id]}")
        else:
            self.report.add(label, Outcome.REPLAYED)

    # ------------------------------------------------------------------ planning

    def _stream_for(self, envelope: DlqEnvelope) -> str:
        if envelope.payload_format is PayloadFormat.ON_FAILURE_RECORD:
            msg = (
                "not replayable: the hydrate function could not read this on-failure record "
                "(see its error_reason); fix it and publish it to the hydrate function again"
            )
            raise NotReplayableError(msg)
        if envelope.event_source not in (KINESIS_SOURCE, DYNAMODB_SOURCE):
            msg = f"not replayable: unknown event source {envelope.event_source!r}"
            raise NotReplayableError(msg)
        if self._options.target:
            return self._options.target
        if envelope.event_source == DYNAMODB_SOURCE:
            raise NotReplayableError(DYNAMODB_SKIPPED)
        if not envelope.event_source_arn:
            msg = "not replayable: the envelope names no stream (pass --target STREAM)"
            raise NotReplayableError(msg)
        return envelope.event_source_arn

    def _entries(self, envelope: DlqEnvelope) -> list[PutEntry]:
        entries: list[PutEntry] = []
        for payload in self._payloads(envelope):
            data, key = payload.data, payload.partition_key
            if data is None:
                msg = "not replayable: the stream record has no payload (no NewImage)"
                raise NotReplayableError(msg)
            if payload.payload_format is PayloadFormat.KINESIS_DATA_FIELD:
                msg = (
                    "not replayable: the payload is the delivered data field text (it was not "
                    "base64), not the record's bytes"
                )
                raise NotReplayableError(msg)
            if payload.payload_format is PayloadFormat.DYNAMODB_JSON:
                key = _partition_key_for_dynamodb(envelope, data)
                data = dynamodb_image_to_json(data)
            if not key:
                msg = "not replayable: no partition key known for the record"
                raise NotReplayableError(msg)
            entries.append(PutEntry(data, key))
        return entries

    def _payloads(self, envelope: DlqEnvelope) -> list[_Payload]:
        if envelope.payload_available:
            return [
                _Payload(envelope.original_bytes(), envelope.partition_key, envelope.payload_format)
            ]
        problems: list[str] = []
        if envelope.payload_location is not None:
            try:
                data = fetch_payload(self._clients.s3, envelope)
            except (ClientError, BotoCoreError, PayloadUnavailableError, ValueError) as exc:
                problems.append(
                    f"claim-check {envelope.payload_location}: {describe_exception(exc)}"
                )
            else:
                return [_Payload(data, envelope.partition_key, envelope.payload_format)]
        try:
            return self._from_stream(envelope)
        except NotReplayableError as exc:
            problems.append(str(exc))
        raise NotReplayableError("; ".join(problems))

    def _from_stream(self, envelope: DlqEnvelope) -> list[_Payload]:
        end = envelope.end_sequence_number or envelope.sequence_number
        if not (
            envelope.event_source_arn
            and envelope.shard_id
            and envelope.sequence_number.isdigit()
            and end.isdigit()
        ):
            msg = "payload unavailable: the envelope carries no payload and no stream coordinates"
            raise NotReplayableError(msg)
        reader = self._reader(StreamKind(envelope.event_source))
        try:
            read = reader.read(
                stream_arn=envelope.event_source_arn,
                shard_id=envelope.shard_id,
                start=envelope.sequence_number,
                end=end,
                after=envelope.after_sequence_number,
                expected=envelope.missing_count if envelope.is_range else 1,
            )
        except StreamReadError as exc:
            msg = f"payload unavailable for now: {exc}"
            raise NotReplayableError(msg) from exc
        gone = read.missing + ([read.not_read] if read.not_read else [])
        if gone:
            msg = "payload unavailable: still not in the stream (" + "; ".join(
                g.detail for g in gone
            )
            raise NotReplayableError(msg + ")")
        if not read.records:
            msg = "payload unavailable: the stream returned no record for the envelope"
            raise NotReplayableError(msg)
        if not envelope.is_range:
            record = read.records[0]
            if record.sequence_number != envelope.sequence_number:
                msg = f"payload unavailable: sequence number {envelope.sequence_number} not found"
                raise NotReplayableError(msg)
            if (
                record.payload is not None
                and envelope.payload_sha256 is not None
                and hashlib.sha256(record.payload).hexdigest() != envelope.payload_sha256
            ):
                msg = "payload re-read from the stream does not match the envelope's sha256"
                raise NotReplayableError(msg)
            return [
                _Payload(
                    record.payload,
                    envelope.partition_key or record.partition_key,
                    envelope.payload_format or record.payload_format,
                )
            ]
        return [_Payload(r.payload, r.partition_key, r.payload_format) for r in read.records]

    # ------------------------------------------------------------------ put + delete

    def _flush(self) -> None:
        planned = list(self._pending.values())
        groups = self._groups
        self._pending.clear()
        self._groups = []
        if not planned and not groups:
            return
        errors: dict[int, list[str]] = {index: [] for index in range(len(planned))}
        by_stream: dict[str, list[tuple[int, PutEntry]]] = {}
        for index, item in enumerate(planned):
            for entry in item.entries:
                by_stream.setdefault(item.stream, []).append((index, entry))
        for stream, items in by_stream.items():
            for chunk in put_records_batches(items, _entry_size):
                self._put(stream, chunk, errors)

        accepted: list[Planned] = []
        refused: dict[str, str] = {}
        for index, item in enumerate(planned):
            label = item.envelope.error_category.value
            if errors[index]:
                why = "PutRecords refused: " + "; ".join(sorted(set(errors[index])))
                refused[item.envelope.envelope_id] = why
                for message in item.messages:
                    self._keep(message, item.envelope, label, why)
            else:
                accepted.append(item)
                self._replayed_ids.add(item.envelope.envelope_id)
        complete: list[PlannedGroup] = []
        for group in groups:
            not_put = [i for i in group.envelope_ids if i not in self._replayed_ids]
            if not_put:
                whys = sorted({refused.get(i, "not put") for i in not_put})
                self._keep(
                    group.message,
                    None,
                    group.label,
                    f"{len(not_put)} of {len(group.envelope_ids)} record(s) not put back: "
                    + "; ".join(whys),
                )
            else:
                complete.append(group)
        failures = self.source.delete(
            [m for item in accepted for m in item.messages] + [g.message for g in complete]
        )
        for item in accepted:
            label = item.envelope.error_category.value
            for message in item.messages:
                if message.message_id in failures:
                    self._keep(
                        message,
                        item.envelope,
                        label,
                        f"put into the stream but not deleted from the DLQ "
                        f"({failures[message.message_id]}); a later replay puts it again, "
                        "which the consumer's idempotent writes absorb",
                    )
                else:
                    self.report.add(label, Outcome.REPLAYED)
        for group in complete:
            if group.message.message_id in failures:
                self._keep(
                    group.message,
                    None,
                    group.label,
                    f"its records were put into the stream but the {self.item_noun} was not "
                    f"deleted ({failures[group.message.message_id]}); a later replay puts them "
                    "again, which the consumer's idempotent writes absorb",
                )
            else:
                self.report.add(group.label, Outcome.REPLAYED)

    def _put(
        self, stream: str, chunk: list[tuple[int, PutEntry]], errors: dict[int, list[str]]
    ) -> None:
        self.report.put_requests += 1
        try:
            response = self._clients.kinesis.put_records(
                Records=[{"Data": e.data, "PartitionKey": e.partition_key} for _, e in chunk],
                **stream_params(stream),
            )
        except (ClientError, BotoCoreError) as exc:
            for index, _ in chunk:
                errors[index].append(describe_exception(exc))
            return
        results: list[dict[str, Any]] = response.get("Records") or []
        for position, (index, _) in enumerate(chunk):
            result = results[position] if position < len(results) else {}
            if result.get("ErrorCode") or not result.get("SequenceNumber"):
                code = result.get("ErrorCode") or "NoResult"
                errors[index].append(f"{code}: {result.get('ErrorMessage', '')}".strip(": "))
            else:
                self.report.records_put += 1


def _is_async_invocation_record(body: str) -> bool:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return looks_like_async_invocation_record(document)


def _missing_parts(record: OnFailureRecord, envelopes: Sequence[DlqEnvelope]) -> list[str]:
    """What the hydrator could not find of the batch of ``record``, readably."""
    batch = record.batch
    where = f"shard {batch.shard_id} of {batch.stream_arn}"
    parts: list[str] = []
    for envelope in envelopes:
        if envelope.error_category is not ErrorCategory.PAYLOAD_UNAVAILABLE:
            continue
        count = f"{envelope.missing_count} record(s)" if envelope.missing_count else "records"
        start = ("after " if envelope.after_sequence_number else "") + envelope.sequence_number
        # The hydrator's reason: "payload unavailable: expired from stream (N record(s) gone:
        # <what the reader saw>); <failure>" -- keep what the reader saw.
        reason = envelope.error_reason.split("; ", 1)[0]
        detail = reason.partition(" gone: ")[2].removesuffix(")") or reason
        parts.append(
            f"{count} of {where} from sequence number {start} to "
            f"{envelope.end_sequence_number} are no longer in the stream ({detail})"
        )
    records = sum(1 for envelope in envelopes if not envelope.is_range)
    if not parts and not any(e.is_range for e in envelopes) and records < batch.batch_size:
        parts.append(
            f"only {records} of the batch's {batch.batch_size} record(s) of {where} "
            f"(sequence numbers {batch.start_sequence_number} to "
            f"{batch.end_sequence_number}) were found in the stream"
        )
    return parts


def _fresh_batches(queue: Queue, seen: set[str], limit: int | None) -> Iterator[list[Message]]:
    """Receives until the queue is empty (or ``limit`` messages were seen). Messages seen
    already (their visibility timeout ran out during a long run) are skipped; the run ends after
    a few receives in a row that bring nothing new."""
    repeats = 0
    while limit is None or len(seen) < limit:
        wanted = MAX_ENTRIES_PER_SQS_BATCH if limit is None else limit - len(seen)
        messages = queue.receive(wanted)
        if not messages:
            return
        fresh = [m for m in messages if m.message_id not in seen]
        if limit is not None:
            fresh = fresh[: limit - len(seen)]
        if not fresh:
            repeats += 1
            if repeats >= MAX_RECEIVES_WITHOUT_NEW_MESSAGES:
                return
            continue
        repeats = 0
        seen.update(m.message_id for m in fresh)
        yield fresh


def _entry_size(item: tuple[int, PutEntry]) -> int:
    return len(item[1].data) + len(item[1].partition_key.encode("utf-8"))


# --------------------------------------------------------------------------- stats


@dataclass(slots=True)
class StatsReport:
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    oldest: dict[str, datetime] = field(default_factory=dict)
    streams: Counter[str] = field(default_factory=Counter)


STATS_COLUMNS: Final = ("messages", "payload in message", "payload in S3", "pointer only", "other")


def collect_stats(queue: Queue, on_message: Callable[[], None] = lambda: None) -> StatsReport:
    """Reads every message once (nothing is changed: they are made visible again)."""
    report = StatsReport()
    seen: set[str] = set()
    received: list[Message] = []
    for fresh in _fresh_batches(queue, seen, None):
        for message in fresh:
            received.append(message)
            _count_stats(report, message)
            on_message()
    queue.release(received)
    return report


def _count_stats(report: StatsReport, message: Message) -> None:
    try:
        envelope = DlqEnvelope.parse(message.body)
    except EnvelopeParseError:
        if _is_async_invocation_record(message.body):
            _count_hydrate_failure(report, message)
        else:
            report.counts.setdefault(INVALID_ENVELOPE, Counter()).update(["messages", "other"])
        return
    label = envelope.error_category.value
    counter = report.counts.setdefault(label, Counter())
    counter["messages"] += 1
    if envelope.payload_format is PayloadFormat.ON_FAILURE_RECORD:
        counter["other"] += 1
    elif envelope.payload_available:
        counter["payload in message"] += 1
    elif envelope.payload_location is not None:
        counter["payload in S3"] += 1
    else:
        counter["pointer only"] += 1
    if label not in report.oldest or envelope.failed_at < report.oldest[label]:
        report.oldest[label] = envelope.failed_at
    report.streams[envelope.event_source_arn or envelope.event_source] += 1


def _count_hydrate_failure(report: StatsReport, message: Message) -> None:
    """A record of a failed hydrate invocation: a pointer (its records are re-read from the
    stream); "other" when it cannot be read. Its failure time is the earliest batch failure."""
    counter = report.counts.setdefault(HYDRATE_FAILED, Counter())
    counter["messages"] += 1
    try:
        record = parse_async_invocation_record(message.body)
        batches = [parse_on_failure_record(m.raw) for m in record.on_failure_messages()]
    except (MalformedAsyncInvocationRecordError, MalformedOnFailureRecordError):
        counter["other"] += 1
        return
    counter["pointer only"] += 1
    failed_at = min([record.timestamp, *(batch.failed_at for batch in batches)])
    if HYDRATE_FAILED not in report.oldest or failed_at < report.oldest[HYDRATE_FAILED]:
        report.oldest[HYDRATE_FAILED] = failed_at
    for batch in batches:
        report.streams[batch.batch.stream_arn] += 1


# --------------------------------------------------------------------------- output


@dataclass(frozen=True, slots=True)
class ReportText:
    """What the replay tables call the source and its items."""

    title: str = "DLQ replay"
    source: str | None = None
    """Printed above the tables when set (a bucket URI: too long for a title)."""
    items: str = "messages"
    kept_title: str = "left in the queue"
    item_id: str = "message id"
    envelope_ids: bool = True
    """Kept items name their envelope (DLQ messages; an S3 object holds a whole batch)."""


DLQ_TEXT: Final = ReportText()


def render_replay(report: ReplayReport, console: Console, text: ReportText = DLQ_TEXT) -> None:
    done = Outcome.WOULD_REPLAY if report.dry_run else Outcome.REPLAYED
    if text.source:
        console.print(f"{text.title}: {text.source}")
    table = Table(title=text.title + (" (dry run: nothing put, nothing deleted)" * report.dry_run))
    table.add_column("reason")
    for name in (text.items, done.value, "kept", "filtered out"):
        table.add_column(name, justify="right")
    totals: Counter[Outcome] = Counter()
    for label in sorted(report.counts):
        counter = report.counts[label]
        totals.update(counter)
        table.add_row(
            label,
            str(sum(counter.values())),
            str(counter[done]),
            str(counter[Outcome.KEPT]),
            str(counter[Outcome.FILTERED]),
        )
    table.add_section()
    table.add_row(
        "total",
        str(sum(totals.values())),
        str(totals[done]),
        str(totals[Outcome.KEPT]),
        str(totals[Outcome.FILTERED]),
    )
    console.print(table)
    if report.kept:
        kept = Table(title=text.kept_title)
        # Ids whole, on one line (S3 keys are long): they are what one copies.
        widest = max(len(item.message_id) for item in report.kept)
        kept.add_column(text.item_id, no_wrap=True, min_width=widest)
        for name in ("envelope id", "reason", "why") if text.envelope_ids else ("reason", "why"):
            kept.add_column(name, overflow="fold")
        for item in report.kept:
            cells = (item.message_id, item.envelope_id or "-", item.label, item.why)
            kept.add_row(*(cells if text.envelope_ids else (cells[0], *cells[2:])))
        console.print(kept)
    console.print(
        f"records put: {report.records_put} in {report.put_requests} PutRecords call(s); "
        f"duplicate envelopes: {report.duplicates}"
    )


def render_stats(
    report: StatsReport,
    console: Console,
    *,
    title: str = "DLQ contents",
    source: str | None = None,
    columns: Sequence[str] = STATS_COLUMNS,
) -> None:
    if source:
        console.print(f"{title}: {source}")
    table = Table(title=title)
    table.add_column("reason")
    for name in columns:
        table.add_column(name, justify="right")
    table.add_column("oldest failure")
    for label in sorted(report.counts):
        counter = report.counts[label]
        oldest = report.oldest.get(label)
        table.add_row(
            label,
            *(str(counter[name]) for name in columns),
            oldest.isoformat() if oldest else "-",
        )
    console.print(table)
    for stream, count in report.streams.most_common():
        console.print(f"{count:>8}  {stream}")


# --------------------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--queue-url", help="URL of the DLQ (SQS)")
    common.add_argument(
        "--bucket",
        help="failure bucket of an S3 on-failure destination: its objects too (with or "
        "without --queue-url)",
    )
    common.add_argument(
        "--prefix",
        default=DEFAULT_S3_PREFIX,
        help=f"key prefix of the on-failure objects in --bucket (default {DEFAULT_S3_PREFIX})",
    )
    common.add_argument(
        "--terraform-outputs",
        metavar="FILE",
        help="`terraform output -json` of an environment ('-': stdin); gives dlq_url "
        "(and the bucket: failure_bucket_name or bucket_name, when not null)",
    )
    add_aws_arguments(
        common, region_help="AWS region (default: from the queue URL, else the AWS config)"
    )
    common.add_argument(
        "--visibility-timeout",
        type=int,
        default=300,
        metavar="SECONDS",
        help="how long received messages stay invisible while being handled (default 300)",
    )
    common.add_argument(
        "--wait-seconds",
        type=int,
        default=2,
        choices=range(21),
        metavar="0-20",
        help="long-poll wait of each ReceiveMessage (default 2)",
    )
    common.add_argument("--no-progress", action="store_true", help="no progress bar")

    parser = argparse.ArgumentParser(
        prog="python -m tools.replay",
        description="Replay the dead-letter queue into the stream(s) the records came from.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", parents=[common], help="put DLQ records back into their stream, delete them"
    )
    run.add_argument("--target", help="put every record into this Kinesis stream (name or ARN)")
    run.add_argument("--dry-run", action="store_true", help="report only: put/delete nothing")
    run.add_argument(
        "--max",
        type=int,
        dest="max_messages",
        help="handle at most N messages (and at most N objects of --bucket)",
    )
    run.add_argument(
        "--reason",
        action="append",
        default=[],
        metavar="CATEGORY",
        help="only messages of this reason (repeatable, or comma-separated): "
        + ", ".join(sorted(REPLAY_LABELS)),
    )
    commands.add_parser(
        "stats",
        parents=[common],
        help="count DLQ messages (and failure bucket objects) per reason; changes nothing",
    )
    return parser


def _region(explicit: str | None, queue_url: str) -> str | None:
    if explicit:
        return explicit
    match = _SQS_URL_REGION.match(queue_url)
    return match.group(1) if match else None


def _reasons(values: Sequence[str]) -> frozenset[str]:
    reasons = {part.strip().upper() for value in values for part in value.split(",") if part}
    unknown = sorted(reasons - REPLAY_LABELS)
    if unknown:
        known = ", ".join(sorted(REPLAY_LABELS))
        msg = f"unknown --reason {', '.join(unknown)}; choose from {known}"
        raise ValueError(msg)
    return frozenset(reasons)


def main(
    argv: Sequence[str] | None = None,
    *,
    clients: Clients | None = None,
    console: Console | None = None,
    error_console: Console | None = None,
    stdin: TextIO | None = None,
    reader: Callable[[StreamKind], ShardRangeReader] | None = None,
) -> int:
    # The failure bucket's source extends this module's Replayer (imported here: no cycle).
    from tools import replay_bucket

    args = _parser().parse_args(argv)
    out = console or Console()
    err = error_console or Console(stderr=True)
    try:
        outputs = (
            read_terraform_outputs(args.terraform_outputs, stdin or sys.stdin)
            if args.terraform_outputs
            else {}
        )
        queue_url = args.queue_url or first_output(outputs, QUEUE_URL_OUTPUTS)
        bucket = args.bucket or first_output(outputs, BUCKET_OUTPUTS)
        if not queue_url and not bucket:
            msg = (
                "no queue: pass --queue-url URL, or ENV=<environment> (output dlq_url); "
                "and no bucket: pass --bucket NAME to replay the objects of an S3 on-failure "
                f"destination (outputs {' / '.join(BUCKET_OUTPUTS)})"
            )
            raise ValueError(msg)
        reasons = _reasons(getattr(args, "reason", []))
        if getattr(args, "max_messages", None) is not None and args.max_messages < 1:
            msg = "--max must be at least 1"
            raise ValueError(msg)
    except (OSError, ValueError) as exc:
        err.print(f"error: {exc}")
        return 2

    show_progress = not args.no_progress and err.is_terminal
    done: list[tuple[ReplayReport, ReportText]] = []
    try:
        clients = clients or Clients.create(
            region=_region(args.region, queue_url or ""),
            endpoint_url=args.endpoint_url,
            profile=args.profile,
        )
        if args.command == "stats":
            if queue_url:
                queue = Queue(
                    clients.sqs,
                    queue_url,
                    visibility_timeout=args.visibility_timeout,
                    wait_seconds=args.wait_seconds,
                )
                with progress_bar(err, show_progress) as progress:
                    task = progress.add_task("reading the DLQ", total=queue.approximate_size())
                    stats = collect_stats(queue, lambda: progress.advance(task))
                render_stats(stats, out)
            if bucket:
                source = replay_bucket.Bucket(clients.s3, bucket, args.prefix)
                with progress_bar(err, show_progress) as progress:
                    task = progress.add_task("reading the failure bucket", total=None)
                    stats = replay_bucket.collect_stats(source, lambda: progress.advance(task))
                replay_bucket.render_bucket_stats(stats, source, out)
            return 0

        options = RunOptions(
            queue_url=queue_url,
            bucket=bucket,
            prefix=args.prefix,
            target=args.target,
            dry_run=args.dry_run,
            max_messages=args.max_messages,
            reasons=reasons,
            visibility_timeout=args.visibility_timeout,
            wait_seconds=args.wait_seconds,
        )
        if queue_url:
            with progress_bar(err, show_progress) as progress:
                task = progress.add_task("replaying the DLQ")
                replayer = Replayer(
                    clients, options, reader=reader, on_message=lambda: progress.advance(task)
                )
                progress.update(
                    task, total=options.max_messages or replayer.source.approximate_size()
                )
                done.append((replayer.run(), DLQ_TEXT))
        if bucket:
            with progress_bar(err, show_progress) as progress:
                task = progress.add_task("replaying the failure bucket", total=args.max_messages)
                objects = replay_bucket.BucketReplayer(
                    clients, options, reader=reader, on_message=lambda: progress.advance(task)
                )
                done.append((objects.run(), replay_bucket.report_text(objects.bucket)))
    except (ClientError, BotoCoreError) as exc:
        for report, text in done:  # the DLQ was replayed; the bucket could not be
            render_replay(report, out, text)
        err.print(f"error: {describe_exception(exc)}")
        return 2
    for report, text in done:
        render_replay(report, out, text)
    return 1 if any(report.kept for report, _ in done) else 0


if __name__ == "__main__":
    # Run the module as ``tools.replay`` -- the one tools.replay_bucket extends -- rather than
    # as ``__main__``, so that both share their classes.
    from tools.replay import main as _main

    sys.exit(_main())
