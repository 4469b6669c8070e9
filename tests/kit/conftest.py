"""The tests of the consumer kit (stream_pipeline.kit): the isolated AWS environment of the
Lambda function tests (no real AWS, no endpoint from the shell)."""

from function_fixtures import _isolated_environment

__all__ = ["_isolated_environment"]
