"""Shared pytest options."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-inventories",
        action="store_true",
        default=False,
        help="rewrite plan inventories (tests/**/<case>.yaml) from the current plans",
    )
