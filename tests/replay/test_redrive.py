"""Targeted redrive (``replay run --mode redrive``) against moto: each DLQ record is handed to the
consumer its envelope names -- only to it, and only when the configuration allows that
function -- with the event its event source mapping would have built.

moto runs Lambda functions in Docker, which the tests do not have: Invoke goes to
:class:`FakeLambda`, which runs the real stream processor handler (``Harness``) for the
processor and a recording handler for the notifier; one test checks the exact Invoke request
against botocore's model with a Stubber.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from factories import (
    ACCOUNT,
    REGION,
    async_invocation_record,
    client_error,
    dynamodb_record,
    encode,
    kinesis_event_from_get_records,
    on_failure_record,
    retail_event,
    sns_event,
)
from rich.console import Console
from stream_harness import (
    CONSUMER,
    Aws,
    Harness,
    Streams,
    harness_session,
    trusted_args,
    trusted_options,
)

from stream_pipeline.local.runtime import events
from stream_pipeline.replay import cli as replay
from stream_pipeline.replay.model import HYDRATE_FAILED, Clients, Mode, Outcome, RunOptions
from stream_pipeline.replay.redrive import Redriver
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope, ErrorCategory
from stream_pipeline.runtime.dlq_mac import EnvelopeSigner

NOTIFIER = "email-notifier-test"
PROCESSOR_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{CONSUMER}"
NOTIFIER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{NOTIFIER}"


def function_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:lambda:{REGION}:{account}:function:{name}"


Handler = Callable[[dict[str, Any]], tuple[Any, str | None]]


@dataclass
class FakeLambda:
    """The ``lambda`` client a redrive uses: GetFunctionConfiguration for the deployed
    functions, and Invoke running a handler per function (``(response, function_error)``)."""

    handlers: dict[str, Handler]
    roles: dict[str, str]
    invocations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def get_function_configuration(self, *, FunctionName: str) -> dict[str, Any]:
        name = FunctionName.rsplit(":function:", 1)[-1]
        if name not in self.roles:
            raise client_error("ResourceNotFoundException", "GetFunctionConfiguration", status=404)
        return {"FunctionName": name, "FunctionArn": function_arn(name), "Role": self.roles[name]}

    def invoke(self, *, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:
        assert InvocationType == "RequestResponse"
        name = FunctionName.rsplit(":function:", 1)[-1]
        event = json.loads(Payload)
        self.invocations.append((name, event))
        answer, function_error = self.handlers[name](event)
        body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        response: dict[str, Any] = {
            "StatusCode": 200,
            "Payload": StreamingBody(io.BytesIO(body), len(body)),
        }
        if function_error:
            response["FunctionError"] = function_error
        return response


def accepted(event: dict[str, Any]) -> tuple[Any, str | None]:
    return {"batchItemFailures": []}, None


@pytest.fixture
def streams(aws: Aws) -> Streams:
    return Streams.create(aws, harness_session())


@pytest.fixture
def awslambda(harness: Harness) -> FakeLambda:
    return FakeLambda(
        handlers={CONSUMER: lambda event: (harness.invoke(event), None), NOTIFIER: accepted},
        roles={CONSUMER: PROCESSOR_ROLE, NOTIFIER: NOTIFIER_ROLE},
    )


def clients(streams: Streams, awslambda: Any) -> Clients:
    return Clients(
        sqs=streams.aws.sqs,
        kinesis=streams.kinesis,
        dynamodbstreams=streams.dynamodbstreams,
        s3=streams.s3,
        awslambda=awslambda,
    )


def redrive(
    fixture: Streams,
    awslambda: Any,
    consumers: frozenset[str] = frozenset({CONSUMER, NOTIFIER}),
    **options: Any,
) -> Any:
    settings = RunOptions(
        queue_url=fixture.aws.queue_url,
        wait_seconds=0,
        mode=Mode.REDRIVE,
        consumers=consumers,
        **{**trusted_options(fixture), **options},
    )
    return Redriver(clients(fixture, awslambda), settings).run()


def dead_lettered(
    streams: Streams,
    documents: list[dict[str, Any]],
    *,
    consumer: str,
    code: str = ErrorCategory.SCHEMA_VIOLATION,
) -> tuple[list[DlqEnvelope], list[dict[str, Any]]]:
    """Put the events into the stream; their envelopes as ``consumer`` dead-lettered them
    (payload kept), in the DLQ; and the GetRecords items."""
    streams.put([encode(d) for d in documents], [d["userId"] for d in documents])
    items = streams.records()[-len(documents) :]
    event = kinesis_event_from_get_records(
        items, stream_arn=streams.stream_arn, shard_id=streams.shard_id
    )
    envelopes = [
        DlqEnvelope.build_from_kinesis_record(
            record, error_category=code, error_reason="rejected", consumer=consumer
        )
        for record in event["Records"]
    ]
    for envelope in envelopes:
        send(streams, envelope.to_json())
    return envelopes, items


def send(streams: Streams, body: str) -> None:
    streams.aws.sqs.send_message(QueueUrl=streams.aws.queue_url, MessageBody=body)


def dlq_count(streams: Streams) -> int:
    return streams.dlq_count()


# --------------------------------------------------------------------------- the event


def test_redrive_hands_each_record_to_its_consumer_only_with_the_mappings_event(
    aws: Aws, streams: Streams, awslambda: FakeLambda
) -> None:
    """GIVEN a purchase the notifier dead-lettered and a view the processor dead-lettered
    WHEN the DLQ is redriven
    THEN the notifier is invoked once, with the purchase only, and the processor once, with
    the view only -- each event exactly what the local runtime's mapping builds from the same
    GetRecords record (the Lambda developer guide's Kinesis event: every field, type, role and
    region); the processor stores the view (not the purchase); both messages are deleted; and
    nothing is put back into the stream.
    """
    (purchase,), (purchase_item,) = dead_lettered(
        streams, [retail_event(userId="buyer", eventType="purchase")], consumer=NOTIFIER
    )
    (view,), (view_item,) = dead_lettered(
        streams, [retail_event(userId="viewer")], consumer=CONSUMER
    )
    before = len(streams.records())

    report = redrive(streams, awslambda)

    expected = {
        NOTIFIER: events.kinesis_record(
            purchase_item,
            shard_id=streams.shard_id,
            stream_arn=streams.stream_arn,
            region=REGION,
            role=NOTIFIER_ROLE,
        ).event,
        CONSUMER: events.kinesis_record(
            view_item,
            shard_id=streams.shard_id,
            stream_arn=streams.stream_arn,
            region=REGION,
            role=PROCESSOR_ROLE,
        ).event,
    }
    assert sorted(awslambda.invocations, key=lambda call: call[0]) == sorted(
        [(name, {"Records": [record]}) for name, record in expected.items()],
        key=lambda call: call[0],
    )
    for name, event in awslambda.invocations:
        assert list(event["Records"][0]) == list(expected[name])  # same field order too
    assert [item["userId"] for item in aws.items()] == ["viewer"]
    assert report.counts == {"SCHEMA_VIOLATION": Counter({Outcome.REPLAYED: 2})}
    assert report.records_put == 2
    assert dlq_count(streams) == 0
    assert len(streams.records()) == before
    assert {purchase.consumer, view.consumer} == {NOTIFIER, CONSUMER}


def test_the_invoke_request_is_a_synchronous_invocation_of_the_allowed_function(
    streams: Streams,
) -> None:
    """GIVEN an envelope of the notifier, and a real botocore lambda client with a Stubber
    WHEN redriven THEN the function is described, then invoked with exactly FunctionName (its
    ARN), InvocationType RequestResponse and the event's JSON -- a request botocore's model
    accepts."""
    (envelope,), (item,) = dead_lettered(
        streams, [retail_event(userId="buyer", eventType="purchase")], consumer=NOTIFIER
    )
    record = events.kinesis_record(
        item,
        shard_id=streams.shard_id,
        stream_arn=streams.stream_arn,
        region=REGION,
        role=NOTIFIER_ROLE,
    ).event
    client = harness_session().client("lambda")
    stubber = Stubber(client)
    stubber.add_response(
        "get_function_configuration",
        {"FunctionName": NOTIFIER, "FunctionArn": function_arn(NOTIFIER), "Role": NOTIFIER_ROLE},
        {"FunctionName": NOTIFIER},
    )
    body = b'{"batchItemFailures": []}'
    stubber.add_response(
        "invoke",
        {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body))},
        {
            "FunctionName": function_arn(NOTIFIER),
            "InvocationType": "RequestResponse",
            "Payload": json.dumps({"Records": [record]}).encode(),
        },
    )

    with stubber:
        report = redrive(streams, client, consumers=frozenset({NOTIFIER}))

    stubber.assert_no_pending_responses()
    assert report.total(Outcome.REPLAYED) == 1
    assert dlq_count(streams) == 0
    assert envelope.consumer == NOTIFIER


def test_a_pointer_only_envelope_is_read_from_the_stream_and_redriven(
    aws: Aws, streams: Streams, awslambda: FakeLambda
) -> None:
    """GIVEN an envelope of the processor without its payload (left out to fit SQS)
    WHEN redriven THEN the record is re-read from the stream (checked against its sha256) and
    the processor, invoked with it, stores it."""
    (envelope,), _ = dead_lettered(streams, [retail_event(userId="pointer")], consumer=CONSUMER)
    streams.aws.sqs.purge_queue(QueueUrl=streams.aws.queue_url)
    send(streams, envelope.without_payload().to_json())

    report = redrive(streams, awslambda)

    assert report.total(Outcome.REPLAYED) == 1
    assert [item["userId"] for item in aws.items()] == ["pointer"]
    assert dlq_count(streams) == 0


def test_a_dynamodb_stream_record_is_redriven_with_the_dynamodb_event_shape(
    aws: Aws, streams: Streams, awslambda: FakeLambda
) -> None:
    """GIVEN a DynamoDB stream record the processor dead-lettered (its NewImage kept)
    WHEN redriven THEN the processor gets one aws:dynamodb record with the keys, the NewImage,
    the sequence number and the stream ARN, and stores the event."""
    document = {"pk": "outbox#9", **retail_event(userId="from-ddb")}
    record = dynamodb_record(document, keys={"pk": {"S": "outbox#9"}})
    envelope = DlqEnvelope.build_from_dynamodb_record(
        record, error_category=ErrorCategory.RETRIES_EXHAUSTED, error_reason="x", consumer=CONSUMER
    )
    send(streams, envelope.to_json())

    report = redrive(streams, awslambda, streams=frozenset({record["eventSourceARN"]}))

    assert report.total(Outcome.REPLAYED) == 1
    ((name, event),) = awslambda.invocations
    (delivered,) = event["Records"]
    assert name == CONSUMER
    assert delivered["eventSource"] == "aws:dynamodb"
    assert delivered["eventSourceARN"] == record["eventSourceARN"]
    assert delivered["awsRegion"] == REGION
    assert delivered["dynamodb"]["Keys"] == record["dynamodb"]["Keys"]
    assert delivered["dynamodb"]["NewImage"] == record["dynamodb"]["NewImage"]
    assert delivered["dynamodb"]["SequenceNumber"] == record["dynamodb"]["SequenceNumber"]
    assert [item["userId"] for item in aws.items()] == ["from-ddb"]


# --------------------------------------------------------------------------- allowed functions


def test_a_message_naming_a_function_not_allowed_is_refused_and_left_in_place(
    streams: Streams, awslambda: FakeLambda
) -> None:
    """GIVEN envelopes naming a function outside the allowed consumers, a forged ARN of an
    allowed name in another account, a consumer that is no function name at all, and a valid
    one of the processor
    WHEN redriven with the processor and the notifier allowed
    THEN only the processor is invoked, with its own record; the three others stay in the
    queue, each refused with why; exit status would be 1 (kept)."""
    unknown, forged, garbage, good = (
        dead_lettered(streams, [retail_event(userId=f"u{n}")], consumer=CONSUMER)[0][0]
        for n in range(4)
    )
    streams.aws.sqs.purge_queue(QueueUrl=streams.aws.queue_url)
    for envelope, consumer in (
        (unknown, "payments-exporter"),
        (forged, function_arn(CONSUMER, account="999999999999")),
        (garbage, "a function; rm -rf /"),
        (good, CONSUMER),
    ):
        send(streams, envelope.model_copy(update={"consumer": consumer}).to_json())

    report = redrive(streams, awslambda)

    assert [
        (name, e["Records"][0]["kinesis"]["partitionKey"]) for name, e in awslambda.invocations
    ] == [(CONSUMER, "u3")]
    whys = sorted(item.why for item in report.kept)
    assert whys[0].startswith("refused: the envelope names 'arn:aws:lambda:eu-west-1:999999999999")
    assert whys[1] == (
        "refused: the envelope names consumer 'payments-exporter', which is not one of the "
        f"functions this redrive may invoke ({NOTIFIER}, {CONSUMER}); pass --consumer to allow it"
    )
    assert whys[2] == (
        "refused: the envelope's consumer 'a function; rm -rf /' is not a Lambda function name "
        "or ARN"
    )
    assert report.total(Outcome.REPLAYED) == 1
    assert dlq_count(streams) == 3


def test_an_allowed_function_that_does_not_exist_keeps_its_messages(
    streams: Streams, awslambda: FakeLambda
) -> None:
    """GIVEN an envelope of a function allowed by the configuration but not deployed
    WHEN redriven THEN its message stays, with Lambda's answer; nothing is invoked."""
    dead_lettered(streams, [retail_event()], consumer="retired-consumer")

    report = redrive(streams, awslambda, consumers=frozenset({"retired-consumer"}))

    (kept,) = report.kept
    assert kept.why.startswith("consumer 'retired-consumer' cannot be described: ")
    assert "ResourceNotFoundException" in kept.why
    assert awslambda.invocations == []
    assert dlq_count(streams) == 1


# --------------------------------------------------------------------------- failed redrives


def _function_error(event: dict[str, Any]) -> tuple[Any, str | None]:
    return {"errorType": "RuntimeError", "errorMessage": "boom"}, "Unhandled"


def _item_failure(event: dict[str, Any]) -> tuple[Any, str | None]:
    number = event["Records"][0]["kinesis"]["sequenceNumber"]
    return {"batchItemFailures": [{"itemIdentifier": number}]}, None


def _not_json(event: dict[str, Any]) -> tuple[Any, str | None]:
    return b"<html>", None


def _throttled(event: dict[str, Any]) -> tuple[Any, str | None]:
    raise client_error("TooManyRequestsException", "Invoke", status=429, message="Rate exceeded")


@pytest.mark.parametrize(
    ("handler", "why"),
    [
        pytest.param(_function_error, "function error (Unhandled): RuntimeError: boom", id="error"),
        pytest.param(
            _item_failure,
            "the consumer reported the record(s) for retry (batchItemFailures: ",
            id="batch-item-failure",
        ),
        pytest.param(_not_json, "the function's response is not JSON", id="response-not-json"),
        pytest.param(_throttled, "Invoke: TooManyRequestsException", id="invoke-throttled"),
    ],
)
def test_a_failed_redrive_keeps_its_message_and_the_next_one_is_redriven(
    aws: Aws, streams: Streams, awslambda: FakeLambda, handler: Handler, why: str
) -> None:
    """GIVEN a notifier envelope and a processor envelope, and a notifier that fails (function
    error, a batch item failure, an unreadable answer, Invoke throttled)
    WHEN redriven
    THEN the notifier's message stays, with the reason; the processor's record is stored and
    its message deleted."""
    awslambda.handlers[NOTIFIER] = handler
    dead_lettered(streams, [retail_event(userId="buyer", eventType="purchase")], consumer=NOTIFIER)
    dead_lettered(streams, [retail_event(userId="viewer")], consumer=CONSUMER)

    report = redrive(streams, awslambda)

    (kept,) = report.kept
    assert kept.why.startswith(f"redrive to {NOTIFIER} failed: ")
    assert why in kept.why
    assert [item["userId"] for item in aws.items()] == ["viewer"]
    (left,) = streams.aws.dlq_envelopes()
    assert left.consumer == NOTIFIER


def test_a_record_rejected_again_is_in_the_dlq_once_as_the_consumers_new_message(
    streams: Streams, harness: Harness, awslambda: FakeLambda
) -> None:
    """GIVEN a record the processor rejected as oversized, and the processor still rejecting it
    (its limit unchanged)
    WHEN redriven
    THEN the processor dead-letters it again -- a new message, same envelope id -- and answers
    success: the old message is deleted, the new one left in place (never deleted by the run
    that caused it), so the DLQ holds the record exactly once."""
    harness.configure(max_record_bytes=100)
    (envelope,), _ = dead_lettered(
        streams,
        [retail_event(userId="big", note="x" * 300)],
        consumer=CONSUMER,
        code=ErrorCategory.OVERSIZED,
    )
    (old,) = streams.aws.sqs.receive_message(QueueUrl=streams.aws.queue_url, VisibilityTimeout=0)[
        "Messages"
    ]

    report = redrive(streams, awslambda)

    assert report.counts == {"OVERSIZED": Counter({Outcome.REPLAYED: 1, Outcome.KEPT: 1})}
    (kept,) = report.kept
    assert kept.message_id != old["MessageId"]
    assert f"handed to {CONSUMER}" in kept.why or "dead-lettered again" in kept.why
    (left,) = streams.aws.dlq_envelopes()
    assert left.envelope_id == envelope.envelope_id
    assert left.error_category == ErrorCategory.OVERSIZED


def test_a_failed_hydrate_invocation_is_not_redriven(
    streams: Streams, awslambda: FakeLambda
) -> None:
    """GIVEN Lambda's record of a failed hydrate invocation (a whole batch, no consumer record)
    WHEN redriven THEN it stays, with the way out (--mode stream); nothing is invoked."""
    batch = on_failure_record(start="1", end="2", batch_size=2, stream_arn=streams.stream_arn)
    send(streams, json.dumps(async_invocation_record(sns_event(batch))))

    report = redrive(streams, awslambda)

    assert report.counts == {HYDRATE_FAILED: Counter({Outcome.KEPT: 1})}
    assert "--mode stream" in report.kept[0].why
    assert awslambda.invocations == []


def test_dry_run_invokes_nothing(streams: Streams, awslambda: FakeLambda) -> None:
    """GIVEN a processor envelope WHEN redriven with --dry-run THEN it would be redriven,
    nothing is invoked and the message is still there."""
    dead_lettered(streams, [retail_event()], consumer=CONSUMER)

    report = redrive(streams, awslambda, dry_run=True)

    assert report.counts == {"SCHEMA_VIOLATION": Counter({Outcome.WOULD_REPLAY: 1})}
    assert awslambda.invocations == []
    assert dlq_count(streams) == 1


# --------------------------------------------------------------------------- command line


def run_cli(streams: Streams, awslambda: Any, *args: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    console = Console(file=out, width=250, no_color=True)
    code = replay.main(
        [
            "run",
            "--mode",
            "redrive",
            "--wait-seconds",
            "0",
            "--no-progress",
            *trusted_args(streams),
            *args,
        ],
        clients=clients(streams, awslambda),
        console=console,
        error_console=console,
        stdin=io.StringIO(stdin),
    )
    return code, out.getvalue()


def test_the_allowed_consumers_come_from_the_environments_terraform_outputs(
    streams: Streams, awslambda: FakeLambda
) -> None:
    """GIVEN `terraform output -json` naming the DLQ, the consumers (a map) and the notifier
    WHEN `replay run --mode redrive --terraform-outputs -` runs
    THEN both consumers' records are redriven; exit status 0; the table says redrive."""
    dead_lettered(streams, [retail_event(userId="buyer", eventType="purchase")], consumer=NOTIFIER)
    dead_lettered(streams, [retail_event(userId="viewer")], consumer=CONSUMER)
    outputs = {
        "dlq_url": {"value": streams.aws.queue_url},
        "consumer_function_names": {"value": {"processor": CONSUMER}},
        "email_notifier_function_name": {"value": NOTIFIER},
        "failure_bucket_name": {"value": "not-used-by-a-redrive"},
    }

    code, output = run_cli(
        streams, awslambda, "--terraform-outputs", "-", stdin=json.dumps(outputs)
    )

    assert code == 0, output
    assert sorted(name for name, _ in awslambda.invocations) == [NOTIFIER, CONSUMER]
    assert "DLQ redrive" in output
    assert "records handed to their consumer: 2 in 2 invocation(s)" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param((), "--mode redrive needs the functions it may invoke", id="no-consumers"),
        pytest.param(
            ("--consumer", CONSUMER, "--bucket", "b"),
            "takes neither --bucket nor --target",
            id="bucket",
        ),
        pytest.param(
            ("--consumer", CONSUMER, "--target", "s"),
            "takes neither --bucket nor --target",
            id="target",
        ),
        pytest.param(
            ("--consumer", "not a function!"), "not a Lambda function name or ARN", id="bad-name"
        ),
        pytest.param(
            ("--mode", "stream", "--consumer", CONSUMER),
            "--consumer names the functions --mode redrive may invoke",
            id="consumer-without-redrive",
        ),
    ],
)
def test_redrive_usage_errors(
    streams: Streams, awslambda: FakeLambda, args: tuple[str, ...], message: str
) -> None:
    """GIVEN a redrive without allowed consumers, with a bucket or a target, or with a
    consumer that is no function name; or --consumer without --mode redrive
    WHEN run THEN exit status 2 naming the problem; nothing is received or invoked."""
    dead_lettered(streams, [retail_event()], consumer=CONSUMER)

    code, output = run_cli(streams, awslambda, "--queue-url", streams.aws.queue_url, *args)

    assert code == 2
    assert message in output
    assert awslambda.invocations == []
    assert dlq_count(streams) == 1


def test_a_kept_message_makes_the_exit_status_1(streams: Streams, awslambda: FakeLambda) -> None:
    """GIVEN a message naming a function that is not allowed WHEN redriven from the command
    line THEN exit status 1 and the table lists it with why."""
    dead_lettered(streams, [retail_event()], consumer="payments-exporter")

    code, output = run_cli(
        streams, awslambda, "--queue-url", streams.aws.queue_url, "--consumer", CONSUMER
    )

    assert code == 1
    assert "refused: the envelope names consumer 'payments-exporter'" in output


def test_a_consumer_named_by_its_arn_is_redriven(
    aws: Aws, streams: Streams, awslambda: FakeLambda
) -> None:
    """GIVEN an envelope whose consumer is the function's ARN with a qualifier (what the hydrate
    function writes: the on-failure record's functionArn), the name being allowed
    WHEN redriven THEN that function is invoked and stores the record."""
    dead_lettered(
        streams,
        [retail_event(userId="by-arn")],
        consumer=f"{function_arn(CONSUMER)}:$LATEST",
        code=ErrorCategory.RETRIES_EXHAUSTED,
    )

    report = redrive(streams, awslambda)

    assert [name for name, _ in awslambda.invocations] == [CONSUMER]
    assert report.counts == {"RETRIES_EXHAUSTED": Counter({Outcome.REPLAYED: 1})}
    assert [item["userId"] for item in aws.items()] == ["by-arn"]


def test_a_redrive_hands_over_only_envelopes_signed_with_the_configured_key(
    streams: Streams, awslambda: FakeLambda
) -> None:
    """GIVEN three envelopes for the processor: one signed with the pipeline's HMAC key, one
    unsigned (planted), and one signed and then given other bytes (hash and length matching)
    WHEN redriven with the key THEN only the signed one reaches the processor; the two others
    stay in the queue as UNTRUSTED_ENVELOPE (a redrive would otherwise run the consumer on
    chosen bytes with its own permissions)."""
    kms = harness_session().client("kms")
    key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
    signed, planted, altered = (
        dead_lettered(streams, [retail_event(userId=f"s{n}")], consumer=CONSUMER)[0][0]
        for n in range(3)
    )
    streams.aws.sqs.purge_queue(QueueUrl=streams.aws.queue_url)
    signer = EnvelopeSigner(kms, key)
    chosen = encode(retail_event(userId="chosen"))
    tampered = json.loads(signer.sign(altered).to_json())
    tampered.update(
        payload_b64=base64.b64encode(chosen).decode(),
        payload_sha256=hashlib.sha256(chosen).hexdigest(),
        payload_length=len(chosen),
    )
    for body in (signer.sign(signed).to_json(), planted.to_json(), json.dumps(tampered)):
        send(streams, body)
    settings = RunOptions(
        queue_url=streams.aws.queue_url,
        wait_seconds=0,
        mode=Mode.REDRIVE,
        consumers=frozenset({CONSUMER}),
        streams=frozenset({streams.stream_arn}),
        mac_key=key,
    )

    report = Redriver(dataclasses.replace(clients(streams, awslambda), kms=kms), settings).run()

    assert [
        (name, e["Records"][0]["kinesis"]["partitionKey"]) for name, e in awslambda.invocations
    ] == [(CONSUMER, "s0")]
    assert report.counts["UNTRUSTED_ENVELOPE"] == Counter({Outcome.KEPT: 2})
    assert dlq_count(streams) == 2
