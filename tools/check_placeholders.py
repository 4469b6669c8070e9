"""Stop `make plan|apply|destroy ENV=<env>` on a value that is still a placeholder.

The environments ship readable example values where each team must put its own: the state
bucket in `backend.hcl`, the alarm e-mail addresses and the SES identity and sender in
`terraform.tfvars`. Planned as they are, they fail late and obscurely (S3 "bucket does not
exist" during `terraform init`, an SES identity the account never verified), so this runs
before the credential check and before `terraform init` and names each one in one sentence.

The convention: a value is a placeholder when it contains

- a domain reserved for documentation (RFC 2606): `example.com`, `example.net`, `example.org`,
  or a subdomain of one (`dev.example.com`, `alerts@example.com`);
- `example-org` (the example organisation's prefix, as in `example-org-terraform-state-dev`);
- the marker `CHANGE-ME` (any case), for anything else a template wants changed.

`local` is exempt: its values are the emulator's (moto accepts `notifications@example.com`),
and it has no backend.

Usage: python -m tools.check_placeholders ENV   (run from the repository root, as make does)
Exit status: 0 when nothing is a placeholder, 2 otherwise (one line per placeholder on stderr).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2

from tools.hcl_scan import unquote

PLACEHOLDER = re.compile(
    r"(?:^|[^A-Za-z0-9-])example\.(?:com|net|org)(?![A-Za-z0-9-])|example-org|change-me",
    re.IGNORECASE,
)
# Environments whose values are the local emulator's, not placeholders.
EXEMPT = frozenset({"local"})
# The files of an environment that hold values to set, in the order make reads them.
FILES = ("backend.hcl", "terraform.tfvars")

# What each value is, for the sentence that asks for it (dotted paths into objects).
WHAT_TO_SET = {
    "bucket": "your state bucket's name",
    "key": "the state object's key in your state bucket",
    "region": "the Region of your state bucket",
    "dynamodb_table": "your lock table's name",
    "alarm_emails": "the addresses that should receive the alarm e-mails (or [])",
    "email_notifier.sender_address": (
        "the address the notifier sends from, within an SES identity of the account"
    ),
    "email_notifier.identity": "the SES identity (domain or address) the account has verified",
    "email_notifier.recipients.allowed_domains": (
        'the domains the notifier may mail (your customers\' domains, or ["*"] for any)'
    ),
}
DEFAULT_WHAT = "your own value"


def is_placeholder(value: str) -> bool:
    return PLACEHOLDER.search(value) is not None


def _render(value: Any) -> str:
    """A value as HCL writes it."""
    if isinstance(value, str):
        return f'"{unquote(value)}"'
    if isinstance(value, list):
        return "[" + ", ".join(_render(item) for item in value) + "]"
    return str(value)


def _placeholders(path: list[str], value: Any) -> Iterator[tuple[str, Any]]:
    """``(dotted path, value)`` of each placeholder: a string, or a list holding one."""
    if isinstance(value, str):
        if is_placeholder(unquote(value)):
            yield ".".join(path), value
    elif isinstance(value, list):
        if any(isinstance(item, str) and is_placeholder(unquote(item)) for item in value):
            yield ".".join(path), value
        else:
            for item in value:
                if isinstance(item, dict):
                    yield from _placeholders(path, item)
    elif isinstance(value, dict):
        for key, inner in value.items():
            if key != "__is_block__":
                yield from _placeholders([*path, unquote(key)], inner)


def messages(environment_dir: Path) -> list[str]:
    """One sentence per placeholder in the environment's backend.hcl and terraform.tfvars."""
    found: list[str] = []
    for name in FILES:
        path = environment_dir / name
        if not path.is_file():
            continue
        try:
            document = hcl2.loads(path.read_text())
        except Exception as error:
            found.append(f"{path.as_posix()}: cannot be read as HCL ({error}).")
            continue
        for key, value in _placeholders([], document):
            what = WHAT_TO_SET.get(key, DEFAULT_WHAT)
            found.append(
                f"{path.as_posix()}: {key} = {_render(value)} is a placeholder: set it to {what}."
            )
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("Usage: python -m tools.check_placeholders ENV", file=sys.stderr)
        return 2
    environment = argv[0]
    if environment in EXEMPT:
        return 0
    found = messages(Path("environments") / environment)
    for message in found:
        print(message, file=sys.stderr)
    return 2 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
