"""``stream-pipeline results``: read one user's items from the results table, their sensitive
fields decrypted, with the credentials of a reader (the pipeline's ``results_reader_policy_json``).

Where to read comes from ``terraform output -json`` of the environment: ``results_table_name``,
``field_encryption_key_arn`` and ``sensitive_fields``. Prints one JSON object per item, newest
first; other Binary attributes as base64 text.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, TextIO

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import Binary
from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline.cli_common import (
    add_aws_arguments,
    aws_session,
    client_options,
    read_terraform_outputs,
)
from stream_pipeline.kit.field_encryption import FieldDecryptor, FieldEncryptionError

EXIT_OK: Final = 0
EXIT_UNDECRYPTABLE: Final = 1
EXIT_USAGE: Final = 2
EXIT_STATUS: Final = """exit status:
  0  every item printed, its sensitive fields decrypted
  1  a sensitive field did not decrypt (printed as null, the reason on stderr): no kms:Decrypt
     for it (not the reader policy), or a value that was not encrypted for this table
  2  usage or configuration error (outputs without the table, AWS unreachable, access denied)"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stream-pipeline results",
        description="Print a user's items of the results table, newest first, with their "
        "sensitive fields decrypted. Needs the reader policy (results_reader_policy_json).",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--terraform-outputs",
        required=True,
        metavar="FILE",
        help="`terraform output -json` of the environment (- reads stdin)",
    )
    parser.add_argument("--user", required=True, help="the items' userId")
    parser.add_argument(
        "--limit", type=int, default=20, help="at most this many items (1-1,000; default 20)"
    )
    add_aws_arguments(parser, region_help="AWS region (default: the field key's)")
    return parser


def _plain(value: Any) -> Any:
    """A deserialized DynamoDB value as JSON can print it."""
    if isinstance(value, Binary):
        return base64.b64encode(value.value).decode("ascii")
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=repr)
    return value


def _items(table: Any, user: str, limit: int) -> Iterator[dict[str, Any]]:
    response = table.query(
        KeyConditionExpression=Key("userId").eq(user), ScanIndexForward=False, Limit=limit
    )
    yield from response.get("Items", [])


def _targets(outputs: Mapping[str, Any]) -> tuple[str, str | None, list[str]]:
    table = outputs.get("results_table_name")
    if not table:
        msg = "the outputs name no results_table_name: pass the environment's terraform outputs"
        raise ValueError(msg)
    fields = [str(name) for name in outputs.get("sensitive_fields") or []]
    key = outputs.get("field_encryption_key_arn") or None
    if fields and not key:
        msg = "the outputs list sensitive_fields but no field_encryption_key_arn"
        raise ValueError(msg)
    return str(table), key, fields


def main(
    argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, out: TextIO | None = None
) -> int:
    args = _parser().parse_args(argv)
    write = (out or sys.stdout).write
    try:
        if not 1 <= args.limit <= 1000:
            raise ValueError(f"--limit is 1-1,000, got {args.limit}")
        table_name, key_arn, fields = _targets(
            read_terraform_outputs(args.terraform_outputs, stdin or sys.stdin)
        )
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    # The Encryption SDK builds its KMS client from a botocore session of its own: it reads
    # the endpoint and the profile from the environment of this process.
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    if args.profile:
        os.environ["AWS_PROFILE"] = args.profile
    region = args.region or (key_arn.split(":")[3] if key_arn else None)
    decryptor = FieldDecryptor(key_arn, fields, table_name) if key_arn and fields else None
    status = EXIT_OK
    try:
        session = aws_session(region=region, profile=args.profile)
        table = session.resource("dynamodb", **client_options(args.endpoint_url)).Table(table_name)
        for item in _items(table, args.user, args.limit):
            if decryptor is not None:
                try:
                    item = decryptor.decrypt_item(item)
                except FieldEncryptionError as exc:
                    print(f"error: {item.get('eventKey')}: {exc}", file=sys.stderr)
                    item = {**item, **{name: None for name in fields if name in item}}
                    status = EXIT_UNDECRYPTABLE
            write(json.dumps(_plain(item), sort_keys=True, ensure_ascii=False) + "\n")
    except (BotoCoreError, ClientError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return status


if __name__ == "__main__":
    sys.exit(main())
