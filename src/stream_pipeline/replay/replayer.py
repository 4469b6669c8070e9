"""The replay itself: plan each item's records, put them back with PutRecords (at most 500
records / 5 MiB per call), and delete an item only once all of its records were accepted."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline.cli_common import (
    MAX_PARTITION_KEY_CHARS,
    MAX_RECORDS_PER_PUT,
    put_records_batches,
    stream_params,
)
from stream_pipeline.replay.model import (
    DYNAMODB_SKIPPED,
    HYDRATE_FAILED,
    INVALID_ENVELOPE,
    STREAM_SEQUENCE_NUMBER,
    UNTRUSTED_ENVELOPE,
    Clients,
    KeptMessage,
    Message,
    NoLog,
    NotReplayableError,
    Outcome,
    Planned,
    PlannedGroup,
    PutEntry,
    ReplayReport,
    RunOptions,
    Source,
    StreamPayload,
    is_async_invocation_record,
    parse_envelope,
)
from stream_pipeline.replay.sqs import Queue
from stream_pipeline.replay.trust import Trust
from stream_pipeline.runtime.aws_errors import describe_exception
from stream_pipeline.runtime.claim_check import fetch_payload
from stream_pipeline.runtime.dlq_envelope import (
    DYNAMODB_SOURCE,
    KINESIS_SOURCE,
    DlqEnvelope,
    EnvelopeParseError,
    ErrorCategory,
    PayloadFormat,
    PayloadUnavailableError,
    canonical_json,
)
from stream_pipeline.runtime.dynamodb_image import image_to_document
from stream_pipeline.runtime.hydration.hydrator import HydrationReport, Hydrator
from stream_pipeline.runtime.hydration.models import (
    MalformedAsyncInvocationRecordError,
    MalformedOnFailureRecordError,
    OnFailureRecord,
    parse_async_invocation_record,
    parse_on_failure_record,
)
from stream_pipeline.runtime.hydration.reader import ShardRangeReader, StreamKind, StreamReadError


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


class Replayer:
    """Replays the items of one source: the DLQ unless ``source`` says otherwise
    (``stream_pipeline.replay.bucket.BucketReplayer`` passes its bucket and handles objects).
    Subclasses extend it through its public methods: ``consider`` (one item), ``keep``,
    ``plan_group``, ``hydrator``, ``stream_for`` and ``entries_for``."""

    item_noun = "message"
    """How the kept reasons name one item of the source."""
    unreadable_label = INVALID_ENVELOPE
    """The label of an item whose handling failed unexpectedly (kept, never aborting the run)."""

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
        self.options = options
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
        self.trust = Trust.configured(options, clients.kms)
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

    def hydrator(self) -> Hydrator:
        """The hydrate function's own code, reading with this run's readers (silenced log)."""
        return Hydrator(
            {kind: self._reader(kind) for kind in StreamKind},
            function_name="replay",
            log=NoLog(),
        )

    # ------------------------------------------------------------------ main loop

    def run(self) -> ReplayReport:
        for fresh in self.source.batches(self.options.max_messages):
            for message in fresh:
                self._consider_alone(message)
                self._on_message()
                # Per item: an S3 object alone may hold thousands of records.
                if sum(len(p.entries) for p in self._pending.values()) >= MAX_RECORDS_PER_PUT:
                    self._flush()
        self._flush()
        self.source.release(self._release)
        return self.report

    def _consider_alone(self, message: Message) -> None:
        """``consider``, isolated: whatever one item holds, the run goes on with the next one.
        The known bad inputs are reported by ``consider`` itself; this is the net under it."""
        try:
            self.consider(message)
        except Exception as exc:  # one item must never abort the run
            self._pending = {
                key: item for key, item in self._pending.items() if message not in item.messages
            }
            self.keep(
                message,
                None,
                self.unreadable_label,
                f"not replayable: unexpected error while reading it "
                f"({type(exc).__name__}: {str(exc)[:300]})",
            )

    def keep(self, message: Message, envelope: DlqEnvelope | None, label: str, why: str) -> None:
        self.report.add(label, Outcome.KEPT)
        self.report.kept.append(
            KeptMessage(message.message_id, envelope.envelope_id if envelope else None, label, why)
        )
        self._release.append(message)

    def consider(self, message: Message) -> None:
        try:
            envelope = parse_envelope(message.body)
        except EnvelopeParseError as exc:
            if is_async_invocation_record(message.body):
                self.consider_hydrate_failure(message)
            else:
                self.keep(message, None, INVALID_ENVELOPE, str(exc))
            return
        # The reason code (any well-formed one, a team's too) is only a label: it names the
        # report's row and is what --reason matches; where the record goes is never read from it.
        label = str(envelope.error_category)
        if self.options.reasons and label not in self.options.reasons:
            self.report.add(label, Outcome.FILTERED)
            self._release.append(message)
            return
        # Before anything can act on it -- a duplicate of a replayed envelope is deleted.
        distrust = self.trust.untrusted(message.body)
        if distrust is not None:
            self.keep(message, envelope, UNTRUSTED_ENVELOPE, distrust)
            return
        if envelope.envelope_id in self._replayed_ids:
            self.report.duplicates += 1
            self.settle_duplicate(message, envelope)
            return
        pending = self._pending.get(envelope.envelope_id)
        if pending is not None:
            self.report.duplicates += 1
            pending.messages.append(message)
            return
        self.dispatch(message, envelope, label)

    def dispatch(self, message: Message, envelope: DlqEnvelope, label: str) -> None:
        """Handles one envelope (not filtered out, not seen in this run): here, plans its
        records for PutRecords; ``stream_pipeline.replay.redrive`` invokes its consumer."""
        try:
            stream = self.stream_for(envelope)
            entries = self.entries_for(envelope)
        except NotReplayableError as exc:
            self.keep(message, envelope, label, str(exc))
            return
        if self.options.dry_run:
            self.report.add(label, Outcome.WOULD_REPLAY)
            self._release.append(message)
            self._replayed_ids.add(envelope.envelope_id)
            return
        self._pending[envelope.envelope_id] = Planned(envelope, stream, entries, [message])

    def consider_hydrate_failure(self, message: Message) -> None:
        """Lambda's record of a failed hydrate invocation: hydrate its batch(es) again, from the
        stream, and plan every record; the message goes only when all of them are put."""
        label = HYDRATE_FAILED
        if self.options.reasons and label not in self.options.reasons:
            self.report.add(label, Outcome.FILTERED)
            self._release.append(message)
            return
        try:
            plan = self._hydrate_failure_plan(message.body)
        except NotReplayableError as exc:
            self.keep(message, None, label, str(exc))
            return
        self.plan_group(message, label, plan)

    def plan_group(self, message: Message, label: str, plan: Sequence[Planned]) -> None:
        """Plans every record of ``plan`` (once: a record planned or put already in this run is
        not planned again) for ``message``, which is deleted only when all of them were put."""
        if self.options.dry_run:
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

        for batch_record in on_failure:
            self.trust.check_stream(batch_record.batch.stream_arn, "read")
        hydrator = self.hydrator()
        envelopes: list[DlqEnvelope] = []
        gone: list[str] = []
        for incoming, batch_record in zip(messages, on_failure, strict=True):
            try:
                hydrated = hydrator.envelopes(incoming, HydrationReport())
            except StreamReadError as exc:
                msg = f"payload unavailable for now: {exc}; {failure}"
                raise NotReplayableError(msg) from exc
            gone.extend(missing_parts(batch_record, hydrated))
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
            Planned(envelope, self.stream_for(envelope), self.entries_for(envelope), [])
            for envelope in envelopes
        ]

    def settle_duplicate(self, message: Message, envelope: DlqEnvelope) -> None:
        """Another message of an envelope replayed in this run: deleted (its record was put)."""
        label = str(envelope.error_category)
        if self.options.dry_run:
            self.report.add(label, Outcome.WOULD_REPLAY)
            self._release.append(message)
            return
        failures = self.source.delete([message])
        if message.message_id in failures:
            self.keep(message, envelope, label, f"not deleted: {failures[message.message_id]}")
        else:
            self.report.add(label, Outcome.REPLAYED)

    # ------------------------------------------------------------------ planning

    def stream_for(self, envelope: DlqEnvelope) -> str:
        if envelope.payload_format is PayloadFormat.ON_FAILURE_RECORD:
            msg = (
                "not replayable: the hydrate function could not read this on-failure record "
                "(see its error_reason); fix it and publish it to the hydrate function again"
            )
            raise NotReplayableError(msg)
        if envelope.event_source not in (KINESIS_SOURCE, DYNAMODB_SOURCE):
            msg = f"not replayable: unknown event source {envelope.event_source!r}"
            raise NotReplayableError(msg)
        if self.options.target:
            return self.options.target
        if envelope.event_source == DYNAMODB_SOURCE:
            raise NotReplayableError(DYNAMODB_SKIPPED)
        if not envelope.event_source_arn:
            msg = "not replayable: the envelope names no stream (pass --target STREAM)"
            raise NotReplayableError(msg)
        return self.trust.check_stream(envelope.event_source_arn, "put records into")

    def entries_for(self, envelope: DlqEnvelope) -> list[PutEntry]:
        entries: list[PutEntry] = []
        for payload in self.payloads(envelope):
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

    def payloads(self, envelope: DlqEnvelope) -> list[StreamPayload]:
        """The envelope's record(s): from the message, its S3 claim-check or the stream;
        raises NotReplayableError naming every place tried."""
        if envelope.payload_available:
            return [
                StreamPayload(
                    envelope.original_bytes(), envelope.partition_key, envelope.payload_format
                )
            ]
        problems: list[str] = []
        if envelope.payload_location is not None:
            self.trust.check_bucket(envelope.payload_location)
            try:
                data = fetch_payload(self._clients.s3, envelope)
            except (ClientError, BotoCoreError, PayloadUnavailableError, ValueError) as exc:
                problems.append(
                    f"claim-check {envelope.payload_location}: {describe_exception(exc)}"
                )
            else:
                return [StreamPayload(data, envelope.partition_key, envelope.payload_format)]
        try:
            return self._from_stream(envelope)
        except NotReplayableError as exc:
            problems.append(str(exc))
        raise NotReplayableError("; ".join(problems))

    def _from_stream(self, envelope: DlqEnvelope) -> list[StreamPayload]:
        end = envelope.end_sequence_number or envelope.sequence_number
        if not (
            envelope.event_source_arn
            and envelope.shard_id
            and STREAM_SEQUENCE_NUMBER.fullmatch(envelope.sequence_number)
            and STREAM_SEQUENCE_NUMBER.fullmatch(end)
        ):
            msg = "payload unavailable: the envelope carries no payload and no stream coordinates"
            raise NotReplayableError(msg)
        self.trust.check_stream(envelope.event_source_arn, "read")
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
                StreamPayload(
                    record.payload,
                    envelope.partition_key or record.partition_key,
                    envelope.payload_format or record.payload_format,
                    record.sequence_number,
                    envelope.approximate_arrival_time or record.approximate_arrival,
                    envelope.event_id or record.event_id,
                    record.event_name,
                    envelope.dynamodb_keys or record.dynamodb_keys,
                )
            ]
        return [
            StreamPayload(
                r.payload,
                r.partition_key,
                r.payload_format,
                r.sequence_number,
                r.approximate_arrival,
                r.event_id,
                r.event_name,
                r.dynamodb_keys,
            )
            for r in read.records
        ]

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
            label = str(item.envelope.error_category)
            if errors[index]:
                why = "PutRecords refused: " + "; ".join(sorted(set(errors[index])))
                refused[item.envelope.envelope_id] = why
                for message in item.messages:
                    self.keep(message, item.envelope, label, why)
            else:
                accepted.append(item)
                self._replayed_ids.add(item.envelope.envelope_id)
        complete: list[PlannedGroup] = []
        for group in groups:
            not_put = [i for i in group.envelope_ids if i not in self._replayed_ids]
            if not_put:
                whys = sorted({refused.get(i, "not put") for i in not_put})
                self.keep(
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
            label = str(item.envelope.error_category)
            for message in item.messages:
                if message.message_id in failures:
                    self.keep(
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
                self.keep(
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


def missing_parts(record: OnFailureRecord, envelopes: Sequence[DlqEnvelope]) -> list[str]:
    """What the hydrator could not find of the batch of ``record``, readably."""
    batch = record.batch
    where = f"shard {batch.shard_id} of {batch.stream_arn}"
    parts: list[str] = []
    for envelope in envelopes:
        if envelope.error_category != ErrorCategory.PAYLOAD_UNAVAILABLE:
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


def _entry_size(item: tuple[int, PutEntry]) -> int:
    return len(item[1].data) + len(item[1].partition_key.encode("utf-8"))
