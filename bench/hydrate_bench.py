"""Section ``hydrate``: AWS requests and wall time per failed batch of n records, against moto.

Setup per batch size: a fresh one-shard stream in moto (in-process ``mock_aws``), the n records
put with PutRecords (500 per call; moto's PutRecords slows down as a shard fills, so every
batch size gets its own fresh stream and the put time is reported apart), and the on-failure
record of a batch spanning them, delivered in an SNS event. Measured: one
``lambda_handler(event, context)`` call of the real hydrate function, warm (imported, clients
built), with the production page size. Requests are counted by API with botocore's
``before-parameter-build`` hook. SendMessageBatch is answered by a ``before-call`` hook instead
of moto's SQS (its cost grows with the queue depth: 1,000 messages take minutes); botocore
still validates and serialises every request and the envelopes are checked (count, and every
sequence number of the batch, in any order: the sends run concurrently). Wall and CPU time
include moto's in-process Kinesis (GetShardIterator, GetRecords), so they are the emulator's
figures, not AWS's.
"""

from __future__ import annotations

import json
import math
import statistics
import threading
import time
from collections import Counter
from typing import Any, Final

from bench.common import (
    ACCOUNT,
    REGION,
    FakeLambdaContext,
    Options,
    Result,
    Target,
    environment,
    exactly,
    functions_on_path,
    quiet,
    summary,
)

SECTION: Final = "hydrate"
BATCHES: Final = (1, 100, 1_000, 10_000)
QUICK_BATCHES: Final = (1, 100)
GET_RECORDS_MAX: Final = 10_000
SEND_BATCH_MAX: Final = 10
FUNCTION_NAME: Final = "hydrate"
CONSUMER_ARN: Final = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:stream-processor"
TOPIC_ARN: Final = f"arn:aws:sns:{REGION}:{ACCOUNT}:stream-processor-on-failure"


def expected_requests(records: int) -> dict[str, int]:
    return {
        "kinesis.GetShardIterator": 1,
        "kinesis.GetRecords": max(1, math.ceil(records / GET_RECORDS_MAX)),
        "sqs.SendMessageBatch": math.ceil(records / SEND_BATCH_MAX),
    }


def on_failure_sns_event(stream_arn: str, shard_id: str, start: str, end: str, size: int) -> Any:
    record = {
        "requestContext": {
            "requestId": "c9b8fa9f-5a7f-4f6c-af9c-0c604cde93a5",
            "functionArn": CONSUMER_ARN,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 3,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "version": "1.0",
        "timestamp": "2025-06-15T12:00:00.000Z",
        "KinesisBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": start,
            "endSequenceNumber": end,
            "approximateArrivalOfFirstRecord": "2025-06-15T11:59:00.000Z",
            "approximateArrivalOfLastRecord": "2025-06-15T11:59:30.000Z",
            "batchSize": size,
            "streamArn": stream_arn,
        },
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{TOPIC_ARN}:2bcfbf39-05c3-41de-beaa",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "TopicArn": TOPIC_ARN,
                    "Subject": None,
                    "Message": json.dumps(record),
                    "Timestamp": "2025-06-15T12:00:01.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.example/cert.pem",
                    "UnsubscribeUrl": "https://sns.example/unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }


class _Counting:
    """Request counter and SendMessageBatch acknowledger for one boto3 session. Thread-safe:
    hydrate sends its requests from several threads, each acknowledges its own entries."""

    def __init__(self, session: Any) -> None:
        self.counts: Counter[str] = Counter()
        self.sent: list[str] = []
        self._lock = threading.Lock()
        self._request = threading.local()
        session.events.register("before-parameter-build", self._count)
        session.events.register("before-parameter-build.sqs.SendMessageBatch", self._record)
        session.events.register("before-call.sqs.SendMessageBatch", self._acknowledge)

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()
            self.sent.clear()

    def _count(self, event_name: str, **_: Any) -> None:
        service, operation = event_name.split(".")[1:]
        with self._lock:
            self.counts[f"{service}.{operation}"] += 1

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self._request.entries = list(params["Entries"])
        with self._lock:
            self.sent.extend(entry["MessageBody"] for entry in self._request.entries)

    def _acknowledge(self, **_: Any) -> tuple[Any, dict[str, Any]]:
        from botocore.awsrequest import AWSResponse

        successful = [
            {"Id": entry["Id"], "MessageId": f"m-{entry['Id']}", "MD5OfMessageBody": "0" * 32}
            for entry in self._request.entries
        ]
        return AWSResponse("https://sqs.invalid", 200, {}, None), {
            "Successful": successful,
            "Failed": [],
        }


def run(options: Options) -> tuple[Result, list[Target]]:
    functions_on_path()
    variables = {
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": FUNCTION_NAME,
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
    }
    with environment(**variables):
        import boto3
        from botocore.config import Config
        from moto import mock_aws

        from hydrate import app as hydrate_app
        from hydrate.config import Settings
        from stream_pipeline.runtime.lambda_setup import SDK_CONFIG

        with mock_aws(), quiet(hydrate_app.logger):
            session = boto3.session.Session(region_name=REGION)
            counting = _Counting(session)
            queue_url = session.client("sqs").create_queue(QueueName="bench-dlq")["QueueUrl"]
            hydrate_app.set_dependencies(
                hydrate_app.Dependencies(
                    settings=Settings(
                        dlq_url=queue_url,
                        # The streams _batch creates: the function serves only those.
                        streams=frozenset(
                            f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/bench-hydrate-{records}"
                            for records in (*QUICK_BATCHES, *BATCHES)
                        ),
                        function_name=FUNCTION_NAME,
                    ),
                    kinesis=session.client("kinesis", config=SDK_CONFIG),
                    dynamodbstreams=session.client(
                        "dynamodbstreams",
                        config=SDK_CONFIG.merge(Config(account_id_endpoint_mode="disabled")),
                    ),
                    sqs=session.client("sqs", config=SDK_CONFIG),
                )
            )
            try:
                batches = [
                    _batch(session, counting, hydrate_app, records, options)
                    for records in (QUICK_BATCHES if options.quick else BATCHES)
                ]
            finally:
                hydrate_app.set_dependencies(None)

    result: Result = {
        "status": "ok",
        "method": __doc__,
        "emulator": "moto mock_aws (in-process), a fresh one-shard stream per batch size",
        "batches": batches,
    }
    targets = [
        exactly(
            SECTION,
            f"requests for a failed batch of {batch['records']:,}",
            batch["requests_total"],
            batch["expected_total"],
            "requests",
            "1 GetShardIterator + pages + ceil(n/10) SendMessageBatch",
        )
        for batch in batches
    ]
    return result, targets


def _batch(
    session: Any, counting: _Counting, hydrate_app: Any, records: int, options: Options
) -> Result:
    from stream_pipeline.producer.generator import generate_records

    options.log(f"hydrate: failed batch of {records:,}")
    kinesis = session.client("kinesis")
    name = f"bench-hydrate-{records}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    (shard,) = kinesis.list_shards(StreamARN=stream_arn)["Shards"]
    payloads = [record.data for record in generate_records(records, seed=options.seed, start_ms=0)]
    put_started = time.perf_counter()
    numbers: list[str] = []
    put_calls: list[float] = []
    for start in range(0, records, 500):
        call_started = time.perf_counter()
        response = kinesis.put_records(
            StreamARN=stream_arn,
            Records=[
                {"Data": data, "PartitionKey": "bench"} for data in payloads[start : start + 500]
            ],
        )
        numbers.extend(entry["SequenceNumber"] for entry in response["Records"])
        put_calls.append((time.perf_counter() - call_started) * 1000 / len(response["Records"]))
    put_seconds = time.perf_counter() - put_started

    event = on_failure_sns_event(stream_arn, shard["ShardId"], numbers[0], numbers[-1], records)
    context: Any = FakeLambdaContext(FUNCTION_NAME)
    calls = 1 if options.quick or records >= 10_000 else 3
    wall: list[float] = []
    cpu: list[float] = []
    counts: dict[str, int] = {}
    sent: list[str] = []
    for call in range(calls):
        counting.reset()
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        hydrate_app.lambda_handler(event, context)
        cpu.append((time.process_time() - cpu_start) * 1000)
        wall.append((time.perf_counter() - wall_start) * 1000)
        if call == 0:
            counts = dict(sorted(counting.counts.items()))
            sent = list(counting.sent)
    expected = expected_requests(records)
    # the requests run concurrently: the envelopes arrive in any order
    sent_numbers = {json.loads(body).get("sequence_number") for body in sent}
    return {
        "records": records,
        "mean_payload_bytes": round(statistics.fmean(len(data) for data in payloads), 1),
        "put_seconds": round(put_seconds, 3),
        "put_ms_per_record_first_and_last_call": [round(put_calls[0], 3), round(put_calls[-1], 3)],
        "requests": counts,
        "requests_total": sum(counts.values()),
        "expected": expected,
        "expected_total": sum(expected.values()),
        "envelopes_sent": len(sent),
        "envelopes_cover_the_batch": len(sent) == records and sent_numbers == set(numbers),
        "wall_ms": _rounded(summary(wall)),
        "cpu_ms": _rounded(summary(cpu)),
        "wall_ms_per_record": round(statistics.median(wall) / records, 3),
    }


def _rounded(values: dict[str, float | int]) -> dict[str, float | int]:
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in values.items()}
