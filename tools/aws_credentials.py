"""Fail early, and readably, when no AWS credentials are configured.

`make plan|apply|destroy ENV=<env>` runs this before Terraform for every environment that
talks to real AWS, so a missing profile reads as one sentence instead of a provider or backend
stack of errors.

Usage: python -m tools.aws_credentials ENV
"""

from __future__ import annotations

import sys

import boto3
from botocore.exceptions import BotoCoreError

HOW_TO = (
    "Configure credentials the AWS SDKs understand, for example `aws sso login --profile X` "
    "then `export AWS_PROFILE=X`, or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and "
    "AWS_SESSION_TOKEN), or run where an instance/task role is available."
)


def main(argv: list[str]) -> int:
    environment = argv[0] if argv else "this environment"
    try:
        credentials = boto3.Session().get_credentials()
    except BotoCoreError as error:  # e.g. a named profile that does not exist
        print(
            f"AWS credentials for {environment} could not be loaded: {error}\n{HOW_TO}",
            file=sys.stderr,
        )
        return 2
    if credentials is None:
        print(
            f"No AWS credentials found: `make plan ENV={environment}` needs them for the "
            f"provider and the S3 state backend.\n{HOW_TO}",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
