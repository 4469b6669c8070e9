"""Targeted redrive (``replay run --mode redrive``): hand a DLQ record to the consumer that
dead-lettered it -- and to no other -- by invoking that Lambda function synchronously with the
event its event source mapping would have built.

Putting a record back into its stream (the default mode) lets every consumer of the stream read
it again: the e-mail notifier's rejection of a purchase comes back to the DLQ on every replay
although the processor had stored that purchase long ago. A redrive reaches the envelope's
``consumer`` only.

Which functions may be invoked comes from the configuration (``--consumer``, the environment's
terraform outputs), never from a message alone: a message naming any other function is refused
and stays in the queue, with why.

Outcome of one message (each independent of the others):

* the function answers without a function error and without ``batchItemFailures``: the
  consumer took the record over -- it handled it, or rejected it again, in which case its own
  DLQ handling has already written a new message (same ``envelope_id``, the new reason) before
  answering. The old message is deleted either way: the record is never lost (stored, or in
  the new message) and never in the DLQ twice.
* a function error, a ``batchItemFailures`` entry, an unreadable response or an Invoke that
  failed: the message stays, with the reason.
* in the same run, any other message with the envelope id of a record handed over already --
  an older copy, or the consumer's new rejection -- stays, with the reason: a redrive never
  deletes a message it did not hand over, so a new rejection cannot be deleted by mistake.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline.replay.model import (
    HYDRATE_FAILED,
    Clients,
    Message,
    NotReplayableError,
    Outcome,
    RunOptions,
    StreamPayload,
)
from stream_pipeline.replay.replayer import Replayer
from stream_pipeline.runtime.aws_errors import describe_exception
from stream_pipeline.runtime.dlq_envelope import (
    DYNAMODB_SOURCE,
    KINESIS_SOURCE,
    DlqEnvelope,
    PayloadFormat,
)
from stream_pipeline.runtime.hydration.reader import ShardRangeReader, StreamKind

FUNCTION_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
FUNCTION_ARN: Final = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):"
    r"function:(?P<name>[A-Za-z0-9_-]{1,64})(?::(?P<qualifier>[A-Za-z0-9_$-]{1,128}))?"
)
MAX_INVOKE_PAYLOAD_BYTES: Final = 6 * 1024 * 1024
"""Lambda's limit of a synchronous invocation's request (6 MB)."""
DYNAMODB_EVENT_NAME: Final = "MODIFY"
"""The envelope does not keep a DynamoDB record's event name; a record with a NewImage is an
INSERT or a MODIFY, which this library's consumers handle alike. A record re-read from the
stream keeps its own."""
KINESIS_SCHEMA_VERSION: Final = "1.0"
KINESIS_EVENT_VERSION: Final = "1.0"
DYNAMODB_EVENT_VERSION: Final = "1.1"
HYDRATE_FAILED_NOT_REDRIVEN: Final = (
    "not redriven: a failed hydrate invocation stands for a whole batch, not a record of one "
    "consumer; replay it with --mode stream (or invoke the hydrate function with its "
    "requestPayload)"
)


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """A function named by a name or an ARN (possibly qualified)."""

    name: str
    region: str | None = None
    account: str | None = None

    @classmethod
    def parse(cls, text: str) -> FunctionRef | None:
        if FUNCTION_NAME.fullmatch(text):
            return cls(text)
        match = FUNCTION_ARN.fullmatch(text)
        if match is None:
            return None
        return cls(match["name"], match["region"], match["account"])


@dataclass(frozen=True, slots=True)
class Consumer:
    """An allowed consumer, as Lambda describes it."""

    name: str
    arn: str
    role: str
    """Its execution role: ``invokeIdentityArn`` of the records the mapping delivers."""


class AllowedConsumers:
    """The functions a redrive may invoke, from the configuration. ``resolve`` maps an
    envelope's ``consumer`` (a function name or ARN) onto one of them, or refuses it."""

    def __init__(self, client: Any, allowed: Iterable[str]) -> None:
        self._client = client
        self._allowed: dict[str, str] = {}
        bad: list[str] = []
        for text in allowed:
            ref = FunctionRef.parse(text)
            if ref is None:
                bad.append(repr(text[:140]))
            else:
                self._allowed[ref.name] = text
        if bad:
            msg = f"not a Lambda function name or ARN: {', '.join(bad)}"
            raise ValueError(msg)
        self._described: dict[str, Consumer | str] = {}

    @property
    def names(self) -> list[str]:
        return sorted(self._allowed)

    def __bool__(self) -> bool:
        return bool(self._allowed)

    def resolve(self, named: str) -> Consumer:
        ref = FunctionRef.parse(named)
        if ref is None:
            msg = (
                f"refused: the envelope's consumer {named[:140]!r} is not a Lambda function "
                "name or ARN"
            )
            raise NotReplayableError(msg)
        configured = self._allowed.get(ref.name)
        if configured is None:
            msg = (
                f"refused: the envelope names consumer {ref.name!r}, which is not one of the "
                f"functions this redrive may invoke ({', '.join(self.names)}); pass --consumer "
                "to allow it"
            )
            raise NotReplayableError(msg)
        consumer = self._describe(configured)
        deployed = FUNCTION_ARN.fullmatch(consumer.arn)
        if (
            ref.account is not None
            and deployed is not None
            and ((ref.region, ref.account) != (deployed["region"], deployed["account"]))
        ):
            msg = (
                f"refused: the envelope names {named!r}, another account or region than the "
                f"allowed function {consumer.arn}"
            )
            raise NotReplayableError(msg)
        return consumer

    def _describe(self, configured: str) -> Consumer:
        known = self._described.get(configured)
        if known is None:
            try:
                found = self._client.get_function_configuration(FunctionName=configured)
                known = Consumer(
                    str(found["FunctionName"]), str(found["FunctionArn"]), str(found["Role"])
                )
            except (ClientError, BotoCoreError) as exc:
                known = f"consumer {configured!r} cannot be described: {describe_exception(exc)}"
            except (KeyError, TypeError) as exc:
                known = f"consumer {configured!r}: unexpected GetFunctionConfiguration {exc!r}"
            self._described[configured] = known
        if isinstance(known, str):
            raise NotReplayableError(known)
        return known


def _epoch(moment: datetime) -> float:
    # Milliseconds, as Lambda writes approximateArrivalTimestamp.
    return round(moment.timestamp(), 3)


def _region(arn: str) -> str:
    parts = arn.split(":")
    if len(parts) < 6 or not parts[3]:
        msg = f"not redrivable: the envelope's stream ARN {arn[:140]!r} names no region"
        raise NotReplayableError(msg)
    return parts[3]


def kinesis_event_record(
    envelope: DlqEnvelope, payload: StreamPayload, consumer: Consumer
) -> dict[str, Any]:
    """One record as a Kinesis event source mapping delivers it (the Lambda developer guide's
    example event: the same fields, types and order)."""
    if payload.data is None or payload.payload_format is not PayloadFormat.RAW:
        msg = "not redrivable: the record's original bytes are not known"
        raise NotReplayableError(msg)
    sequence_number = payload.sequence_number or envelope.sequence_number
    key = payload.partition_key or envelope.partition_key
    if not key:
        msg = "not redrivable: no partition key known for the record"
        raise NotReplayableError(msg)
    if not (envelope.event_source_arn and envelope.shard_id):
        msg = "not redrivable: the envelope names no stream and shard"
        raise NotReplayableError(msg)
    arrival = payload.arrival or envelope.approximate_arrival_time or envelope.failed_at
    return {
        "kinesis": {
            "kinesisSchemaVersion": KINESIS_SCHEMA_VERSION,
            "partitionKey": key,
            "sequenceNumber": sequence_number,
            "data": base64.b64encode(payload.data).decode("ascii"),
            "approximateArrivalTimestamp": _epoch(arrival),
        },
        "eventSource": KINESIS_SOURCE,
        "eventVersion": KINESIS_EVENT_VERSION,
        "eventID": f"{envelope.shard_id}:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": consumer.role,
        "awsRegion": _region(envelope.event_source_arn),
        "eventSourceARN": envelope.event_source_arn,
    }


def dynamodb_event_record(envelope: DlqEnvelope, payload: StreamPayload) -> dict[str, Any]:
    """One record as a DynamoDB stream event source mapping delivers it."""
    if payload.data is None or payload.payload_format is not PayloadFormat.DYNAMODB_JSON:
        msg = "not redrivable: the record's NewImage is not known"
        raise NotReplayableError(msg)
    if not envelope.event_source_arn:
        msg = "not redrivable: the envelope names no DynamoDB stream"
        raise NotReplayableError(msg)
    keys = payload.dynamodb_keys or envelope.dynamodb_keys
    if not keys:
        msg = "not redrivable: the record's Keys are not known"
        raise NotReplayableError(msg)
    try:
        new_image = json.loads(payload.data)
    except (ValueError, RecursionError) as exc:
        msg = f"not redrivable: the NewImage is not JSON ({exc})"
        raise NotReplayableError(msg) from exc
    sequence_number = payload.sequence_number or envelope.sequence_number
    arrival = payload.arrival or envelope.approximate_arrival_time or envelope.failed_at
    change = {"Keys": keys, "NewImage": new_image}
    return {
        "eventID": payload.event_id or envelope.event_id or sequence_number,
        "eventName": payload.event_name or DYNAMODB_EVENT_NAME,
        "eventVersion": DYNAMODB_EVENT_VERSION,
        "eventSource": DYNAMODB_SOURCE,
        "awsRegion": _region(envelope.event_source_arn),
        "dynamodb": {
            "ApproximateCreationDateTime": float(int(arrival.timestamp())),
            **change,
            "SequenceNumber": sequence_number,
            "SizeBytes": len(json.dumps(change, separators=(",", ":"))),
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": envelope.event_source_arn,
    }


def invocation_failure(response: dict[str, Any]) -> str | None:
    """Why a synchronous invocation did not take the records over, or None when it did: a
    function error, or a partial batch response that reports any record (AWS retries the
    batch from it), or a response Lambda's mapping could not read (the whole batch fails)."""
    body = response["Payload"].read() if response.get("Payload") is not None else b""
    if response.get("FunctionError"):
        detail = body.decode("utf-8", "replace")[:500]
        try:
            error = json.loads(body)
            if isinstance(error, dict):
                detail = f"{error.get('errorType', '?')}: {error.get('errorMessage', '')}"[:500]
        except (ValueError, RecursionError):
            pass
        return f"function error ({response['FunctionError']}): {detail}"
    if not body or body.strip() in (b"null", b"{}"):
        return None
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        return f"the function's response is not JSON: {body[:200]!r}"
    if not isinstance(answer, dict):
        return None  # a handler without partial batch responses: success
    failures = answer.get("batchItemFailures")
    if failures is None or failures == []:
        return None
    if not isinstance(failures, list):
        return f"unreadable batchItemFailures: {json.dumps(failures)[:200]}"
    items = [
        str(entry.get("itemIdentifier")) if isinstance(entry, dict) else repr(entry)
        for entry in failures
    ]
    return f"the consumer reported the record(s) for retry (batchItemFailures: {', '.join(items)})"


class Redriver(Replayer):
    """Redrives the DLQ's envelopes to their consumers (``RunOptions.mode`` redrive)."""

    def __init__(
        self,
        clients: Clients,
        options: RunOptions,
        *,
        consumers: AllowedConsumers | None = None,
        reader: Callable[[StreamKind], ShardRangeReader] | None = None,
        on_message: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(clients, options, reader=reader, on_message=on_message)
        self._lambda = clients.awslambda
        self.consumers = consumers or AllowedConsumers(clients.awslambda, options.consumers)
        if not self.consumers:
            msg = "a redrive needs the consumer functions it may invoke (RunOptions.consumers)"
            raise ValueError(msg)
        self._started = datetime.now(UTC)
        self._handed_over: dict[str, str] = {}
        """envelope id -> the function it was handed to in this run."""

    def dispatch(self, message: Message, envelope: DlqEnvelope, label: str) -> None:
        try:
            consumer = self.consumers.resolve(envelope.consumer)
            event = self.event_for(envelope, consumer)
        except NotReplayableError as exc:
            self.keep(message, envelope, label, str(exc))
            return
        if self.options.dry_run:
            self.report.add(label, Outcome.WOULD_REPLAY)
            self._release.append(message)
            self._replayed_ids.add(envelope.envelope_id)
            return
        failure = self.invoke(consumer, event)
        self._handed_over[envelope.envelope_id] = consumer.name
        if failure is not None:
            self.keep(message, envelope, label, f"redrive to {consumer.name} failed: {failure}")
            return
        self.report.records_put += len(event["Records"])
        self._replayed_ids.add(envelope.envelope_id)
        failures = self.source.delete([message])
        if message.message_id in failures:
            self.keep(
                message,
                envelope,
                label,
                f"{consumer.name} took the record over but the message was not deleted "
                f"({failures[message.message_id]}); a later redrive hands it over again, "
                "which the consumer's idempotency absorbs",
            )
        else:
            self.report.add(label, Outcome.REPLAYED)

    def event_for(self, envelope: DlqEnvelope, consumer: Consumer) -> dict[str, Any]:
        """The event the consumer's mapping would have built for the envelope's record(s)."""
        if envelope.payload_format is PayloadFormat.ON_FAILURE_RECORD:
            msg = (
                "not redrivable: the hydrate function could not read this on-failure record "
                "(see its error_reason); fix it and publish it to the hydrate function again"
            )
            raise NotReplayableError(msg)
        # The consumer would take the record for one of its stream's: only a configured one.
        self.trust.check_stream(envelope.event_source_arn, "hand to its consumer from")
        payloads = self.payloads(envelope)
        if envelope.event_source == KINESIS_SOURCE:
            records = [kinesis_event_record(envelope, p, consumer) for p in payloads]
        elif envelope.event_source == DYNAMODB_SOURCE:
            records = [dynamodb_event_record(envelope, p) for p in payloads]
        else:
            msg = f"not redrivable: unknown event source {envelope.event_source!r}"
            raise NotReplayableError(msg)
        event = {"Records": records}
        if len(json.dumps(event)) > MAX_INVOKE_PAYLOAD_BYTES:
            msg = (
                "not redrivable: the event exceeds the 6 MB of a synchronous invocation; "
                "replay it with --mode stream"
            )
            raise NotReplayableError(msg)
        return event

    def invoke(self, consumer: Consumer, event: dict[str, Any]) -> str | None:
        self.report.put_requests += 1
        try:
            response = self._lambda.invoke(
                FunctionName=consumer.arn,
                InvocationType="RequestResponse",
                Payload=json.dumps(event).encode("utf-8"),
            )
        except (ClientError, BotoCoreError) as exc:
            return f"Invoke: {describe_exception(exc)}"
        return invocation_failure(response)

    def consider_hydrate_failure(self, message: Message) -> None:
        if self.options.reasons and HYDRATE_FAILED not in self.options.reasons:
            self.report.add(HYDRATE_FAILED, Outcome.FILTERED)
            self._release.append(message)
            return
        self.keep(message, None, HYDRATE_FAILED, HYDRATE_FAILED_NOT_REDRIVEN)

    def settle_duplicate(self, message: Message, envelope: DlqEnvelope) -> None:
        label = str(envelope.error_category)
        if self.options.dry_run:
            self.report.add(label, Outcome.WOULD_REPLAY)
            self._release.append(message)
            return
        consumer = self._handed_over.get(envelope.envelope_id, envelope.consumer)
        if envelope.failed_at >= self._started:
            why = (
                f"dead-lettered again by {consumer} during this redrive: "
                f"{envelope.error_reason[:300]}"
            )
        else:
            why = (
                f"another message of a record handed to {consumer} in this run; left for the "
                "next run (a redrive deletes only the message it handed over)"
            )
        self.keep(message, envelope, label, why)
