"""Classification of AWS SDK errors and the bounded retry policy used for in-process retries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError


class ErrorKind(Enum):
    RETRYABLE = "retryable"
    """Throttling, 5xx, timeouts: retry in-process, then report the record for an ESM retry."""
    INVALID_REQUEST = "invalid-request"
    """ValidationException: permanent for the item when the request held a single item."""
    FATAL = "fatal"
    """Anything else (access denied, missing table/queue, ...): do not retry in-process, report
    the record so it stays in the stream until the deployment is fixed."""


RETRYABLE_ERROR_CODES: Final = frozenset(
    {
        # throttling
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "TransactionInProgressException",
        "KmsThrottled",
        "KMS.ThrottlingException",
        # server side / transient
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "AWS.SimpleQueueService.ServiceUnavailable",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def error_code(exc: ClientError) -> str:
    response: dict[str, Any] = exc.response or {}
    return str(response.get("Error", {}).get("Code", ""))


def describe_client_error(exc: ClientError) -> str:
    response: dict[str, Any] = exc.response or {}
    error = response.get("Error", {})
    return f"{error.get('Code', 'Unknown')}: {error.get('Message', '')}".strip()


def classify_client_error(exc: ClientError) -> ErrorKind:
    response: dict[str, Any] = exc.response or {}
    code = error_code(exc)
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in RETRYABLE_ERROR_CODES or status >= 500 or status == 429:
        return ErrorKind.RETRYABLE
    if code == "ValidationException":
        return ErrorKind.INVALID_REQUEST
    return ErrorKind.FATAL


def classify_exception(exc: Exception) -> ErrorKind:
    """ClientError by code; connection problems and timeouts are retryable; the rest fatal."""
    if isinstance(exc, ClientError):
        return classify_client_error(exc)
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return ErrorKind.RETRYABLE
    return ErrorKind.FATAL


def describe_exception(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return describe_client_error(exc)
    return f"{type(exc).__name__}: {exc}"


AWS_SDK_ERRORS: Final = (ClientError, BotoCoreError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter.

    Delay before retry ``n`` (1-based) is drawn from ``[c/2, c]`` with
    ``c = min(max_delay, base_delay * 2 ** (n - 1))`` ("equal jitter": never zero, never more
    than the cap). With the defaults the worst-case total sleep is 0.1+0.2+0.4+0.8 = 1.5 s.
    """

    max_attempts: int = 5
    base_delay: float = 0.1
    max_delay: float = 2.0

    def delay(self, retry_number: int, rand: Callable[[], float]) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry_number - 1))
        return ceiling / 2 + rand() * ceiling / 2

    def rounds[K, V](
        self,
        pending: dict[K, V],
        send: Callable[[dict[K, V], dict[K, V], bool], None],
        *,
        sleep: Callable[[float], None],
        rand: Callable[[], float],
    ) -> dict[K, V]:
        """Send ``pending``, then -- after a backoff -- what ``send`` put back into its second
        argument for a retry, until nothing is left or ``max_attempts`` requests were made;
        ``send``'s third argument says whether the request is a retry. Returns what is still
        pending (out of attempts)."""
        for attempt in range(1, self.max_attempts + 1):
            if not pending:
                break
            if attempt > 1:
                sleep(self.delay(attempt - 1, rand))
            retry: dict[K, V] = {}
            send(pending, retry, attempt > 1)
            pending = retry
        return pending
