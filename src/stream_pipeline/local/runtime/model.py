"""What the runtime reads from the emulator: functions, event source mappings, async configs.

Everything is parsed from the Lambda API's answers (``get_function_configuration``,
``list_event_source_mappings``, ``get_function_event_invoke_config``) -- what Terraform declared.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

SourceKind = Literal["kinesis", "dynamodb", "unsupported"]

DEFAULT_TIMEOUT_SECONDS: Final = 3
DEFAULT_MEMORY_MB: Final = 128
DEFAULT_ASYNC_RETRIES: Final = 2
DEFAULT_ASYNC_EVENT_AGE: Final = 21_600
REPORT_BATCH_ITEM_FAILURES: Final = "ReportBatchItemFailures"
STATE_FILE: Final = "state.json"
"""The runtime's state, in its state directory (read by ``client``)."""


def arn_region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def arn_service(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 else ""


def unqualified(function_arn: str) -> str:
    """``arn:aws:lambda:r:a:function:name[:qualifier]`` -> without the qualifier."""
    parts = function_arn.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 else function_arn


@dataclass(frozen=True, slots=True)
class FunctionConfig:
    name: str
    arn: str
    region: str
    handler: str
    timeout: float
    memory: int
    role: str
    environment: dict[str, str] = field(default_factory=dict)
    runtime: str = ""
    """Lambda's runtime identifier, e.g. ``python3.12`` (empty when the emulator gave none)."""
    fingerprint: str = ""
    """Changes whenever anything a warm worker depends on changes (it is then replaced)."""

    @classmethod
    def from_api(cls, payload: dict[str, Any]) -> FunctionConfig:
        variables = (payload.get("Environment") or {}).get("Variables") or {}
        environment = {str(key): str(value) for key, value in variables.items()}
        arn = str(payload["FunctionArn"])
        config: dict[str, Any] = {
            "handler": payload.get("Handler") or "",
            "timeout": payload.get("Timeout") or DEFAULT_TIMEOUT_SECONDS,
            "memory": payload.get("MemorySize") or DEFAULT_MEMORY_MB,
            "environment": environment,
            "runtime": payload.get("Runtime") or "",
            "code": payload.get("CodeSha256"),
            "modified": payload.get("LastModified"),
        }
        digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
        return cls(
            name=str(payload["FunctionName"]),
            arn=unqualified(arn),
            region=arn_region(arn),
            handler=str(config["handler"]),
            timeout=float(config["timeout"]),
            memory=int(config["memory"]),
            role=str(payload.get("Role") or ""),
            environment=environment,
            runtime=str(config["runtime"]),
            fingerprint=digest[:16],
        )


@dataclass(frozen=True, slots=True)
class AsyncConfig:
    """``aws_lambda_function_event_invoke_config``; defaults when there is none."""

    maximum_retry_attempts: int = DEFAULT_ASYNC_RETRIES
    maximum_event_age: int = DEFAULT_ASYNC_EVENT_AGE
    on_failure: str | None = None
    on_success: str | None = None
    source: str = "default"
    """``api`` (read from the emulator) or ``default`` (none configured)."""

    @classmethod
    def from_api(cls, payload: dict[str, Any]) -> AsyncConfig:
        destinations = payload.get("DestinationConfig") or {}
        retries = payload.get("MaximumRetryAttempts")
        age = payload.get("MaximumEventAgeInSeconds")
        return cls(
            maximum_retry_attempts=DEFAULT_ASYNC_RETRIES if retries is None else int(retries),
            maximum_event_age=DEFAULT_ASYNC_EVENT_AGE if age is None else int(age),
            on_failure=(destinations.get("OnFailure") or {}).get("Destination") or None,
            on_success=(destinations.get("OnSuccess") or {}).get("Destination") or None,
            source="api",
        )


@dataclass(frozen=True, slots=True)
class MappingConfig:
    uuid: str
    function_arn: str
    source_arn: str
    """As configured: a Kinesis stream, an EFO consumer or a DynamoDB stream ARN."""
    stream_arn: str
    """The stream the records are read from (an EFO consumer's stream)."""
    kind: SourceKind
    region: str
    enabled: bool = True
    batch_size: int = 100
    batching_window: float = 0.0
    parallelization_factor: int = 1
    starting_position: str = "TRIM_HORIZON"
    starting_timestamp: float | None = None
    bisect_on_error: bool = False
    maximum_retry_attempts: int = -1
    maximum_record_age: int = -1
    report_batch_item_failures: bool = False
    filter_patterns: tuple[str, ...] = ()
    on_failure: str | None = None
    tumbling_window: int | None = None

    @classmethod
    def from_api(cls, payload: dict[str, Any]) -> MappingConfig:
        source_arn = str(payload.get("EventSourceArn") or "")
        service = arn_service(source_arn)
        kind: SourceKind = "unsupported"
        stream_arn = source_arn
        if service == "kinesis":
            kind = "kinesis"
            stream_arn = source_arn.split("/consumer/")[0]
        elif service == "dynamodb" and "/stream/" in source_arn:
            kind = "dynamodb"
        timestamp = payload.get("StartingPositionTimestamp")
        if isinstance(timestamp, datetime):
            timestamp_value: float | None = timestamp.timestamp()
        elif isinstance(timestamp, int | float):
            timestamp_value = float(timestamp)
        else:
            timestamp_value = None
        filters = (payload.get("FilterCriteria") or {}).get("Filters") or []
        state = payload.get("State")
        return cls(
            uuid=str(payload["UUID"]),
            function_arn=unqualified(str(payload.get("FunctionArn") or "")),
            source_arn=source_arn,
            stream_arn=stream_arn,
            kind=kind,
            region=arn_region(source_arn),
            enabled=state not in ("Disabled", "Disabling"),
            batch_size=int(payload.get("BatchSize") or 100),
            batching_window=float(payload.get("MaximumBatchingWindowInSeconds") or 0),
            parallelization_factor=max(1, int(payload.get("ParallelizationFactor") or 1)),
            starting_position=str(payload.get("StartingPosition") or "TRIM_HORIZON"),
            starting_timestamp=timestamp_value,
            bisect_on_error=bool(payload.get("BisectBatchOnFunctionError")),
            maximum_retry_attempts=_int_or(payload.get("MaximumRetryAttempts"), -1),
            maximum_record_age=_int_or(payload.get("MaximumRecordAgeInSeconds"), -1),
            report_batch_item_failures=REPORT_BATCH_ITEM_FAILURES
            in (payload.get("FunctionResponseTypes") or []),
            filter_patterns=tuple(str(f.get("Pattern") or "") for f in filters),
            on_failure=((payload.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
                "Destination"
            )
            or None,
            tumbling_window=payload.get("TumblingWindowInSeconds") or None,
        )


def _int_or(value: Any, default: int) -> int:
    return default if value is None else int(value)
