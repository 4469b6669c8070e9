"""The tests of the runtime the Lambda functions share (stream_pipeline.runtime): the isolated
AWS environment of the Lambda function tests (no real AWS, no endpoint from the shell)."""

from function_fixtures import _isolated_environment

__all__ = ["_isolated_environment"]
