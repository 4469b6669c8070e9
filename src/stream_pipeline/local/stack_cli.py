"""``stream-pipeline local up|down|status|outputs``: the command line of
:class:`~stream_pipeline.local.stack.LocalStack` (docs/local.md)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any, Final

from stream_pipeline.local.runtime.client import read_state
from stream_pipeline.local.stack import (
    DEFAULT_BUILD_DIR,
    DEFAULT_PORT,
    DEFAULT_ROOT,
    ENVIRONMENT,
    LocalStack,
    StackError,
    local_region,
)


def describe(stack: LocalStack, outputs: dict[str, Any]) -> str:
    endpoint = stack.endpoint
    lines = [
        f"local stack up: endpoint {endpoint} (dummy credentials, region "
        f"{local_region(stack.checkout)})",
        f"  stream_name        {outputs.get('stream_name')}",
        f"  results_table_name {outputs.get('results_table_name')}",
        f"  dlq_url            {outputs.get('dlq_url')}",
        f"  e-mail notifier    {outputs.get('email_notifier_function_name') or '-'} "
        "(SES in the emulator counts its e-mails: get_send_quota)",
        f"  runtime pid {stack.runtime_pid()} ({stack.pid_file}), state {stack.state_dir}",
        f"  outputs: terraform -chdir={relative(stack.terraform_dir)} output",
        "  stop it: stream-pipeline local down (make local-down)",
    ]
    return "\n".join(lines)


def relative(path: Path) -> str:
    """``path`` relative to the working directory when it is under it."""
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--checkout``, ``--root``, ``--build-dir``: where the stack's parts are."""
    parser.add_argument(
        "--checkout",
        type=Path,
        default=None,
        help="checkout of the repository: environments/local, modules/, functions/ "
        "(default: the working directory)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="where the runtime's pid and state and the Terraform copy live "
        f"(default: <checkout>/{DEFAULT_ROOT})",
    )
    parser.add_argument(
        "--build-dir",
        type=Path,
        default=None,
        help=f"the function zips of `make package` (default: <checkout>/{DEFAULT_BUILD_DIR})",
    )
    parser.add_argument(
        "--terraform-root",
        type=Path,
        default=ENVIRONMENT,
        help=f"the Terraform root module to apply, inside the checkout (default: {ENVIRONMENT};"
        " e.g. examples/orders); another root's stack lives in build/local-<root>",
    )
    parser.add_argument(
        "--functions-dir",
        dest="functions_dirs",
        type=Path,
        action="append",
        default=[],
        help="another folder the runtime imports handler packages from (repeatable; e.g. "
        "examples/orders/functions)",
    )


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """The ``local`` command's subcommands, on ``parser``."""
    commands = parser.add_subparsers(dest="local_command", required=True, metavar="COMMAND")
    up = commands.add_parser(
        "up",
        help="start the runtime (unless running) and apply environments/local to it",
        description="Start the local runtime (unless running) and apply environments/local to "
        "it with Terraform. Idempotent.",
    )
    add_arguments(up)
    up.add_argument("--port", type=int, default=DEFAULT_PORT, help="loopback port (0: any)")
    for name, text in (
        ("down", "stop the runtime started by `up`, remove the root"),
        ("status", "is it up; endpoint, outputs, counters (exit 1 when down)"),
        ("outputs", "terraform output of the local stack"),
    ):
        sub = commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        add_arguments(sub)
        if name == "outputs":
            sub.add_argument("-json", dest="as_json", action="store_true", help="as JSON")


def stack_from(args: argparse.Namespace) -> LocalStack:
    checkout = (args.checkout or Path.cwd()).resolve()
    return LocalStack(
        root=args.root,
        port=getattr(args, "port", DEFAULT_PORT),
        checkout=checkout,
        build_dir=args.build_dir,
        terraform_root=args.terraform_root,
        functions_dirs=args.functions_dirs,
    )


def run(args: argparse.Namespace) -> int:
    """Runs ``stream-pipeline local <command>``: 0 ok, 1 the stack failed or is down, 2 not
    a checkout."""
    command = args.local_command
    try:
        stack = stack_from(args)
        if command == "up":
            started = time.monotonic()
            outputs = stack.up()
            print(describe(stack, outputs))
            print(f"  (local up took {time.monotonic() - started:.0f} s)")
        elif command == "down":
            stopped = stack.down()
            print("local runtime stopped" if stopped else "no local runtime was running")
            print(f"removed {relative(stack.base)}")
        elif command == "status":
            pid = stack.runtime_pid()
            if pid is None:
                print("local stack is down (stream-pipeline local up)")
                return 1
            print(describe(stack, stack.outputs()))
            state = read_state(stack.state_dir) or {}
            print(f"  drained: {state.get('drained')}")
            print(f"  counters: {json.dumps(state.get('counters', {}).get('global', {}))}")
        elif command == "outputs":
            outputs = stack.outputs()
            if args.as_json:
                print(json.dumps({k: {"value": v} for k, v in outputs.items()}, indent=2))
            else:
                for name, value in sorted(outputs.items()):
                    print(f"{name} = {json.dumps(value)}")
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        usage = "not a checkout" in str(exc) or "not inside the checkout" in str(exc)
        return 2 if usage else 1
    return 0


EXIT_STATUS: Final = """exit status:
  0  done (status: the stack is up)
  1  the stack could not be brought up or down (status: it is down)
  2  usage error, or not run from a checkout of the repository"""


def parser() -> argparse.ArgumentParser:
    local = argparse.ArgumentParser(
        prog="stream-pipeline local",
        description="The pipeline on this machine: the local runtime (moto's server plus the "
        "event source mappings and Lambda execution it lacks) with a checkout's "
        "environments/local applied to it by Terraform. Needs the `local` extra (moto) and "
        "terraform. Manual: docs/local.md.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(local)
    return local


def main(argv: list[str] | None = None) -> int:
    return run(parser().parse_args(argv))
