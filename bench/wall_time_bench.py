"""Section ``wall_time``: wall time per batch when every AWS request takes a round trip.

Lambda bills wall time, and a handler that waits for its requests one after another pays a
round trip per request. Here the stubbed AWS layer of section ``stream_processor`` answers each
request after ``--round-trip-ms`` (default 10 ms: a ``time.sleep`` in the botocore
``before-send`` hook, standing for network and service time). Measured, for one warm
``lambda_handler`` call: wall time per batch, CPU per record (``time.process_time``: every
thread of the process), the requests and the most requests in flight at once. Three handlers:
ours as shipped (requests on the bounded pool), ours with a pool of one thread (one request
after another, as before the pool), and the recipe's handler (one PutItem per record).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final

from bench.common import (
    FakeLambdaContext,
    Options,
    Result,
    Status,
    Target,
    at_most,
    environment,
    functions_on_path,
    quiet,
    summary,
)
from bench.consumer_bench import (
    FUNCTION_NAME,
    HANDLER_ENVIRONMENT,
    mixed_event,
    processor_dependencies,
    recipe_implementation,
)
from bench.events import sized_event
from bench.stubbed_aws import StubbedAws

SECTION: Final = "wall_time"
RECORDS: Final = 1_000
QUICK_RECIPE_RECORDS: Final = 100
"""The recipe's handler takes a round trip per record (12 s for 1,000): the quick run gives it
100 records."""
TARGET_ROUND_TRIP_MS: Final = 10.0
TARGET_WALL_MS: Final = 120.0
CPU_TOLERANCE: Final = 1.1
"""CPU per record with the pool may exceed one-request-at-a-time's by this factor (noise)."""


def _ours(aws: StubbedAws, workers: int | None) -> tuple[Callable[[Any], Any], Any]:
    from stream_pipeline.runtime.request_pool import RequestPool
    from stream_processor import app

    dependencies = processor_dependencies(
        aws, None if workers is None else RequestPool(max_workers=workers)
    )
    context: Any = FakeLambdaContext(FUNCTION_NAME)

    def call(event: Any) -> Any:
        app.consumer.set_dependencies(dependencies)
        return app.lambda_handler(event, context)

    return call, app.consumer.logger


def _measure(
    call: Callable[[Any], Any], aws: StubbedAws, event: dict[str, Any], *, calls: int
) -> Result:
    """``calls`` timed calls; the first is also counted (requests, most in flight)."""
    records = len(event["Records"])
    wall_ms: list[float] = []
    cpu_ms: list[float] = []
    counts: dict[str, int] = {}
    most_in_flight = 0
    for index in range(calls):
        aws.reset()
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        call(event)
        cpu_ms.append((time.process_time() - cpu_start) * 1000)
        wall_ms.append((time.perf_counter() - wall_start) * 1000)
        if index == 0:
            counts, most_in_flight = dict(sorted(aws.counts.items())), aws.max_in_flight
    wall = summary(wall_ms)
    return {
        "records": records,
        "wall_ms_per_batch": {k: round(v, 1) for k, v in wall.items()},
        "cpu_us_per_record": round(float(summary(cpu_ms)["median"]) * 1000 / records, 2),
        "requests": counts,
        "most_requests_in_flight": most_in_flight,
    }


def run(options: Options) -> tuple[Result, list[Target]]:
    functions_on_path()
    with environment(**HANDLER_ENVIRONMENT):
        from stream_pipeline.runtime.request_pool import MAX_CONCURRENT_REQUESTS
        from stream_processor import app

        aws = StubbedAws(round_trip_ms=options.round_trip_ms)
        concurrent, logger = _ours(aws, None)
        sequential, _ = _ours(aws, 1)
        recipe = recipe_implementation(aws).call
        try:
            with quiet(logger):
                rows = _rows(options, concurrent, sequential, recipe, aws)
        finally:
            app.consumer.set_dependencies(None)

    result: Result = {
        "status": "ok",
        "method": __doc__,
        "round_trip_ms": options.round_trip_ms,
        "pool_size": MAX_CONCURRENT_REQUESTS,
        "timing": (
            "quick: one call per handler"
            if options.quick
            else "median of 9 calls (the recipe's handler: one call)"
        ),
        "rows": rows,
    }
    return result, _targets(rows, options.round_trip_ms)


def _rows(
    options: Options,
    concurrent: Callable[[Any], Any],
    sequential: Callable[[Any], Any],
    recipe: Callable[[Any], Any],
    aws: StubbedAws,
) -> list[Result]:
    calls = 1 if options.quick else 9
    valid = sized_event(RECORDS, 100)
    mixed, _ = mixed_event(options.seed)
    recipe_records = QUICK_RECIPE_RECORDS if options.quick else RECORDS
    recipe_event = {"Records": valid["Records"][:recipe_records]}
    for call, event in ((concurrent, valid), (sequential, valid), (recipe, sized_event(10, 100))):
        call(event)  # warm: first-call costs (model loading, caches) stay out
    rows: list[Result] = []
    for label, handler, call, event, times in (
        (f"{RECORDS:,} x 100 B", "ours", concurrent, valid, calls),
        (f"{RECORDS:,} x 100 B", "ours, one request at a time", sequential, valid, calls),
        (f"{recipe_records:,} x 100 B", "recipe_baseline", recipe, recipe_event, 1),
        (f"{RECORDS:,} producer events, 10 % poison", "ours", concurrent, mixed, calls),
        (
            f"{RECORDS:,} producer events, 10 % poison",
            "ours, one request at a time",
            sequential,
            mixed,
            calls,
        ),
    ):
        options.log(f"wall_time: {handler}, {label}")
        rows.append({"label": label, "handler": handler, **_measure(call, aws, event, calls=times)})
    return rows


def _targets(rows: list[Result], round_trip_ms: float) -> list[Target]:
    ours, sequential, recipe = rows[0], rows[1], rows[2]
    measured = ours["wall_ms_per_batch"]["median"]
    note = (
        f"{round_trip_ms:g} ms per request; one request at a time: "
        f"{sequential['wall_ms_per_batch']['median']:,.0f} ms; recipe baseline: "
        f"{recipe['wall_ms_per_batch']['median']:,.0f} ms for {recipe['records']:,} records"
    )
    wall = at_most(SECTION, "wall time per batch of 1,000 x 100 B", measured, TARGET_WALL_MS,
                   "ms", note)  # fmt: skip
    if round_trip_ms != TARGET_ROUND_TRIP_MS:
        wall.status, wall.note = "n/a", f"{note}; the target is for a 10 ms round trip"
    limit = round(sequential["cpu_us_per_record"] * CPU_TOLERANCE, 2)
    cpu_status: Status = "met" if ours["cpu_us_per_record"] <= limit else "not met"
    cpu = Target(
        SECTION,
        "CPU per record with concurrent requests, 1,000 x 100 B",
        f"<= {limit:g} (one request at a time + 10 %)",
        ours["cpu_us_per_record"],
        "us",
        cpu_status,
        f"one request at a time: {sequential['cpu_us_per_record']} us",
    )
    return [wall, cpu]
