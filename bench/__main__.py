"""``python -m bench [--quick] [--out build/bench.json] [--markdown FILE]
[--only SECTION ...] [--skip SECTION ...] [--seed N] [--round-trip-ms MS]``

Runs the sections (see ``bench/__init__.py``) one after the other, writes the JSON
document to ``--out`` and prints the Markdown tables on stdout; progress goes to stderr.
Exit status: 0 when every section ran (a section may report itself skipped), 1 when a section
raised (its error is in the JSON and the tables), 2 on a usage error. Never on a timing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from bench import (
    cold_start,
    consumer_bench,
    consumer_size,
    end_to_end,
    field_encryption_bench,
    fraud_bench,
    hydrate_bench,
    machine,
    producer_bench,
    report,
    trending_bench,
    wall_time_bench,
)
from bench.common import REPO_ROOT, SECTIONS, Options, Result, Target

SCHEMA_VERSION: Final = 1
DEFAULT_OUT: Final = REPO_ROOT / "build" / "bench.json"

Runner = Callable[[Options], tuple[Result, list[Target]]]
RUNNERS: Final[dict[str, Runner]] = {
    "stream_processor": consumer_bench.run,
    "field_encryption": field_encryption_bench.run,
    "wall_time": wall_time_bench.run,
    "cold_start": cold_start.run,
    "hydrate": hydrate_bench.run,
    "producer": producer_bench.run,
    "end_to_end": end_to_end.run,
    "consumer_size": consumer_size.run,
    "trending": trending_bench.run,
    "fraud_detector": fraud_bench.run,
}
"""In this order: the stubbed CPU measurements run before moto is imported at all."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure the pipeline's request counts, CPU, cold start, hydrate, producer "
        "and local end-to-end figures on this machine; write JSON and print Markdown tables.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes, one repetition (smoke run, ~30 s): structure and request counts",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="JSON results file (default: build/bench.json)",
    )
    parser.add_argument("--markdown", type=Path, help="also write the Markdown tables here")
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        metavar="SECTION",
        help=f"run only this section (repeatable): {', '.join(SECTIONS)}",
    )
    parser.add_argument(
        "--skip", action="append", choices=SECTIONS, metavar="SECTION", help="leave out a section"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated events")
    parser.add_argument(
        "--round-trip-ms",
        type=float,
        default=10.0,
        metavar="MS",
        help="wait per stubbed AWS request in section wall_time (default: 10)",
    )
    return parser


def run(options: Options, sections: list[str]) -> dict[str, Any]:
    started = time.monotonic()
    document: dict[str, Any] = {
        "tool": "python -m bench",
        "schema_version": SCHEMA_VERSION,
        "mode": "quick" if options.quick else "full",
        "machine": machine.facts(),
        "sections": {},
        "targets": [],
    }
    for name in sections:
        section_started = time.monotonic()
        try:
            result, targets = RUNNERS[name](options)
        except Exception as exc:  # reported in the results; the run goes on
            result = {
                "status": f"error: {type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(),
            }
            targets = []
            options.log(f"{name}: {result['status']}")
        result["seconds"] = round(time.monotonic() - section_started, 1)
        document["sections"][name] = result
        document["targets"].extend(target.as_json() for target in targets)
    document["duration_seconds"] = round(time.monotonic() - started, 1)
    document["load_average_at_end"] = machine.load_average()
    document["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return document


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sections = [
        name
        for name in SECTIONS
        if (not args.only or name in args.only) and name not in (args.skip or [])
    ]
    options = Options(
        quick=args.quick,
        seed=args.seed,
        round_trip_ms=args.round_trip_ms,
        log=lambda message: print(f"bench: {message}", file=sys.stderr, flush=True),
    )
    document = run(options, sections)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    markdown = report.render(document)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown, encoding="utf-8")
    print(markdown)
    print(f"results: {args.out}", file=sys.stderr)
    failed = [
        name
        for name, section in document["sections"].items()
        if str(section.get("status", "")).startswith("error")
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
