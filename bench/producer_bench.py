"""Section ``producer``: PutRecords requests per 1,000 events and events/s of
``stream_pipeline.producer``
against the local emulator.

moto's server runs on a free loopback port (``ThreadedMotoServer``, 127.0.0.1, threads of this
process) and is stopped afterwards. For each stream shape a fresh stream is created and
``produce(client, stream, generate_records(n))`` runs exactly as the CLI does: events are
generated lazily while sending (generation is included), with the CLI's client settings.
events/s = events accepted / ``produce``'s elapsed time. The server shares this process (and
its GIL) and the machine's cores with the producer, so the figure is the emulator's
throughput, a lower bound for the producer itself; its own CPU per event (the producing
thread's ``time.thread_time``) is reported apart. moto's PutRecords gets slower as a shard
fills (each put copies the shard's sequence numbers), so streams are fresh and modest: one
shard, and four shards (AWS accepts 1,000 records/s per shard: 5,000 events/s needs at least
five shards there).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any, Final

from bench.common import (
    REGION,
    Options,
    Result,
    Target,
    at_least,
    at_most,
    functions_on_path,
    per_thousand,
)

SECTION: Final = "producer"
EVENTS: Final = 10_000
QUICK_EVENTS: Final = 1_000
SHARDS: Final = (1, 4)
TARGET_REQUESTS_PER_1000: Final = 2
TARGET_EVENTS_PER_SECOND: Final = 5_000


def run(options: Options) -> tuple[Result, list[Target]]:
    functions_on_path()
    import boto3
    from moto.server import ThreadedMotoServer

    from stream_pipeline.cli_common import client_options
    from stream_pipeline.producer.generator import generate_records
    from stream_pipeline.producer.sender import produce

    events = QUICK_EVENTS if options.quick else EVENTS
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)  # no access log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        session = boto3.session.Session(
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106 -- a dummy for the emulator
            region_name=REGION,
        )
        counts: Counter[str] = Counter()

        def count(event_name: str, **_: Any) -> None:
            service, operation = event_name.split(".")[1:]
            counts[f"{service}.{operation}"] += 1

        client = session.client("kinesis", **client_options(endpoint))
        client.meta.events.register("before-send", count)

        started = time.perf_counter()
        generated = sum(1 for _ in generate_records(events, seed=options.seed))
        generation_seconds = time.perf_counter() - started

        streams: list[Result] = []
        for shards in SHARDS:
            options.log(f"producer: {events:,} events into a fresh {shards}-shard stream")
            name = f"bench-producer-{shards}"
            client.create_stream(StreamName=name, ShardCount=shards)
            counts.clear()
            thread_cpu = time.thread_time()
            report = produce(client, name, generate_records(events, seed=options.seed))
            thread_cpu = time.thread_time() - thread_cpu
            requests = {
                api: n for api, n in sorted(counts.items()) if api != "kinesis.CreateStream"
            }
            streams.append(
                {
                    "shards": shards,
                    "events": events,
                    "sent": report.total_sent,
                    "failed": report.total_failed,
                    "entries_retried": report.retried,
                    "elapsed_seconds": round(report.elapsed_seconds, 3),
                    "events_per_second": round(report.events_per_second),
                    "requests": requests,
                    "requests_per_1000_events": per_thousand(requests, events),
                    "producer_thread_cpu_us_per_event": round(thread_cpu * 1e6 / events, 1),
                }
            )
    finally:
        server.stop()
        werkzeug.setLevel(level)

    result: Result = {
        "status": "ok",
        "method": __doc__,
        "emulator": f"moto {_moto_version()} ThreadedMotoServer on 127.0.0.1 (stopped after)",
        "generation_events_per_second": round(generated / generation_seconds),
        "streams": streams,
    }
    targets: list[Target] = []
    for stream in streams:
        shape = f"{stream['shards']}-shard stream"
        targets.append(
            at_most(
                SECTION,
                f"PutRecords requests per 1,000 events ({shape})",
                stream["requests_per_1000_events"].get("kinesis.PutRecords"),
                TARGET_REQUESTS_PER_1000,
                "requests",
                "500 records per request",
            )
        )
        targets.append(
            at_least(
                SECTION,
                f"events/s into a fresh {shape} ({events:,} events)",
                stream["events_per_second"],
                TARGET_EVENTS_PER_SECOND,
                "events/s",
                "moto server in the same process",
            )
        )
    return result, targets


def _moto_version() -> str:
    from importlib.metadata import version

    return version("moto")
