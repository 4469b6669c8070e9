"""The dead-letter queue as a replay source: receive, delete, release; and its statistics."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline.replay.model import (
    HYDRATE_FAILED,
    INVALID_ENVELOPE,
    MAX_ENTRIES_PER_SQS_BATCH,
    MAX_RECEIVES_WITHOUT_NEW_MESSAGES,
    Message,
    QueueAttributes,
    StatsReport,
    is_async_invocation_record,
    parse_envelope,
)
from stream_pipeline.runtime.aws_errors import describe_exception
from stream_pipeline.runtime.dlq_envelope import EnvelopeParseError, PayloadFormat
from stream_pipeline.runtime.hydration.models import (
    MalformedAsyncInvocationRecordError,
    MalformedOnFailureRecordError,
    parse_async_invocation_record,
    parse_on_failure_record,
)


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
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        return [
            Message(
                str(m["MessageId"]),
                str(m["ReceiptHandle"]),
                str(m.get("Body", "")),
                _receive_count(m),
            )
            for m in response.get("Messages") or []
        ]

    def attributes(self, cloudwatch: Any) -> QueueAttributes:
        """Counts and the oldest message's age, without receiving anything: a receive counts
        as a look, and SQS leaves a message looked at 3 or more times out of
        ApproximateAgeOfOldestMessage -- the metric the DLQ age alarm watches."""
        attributes = self._client.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        ).get("Attributes", {})
        age, note = _oldest_age(cloudwatch, self.url)
        return QueueAttributes(
            url=self.url,
            visible=_count(attributes, "ApproximateNumberOfMessages"),
            in_flight=_count(attributes, "ApproximateNumberOfMessagesNotVisible"),
            delayed=_count(attributes, "ApproximateNumberOfMessagesDelayed"),
            oldest_age_seconds=age,
            oldest_age_note=note,
        )

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


def _receive_count(message: dict[str, Any]) -> int | None:
    value = (message.get("Attributes") or {}).get("ApproximateReceiveCount")
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None


def _count(attributes: dict[str, Any], name: str) -> int | None:
    value = attributes.get(name)
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None


AGE_METRIC_WINDOW: Final = timedelta(minutes=15)
"""How far back ``stats`` looks for the age metric (SQS publishes it every minute or five)."""


def _oldest_age(cloudwatch: Any, url: str) -> tuple[float | None, str | None]:
    """The latest datapoint of AWS/SQS ApproximateAgeOfOldestMessage for the queue."""
    if cloudwatch is None:
        return None, "no CloudWatch client"
    name = url.rstrip("/").rsplit("/", 1)[-1]
    end = datetime.now(UTC)
    try:
        response = cloudwatch.get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Name": "QueueName", "Value": name}],
            StartTime=end - AGE_METRIC_WINDOW,
            EndTime=end,
            Period=60,
            Statistics=["Maximum"],
        )
    except (ClientError, BotoCoreError) as exc:
        return None, f"CloudWatch: {describe_exception(exc)}"
    points = sorted(response.get("Datapoints") or [], key=lambda p: p["Timestamp"])
    if not points:
        return None, f"no datapoint in the last {int(AGE_METRIC_WINDOW.total_seconds() // 60)} min"
    return float(points[-1]["Maximum"]), None


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


def collect_stats(queue: Queue, on_message: Callable[[], None] = lambda: None) -> StatsReport:
    """Receives every message once (``stats --inspect``) and makes them visible again. Each
    receive counts: a message received 3 or more times drops out of the queue's
    ApproximateAgeOfOldestMessage."""
    report = StatsReport()
    seen: set[str] = set()
    received: list[Message] = []
    for fresh in _fresh_batches(queue, seen, None):
        for message in fresh:
            received.append(message)
            try:
                _count_stats(report, message)
            except Exception:  # one message must never stop the count
                report.counts.setdefault(INVALID_ENVELOPE, Counter()).update(["messages", "other"])
            if message.receive_count is not None and message.receive_count >= 3:
                report.received_three_times += 1
            on_message()
    queue.release(received)
    return report


def _count_stats(report: StatsReport, message: Message) -> None:
    try:
        envelope = parse_envelope(message.body)
    except EnvelopeParseError:
        if is_async_invocation_record(message.body):
            _count_hydrate_failure(report, message)
        else:
            report.counts.setdefault(INVALID_ENVELOPE, Counter()).update(["messages", "other"])
        return
    label = str(envelope.error_category)
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
