"""Shared pytest options, and moto serving one DynamoDB or Kinesis request at a time."""

from __future__ import annotations

import pytest

from stream_pipeline.local.runtime import moto_serial


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-inventories",
        action="store_true",
        default=False,
        help="rewrite plan inventories (tests/**/<case>.yaml) from the current plans",
    )


def pytest_configure(config: pytest.Config) -> None:
    # The functions write from a thread pool; moto's in-process backends (mock_aws) drop
    # concurrent DynamoDB and Kinesis writes unless they are served one at a time, as the
    # local runtime serves them.
    moto_serial.apply()
