"""BatchWriteItem with de-duplicated keys, concurrent 25-item requests and bounded retries.

Items are in DynamoDB's low-level form (``{"name": {"S": "..."}}``); an item's key is the tuple
of its key attributes' values (:func:`item_key`), so a batch writes each key once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from stream_pipeline.runtime.aws_errors import (
    AWS_SDK_ERRORS,
    ErrorKind,
    RetryPolicy,
    classify_exception,
    describe_exception,
)
from stream_pipeline.runtime.request_pool import SHARED_POOL, RequestPool

MAX_ITEMS_PER_REQUEST: Final = 25

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]
ItemKey = tuple[Any, ...]
"""The values of an item's key attributes (a table's key attribute has one type: no clash)."""


def item_key(item: Mapping[str, AttributeValue], key_attributes: tuple[str, ...]) -> ItemKey:
    """The key of ``item``; a missing key attribute raises KeyError naming it."""
    key = []
    for name in key_attributes:
        ((_, value),) = item[name].items()
        key.append(value)
    return tuple(key)


@dataclass(frozen=True, slots=True)
class WriteFailure:
    reason: str
    rejected: bool
    """True: DynamoDB refused this very item (permanent, DLQ). False: not stored, retry later."""


@dataclass(slots=True)
class WriteReport:
    failures: dict[ItemKey, WriteFailure] = field(default_factory=dict)
    requests: int = 0
    retry_requests: int = 0
    """BatchWriteItem requests that re-sent items (UnprocessedItems, throttling, 5xx...)."""


class DynamoBatchWriter:
    """Writes items keyed by their key attributes (hash, or hash and range); callers pass at most
    one item per key.

    The items are cut into requests of 25, which run concurrently on ``pool``. Each request
    retries on its own: its UnprocessedItems and retryable errors are re-sent after a backoff
    sleep, up to ``policy.max_attempts`` requests, while the other requests go on. A
    ValidationException on a multi-item request is bisected until the offending single item is
    found; that item is ``rejected`` (permanent), the others are written. Non-retryable errors
    (access denied, missing table) fail their items immediately. The report is the same
    whatever order the requests finish in.
    """

    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
        rand: Callable[[], float],
        key_attributes: tuple[str, ...],
        pool: RequestPool = SHARED_POOL,
    ) -> None:
        self._client = client
        self._table = table_name
        self._policy = policy
        self._sleep = sleep
        self._rand = rand
        self._key_attributes = key_attributes
        self._pool = pool

    def _key(self, item: Mapping[str, Any]) -> ItemKey:
        return item_key(item, self._key_attributes)

    def write(self, items: Mapping[ItemKey, Item]) -> WriteReport:
        keys = list(items)
        chunks = [
            {key: items[key] for key in keys[start : start + MAX_ITEMS_PER_REQUEST]}
            for start in range(0, len(keys), MAX_ITEMS_PER_REQUEST)
        ]
        report = WriteReport()
        for chunk_report in self._pool.map(self._write_chunk, chunks):
            report.failures.update(chunk_report.failures)
            report.requests += chunk_report.requests
            report.retry_requests += chunk_report.retry_requests
        return report

    def _write_chunk(self, chunk: dict[ItemKey, Item]) -> WriteReport:
        """One request's items until stored, rejected or out of attempts (runs on a pool
        thread: it touches nothing but its own report)."""
        report = WriteReport()
        reasons: dict[ItemKey, str] = {}
        pending = self._policy.rounds(
            chunk,
            lambda items, retry, is_retry: self._send(
                items, retry, reasons, report, is_retry=is_retry
            ),
            sleep=self._sleep,
            rand=self._rand,
        )
        for key in pending:
            report.failures[key] = WriteFailure(
                reason=(
                    f"not stored after {self._policy.max_attempts} attempts; "
                    f"last error: {reasons.get(key, 'unknown')}"
                ),
                rejected=False,
            )
        return report

    def _send(
        self,
        chunk: dict[ItemKey, Item],
        retry: dict[ItemKey, Item],
        reasons: dict[ItemKey, str],
        report: WriteReport,
        *,
        is_retry: bool,
    ) -> None:
        report.requests += 1
        if is_retry:
            report.retry_requests += 1
        try:
            response = self._client.batch_write_item(
                RequestItems={
                    self._table: [{"PutRequest": {"Item": item}} for item in chunk.values()]
                }
            )
        except AWS_SDK_ERRORS as exc:
            kind = classify_exception(exc)
            reason = describe_exception(exc)
            if kind is ErrorKind.INVALID_REQUEST:
                if len(chunk) == 1:
                    (key,) = chunk
                    report.failures[key] = WriteFailure(reason=reason, rejected=True)
                    return
                entries = list(chunk.items())
                middle = len(entries) // 2
                self._send(dict(entries[:middle]), retry, reasons, report, is_retry=is_retry)
                self._send(dict(entries[middle:]), retry, reasons, report, is_retry=is_retry)
                return
            if kind is ErrorKind.RETRYABLE:
                retry.update(chunk)
                reasons.update(dict.fromkeys(chunk, reason))
                return
            for key in chunk:
                report.failures[key] = WriteFailure(reason=reason, rejected=False)
            return

        unprocessed = (response.get("UnprocessedItems") or {}).get(self._table) or []
        for request in unprocessed:
            key = self._key(request["PutRequest"]["Item"])
            if key in chunk:
                retry[key] = chunk[key]
                reasons[key] = "returned in UnprocessedItems"
