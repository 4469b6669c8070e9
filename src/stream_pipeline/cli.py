"""``stream-pipeline``: one command, a subcommand per tool. Each subcommand's module is imported
only when it runs, so ``replay`` and ``produce`` work without the ``local`` extra (moto)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Final

EXIT_STATUS: Final = """exit status (every subcommand):
  0  ok
  1  records not accounted for or failed (produce: records refused; replay: messages or
     objects left in the queue or bucket; demo: a record lost or duplicated; verify: a canary
     lost or ended elsewhere; local: the stack could not be brought up, or is down; results: a
     sensitive field did not decrypt)
  2  usage or configuration error (bad option, no stream/queue/bucket, AWS unreachable, not a
     checkout of the repository)"""

COMMANDS: Final = {
    "produce": "put realistic retail events (and poison records) into a Kinesis stream",
    "replay": "replay the DLQ and an S3 failure bucket into the stream (run | stats)",
    "local": "the pipeline on this machine (up | down | status | outputs)",
    "demo": "the local pipeline end to end, every record accounted for",
    "verify": "post-deploy canary: put tagged records, report where each ended, clean up",
    "rewind": "reprocess a time range still in the stream through one consumer",
    "results": "print a user's stored items with their sensitive fields decrypted (a reader)",
}


def _produce(argv: list[str]) -> int:
    from stream_pipeline.producer import cli

    return cli.main(argv)


def _replay(argv: list[str]) -> int:
    from stream_pipeline.replay import cli

    return cli.main(argv)


def _local(argv: list[str]) -> int:
    from stream_pipeline.local import stack_cli

    return stack_cli.main(argv)


def _demo(argv: list[str]) -> int:
    from stream_pipeline.local import demo

    return demo.main(argv)


def _verify(argv: list[str]) -> int:
    from stream_pipeline import verify

    return verify.main(argv)


def _rewind(argv: list[str]) -> int:
    from stream_pipeline import rewind

    return rewind.main(argv)


def _results(argv: list[str]) -> int:
    from stream_pipeline import results

    return results.main(argv)


RUNNERS: Final[dict[str, Callable[[list[str]], int]]] = {
    "produce": _produce,
    "replay": _replay,
    "local": _local,
    "demo": _demo,
    "verify": _verify,
    "rewind": _rewind,
    "results": _results,
}


def parser() -> argparse.ArgumentParser:
    from stream_pipeline import __version__

    top = argparse.ArgumentParser(
        prog="stream-pipeline",
        description="Operate a zero-loss Kinesis pipeline built with the terraform-aws-stream-"
        "pipeline modules: produce sample events, replay its dead-letter queue, run it on this "
        "machine. `stream-pipeline COMMAND --help` describes each command.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in COMMANDS.items():
        # Each command parses its own arguments (and answers --help itself).
        commands.add_parser(name, help=text, add_help=False)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    top = parser()
    if args and args[0] in RUNNERS:
        return RUNNERS[args[0]](args[1:])
    top.parse_args(args)  # --help, --version, or a usage error (exit 2)
    return 2  # not reached: parse_args exits without a known command


if __name__ == "__main__":
    sys.exit(main())
