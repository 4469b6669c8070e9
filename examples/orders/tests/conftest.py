"""Fixtures of the orders validator's tests (orders_harness.py)."""

from function_fixtures import _isolated_environment
from orders_harness import orders_aws

__all__ = ["_isolated_environment", "orders_aws"]
