"""Builders for Lambda stream events, retail events and AWS failure injection (no JSON blobs).

Everything is built programmatically so a test states only what matters to it.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, ErrorCategory

REGION = "eu-west-1"
ACCOUNT = "123456789012"
KINESIS_STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/retail-events"
SHARD_ID = "shardId-000000000000"
SOURCE_TABLE = "retail-events-outbox"
DYNAMODB_STREAM_ARN = (
    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{SOURCE_TABLE}/stream/2025-01-01T00:00:00.000"
)
BASE_TIMESTAMP_MS = 1_700_000_000_000  # 2023-11-14T22:13:20Z
ARRIVAL_EPOCH_SECONDS = 1_700_000_000.25

MISSING: Any = object()
"""Pass as a field value to ``retail_event`` to leave the field out."""

_sequence = itertools.count(1)
_event_ids = itertools.count(1)


def next_sequence_number() -> str:
    # Small integers, like the local emulator; real AWS uses 56 digits. Never compare them.
    return str(next(_sequence))


def retail_event(**fields: Any) -> dict[str, Any]:
    """A valid retail event with a fresh eventId; keyword arguments override fields."""
    event: dict[str, Any] = {
        "userId": "user-1",
        "eventType": "view",
        "productId": "P0001",
        "timestamp": BASE_TIMESTAMP_MS,
        "eventId": f"evt-{next(_event_ids)}",
        "sessionId": "session-1",
    }
    event.update(fields)
    return {name: value for name, value in event.items() if value is not MISSING}


def encode(payload: Mapping[str, Any] | list[Any] | str | bytes) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(payload).encode()


# --------------------------------------------------------------------------- Kinesis


def kinesis_record(
    payload: Mapping[str, Any] | list[Any] | str | bytes = b"",
    *,
    raw_data: str | None = None,
    sequence_number: str | None = None,
    partition_key: str = "user-1",
    shard_id: str = SHARD_ID,
    stream_arn: str = KINESIS_STREAM_ARN,
    arrival: float = ARRIVAL_EPOCH_SECONDS,
) -> dict[str, Any]:
    """One record as Lambda delivers it; ``raw_data`` sets the base64 field verbatim."""
    sequence_number = sequence_number or next_sequence_number()
    data = raw_data if raw_data is not None else base64.b64encode(encode(payload)).decode()
    return {
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/stream-processor",
        "awsRegion": REGION,
        "eventSourceARN": stream_arn,
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence_number,
            "data": data,
            "approximateArrivalTimestamp": arrival,
        },
    }


def kinesis_event(*records: Mapping[str, Any]) -> dict[str, Any]:
    return {"Records": [dict(record) for record in records]}


def kinesis_event_of(
    payloads: Iterable[Mapping[str, Any] | list[Any] | str | bytes],
) -> dict[str, Any]:
    return kinesis_event(*(kinesis_record(payload) for payload in payloads))


def sequence_numbers(event: Mapping[str, Any]) -> list[str]:
    return [record["kinesis"]["sequenceNumber"] for record in event["Records"]]


# --------------------------------------------------------------------------- DynamoDB streams

_serializer = TypeSerializer()


def _to_dynamodb_value(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: _to_dynamodb_value(member) for key, member in value.items()}
    if isinstance(value, list):
        return [_to_dynamodb_value(member) for member in value]
    return value


def typed(document: Mapping[str, Any]) -> dict[str, Any]:
    """Plain document -> DynamoDB-typed JSON (as in a stream record's NewImage)."""
    return {
        name: _serializer.serialize(_to_dynamodb_value(value)) for name, value in document.items()
    }


def dynamodb_record(
    new_image: Mapping[str, Any] | None,
    *,
    typed_new_image: Mapping[str, Any] | None = None,
    event_name: str = "INSERT",
    keys: Mapping[str, Any] | None = None,
    sequence_number: str | None = None,
    stream_arn: str = DYNAMODB_STREAM_ARN,
) -> dict[str, Any]:
    """One DynamoDB stream record; ``new_image`` is a plain document (typed here)."""
    sequence_number = sequence_number or next_sequence_number().rjust(21, "0")
    image = dict(typed_new_image) if typed_new_image is not None else None
    if image is None and new_image is not None:
        image = typed(new_image)
    stream_record: dict[str, Any] = {
        "ApproximateCreationDateTime": 1_700_000_000,
        "Keys": dict(keys) if keys is not None else {"pk": {"S": "outbox#1"}},
        "SequenceNumber": sequence_number,
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if image is not None:
        stream_record["NewImage"] = image
    return {
        "eventID": f"ddb-{sequence_number}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": stream_record,
        "eventSourceARN": stream_arn,
    }


def dynamodb_event(*records: Mapping[str, Any]) -> dict[str, Any]:
    return {"Records": [dict(record) for record in records]}


# --------------------------------------------------------------------------- Lambda context


@dataclass
class FakeLambdaContext:
    function_name: str = "stream-processor-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:stream-processor-test"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


# --------------------------------------------------------------------------- failure injection


def client_error(
    code: str, operation: str, *, status: int = 400, message: str = "injected"
) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


class Intercepted:
    """Proxy of a real (moto) client; listed operations go through a test function first.

    ``handler(call_real, **params)`` may return a response, raise, or delegate to
    ``call_real(**params)``. All calls of intercepted operations are recorded in ``calls``.
    """

    def __init__(self, real: Any, **handlers: Callable[..., Any]) -> None:
        self._real = real
        self._handlers = handlers
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        handler = self._handlers.get(name)
        real = getattr(self._real, name)
        if handler is None:
            return real

        def call(**params: Any) -> Any:
            self.calls.append((name, params))
            return handler(real, **params)

        return call


def written_user_ids(params: Mapping[str, Any]) -> list[str]:
    """userIds in a BatchWriteItem request."""
    (requests,) = params["RequestItems"].values()
    return [request["PutRequest"]["Item"]["userId"]["S"] for request in requests]


def always_raise(error: Exception) -> Callable[..., Any]:
    """An ``Intercepted`` handler that fails every call with ``error``."""

    def handler(real: Any, **params: Any) -> Any:
        raise error

    return handler


# --------------------------------------------------------------------------- on-failure records

CONSUMER_FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:stream-processor"
ON_FAILURE_TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:stream-processor-on-failure"
ON_FAILURE_TIMESTAMP = "2025-01-31T12:00:00.000Z"


def on_failure_record(
    *,
    start: str,
    end: str,
    batch_size: int,
    stream_arn: str = KINESIS_STREAM_ARN,
    shard_id: str = SHARD_ID,
    source: str = "kinesis",
    condition: str = "RetryAttemptsExhausted",
    invoke_count: int = 3,
    function_error: str | None = "Unhandled",
    response_context: Any = None,
    **overrides: Any,
) -> dict[str, Any]:
    """What an event source mapping sends its on-failure destination. ``source="dynamodb"``
    gives ``DDBStreamBatchInfo``; ``response_context=MISSING`` leaves it out (RecordAgeExceeded);
    ``overrides`` replace top-level fields (``MISSING`` removes one)."""
    context = {"statusCode": 200, "executedVersion": "$LATEST"}
    if function_error is not None:
        context["functionError"] = function_error
    record: dict[str, Any] = {
        "requestContext": {
            "requestId": "c9b8fa9f-5a7f-4f6c-af9c-0c604cde93a5",
            "functionArn": CONSUMER_FUNCTION_ARN,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": context if response_context is None else response_context,
        "version": "1.0",
        "timestamp": ON_FAILURE_TIMESTAMP,
        "KinesisBatchInfo" if source == "kinesis" else "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": start,
            "endSequenceNumber": end,
            "approximateArrivalOfFirstRecord": "2025-01-31T11:59:00.000Z",
            "approximateArrivalOfLastRecord": "2025-01-31T11:59:30.000Z",
            "batchSize": batch_size,
            "streamArn": stream_arn,
        },
    }
    record.update(overrides)
    return {name: value for name, value in record.items() if value is not MISSING}


def sns_event(*messages: str | Mapping[str, Any]) -> dict[str, Any]:
    """An SNS -> Lambda event; each message is a JSON document or the raw Message text."""
    records = []
    for number, message in enumerate(messages, start=1):
        text = message if isinstance(message, str) else json.dumps(message)
        records.append(
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{ON_FAILURE_TOPIC_ARN}:2bcfbf39-05c3-41de-beaa",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": f"95df01b4-ee98-5cb9-9903-4c221d41eb5{number}",
                    "TopicArn": ON_FAILURE_TOPIC_ARN,
                    "Subject": None,
                    "Message": text,
                    "Timestamp": "2025-01-31T12:00:01.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.example/cert.pem",
                    "UnsubscribeUrl": "https://sns.example/unsubscribe",
                    "MessageAttributes": {},
                },
            }
        )
    return {"Records": records}


# --------------------------------------------------------------------------- GetRecords output


def get_records_record(
    sequence_number: str, data: bytes = b"{}", partition_key: str = "user-1"
) -> dict[str, Any]:
    """One record as Kinesis GetRecords returns it (for botocore Stubber responses)."""
    return {
        "SequenceNumber": sequence_number,
        "ApproximateArrivalTimestamp": datetime.fromtimestamp(ARRIVAL_EPOCH_SECONDS, UTC),
        "Data": data,
        "PartitionKey": partition_key,
    }


def kinesis_event_from_get_records(
    records: Iterable[Mapping[str, Any]],
    *,
    stream_arn: str = KINESIS_STREAM_ARN,
    shard_id: str = SHARD_ID,
) -> dict[str, Any]:
    """A Lambda Kinesis event holding records read back with GetRecords."""
    return kinesis_event(
        *(
            kinesis_record(
                raw_data=base64.b64encode(record["Data"]).decode(),
                sequence_number=str(record["SequenceNumber"]),
                partition_key=str(record["PartitionKey"]),
                shard_id=shard_id,
                stream_arn=stream_arn,
                arrival=record["ApproximateArrivalTimestamp"].timestamp(),
            )
            for record in records
        )
    )


# --------------------------------------------------------------------------- async invocations

HYDRATE_FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:hydrate"
ASYNC_FAILURE_TIMESTAMP = "2025-01-31T12:06:00.000Z"


def async_invocation_record(
    request_payload: Any,
    *,
    condition: str = "RetriesExhausted",
    invoke_count: int = 3,
    error_type: str = "DlqSendError",
    error_message: str = "1 of 1 DLQ envelope(s) not accepted by SQS",
    function_arn: str = f"{HYDRATE_FUNCTION_ARN}:$LATEST",
    **overrides: Any,
) -> dict[str, Any]:
    """What Lambda sends a function's on-failure destination after its asynchronous retries
    (the hydrate function's DLQ): ``request_payload`` is the event the function was given.
    ``overrides`` replace top-level fields (``MISSING`` removes one)."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": ASYNC_FAILURE_TIMESTAMP,
        "requestContext": {
            "requestId": "e4b46cbf-b738-4f2e-8880-a18cdf61200e",
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "requestPayload": request_payload,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {
            "errorMessage": error_message,
            "errorType": error_type,
            "requestId": "e4b46cbf-b738-4f2e-8880-a18cdf61200e",
            "stackTrace": ['  File "/var/task/hydrate/app.py", line 150, in process_event\n'],
        },
    }
    record.update(overrides)
    return {name: value for name, value in record.items() if value is not MISSING}


def hydrated_envelope(payload: bytes = b"abc", **kwargs: Any) -> DlqEnvelope:
    """A hydrate-made DLQ envelope (RETRIES_EXHAUSTED, payload re-read from the stream)."""
    return DlqEnvelope.create(
        event_source="aws:kinesis",
        event_source_arn=KINESIS_STREAM_ARN,
        shard_id=SHARD_ID,
        sequence_number="42",
        partition_key="pk",
        error_category=ErrorCategory.RETRIES_EXHAUSTED,
        error_reason="retries exhausted",
        consumer="arn:aws:lambda:eu-west-1:123456789012:function:f",
        payload=payload,
        hydrated=True,
        **kwargs,
    )
