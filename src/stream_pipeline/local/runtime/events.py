"""The exact event and record shapes AWS Lambda uses, built from what the emulator returns.

* stream records as an event source mapping delivers them (Kinesis, DynamoDB streams);
* SNS notifications as SNS delivers them to a subscribed function;
* the on-failure record of a stream mapping (``KinesisBatchInfo`` / ``DDBStreamBatchInfo``) and
  its S3 variant (object key layout, ``payload`` with the invocation's records);
* the invocation record of an asynchronous invocation (``requestPayload``/``responsePayload``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from stream_pipeline.local.runtime.filters import NOT_JSON

KINESIS_SOURCE: Final = "aws:kinesis"
DYNAMODB_SOURCE: Final = "aws:dynamodb"
SNS_SOURCE: Final = "aws:sns"
RECORD_VERSION: Final = "1.0"
LATEST_VERSION: Final = "$LATEST"


def iso_timestamp(epoch_seconds: float) -> str:
    """``2023-12-10T22:06:23.446Z``: ISO-8601, UTC, milliseconds, as Lambda writes them."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return 0.0


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """One stream record with its Lambda event shape and what the poller needs to route it."""

    sequence_number: str
    arrival: float
    """Epoch seconds: ``approximateArrivalTimestamp`` / ``ApproximateCreationDateTime``."""
    lane_key: str
    """Partition key (Kinesis) or the item's key (DynamoDB): records with one key share a lane."""
    event: dict[str, Any]
    size: int
    filter_document: dict[str, Any]

    @property
    def number(self) -> int:
        return int(self.sequence_number)


# --------------------------------------------------------------------------- Kinesis


def kinesis_record(
    item: dict[str, Any], *, shard_id: str, stream_arn: str, region: str, role: str
) -> StreamRecord:
    """A ``GetRecords`` record (as boto3 parses it) -> the record Lambda delivers."""
    data: bytes = item.get("Data") or b""
    sequence_number = str(item["SequenceNumber"])
    arrival = _epoch(item.get("ApproximateArrivalTimestamp"))
    partition_key = str(item.get("PartitionKey") or "")
    event = {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence_number,
            "data": base64.b64encode(data).decode("ascii"),
            "approximateArrivalTimestamp": round(arrival, 3),
        },
        "eventSource": KINESIS_SOURCE,
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role,
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }
    # Data that is not JSON never matches a `data` pattern.
    document: dict[str, Any] = {"data": NOT_JSON}
    with contextlib.suppress(UnicodeDecodeError, ValueError, RecursionError):
        document["data"] = json.loads(data.decode("utf-8"))
    return StreamRecord(
        sequence_number=sequence_number,
        arrival=arrival,
        lane_key=partition_key,
        event=event,
        size=len(json.dumps(event)),
        filter_document=document,
    )


# --------------------------------------------------------------------------- DynamoDB streams


def _attribute_to_lambda(value: Any) -> Any:
    """boto3 decodes binary attribute values to bytes; Lambda events carry base64 text."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {key: _attribute_to_lambda(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_attribute_to_lambda(inner) for inner in value]
    return value


def dynamodb_record(item: dict[str, Any], *, stream_arn: str, region: str) -> StreamRecord:
    """A DynamoDB Streams ``GetRecords`` record (as boto3 parses it) -> the Lambda record."""
    change = dict(item.get("dynamodb") or {})
    arrival = _epoch(change.get("ApproximateCreationDateTime"))
    dynamodb: dict[str, Any] = {"ApproximateCreationDateTime": int(arrival)}
    for key in ("Keys", "NewImage", "OldImage"):
        if key in change:
            dynamodb[key] = _attribute_to_lambda(change[key])
    for key in ("SequenceNumber", "SizeBytes", "StreamViewType"):
        if key in change:
            dynamodb[key] = change[key]
    event = {
        "eventID": item.get("eventID"),
        "eventName": item.get("eventName"),
        "eventVersion": item.get("eventVersion") or "1.1",
        "eventSource": DYNAMODB_SOURCE,
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in item:
        event["userIdentity"] = item["userIdentity"]
    return StreamRecord(
        sequence_number=str(change["SequenceNumber"]),
        arrival=arrival,
        lane_key=json.dumps(dynamodb.get("Keys") or {}, sort_keys=True),
        event=event,
        size=len(json.dumps(event)),
        filter_document=event,
    )


def stream_event(records: Sequence[StreamRecord]) -> dict[str, Any]:
    return {"Records": [record.event for record in records]}


# --------------------------------------------------------------------------- on-failure records


def stream_on_failure_record(
    *,
    kind: str,
    request_id: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    response_context: dict[str, Any] | None,
    shard_id: str,
    stream_arn: str,
    records: Sequence[StreamRecord],
    now: float,
) -> dict[str, Any]:
    """What a stream mapping sends its on-failure destination (no records in it)."""
    first, last = records[0], records[-1]
    record: dict[str, Any] = {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
    }
    if response_context is not None:
        record["responseContext"] = response_context
    record["version"] = RECORD_VERSION
    record["timestamp"] = iso_timestamp(now)
    record["KinesisBatchInfo" if kind == "kinesis" else "DDBStreamBatchInfo"] = {
        "shardId": shard_id,
        "startSequenceNumber": first.sequence_number,
        "endSequenceNumber": last.sequence_number,
        "approximateArrivalOfFirstRecord": iso_timestamp(first.arrival),
        "approximateArrivalOfLastRecord": iso_timestamp(last.arrival),
        "batchSize": len(records),
        "streamArn": stream_arn,
    }
    return record


def s3_on_failure_key(mapping_uuid: str, shard_id: str, now: float) -> str:
    """AWS: ``aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>``."""
    moment = datetime.fromtimestamp(now, UTC)
    return (
        f"aws/lambda/{mapping_uuid}/{shard_id}/{moment:%Y/%m/%d}/"
        f"{moment:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"
    )


def s3_on_failure_body(record: dict[str, Any], records: Sequence[StreamRecord]) -> dict[str, Any]:
    """For S3 destinations Lambda "also sends the entire invocation record": ``payload``."""
    return {**record, "payload": stream_event(records)}


# --------------------------------------------------------------------------- SNS and async


def sns_event(
    *,
    subscription_arn: str,
    topic_arn: str,
    message_id: str,
    message: str,
    subject: str | None,
    message_attributes: dict[str, Any],
    timestamp: str,
    region: str,
) -> dict[str, Any]:
    signature = base64.b64encode(f"local-runtime:{message_id}".encode()).decode("ascii")
    return {
        "Records": [
            {
                "EventSource": SNS_SOURCE,
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic_arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": timestamp,
                    "SignatureVersion": "1",
                    "Signature": signature,
                    "SigningCertUrl": (
                        f"https://sns.{region}.amazonaws.com/SimpleNotificationService-local.pem"
                    ),
                    "UnsubscribeUrl": (
                        f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
                        f"&SubscriptionArn={subscription_arn}"
                    ),
                    "MessageAttributes": message_attributes,
                },
            }
        ]
    }


def async_invocation_record(
    *,
    request_id: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    request_payload: Any,
    response_context: dict[str, Any] | None,
    response_payload: Any,
    now: float,
) -> dict[str, Any]:
    """The invocation record an asynchronous invocation sends its destination."""
    record: dict[str, Any] = {
        "version": RECORD_VERSION,
        "timestamp": iso_timestamp(now),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:{LATEST_VERSION}",
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "requestPayload": request_payload,
    }
    if response_context is not None:
        record["responseContext"] = response_context
        record["responsePayload"] = response_payload
    return record


def response_context(function_error: str | None) -> dict[str, Any]:
    context: dict[str, Any] = {"statusCode": 200, "executedVersion": LATEST_VERSION}
    if function_error:
        context["functionError"] = function_error
    return context
