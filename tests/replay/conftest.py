"""The replay runs the hydrate function's code against moto: the Lambda function tests'
fixtures (isolated AWS environment, moto resources, harness)."""

from function_fixtures import _isolated_environment, aws, harness

__all__ = ["_isolated_environment", "aws", "harness"]
