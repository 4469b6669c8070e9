"""`stream-pipeline verify` against moto: what it reports per canary, what it removes and what it
leaves. A pipeline double stands in for the deployed functions: on each PutRecords it stores the
valid events, dead-letters the poison record with an envelope, and sends the purchase's e-mail
through the e-mail notifier's own Notifier (its idempotency record is what verify looks for)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from rich.console import Console

from email_notifier.notifier import Notifier, OutgoingEmail
from stream_pipeline import verify
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope

REGION = "us-east-1"
STREAM = "orders"
TABLE = "orders-results"
NOTIFIER_TABLE = "orders-notifier-idempotency"
NOTIFIER_FUNCTION = "orders-notifier"
PROCESSOR = "orders-processor"
SENDER = "notifications@example.com"


@dataclass
class PipelineDouble:
    """What the deployed consumers do with each record put: ``drop`` names canaries (by
    verify's canary name) it loses, ``stray`` is called with the DLQ URL after each put."""

    dynamodb: Any
    sqs: Any
    queue_url: str
    notifier: Notifier | None
    drop: set[str] = field(default_factory=set)
    handled: list[str] = field(default_factory=list)

    def handle(self, shard_id: str, sequence_number: str, data: bytes) -> None:
        try:
            event = json.loads(data)
        except ValueError:
            self._dead_letter(shard_id, sequence_number, data)
            return
        name = str(event["eventId"]).rsplit("-", 1)[1]
        self.handled.append(name)
        if name in self.drop:
            return
        self.dynamodb.put_item(
            TableName=TABLE,
            Item={
                "userId": {"S": event["userId"]},
                "eventKey": {"S": f"{event['timestamp']:013d}#{event['eventId']}"},
                "eventId": {"S": event["eventId"]},
            },
        )
        if event["eventType"] == "purchase" and self.notifier is not None:
            self.notifier.send(
                OutgoingEmail(event["eventId"], "order-confirmation", event["email"], "s", "t", "h")
            )

    def _dead_letter(self, shard_id: str, sequence_number: str, data: bytes) -> None:
        envelope = DlqEnvelope.create(
            event_source="aws:kinesis",
            sequence_number=sequence_number,
            shard_id=shard_id,
            error_category="INVALID_JSON",
            error_reason="Expecting ',' delimiter",
            consumer=PROCESSOR,
            payload=data,
        )
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=envelope.to_json())


class ProcessingKinesis:
    """The Kinesis client, with the pipeline double run on every accepted record."""

    def __init__(self, client: Any, pipeline: PipelineDouble) -> None:
        self._client = client
        self._pipeline = pipeline

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_records(self, **request: Any) -> Any:
        response = self._client.put_records(**request)
        for sent, result in zip(request["Records"], response["Records"], strict=True):
            if "SequenceNumber" in result:
                self._pipeline.handle(result["ShardId"], result["SequenceNumber"], sent["Data"])
        return response


@dataclass
class Deployed:
    clients: dict[str, Any]
    pipeline: PipelineDouble
    outputs: dict[str, Any]

    def run(self, *args: str) -> tuple[int, str]:
        out = io.StringIO()
        code = verify.main(
            [
                "--terraform-outputs",
                "-",
                "--no-progress",
                "--poll-interval",
                "0.01",
                "--dlq-interval",
                "0",
                *args,
            ],
            clients=self.clients,
            console=Console(file=out, width=200),
            error_console=Console(file=out, width=200),
            stdin=io.StringIO(json.dumps({k: {"value": v} for k, v in self.outputs.items()})),
        )
        return code, out.getvalue()

    def dlq_bodies(self) -> list[str]:
        sqs = self.clients["sqs"]
        bodies = []
        while messages := sqs.receive_message(
            QueueUrl=self.pipeline.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300
        ).get("Messages", []):
            bodies += [m["Body"] for m in messages]
        return bodies

    def count(self, table: str) -> int:
        return int(self.clients["dynamodb"].scan(TableName=table, Select="COUNT")["Count"])


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Deployed]]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        kinesis = session.client("kinesis")
        dynamodb = session.client("dynamodb")
        sqs = session.client("sqs")
        sesv2 = session.client("sesv2")
        kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "userId", "KeyType": "HASH"},
                {"AttributeName": "eventKey", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "userId", "AttributeType": "S"},
                {"AttributeName": "eventKey", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.create_table(
            TableName=NOTIFIER_TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sesv2.create_email_identity(EmailIdentity=SENDER)
        queue_url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]

        def build(*, notifier: bool = True, drop: frozenset[str] = frozenset()) -> Deployed:
            mailer = Notifier(
                sesv2=sesv2,
                dynamodb=dynamodb,
                sender_address=SENDER,
                configuration_set_name=None,
                table_name=NOTIFIER_TABLE,
                expires_after_seconds=3600,
            )
            pipeline = PipelineDouble(dynamodb, sqs, queue_url, mailer if notifier else None)
            pipeline.drop.update(drop)
            outputs: dict[str, Any] = {
                "stream_name": STREAM,
                "results_table_name": TABLE,
                "dlq_url": queue_url,
                "email_notifier_idempotency_table_name": NOTIFIER_TABLE if notifier else None,
                "email_notifier_function_name": NOTIFIER_FUNCTION if notifier else None,
            }
            clients = {
                "kinesis": ProcessingKinesis(kinesis, pipeline),
                "dynamodb": dynamodb,
                "sqs": sqs,
            }
            return Deployed(clients, pipeline, outputs)

        yield build


def test_every_canary_where_it_should_be_reported_and_removed(
    deployed: Callable[..., Deployed],
) -> None:
    # GIVEN a pipeline that stores valid events, dead-letters poison and mails purchases
    stack = deployed()

    # WHEN verify runs
    code, output = stack.run("--run-id", "r1")

    # THEN every canary is reported where it ended and the run passes
    assert code == 0, output
    assert sorted(stack.pipeline.handled) == ["purchase", "valid"]
    assert "verify-r1-valid" in output
    assert "verify-r1-poison" in output
    assert "DLQ (INVALID_JSON)" in output
    assert "e-mail sent" in output
    assert "FAILED" not in output
    # AND nothing of the run is left: items, idempotency record, DLQ message
    assert stack.count(TABLE) == 0
    assert stack.count(NOTIFIER_TABLE) == 0
    assert stack.dlq_bodies() == []
    assert "removed: 2 items, 1 idempotency records, 1 DLQ messages" in output


def test_without_the_notifier_no_email_is_expected(deployed: Callable[..., Deployed]) -> None:
    # GIVEN a pipeline without the e-mail notifier (no idempotency table output)
    stack = deployed(notifier=False)

    # WHEN verify runs
    code, output = stack.run("--run-id", "r2")

    # THEN the purchase only has to be stored
    assert code == 0, output
    assert "e-mail" not in output.split("verify run r2", 1)[1].split("removed:")[0]


def test_a_lost_record_fails_the_run_and_is_named(deployed: Callable[..., Deployed]) -> None:
    # GIVEN a pipeline that loses the valid canary (neither stored nor dead-lettered)
    stack = deployed(drop=frozenset({"valid"}))

    # WHEN verify runs with a short deadline
    code, output = stack.run("--run-id", "r3", "--timeout", "0.2")

    # THEN it exits 1 naming the lost record, and still removes what the run wrote
    assert code == 1
    assert "FAILED verify-r3-valid: lost: neither stored nor in the DLQ" in output
    assert "FAILED verify-r3-purchase" not in output
    assert stack.count(TABLE) == 0
    assert stack.dlq_bodies() == []


def test_an_email_never_sent_fails_the_run(deployed: Callable[..., Deployed]) -> None:
    # GIVEN a pipeline whose notifier table is output but that sends nothing
    stack = deployed()
    stack.pipeline.notifier = None

    # WHEN verify runs with a short deadline
    code, output = stack.run("--run-id", "r4", "--timeout", "0.2")

    # THEN the purchase is named: stored, but no e-mail
    assert code == 1
    assert "FAILED verify-r4-purchase: e-mail not sent, and not dead-lettered" in output


def test_other_records_dead_letters_are_left_alone(deployed: Callable[..., Deployed]) -> None:
    # GIVEN the DLQ holds a message of another record (another shard position)
    stack = deployed()
    stranger = DlqEnvelope.create(
        event_source="aws:kinesis",
        sequence_number="999999",
        shard_id="shardId-000000000000",
        error_category="INVALID_JSON",
        error_reason="not the canary",
        consumer=PROCESSOR,
        payload=b"{",
    )
    stack.clients["sqs"].send_message(
        QueueUrl=stack.pipeline.queue_url, MessageBody=stranger.to_json()
    )

    # WHEN verify runs
    code, output = stack.run("--run-id", "r5")

    # THEN the run passes and the stranger's message is still in the queue
    assert code == 0, output
    assert [DlqEnvelope.parse(body).envelope_id for body in stack.dlq_bodies()] == [
        stranger.envelope_id
    ]


def test_a_range_envelope_covering_a_canary_is_reported_and_left(
    deployed: Callable[..., Deployed],
) -> None:
    # GIVEN a pipeline that drops the valid canary and a hydrate range envelope (a failed batch,
    # which may hold other producers' records) that covers the whole shard
    stack = deployed(drop=frozenset({"valid"}))
    sqs = stack.clients["sqs"]
    original = stack.pipeline.handle

    def handle_and_range(shard_id: str, sequence_number: str, data: bytes) -> None:
        original(shard_id, sequence_number, data)
        if b"-valid" in data:
            envelope = DlqEnvelope.create(
                event_source="aws:kinesis",
                sequence_number="0",
                end_sequence_number=str(int(sequence_number) + 10),
                shard_id=shard_id,
                error_category="RETRIES_EXHAUSTED",
                error_reason="batch retries exhausted",
                consumer=PROCESSOR,
                payload=None,
            )
            sqs.send_message(QueueUrl=stack.pipeline.queue_url, MessageBody=envelope.to_json())

    stack.pipeline.handle = handle_and_range  # type: ignore[method-assign]

    # WHEN verify runs
    code, output = stack.run("--run-id", "r6")

    # THEN the valid canary is reported dead-lettered, the range envelope is left and named
    assert code == 1
    assert "FAILED verify-r6-valid: dead-lettered (RETRIES_EXHAUSTED), expected stored" in output
    assert "LEFT verify-r6-valid: in a range envelope (RETRIES_EXHAUSTED)" in output
    assert [DlqEnvelope.parse(body).is_range for body in stack.dlq_bodies()] == [True]


def test_keep_leaves_what_the_run_wrote(deployed: Callable[..., Deployed]) -> None:
    # GIVEN a working pipeline
    stack = deployed()

    # WHEN verify runs with --keep
    code, output = stack.run("--run-id", "r7", "--keep")

    # THEN its items, idempotency record and DLQ message are still there
    assert code == 0, output
    assert stack.count(TABLE) == 2
    assert stack.count(NOTIFIER_TABLE) == 1
    assert len(stack.dlq_bodies()) == 1


def test_without_a_stream_table_or_queue_it_is_a_usage_error(
    deployed: Callable[..., Deployed],
) -> None:
    # GIVEN outputs without the results table
    stack = deployed()
    stack.outputs["results_table_name"] = None

    # WHEN verify runs
    code, output = stack.run()

    # THEN it refuses (2), naming what is missing, and puts nothing
    assert code == 2
    assert "missing --table" in output
    assert stack.pipeline.handled == []


def test_the_idempotency_key_is_the_notifiers() -> None:
    # GIVEN an event id WHEN verify computes the notifier's idempotency record id
    key = verify.notifier_idempotency_key("evt-1")

    # THEN it is Powertools' key for the notifier's prefix and JMESPath
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from aws_lambda_powertools.utilities.idempotency.config import IdempotencyConfig

    from email_notifier.notifier import IDEMPOTENCY_KEY_JMESPATH, IDEMPOTENCY_KEY_PREFIX

    layer = DynamoDBPersistenceLayer(table_name="t", boto3_client=object())
    layer.configure(
        IdempotencyConfig(event_key_jmespath=IDEMPOTENCY_KEY_JMESPATH),
        key_prefix=IDEMPOTENCY_KEY_PREFIX,
    )
    expected = layer._get_hashed_idempotency_key(
        {"event_id": "evt-1", "template": "order-confirmation"}
    )
    assert key == expected


def test_the_dlq_is_looked_at_no_more_often_than_the_interval(
    deployed: Callable[..., Deployed], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a pipeline that loses the valid canary (so verify polls until its deadline), and a
    # count of verify's looks at the DLQ (each look receives every message in it)
    stack = deployed(drop=frozenset({"valid"}))
    looks: list[str] = []
    receive_all = verify._receive_all

    def counted(sqs: Any, queue_url: str) -> list[Any]:
        looks.append(queue_url)
        return receive_all(sqs, queue_url)

    monkeypatch.setattr(verify, "_receive_all", counted)

    # WHEN verify polls the tables every 10 ms for 0.3 s, with a DLQ interval of an hour
    code, output = stack.run("--run-id", "r8", "--timeout", "0.3", "--dlq-interval", "3600")

    # THEN the DLQ was looked at twice: the first look and the final sweep
    assert code == 1
    assert len(looks) == 2
    assert "DLQ (INVALID_JSON)" in output


def test_a_range_envelope_with_unreadable_sequence_numbers_does_not_stop_the_run(
    deployed: Callable[..., Deployed],
) -> None:
    # GIVEN the DLQ holds a range envelope whose sequence numbers int() refuses (superscripts)
    stack = deployed()
    forged = DlqEnvelope.create(
        event_source="aws:kinesis",
        sequence_number="\u00b2",
        end_sequence_number="\u00b3",
        shard_id="shardId-000000000000",
        error_category="RETRIES_EXHAUSTED",
        error_reason="forged",
        consumer=PROCESSOR,
        payload=None,
    )
    stack.clients["sqs"].send_message(
        QueueUrl=stack.pipeline.queue_url, MessageBody=forged.to_json()
    )

    # WHEN verify runs
    code, output = stack.run("--run-id", "r9")

    # THEN the run passes and the stranger is left in the queue
    assert code == 0, output
    assert len(stack.dlq_bodies()) == 1


ALARM_EMAILS = ("oncall@example.com", "team@example.com")


def _alarm_topic(stack: Deployed) -> tuple[Any, str]:
    """The alarm topic with an e-mail subscription per ALARM_EMAILS, as modules/alarms makes it,
    wired into the run's clients and outputs (alarm_topic_arn)."""
    sns = boto3.session.Session(region_name=REGION).client("sns")
    topic_arn = sns.create_topic(Name="orders-alarms")["TopicArn"]
    for address in ALARM_EMAILS:
        sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=address)
    stack.clients["sns"] = sns
    stack.outputs["alarm_topic_arn"] = topic_arn
    return sns, topic_arn


def test_confirmed_alarm_subscriptions_pass(deployed: Callable[..., Deployed]) -> None:
    # GIVEN a pipeline whose alarm e-mail subscriptions are all confirmed (moto confirms them)
    stack = deployed()
    _alarm_topic(stack)

    # WHEN verify runs with the environment's outputs, alarm_topic_arn among them
    code, output = stack.run("--run-id", "r9")

    # THEN the run passes and reports no pending subscription
    assert code == 0, output
    assert "pending" not in output


def test_a_pending_alarm_subscription_fails_the_run_and_is_named(
    deployed: Callable[..., Deployed],
) -> None:
    # GIVEN an alarm topic where one recipient never confirmed the subscription (SNS lists it
    # with the SubscriptionArn "PendingConfirmation"; moto confirms every subscription, so the
    # listing is stubbed with what SNS returns)
    stack = deployed()
    sns, topic_arn = _alarm_topic(stack)
    listing = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    listing[0] = {**listing[0], "SubscriptionArn": "PendingConfirmation"}
    stubber = Stubber(sns)
    stubber.add_response(
        "list_subscriptions_by_topic", {"Subscriptions": listing}, {"TopicArn": topic_arn}
    )

    # WHEN verify runs
    with stubber:
        code, output = stack.run("--run-id", "r10")

    # THEN the canaries pass, but the run fails naming the pending address, and only it
    assert code == 1, output
    failed = [line for line in output.splitlines() if line.startswith("FAILED")]
    assert failed == [line for line in failed if "alarm subscriptions pending" in line]
    assert "email:oncall@example.com" in failed[0]
    assert "team@example.com" not in failed[0]
    stubber.assert_no_pending_responses()
