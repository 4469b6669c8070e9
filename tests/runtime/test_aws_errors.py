"""AWS SDK error classification and the retry policy's delays."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)
from factories import client_error

from stream_pipeline.runtime.aws_errors import ErrorKind, RetryPolicy, classify_exception


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (client_error("ProvisionedThroughputExceededException", "X"), ErrorKind.RETRYABLE),
        (client_error("ThrottlingException", "X"), ErrorKind.RETRYABLE),
        (client_error("RequestLimitExceeded", "X"), ErrorKind.RETRYABLE),
        (client_error("InternalServerError", "X", status=500), ErrorKind.RETRYABLE),
        (client_error("ServiceUnavailable", "X", status=503), ErrorKind.RETRYABLE),
        (client_error("Unheard", "X", status=502), ErrorKind.RETRYABLE),
        (client_error("Unheard", "X", status=429), ErrorKind.RETRYABLE),
        (client_error("ValidationException", "X"), ErrorKind.INVALID_REQUEST),
        (client_error("AccessDeniedException", "X"), ErrorKind.FATAL),
        (client_error("ResourceNotFoundException", "X"), ErrorKind.FATAL),
        (client_error("ItemCollectionSizeLimitExceededException", "X"), ErrorKind.FATAL),
        (ReadTimeoutError(endpoint_url="https://x"), ErrorKind.RETRYABLE),
        (EndpointConnectionError(endpoint_url="https://x"), ErrorKind.RETRYABLE),
        (NoCredentialsError(), ErrorKind.FATAL),
        (ParamValidationError(report="bad"), ErrorKind.FATAL),
    ],
)
def test_error_classification(error: Exception, kind: ErrorKind) -> None:
    """GIVEN an SDK error WHEN classified THEN throttling/5xx/timeouts retry, validation is
    per-item permanent, everything else is fatal for the invocation."""
    assert classify_exception(error) is kind


def test_retry_delay_is_bounded_exponential_with_jitter() -> None:
    """GIVEN the default policy WHEN delays are computed THEN they double, stay within
    [ceiling/2, ceiling] and never exceed max_delay."""
    policy = RetryPolicy(base_delay=0.1, max_delay=1.0)

    assert [policy.delay(n, lambda: 0.0) for n in (1, 2, 3)] == pytest.approx([0.05, 0.1, 0.2])
    assert [policy.delay(n, lambda: 1.0) for n in (1, 2, 3)] == pytest.approx([0.1, 0.2, 0.4])
    assert policy.delay(10, lambda: 1.0) == pytest.approx(1.0)
