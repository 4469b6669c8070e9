"""``python -m stream_pipeline.local.runtime``: the local AWS runtime (see docs/local-runtime.md).

serve         moto's server on 127.0.0.1 plus the event source mappings and SNS -> Lambda
              deliveries it does not run itself, with the real handlers
status        print the state file (counters, mappings, drained)
wait-drained  wait until every mapping read to the tip and nothing is in flight
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from stream_pipeline.local.runtime.client import NotDrainedError, read_state, wait_drained
from stream_pipeline.local.runtime.faults import FaultSpecError, parse_cli_faults
from stream_pipeline.local.runtime.runtime import (
    LOG_FILE,
    LocalRuntime,
    PortInUseError,
    RuntimeOptions,
)

DEFAULT_STATE_DIR = Path("build/local-runtime")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stream_pipeline.local.runtime",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the emulator and the local Lambda runtime")
    serve.add_argument("--port", type=int, default=4566, help="loopback port (0: any free one)")
    serve.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help="state.json, runtime.log, functions/<name>.log, faults.json",
    )
    serve.add_argument(
        "--functions-dir",
        type=Path,
        action="append",
        dest="functions_dirs",
        help="where handler packages are imported from (repeatable; default: functions/ "
        "in the working directory)",
    )
    serve.add_argument(
        "--region",
        action="append",
        dest="regions",
        help="regions to read configuration from (repeatable; regions with "
        "functions are found anyway; default: $AWS_DEFAULT_REGION or us-east-1)",
    )
    serve.add_argument(
        "--poll-interval",
        type=float,
        default=0.25,
        help="seconds between GetRecords calls on a shard at its tip",
    )
    serve.add_argument(
        "--config-interval", type=float, default=2.0, help="seconds between configuration re-reads"
    )
    serve.add_argument(
        "--retry-delay",
        type=float,
        default=0.2,
        help="seconds before a failed stream batch is retried",
    )
    serve.add_argument(
        "--async-retry-delay",
        type=float,
        default=1.0,
        help="seconds before the 1st async retry (the 2nd waits twice as long)",
    )
    serve.add_argument("--max-workers-per-function", type=int, default=10)
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        dest="faults",
        metavar="FUNCTION:KIND[:ARG]",
        help="inject a fault (see faults.py)",
    )
    serve.add_argument("--seed", type=int, default=None, help="seed for throttle faults")
    serve.add_argument("--log-level", default="INFO")

    status = commands.add_parser("status", help="print the runtime's state")
    status.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)

    drained = commands.add_parser("wait-drained", help="wait until the runtime has drained")
    drained.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    drained.add_argument("--timeout", type=float, default=60.0)
    return parser


def _configure_logging(state_dir: Path, level: str) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    to_file = logging.FileHandler(state_dir / LOG_FILE)
    to_file.setLevel(level.upper())
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setLevel(logging.WARNING)
    to_stderr.setFormatter(logging.Formatter("local-runtime: %(levelname)s %(message)s"))
    root.addHandler(to_file)
    root.addHandler(to_stderr)
    for noisy in ("werkzeug", "botocore", "urllib3", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def serve(args: argparse.Namespace) -> int:
    try:
        faults = parse_cli_faults(args.faults)
    except FaultSpecError as exc:
        print(f"local-runtime: {exc}", file=sys.stderr)
        return 2
    state_dir: Path = args.state_dir.resolve()
    functions_dirs = tuple(d.resolve() for d in (args.functions_dirs or [Path("functions")]))
    for directory in functions_dirs:
        if not directory.is_dir():
            print(f"local-runtime: --functions-dir {directory} is not a directory", file=sys.stderr)
            return 2
    regions = tuple(args.regions or [os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"])
    _configure_logging(state_dir, args.log_level)
    runtime = LocalRuntime(
        RuntimeOptions(
            port=args.port,
            state_dir=state_dir,
            functions_dirs=functions_dirs,
            regions=regions,
            poll_interval=args.poll_interval,
            config_interval=args.config_interval,
            retry_delay=args.retry_delay,
            async_retry_delay=args.async_retry_delay,
            max_workers_per_function=args.max_workers_per_function,
            faults=faults,
            seed=args.seed,
        )
    )
    try:
        runtime.start()
    except PortInUseError as exc:
        print(f"local-runtime: {exc}", file=sys.stderr)
        return 3

    def stop(signum: int, _frame: FrameType | None) -> None:
        runtime.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>`: thread dump
    print(
        f"local runtime: AWS endpoint {runtime.endpoint} (AWS_ENDPOINT_URL), state in {state_dir}",
        flush=True,
    )
    runtime.wait()
    runtime.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "status":
        state = read_state(args.state_dir)
        if state is None:
            print(f"no state in {args.state_dir}", file=sys.stderr)
            return 1
        print(json.dumps(state, indent=2, sort_keys=True))
        return 0
    try:
        wait_drained(args.state_dir, timeout=args.timeout)
    except NotDrainedError as exc:
        print(f"local-runtime: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
