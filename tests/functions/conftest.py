"""Fixtures for the Lambda function tests: isolated AWS environment, moto resources, harness."""

from function_fixtures import _isolated_environment, aws, harness

__all__ = ["_isolated_environment", "aws", "harness"]
