"""The on-failure record of a stream event source mapping, and the events that carry it.

When an event source mapping gives up on a batch (retries exhausted, record too old, ...) it
sends its on-failure destination a small JSON document -- *without the records*::

    {"requestContext": {"requestId": "...", "functionArn": "arn:aws:lambda:...:function:f",
                        "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
     "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                         "functionError": "Unhandled"},
     "version": "1.0", "timestamp": "2023-12-10T22:06:23.446Z",
     "KinesisBatchInfo": {"shardId": "shardId-000000000000",
                          "startSequenceNumber": "4964...", "endSequenceNumber": "4964...",
                          "approximateArrivalOfFirstRecord": "2023-12-10T22:05:59.280Z",
                          "approximateArrivalOfLastRecord": "2023-12-10T22:06:19.196Z",
                          "batchSize": 3, "streamArn": "arn:aws:kinesis:...:stream/s"}}

DynamoDB streams send ``DDBStreamBatchInfo`` (same fields) instead of ``KinesisBatchInfo``.
A Kinesis ``streamArn`` may also be the ARN of the mapping's enhanced fan-out consumer
(``arn:aws:kinesis:<region>:<account>:stream/<name>/consumer/<consumer>:<creation epoch>``, the
ARN the mapping was created with): ``stream_arn`` is then its stream's ARN, since records are
read back from the stream, never through a consumer.
``responseContext`` is absent when the function was never invoked for the batch (for example
``RecordAgeExceeded``). Powertools' ``DynamoDBStreamLambdaOnFailureDestinationModel`` requires
``responseContext`` and there is no Kinesis counterpart, hence these models.

Parsing is strict (JSON types must match: a count sent as ``"4"`` is malformed) and always from
the JSON text, so a direct invocation and an SNS-delivered message are validated the same way.
Unknown fields are ignored (AWS may add some).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from stream_pipeline.runtime.dlq_envelope import DYNAMODB_SOURCE, KINESIS_SOURCE, ErrorCategory

SequenceNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,128}$")]
"""Kinesis and DynamoDB stream sequence numbers: decimal integers (compare them as integers)."""

KINESIS_STREAM_ARN: Final = re.compile(r"^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/[^/]+$")
KINESIS_CONSUMER_ARN: Final = re.compile(
    r"^(?P<stream>arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/[^/]+)/consumer/[^/:]+:\d+$"
)
"""An enhanced fan-out consumer's ARN: its stream's ARN, ``/consumer/<name>:<creation epoch>``."""
DYNAMODB_STREAM_ARN: Final = re.compile(
    r"^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[^/]+/stream/[^/]+$"
)

SNS_SOURCE: Final = "aws:sns"
DIRECT_SOURCE: Final = "aws:lambda"
"""``event_source`` of not-hydrated envelopes for an on-failure record invoked directly."""

RETRY_ATTEMPTS_EXHAUSTED: Final = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED: Final = "RecordAgeExceeded"
_CONDITION_LABELS: Final = {
    RETRY_ATTEMPTS_EXHAUSTED: "retries exhausted",
    RECORD_AGE_EXCEEDED: "record age exceeded",
}
_CONDITION_CODES: Final = {RECORD_AGE_EXCEEDED: ErrorCategory.RECORD_AGE_EXCEEDED}
"""The reason code of each condition that has its own; any other condition (retries exhausted,
or one AWS adds later) is RETRIES_EXHAUSTED: the mapping gave up on the batch."""

_STRICT: Final = ConfigDict(strict=True, frozen=True, extra="ignore")


class RequestContext(BaseModel):
    model_config = _STRICT

    request_id: str = Field(alias="requestId", min_length=1)
    function_arn: str = Field(alias="functionArn", min_length=1)
    """The consumer function whose batch failed."""
    condition: str = Field(min_length=1)
    """Why the batch was discarded: RetryAttemptsExhausted, RecordAgeExceeded, ..."""
    approximate_invoke_count: int = Field(alias="approximateInvokeCount", ge=0)


class ResponseContext(BaseModel):
    model_config = _STRICT

    status_code: int = Field(alias="statusCode")
    executed_version: str = Field(alias="executedVersion")
    function_error: str | None = Field(default=None, alias="functionError")
    """``Unhandled`` (the function raised or timed out) or ``Handled``; absent on success."""


class StreamBatchInfo(BaseModel):
    """Where the discarded batch sits: one shard, an inclusive sequence number range."""

    model_config = _STRICT

    shard_id: str = Field(alias="shardId", min_length=1)
    start_sequence_number: SequenceNumber = Field(alias="startSequenceNumber")
    end_sequence_number: SequenceNumber = Field(alias="endSequenceNumber")
    approximate_arrival_of_first_record: AwareDatetime | None = Field(
        default=None, alias="approximateArrivalOfFirstRecord"
    )
    approximate_arrival_of_last_record: AwareDatetime | None = Field(
        default=None, alias="approximateArrivalOfLastRecord"
    )
    batch_size: int = Field(alias="batchSize", ge=1, le=10_000)
    stream_arn: str = Field(alias="streamArn")

    @model_validator(mode="after")
    def _range_is_ordered(self) -> Self:
        if int(self.start_sequence_number) > int(self.end_sequence_number):
            msg = "startSequenceNumber is greater than endSequenceNumber"
            raise ValueError(msg)
        return self


class KinesisBatchInfo(StreamBatchInfo):
    @field_validator("stream_arn")
    @classmethod
    def _stream_of_consumer(cls, value: str) -> str:
        # An enhanced fan-out consumer's ARN names its stream: records are read from the stream.
        consumer = KINESIS_CONSUMER_ARN.match(value)
        return consumer["stream"] if consumer is not None else value

    @model_validator(mode="after")
    def _kinesis_arn(self) -> Self:
        if not KINESIS_STREAM_ARN.match(self.stream_arn):
            msg = f"streamArn is not a Kinesis stream ARN: {self.stream_arn!r}"
            raise ValueError(msg)
        return self


class DynamoDBStreamBatchInfo(StreamBatchInfo):
    @model_validator(mode="after")
    def _dynamodb_stream_arn(self) -> Self:
        if not DYNAMODB_STREAM_ARN.match(self.stream_arn):
            msg = f"streamArn is not a DynamoDB stream ARN: {self.stream_arn!r}"
            raise ValueError(msg)
        return self


class OnFailureRecord(BaseModel):
    model_config = _STRICT

    request_context: RequestContext = Field(alias="requestContext")
    response_context: ResponseContext | None = Field(default=None, alias="responseContext")
    version: str
    timestamp: AwareDatetime
    """When the event source mapping discarded the batch."""
    kinesis_batch_info: KinesisBatchInfo | None = Field(default=None, alias="KinesisBatchInfo")
    ddb_stream_batch_info: DynamoDBStreamBatchInfo | None = Field(
        default=None, alias="DDBStreamBatchInfo"
    )

    @model_validator(mode="after")
    def _exactly_one_batch(self) -> Self:
        if (self.kinesis_batch_info is None) == (self.ddb_stream_batch_info is None):
            msg = "expected exactly one of KinesisBatchInfo or DDBStreamBatchInfo"
            raise ValueError(msg)
        return self

    @property
    def batch(self) -> StreamBatchInfo:
        batch = self.kinesis_batch_info or self.ddb_stream_batch_info
        assert batch is not None  # guaranteed by the validator
        return batch

    @property
    def event_source(self) -> Literal["aws:kinesis", "aws:dynamodb"]:
        return KINESIS_SOURCE if self.kinesis_batch_info is not None else DYNAMODB_SOURCE

    @property
    def failed_at(self) -> datetime:
        return self.timestamp

    @property
    def reason_code(self) -> ErrorCategory:
        """The envelopes' reason code, from the condition: ``RECORD_AGE_EXCEEDED`` for
        ``RecordAgeExceeded``, ``RETRIES_EXHAUSTED`` otherwise."""
        return _CONDITION_CODES.get(self.request_context.condition, ErrorCategory.RETRIES_EXHAUSTED)

    def failure_reason(self) -> str:
        """Readable failure reason, for example
        ``retries exhausted (RetryAttemptsExhausted) after 3 attempts: Unhandled``."""
        context = self.request_context
        label = _CONDITION_LABELS.get(context.condition) or _words(context.condition)
        count = context.approximate_invoke_count
        text = f"{label} ({context.condition}) after {count} attempt{'' if count == 1 else 's'}"
        response = self.response_context
        if response is not None and response.function_error:
            text += f": {response.function_error}"
        if response is not None and not 200 <= response.status_code < 300:
            text += f" (status {response.status_code})"
        return text


def _words(condition: str) -> str:
    """``SomeNewCondition`` -> ``some new condition``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", condition).lower()


class MalformedOnFailureRecordError(ValueError):
    """The message is not an on-failure record this function can read; ``str()`` says why."""


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in error["loc"]) or "<record>"
        problems.append(f"{location}: {error['msg']}")
    return "; ".join(problems)


def parse_on_failure_record(raw: bytes) -> OnFailureRecord:
    """Validate the JSON text; MalformedOnFailureRecordError names every problem."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        msg = f"on-failure record is not valid JSON: {exc}"
        raise MalformedOnFailureRecordError(msg) from exc
    if not isinstance(document, dict):
        msg = f"on-failure record must be a JSON object, got {type(document).__name__}"
        raise MalformedOnFailureRecordError(msg)
    try:
        return OnFailureRecord.model_validate_json(raw)
    except ValidationError as exc:
        msg = f"malformed on-failure record: {_describe(exc)}"
        raise MalformedOnFailureRecordError(msg) from exc


# --------------------------------------------------------------------------- incoming events


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One on-failure record as received, before validation."""

    raw: bytes
    """The original message bytes (the SNS ``Message`` text, or the direct event as JSON)."""
    source: str
    """``aws:sns`` or ``aws:lambda`` (direct invocation)."""
    source_arn: str | None = None
    """The SNS topic ARN, when delivered by SNS."""
    message_id: str | None = None
    """The SNS MessageId, when delivered by SNS."""


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode(
        "utf-8", "surrogatepass"
    )


def _from_record(record: Any) -> IncomingMessage:
    sns = record.get("Sns") if isinstance(record, Mapping) else None
    if isinstance(sns, Mapping) and isinstance(sns.get("Message"), str):
        topic = sns.get("TopicArn")
        message_id = sns.get("MessageId")
        return IncomingMessage(
            raw=str(sns["Message"]).encode("utf-8", "surrogatepass"),
            source=SNS_SOURCE,
            source_arn=topic if isinstance(topic, str) else None,
            message_id=message_id if isinstance(message_id, str) else None,
        )
    # Not an SNS notification: keep the whole record, it becomes a not-hydrated envelope.
    return IncomingMessage(raw=_json_bytes(record), source=DIRECT_SOURCE)


def extract_messages(event: Any) -> list[IncomingMessage]:
    """SNS event (``Records[].Sns.Message``) -> one message per record; anything else is taken
    as a directly passed on-failure record. Never drops anything: unreadable parts are returned
    as messages too, and fail validation later with their bytes kept."""
    if isinstance(event, Mapping) and "requestContext" not in event:
        records = event.get("Records")
        if isinstance(records, list) and records:
            return [_from_record(record) for record in records]
    return [IncomingMessage(raw=_json_bytes(event), source=DIRECT_SOURCE)]


# --------------------------------------------------------------------------- own failed invocations


class MalformedAsyncInvocationRecordError(ValueError):
    """The message looks like a record of a failed asynchronous invocation but cannot be read;
    ``str()`` says why."""


class AsyncInvocationRecord(BaseModel):
    """Lambda's record of an asynchronous invocation of *this* function that failed for good.

    The Terraform module (hydrating-dlq) gives the function 2 asynchronous retries and the DLQ
    as its on-failure destination, so when hydration itself fails (stream unreadable, DLQ
    refused the envelopes) the DLQ receives, as the message body::

        {"version": "1.0", "timestamp": "2019-11-14T18:16:05.568Z",
         "requestContext": {"requestId": "...", "functionArn": "arn:...:function:f:$LATEST",
                            "condition": "RetriesExhausted", "approximateInvokeCount": 3},
         "requestPayload": <the event the function was given: the SNS event holding the
                            on-failure record(s), or an on-failure record passed directly>,
         "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                             "functionError": "Unhandled"},
         "responsePayload": {"errorMessage": "...", "errorType": "...", "stackTrace": [...]}}

    (AWS Lambda Developer Guide, "Capturing records of Lambda asynchronous invocations").
    ``condition`` is ``RetriesExhausted`` or ``EventAgeExceeded`` (the event waited longer than
    the maximum event age). ``requestPayload`` is required: without it nothing can be recovered.
    """

    model_config = _STRICT

    version: str
    timestamp: AwareDatetime
    """When Lambda gave up on the invocation."""
    request_context: RequestContext = Field(alias="requestContext")
    request_payload: Any = Field(alias="requestPayload")
    response_context: ResponseContext | None = Field(default=None, alias="responseContext")
    response_payload: Any = Field(default=None, alias="responsePayload")

    def on_failure_messages(self) -> list[IncomingMessage]:
        """The on-failure record(s) the failed invocation was given, exactly as the function
        itself reads them from its event (SNS-wrapped or direct)."""
        return extract_messages(self.request_payload)

    def failure_reason(self) -> str:
        """For example ``hydrate function arn:...:function:h failed: retries exhausted
        (RetriesExhausted) after 3 attempts: Unhandled: DlqSendError: 2 of 2 ...``."""
        context = self.request_context
        label = _words(context.condition)
        count = context.approximate_invoke_count
        text = (
            f"hydrate function {context.function_arn} failed: {label} ({context.condition}) "
            f"after {count} attempt{'' if count == 1 else 's'}"
        )
        response = self.response_context
        if response is not None and response.function_error:
            text += f": {response.function_error}"
        payload = self.response_payload
        if isinstance(payload, Mapping):
            error = ": ".join(
                str(payload[name])
                for name in ("errorType", "errorMessage")
                if isinstance(payload.get(name), str) and payload[name]
            )
            if error:
                text += f": {error}"
        return text


def looks_like_async_invocation_record(document: Any) -> bool:
    """True for a JSON object shaped like Lambda's asynchronous invocation record (it has
    ``requestContext`` and ``requestPayload``), valid or not."""
    return (
        isinstance(document, Mapping)
        and "requestContext" in document
        and "requestPayload" in document
    )


def parse_async_invocation_record(raw: str | bytes) -> AsyncInvocationRecord:
    """Validate the JSON text; MalformedAsyncInvocationRecordError names every problem."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        msg = f"asynchronous invocation record is not valid JSON: {exc}"
        raise MalformedAsyncInvocationRecordError(msg) from exc
    if not isinstance(document, dict):
        msg = f"asynchronous invocation record must be a JSON object, got {type(document).__name__}"
        raise MalformedAsyncInvocationRecordError(msg)
    try:
        return AsyncInvocationRecord.model_validate_json(raw)
    except ValidationError as exc:
        msg = f"malformed asynchronous invocation record: {_describe(exc)}"
        raise MalformedAsyncInvocationRecordError(msg) from exc
