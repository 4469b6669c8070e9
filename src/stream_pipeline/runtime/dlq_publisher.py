"""SendMessageBatch of DLQ envelopes: 10 entries / 256 KiB per request, sent concurrently, each
request with its own bounded retries; with a payload bucket, the payload of an envelope too large
for an SQS message is stored in S3 first (claim-check), so the DLQ keeps the record's bytes.
Without one, such an envelope is sent pointer-only, its reason saying where the bytes still are
(:data:`STREAM_ONLY_NOTE`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from stream_pipeline.runtime.aws_errors import (
    AWS_SDK_ERRORS,
    ErrorKind,
    RetryPolicy,
    classify_exception,
    describe_exception,
)
from stream_pipeline.runtime.claim_check import store_payload
from stream_pipeline.runtime.dlq_envelope import SQS_MAX_MESSAGE_BYTES, DlqEnvelope, EnvelopeError
from stream_pipeline.runtime.dlq_mac import MAC_FIELD_BYTES, EnvelopeMacError, EnvelopeSigner
from stream_pipeline.runtime.request_pool import SHARED_POOL, RequestPool

MAX_ENTRIES_PER_REQUEST: Final = 10
STREAM_ONLY_NOTE: Final = (
    "payload left out: too large for an SQS message and no payload bucket (PAYLOAD_BUCKET) to "
    "keep it in; the bytes live only in the stream until its retention ends -- replay or "
    "re-read them before then"
)
"""Added to the reason of an envelope sent pointer-only because no payload bucket is set."""


@dataclass(slots=True)
class PublishReport:
    failures: dict[int, str] = field(default_factory=dict)
    """Index in the published sequence -> why it was not sent (the record must be retried)."""
    requests: int = 0
    retry_requests: int = 0
    truncated: int = 0
    """Envelopes sent without payload because they did not fit in one SQS message."""
    claim_checked: int = 0
    """Envelopes whose payload was stored in the payload bucket and sent as a pointer to it."""


@dataclass(frozen=True, slots=True)
class PayloadBucket:
    """Where payloads too large for an SQS message go (claim-check): ``s3://name/<envelope id>``.
    The name comes from the function's configuration, never from a record or a message."""

    client: Any
    name: str
    key_prefix: str = ""
    """Prepended to the envelope id (``PAYLOAD_KEY_PREFIX``): the consumer's own key space."""

    @classmethod
    def configured(
        cls, client: Any, name: str | None, key_prefix: str = ""
    ) -> PayloadBucket | None:
        """The bucket a function is configured with (``PAYLOAD_BUCKET``, ``PAYLOAD_KEY_PREFIX``);
        None without one."""
        return cls(client, name, key_prefix) if name is not None else None


class DlqPublisher:
    """Sends envelopes; every envelope is either accepted by SQS or listed in ``failures``.

    The envelopes are packed into requests (in order), which run concurrently on ``pool``. Each
    request retries on its own: entries SQS did not accept for a reason that may pass are re-sent
    after a backoff sleep, up to ``policy.max_attempts`` requests, while the other requests go
    on. The report is the same whatever order the requests finish in.

    With ``payload_bucket``, an envelope too large for one SQS message has its payload stored in
    S3 first (concurrently, on ``pool``) and is sent as a pointer to it; an upload that fails
    lists the envelope in ``failures`` (a pointer is never sent without its object). With
    ``signer``, every envelope is sent with its MAC (``envelope_mac``, room kept for it in the
    message); one that cannot be signed is listed in ``failures``, never sent unsigned. Without
    one, such an envelope is sent without payload: sha256, length and coordinates, which the
    replay can read back from the stream while it retains the record; its reason ends with
    :data:`STREAM_ONLY_NOTE`.
    """

    def __init__(
        self,
        client: Any,
        queue_url: str,
        *,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
        rand: Callable[[], float],
        max_message_bytes: int = SQS_MAX_MESSAGE_BYTES,
        max_request_bytes: int = SQS_MAX_MESSAGE_BYTES,
        pool: RequestPool = SHARED_POOL,
        payload_bucket: PayloadBucket | None = None,
        signer: EnvelopeSigner | None = None,
    ) -> None:
        self._client = client
        self._signer = signer
        self._payload_bucket = payload_bucket
        self._queue_url = queue_url
        self._policy = policy
        self._sleep = sleep
        self._rand = rand
        # The MAC is added after fitting: keep room for it.
        self._max_message_bytes = max_message_bytes - (MAC_FIELD_BYTES if signer else 0)
        self._max_request_bytes = max_request_bytes
        self._pool = pool

    def publish(self, envelopes: Sequence[DlqEnvelope]) -> PublishReport:
        report = PublishReport()
        envelopes = self._claim_check(envelopes, report)
        ready: dict[int, DlqEnvelope] = {}
        for index, envelope in enumerate(envelopes):
            if index in report.failures:
                continue
            try:
                fitted = envelope.fit_to_size(self._max_message_bytes)
                if fitted is not envelope and self._payload_bucket is None:
                    fitted = envelope.pointer_only(STREAM_ONLY_NOTE).fit_to_size(
                        self._max_message_bytes
                    )
            except EnvelopeError as exc:
                report.failures[index] = str(exc)
                continue
            if fitted is not envelope:
                report.truncated += 1
            ready[index] = fitted
        pending = self._sign(ready, report)

        for batch_report in self._pool.map(self._publish_batch, list(self._pack(pending))):
            report.failures.update(batch_report.failures)
            report.requests += batch_report.requests
            report.retry_requests += batch_report.retry_requests
        return report

    def _sign(self, ready: dict[int, DlqEnvelope], report: PublishReport) -> dict[int, str]:
        """The message bodies; with a signer, each signed (concurrently, on the pool: a batch of
        poison records is one KMS call each). One that cannot be signed is not sent."""
        signer = self._signer
        if signer is None or not ready:
            return {index: envelope.to_json() for index, envelope in ready.items()}

        try:
            signer.client()  # made here, on this thread, before the pool's threads sign
        except EnvelopeMacError as exc:
            report.failures.update(dict.fromkeys(ready, str(exc)))
            return {}

        def sign(envelope: DlqEnvelope) -> DlqEnvelope | str:
            try:
                return signer.sign(envelope)
            except EnvelopeMacError as exc:
                return str(exc)

        bodies: dict[int, str] = {}
        for index, signed in zip(ready, self._pool.map(sign, list(ready.values())), strict=True):
            if isinstance(signed, str):
                report.failures[index] = signed
            else:
                bodies[index] = signed.to_json()
        return bodies

    def _claim_check(
        self, envelopes: Sequence[DlqEnvelope], report: PublishReport
    ) -> list[DlqEnvelope]:
        result = list(envelopes)
        bucket = self._payload_bucket
        if bucket is None:
            return result
        oversized = [
            index
            for index, envelope in enumerate(result)
            if envelope.payload_available and envelope.size_bytes() > self._max_message_bytes
        ]

        def store(index: int) -> DlqEnvelope | str:
            try:
                return store_payload(
                    bucket.client, bucket.name, result[index], key_prefix=bucket.key_prefix
                )
            except AWS_SDK_ERRORS as exc:
                return f"payload not stored in s3://{bucket.name}: {describe_exception(exc)}"

        for index, stored in zip(oversized, self._pool.map(store, oversized), strict=True):
            if isinstance(stored, str):
                report.failures[index] = stored
            else:
                result[index] = stored
                report.claim_checked += 1
        return result

    def _publish_batch(self, batch: dict[int, str]) -> PublishReport:
        """One request's entries until accepted, refused or out of attempts (runs on a pool
        thread: it touches nothing but its own report)."""
        report = PublishReport()
        reasons: dict[int, str] = {}
        pending = self._policy.rounds(
            batch,
            lambda entries, retry, is_retry: self._send(
                entries, retry, reasons, report, is_retry=is_retry
            ),
            sleep=self._sleep,
            rand=self._rand,
        )
        for index in pending:
            report.failures[index] = (
                f"not sent after {self._policy.max_attempts} attempts; "
                f"last error: {reasons.get(index, 'unknown')}"
            )
        return report

    def _pack(self, bodies: dict[int, str]) -> Iterator[dict[int, str]]:
        """Greedy, in order: at most 10 entries and ``max_request_bytes`` of bodies per request."""
        batch: dict[int, str] = {}
        size = 0
        for index, body in bodies.items():
            body_size = len(body)  # envelopes are ASCII JSON
            if batch and (
                len(batch) == MAX_ENTRIES_PER_REQUEST or size + body_size > self._max_request_bytes
            ):
                yield batch
                batch, size = {}, 0
            batch[index] = body
            size += body_size
        if batch:
            yield batch

    def _send(
        self,
        batch: dict[int, str],
        retry: dict[int, str],
        reasons: dict[int, str],
        report: PublishReport,
        *,
        is_retry: bool,
    ) -> None:
        report.requests += 1
        if is_retry:
            report.retry_requests += 1
        try:
            response = self._client.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(index), "MessageBody": body} for index, body in batch.items()],
            )
        except AWS_SDK_ERRORS as exc:
            reason = describe_exception(exc)
            if classify_exception(exc) is ErrorKind.RETRYABLE:
                retry.update(batch)
                reasons.update(dict.fromkeys(batch, reason))
            else:
                for index in batch:
                    report.failures[index] = reason
            return

        succeeded = {str(entry.get("Id")) for entry in response.get("Successful") or []}
        failed = {str(entry.get("Id")): entry for entry in response.get("Failed") or []}
        for index, body in batch.items():
            entry_id = str(index)
            if entry_id in succeeded and entry_id not in failed:
                continue
            entry = failed.get(entry_id)
            if entry is None:
                reason = "SQS reported neither success nor failure for the entry"
            else:
                reason = f"{entry.get('Code', 'Unknown')}: {entry.get('Message', '')}".strip()
            if entry is not None and entry.get("SenderFault"):
                report.failures[index] = reason
            else:
                retry[index] = body
                reasons[index] = reason
