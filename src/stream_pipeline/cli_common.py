"""What the ``stream-pipeline`` commands share: AWS session and client settings,
``terraform output -json`` input, the progress bar, and the Kinesis PutRecords request limits.

Used by ``stream_pipeline.replay`` (DLQ -> stream) and ``stream_pipeline.producer`` (sample
events -> stream).
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, TextIO

import boto3
from botocore.config import Config
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

SDK_CONFIG: Final = Config(retries={"mode": "standard", "max_attempts": 5})
"""Whole-request retries by the SDK (throttling, 5xx, connection errors). PutRecords' per-record
failures are not retried by the SDK: the callers retry those entries themselves."""

# Kinesis PutRecords limits (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html)
MAX_RECORDS_PER_PUT: Final = 500
MAX_BYTES_PER_PUT: Final = 5 * 1024 * 1024
"""Data plus partition keys of one request."""
MAX_RECORD_BYTES: Final = 1024 * 1024
"""One record: its data plus its partition key (counted as UTF-8 bytes, the stricter reading)."""
MAX_PARTITION_KEY_CHARS: Final = 256

_KINESIS_ARN_REGION: Final = re.compile(r"^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):\d{12}:stream/")


# --------------------------------------------------------------------------- arguments, AWS


def add_aws_arguments(parser: argparse.ArgumentParser, *, region_help: str) -> None:
    """``--endpoint-url``, ``--region``, ``--profile``: the same for every tool."""
    parser.add_argument(
        "--endpoint-url", help="AWS endpoint, e.g. the local emulator (http://localhost:5000)"
    )
    parser.add_argument("--region", help=region_help)
    parser.add_argument(
        "--profile", help="named AWS profile (default: the SDK's usual credential chain)"
    )


def aws_session(*, region: str | None, profile: str | None) -> boto3.session.Session:
    """A session for the tool's clients; raises botocore's ProfileNotFound for a bad profile."""
    return boto3.session.Session(region_name=region, profile_name=profile)


def client_options(endpoint_url: str | None) -> dict[str, Any]:
    options: dict[str, Any] = {"config": SDK_CONFIG}
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    return options


def region_from_stream_arn(stream: str) -> str | None:
    match = _KINESIS_ARN_REGION.match(stream)
    return match.group(1) if match else None


def stream_params(stream: str) -> dict[str, str]:
    """``StreamARN`` for an ARN, ``StreamName`` for a name (Kinesis data plane calls)."""
    return {"StreamARN": stream} if stream.startswith("arn:") else {"StreamName": stream}


# --------------------------------------------------------------------------- terraform outputs


def read_terraform_outputs(source: str | None, stdin: TextIO) -> dict[str, Any]:
    """``terraform output -json`` from a file (``-``: stdin) -> output name -> value; no
    source (the option not given): none."""
    if not source:
        return {}
    text = stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    document = json.loads(text)
    if not isinstance(document, dict):
        msg = "terraform outputs must be the JSON object of `terraform output -json`"
        raise ValueError(msg)
    return {
        name: value.get("value") if isinstance(value, dict) else value
        for name, value in document.items()
    }


def first_output(outputs: Mapping[str, Any], names: Sequence[str]) -> str | None:
    """The first of ``names`` that the outputs hold with a non-empty value."""
    return next((str(outputs[name]) for name in names if outputs.get(name)), None)


# --------------------------------------------------------------------------- output


def progress_bar(console: Console, enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not enabled,
    )


# --------------------------------------------------------------------------- PutRecords batches


def put_records_batches[T](
    items: Iterable[T],
    size: Callable[[T], int],
    *,
    max_records: int = MAX_RECORDS_PER_PUT,
    max_bytes: int = MAX_BYTES_PER_PUT,
) -> Iterator[list[T]]:
    """Consecutive batches of at most ``max_records`` items and ``max_bytes`` (``size`` of an
    item: its data plus its partition key). Lazy: reads ``items`` only as far as it yields. An
    item larger than ``max_bytes`` on its own is yielded alone (the caller rejects it)."""
    batch: list[T] = []
    total = 0
    for item in items:
        item_size = size(item)
        if batch and (len(batch) >= max_records or total + item_size > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += item_size
    if batch:
        yield batch
