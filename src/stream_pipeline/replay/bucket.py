"""The objects of an S3 on-failure destination as a replay source (see docs/replay.md)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline.replay.model import (
    DYNAMODB_SKIPPED,
    INVALID_S3_OBJECT,
    S3_ON_FAILURE,
    STREAM_SEQUENCE_NUMBER,
    Clients,
    Message,
    NotReplayableError,
    Outcome,
    Planned,
    RunOptions,
    StatsReport,
)
from stream_pipeline.replay.replayer import Replayer, missing_parts
from stream_pipeline.runtime.aws_errors import describe_exception, error_code
from stream_pipeline.runtime.dlq_envelope import (
    DYNAMODB_SOURCE,
    KINESIS_SOURCE,
    DlqEnvelope,
    PayloadFormat,
)
from stream_pipeline.runtime.hydration.hydrator import HydrationReport
from stream_pipeline.runtime.hydration.models import (
    IncomingMessage,
    MalformedOnFailureRecordError,
    OnFailureRecord,
    parse_on_failure_record,
)
from stream_pipeline.runtime.hydration.reader import ShardRangeReader, StreamKind, StreamReadError

LIST_PAGE_SIZE: Final = 1000
"""Keys per ListObjectsV2 page (the S3 maximum)."""
MAX_KEYS_PER_DELETE: Final = 1000
"""DeleteObjects limit."""
S3_SOURCE: Final = "aws:s3"
GONE_CODES: Final = frozenset({"NoSuchKey", "404"})
"""GetObject of an object deleted since it was listed (by another replay run)."""
BUCKET_STATS_COLUMNS: Final = ("objects", "records", "payload in object", "pointer only", "other")
_JSON_TYPES: Final[dict[type, str]] = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


# --------------------------------------------------------------------------- the bucket


class Bucket:
    """The on-failure objects under ``prefix``: a replay source (``model.Source``). Items are
    :class:`~stream_pipeline.replay.model.Message` whose ``message_id`` is the object key."""

    def __init__(
        self, client: Any, name: str, prefix: str, *, page_size: int = LIST_PAGE_SIZE
    ) -> None:
        self._client = client
        self.name = name
        self.prefix = prefix
        self._page_size = page_size

    @property
    def uri(self) -> str:
        return f"s3://{self.name}/{self.prefix}"

    def batches(self, limit: int | None) -> Iterator[list[Message]]:
        """One batch per ListObjectsV2 page, requested only when the previous one was handled
        (deleting handled objects does not disturb the continuation token: it follows keys)."""
        paginator = self._client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.name, Prefix=self.prefix, PaginationConfig={"PageSize": self._page_size}
        )
        listed = 0
        for page in pages:
            keys = [
                str(item["Key"])
                for item in page.get("Contents") or []
                if not str(item["Key"]).endswith("/")
            ]
            if limit is not None:
                keys = keys[: limit - listed]
            if keys:
                listed += len(keys)
                yield [Message(key, key, "") for key in keys]
            if limit is not None and listed >= limit:
                return

    def approximate_size(self) -> int | None:
        return None  # S3 has no cheap count

    def read(self, key: str) -> bytes:
        response = self._client.get_object(Bucket=self.name, Key=key)
        body = response["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    def delete(self, messages: Sequence[Message]) -> dict[str, str]:
        """DeleteObjects by key (no version id: a versioned bucket keeps a noncurrent
        version behind a delete marker); returns key -> why it was not deleted."""
        failures: dict[str, str] = {}
        for start in range(0, len(messages), MAX_KEYS_PER_DELETE):
            chunk = messages[start : start + MAX_KEYS_PER_DELETE]
            try:
                response = self._client.delete_objects(
                    Bucket=self.name,
                    Delete={"Objects": [{"Key": m.message_id} for m in chunk], "Quiet": True},
                )
            except (ClientError, BotoCoreError) as exc:
                failures.update(
                    dict.fromkeys((m.message_id for m in chunk), describe_exception(exc))
                )
                continue
            for error in response.get("Errors") or []:
                failures[str(error.get("Key"))] = (
                    f"{error.get('Code', 'Unknown')}: {error.get('Message', '')}".strip(": ")
                )
        return failures

    def release(self, messages: Sequence[Message]) -> None:
        """Nothing to do: an object that is kept is simply not deleted."""


# --------------------------------------------------------------------------- the objects


class InvalidObjectError(ValueError):
    """The object is not a readable on-failure record; ``str()`` says why."""


@dataclass(frozen=True, slots=True)
class FailureObject:
    record: OnFailureRecord
    on_failure_json: bytes
    """The on-failure record without its payload (what the hydrate function reads)."""
    payload: Any
    """``payload`` as written (None when absent)."""


def parse_failure_object(body: bytes) -> FailureObject:
    """The object's JSON -> its on-failure record (validated like the hydrate function's input)
    and its payload; InvalidObjectError names what is wrong."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        msg = f"not replayable: the object is not valid JSON ({exc})"
        raise InvalidObjectError(msg) from exc
    if not isinstance(document, dict):
        kind = _JSON_TYPES.get(type(document), type(document).__name__)
        msg = f"not replayable: the object is a JSON {kind}, not a JSON object"
        raise InvalidObjectError(msg)
    payload = document.pop("payload", None)
    on_failure = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )
    try:
        record = parse_on_failure_record(on_failure)
    except MalformedOnFailureRecordError as exc:
        msg = f"not replayable: {exc}"
        raise InvalidObjectError(msg) from exc
    return FailureObject(record, on_failure, payload)


def payload_envelopes(failure: FailureObject) -> tuple[list[DlqEnvelope], str | None]:
    """The records of the object's ``payload`` as envelopes (what the hydrate function would
    have made of them), or -- when the payload cannot be used as it is -- no envelope and why
    (absent, cut, damaged): the batch must then be read back from the stream."""
    record = failure.record
    batch = record.batch
    payload = failure.payload
    if payload is None:
        return [], "the object holds no payload"
    items = payload.get("Records") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        return [], "the object's payload holds no Records list"
    if len(items) < batch.batch_size:
        return [], (
            f"the object's payload was cut: {len(items)} of the batch's {batch.batch_size} "
            "record(s)"
        )
    kinesis = record.event_source == KINESIS_SOURCE
    build = (
        DlqEnvelope.build_from_kinesis_record if kinesis else DlqEnvelope.build_from_dynamodb_record
    )
    low, high = int(batch.start_sequence_number), int(batch.end_sequence_number)
    reason = record.failure_reason()
    envelopes: list[DlqEnvelope] = []
    for index, item in enumerate(items):
        where = f"record {index} of the object's payload"
        if not isinstance(item, dict):
            return [], f"{where} is not a JSON object"
        try:
            envelope = build(
                {**item, "eventSourceARN": item.get("eventSourceARN") or batch.stream_arn},
                error_category=record.reason_code,
                error_reason=reason,
                consumer=record.request_context.function_arn,
                failed_at=record.failed_at,
            )
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            return [], f"{where} cannot be read ({type(exc).__name__}: {exc})"
        number = envelope.sequence_number
        if not STREAM_SEQUENCE_NUMBER.fullmatch(number) or not low <= int(number) <= high:
            return [], (
                f"{where} has sequence number {number}, outside the batch's "
                f"{batch.start_sequence_number} to {batch.end_sequence_number}"
            )
        if kinesis and not envelope.payload_available:
            return [], f"{where} has no kinesis.data"
        if envelope.payload_format is PayloadFormat.KINESIS_DATA_FIELD:
            return [], f"{where} has a kinesis.data that is not base64"
        if kinesis and not envelope.partition_key:
            return [], f"{where} has no kinesis.partitionKey"
        envelopes.append(envelope)
    return envelopes, None


# --------------------------------------------------------------------------- replay


class BucketReplayer(Replayer):
    """Replays the objects of a failure bucket (``options.bucket``, ``options.prefix``)."""

    item_noun = "object"

    def __init__(
        self,
        clients: Clients,
        options: RunOptions,
        *,
        reader: Callable[[StreamKind], ShardRangeReader] | None = None,
        on_message: Callable[[], None] = lambda: None,
        page_size: int = LIST_PAGE_SIZE,
    ) -> None:
        if not options.bucket:
            msg = "RunOptions.bucket is required to replay a failure bucket"
            raise ValueError(msg)
        self.bucket = Bucket(clients.s3, options.bucket, options.prefix, page_size=page_size)
        super().__init__(clients, options, source=self.bucket, reader=reader, on_message=on_message)

    def consider(self, message: Message) -> None:
        label = S3_ON_FAILURE
        if self.options.reasons and label not in self.options.reasons:
            self.report.add(label, Outcome.FILTERED)  # not even read
            return
        try:
            body = self.bucket.read(message.message_id)
        except ClientError as exc:
            if error_code(exc) in GONE_CODES:
                return  # deleted since it was listed: nothing left to replay
            self.keep(message, None, label, f"cannot be read now: {describe_exception(exc)}")
            return
        except BotoCoreError as exc:
            self.keep(message, None, label, f"cannot be read now: {describe_exception(exc)}")
            return
        try:
            failure = parse_failure_object(body)
        except InvalidObjectError as exc:
            self.keep(message, None, INVALID_S3_OBJECT, str(exc))
            return
        try:
            plan = self._object_plan(failure)
        except NotReplayableError as exc:
            self.keep(message, None, label, str(exc))
            return
        self.plan_group(message, label, plan)

    def _object_plan(self, failure: FailureObject) -> list[Planned]:
        """Every record of the object, with its stream and PutRecords entries; raises
        NotReplayableError unless every record can be put back."""
        if failure.record.event_source == DYNAMODB_SOURCE and not self.options.target:
            raise NotReplayableError(DYNAMODB_SKIPPED)
        # The object names its batch's stream: read only a configured one (each record's own
        # eventSourceARN is checked again where it is put, in stream_for).
        self.trust.check_stream(failure.record.batch.stream_arn, "read")
        envelopes, problem = payload_envelopes(failure)
        if problem is not None:
            envelopes = self._read_back(failure, problem)
        plan: list[Planned] = []
        for envelope in envelopes:
            stream = self.stream_for(envelope)
            if (
                envelope.event_source == DYNAMODB_SOURCE
                and not envelope.payload_available
                and not envelope.is_range
            ):
                msg = "not replayable: the stream record has no payload (no NewImage)"
                raise NotReplayableError(msg)
            plan.append(Planned(envelope, stream, self.entries_for(envelope), []))
        return plan

    def _read_back(self, failure: FailureObject, problem: str) -> list[DlqEnvelope]:
        """The batch read back from the stream by the hydrate function's code (the whole
        sequence range: same envelopes as the hydrate function would send the DLQ)."""
        record = failure.record
        incoming = IncomingMessage(raw=failure.on_failure_json, source=S3_SOURCE)
        try:
            envelopes = self.hydrator().envelopes(incoming, HydrationReport())
        except StreamReadError as exc:
            msg = (
                f"payload unavailable for now: {problem}, and the stream cannot be read now "
                f"({exc}); {record.failure_reason()}"
            )
            raise NotReplayableError(msg) from exc
        gone = missing_parts(record, envelopes)
        if gone:
            msg = f"payload unavailable: {problem}, and {'; '.join(gone)}; "
            raise NotReplayableError(msg + record.failure_reason())
        return envelopes


# --------------------------------------------------------------------------- stats


def collect_stats(bucket: Bucket, on_object: Callable[[], None] = lambda: None) -> StatsReport:
    """Reads every object once; changes nothing."""
    report = StatsReport()
    for batch in bucket.batches(None):
        for message in batch:
            _count_stats(report, bucket, message.message_id)
            on_object()
    return report


def _count_stats(report: StatsReport, bucket: Bucket, key: str) -> None:
    try:
        body = bucket.read(key)
    except ClientError as exc:
        if error_code(exc) in GONE_CODES:
            return
        report.counts.setdefault(S3_ON_FAILURE, Counter()).update(["objects", "other"])
        return
    except BotoCoreError:
        report.counts.setdefault(S3_ON_FAILURE, Counter()).update(["objects", "other"])
        return
    try:
        failure = parse_failure_object(body)
    except InvalidObjectError:
        report.counts.setdefault(INVALID_S3_OBJECT, Counter()).update(["objects", "other"])
        return
    batch = failure.record.batch
    counter = report.counts.setdefault(S3_ON_FAILURE, Counter())
    counter["objects"] += 1
    counter["records"] += batch.batch_size
    _, problem = payload_envelopes(failure)
    counter["pointer only" if problem else "payload in object"] += 1
    failed_at = failure.record.failed_at
    if S3_ON_FAILURE not in report.oldest or failed_at < report.oldest[S3_ON_FAILURE]:
        report.oldest[S3_ON_FAILURE] = failed_at
    report.streams[batch.stream_arn] += 1
