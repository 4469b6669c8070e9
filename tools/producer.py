"""Produce realistic retail events into a Kinesis stream (the recipe's test-data generator, done
right), with an optional share of poison records, and account for every record.

    python -m tools.producer (--stream-name NAME|ARN | --terraform-outputs FILE|-)
        [--count N] [--rate EVENTS_PER_SECOND] [--poison-rate 0-1] [--seed S]
        [--users N] [--products N] [--manifest FILE] [--max-attempts N]
        [--endpoint-url URL] [--region REGION] [--profile PROFILE] [--no-progress]

Events (the schema of ``stream_pipeline.runtime.retail_event.RetailEvent``): ``eventId`` (uuid4),
``userId``, ``sessionId``, ``eventType``, ``productId``, ``timestamp`` (epoch milliseconds),
plus ``email`` (``<userId>@example.com``: deterministic, a reserved domain that never receives
mail; the e-mail notifier's recipient), ``channel`` and, for carts and purchases, ``quantity``
and ``priceCents`` (kept by the consumers as extra fields). A pool of ``--users`` users, the
more active ones more often; each user browses in sessions of a few events; event types come
70 % ``view``, 20 % ``add_to_cart``, 10 % ``purchase``, carts and purchases preferring what the
session viewed or carted; products are drawn by popularity (Zipf-like) from ``--products``. The
partition key is the ``userId`` (high cardinality: records spread over every shard). Timestamps
start at the current time and advance with the target rate. ``--seed`` makes a run reproducible
(same users, sessions, event ids and poison records; only the timestamps move with the start
time); without it a seed is drawn and printed.

``--poison-rate F`` (0-1) replaces that share of the events with records the consumer must
dead-letter, in five kinds (``RecordKind``), each rejected for its own reason: ``bad-json``
(truncated JSON, a Python dict repr), ``not-utf8`` (the JSON encoded as UTF-16 or Latin-1),
``wrong-type`` (e.g. the timestamp as a string), ``missing-field`` (a required field left out),
``not-an-object`` (a JSON array holding the event, the event JSON encoded twice, ``null``).
Poison records are made from the event without its ``email`` field, as before it existed.

Sending: PutRecords with up to 500 records and 5 MiB per request (a record, data plus partition
key, at most 1 MiB: larger ones are reported as failed, never sent). When a response reports
failed entries (per-entry ``ErrorCode``), only those entries are sent again, after an
exponential backoff with jitter, up to ``--max-attempts`` attempts; then they are reported as
failed and the exit status is 1. Entries failing with a permanent error (KMS key disabled,
access denied) are not retried. A retried record may land after records sent after it: the
consumer does not depend on the order. ``--rate R`` caps the throughput with a token bucket
(requests of up to R/2 records, at most 500; 0 = as fast as possible).

``--manifest FILE`` writes one JSON line per record: ``id`` (the eventId, or a ``poison-`` id),
``kind``, ``expected`` (``stored``, or the DLQ error category the consumer must give it),
``partitionKey``, ``sha256`` and ``length`` of the bytes, ``status`` (``sent`` with ``shardId``
and ``sequenceNumber``, or ``failed`` with ``error``). An end-to-end test proves zero loss with
it: every ``sent`` record is stored once or in the DLQ (envelopes carry the payload's sha256).

Exit status: 0 every record was accepted, 1 some failed, 2 the tool could not run (usage, stream
or credentials missing).

Importable: :func:`generate_records` yields :class:`ProducedRecord` (partition_key, data, kind,
record_id); :func:`produce` sends any iterable of them and returns a :class:`ProduceReport`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import math
import random
import secrets
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, NamedTuple, TextIO

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.table import Table

from tools import cli_common
from tools.cli_common import (
    MAX_PARTITION_KEY_CHARS,
    MAX_RECORD_BYTES,
    MAX_RECORDS_PER_PUT,
    add_aws_arguments,
    aws_session,
    client_options,
    first_output,
    progress_bar,
    put_records_batches,
    read_terraform_outputs,
    region_from_stream_arn,
    stream_params,
)

cli_common.add_functions_to_path()  # `python -m tools.producer` from the repository root

from stream_pipeline.runtime.aws_errors import (  # noqa: E402
    ErrorKind,
    RetryPolicy,
    classify_exception,
    describe_exception,
    error_code,
)

STREAM_OUTPUTS: Final = ("stream_name", "stream_arn")
DEFAULT_COUNT: Final = 1_000
DEFAULT_USERS: Final = 1_000
DEFAULT_PRODUCTS: Final = 500
DEFAULT_MAX_ATTEMPTS: Final = 8
DEFAULT_POLICY: Final = RetryPolicy(
    max_attempts=DEFAULT_MAX_ATTEMPTS, base_delay=0.1, max_delay=5.0
)
"""Waits before the retries: equal jitter in [c/2, c], c = 0.1 s doubling up to 5 s (at most
about 11 s in all): longer than a shard's one-second throughput window."""
FLUSH_SECONDS: Final = 0.5
"""With ``--rate``, a request carries at most this many seconds' worth of records."""

PERMANENT_ENTRY_ERRORS: Final = frozenset(
    {
        "AccessDeniedException",
        "KMSAccessDeniedException",
        "KMSDisabledException",
        "KMSInvalidStateException",
        "KMSNotFoundException",
        "KMSOptInRequired",
    }
)
"""Per-entry error codes that no retry can fix: reported at once."""

EMAIL_DOMAIN: Final = "example.com"
EVENT_MIX: Final = (("view", 70), ("add_to_cart", 20), ("purchase", 10))
CHANNELS: Final = (("web", 55), ("ios", 25), ("android", 20))
MEAN_SESSION_EVENTS: Final = 8
PRODUCT_POPULARITY_EXPONENT: Final = 1.1
USER_ACTIVITY_EXPONENT: Final = 0.8
DEFAULT_MEAN_GAP_MS: Final = 10.0


class RecordKind(StrEnum):
    """What a produced record is, and what the consumer must do with it."""

    VALID = "valid"
    BAD_JSON = "bad-json"
    NOT_UTF8 = "not-utf8"
    WRONG_TYPE = "wrong-type"
    MISSING_FIELD = "missing-field"
    NOT_AN_OBJECT = "not-an-object"

    @property
    def expected(self) -> str:
        """``stored``, or the DLQ error category the stream processor gives such a record."""
        return _EXPECTED[self]


_EXPECTED: Final = {
    RecordKind.VALID: "stored",
    RecordKind.BAD_JSON: "INVALID_JSON",
    RecordKind.NOT_UTF8: "INVALID_ENCODING",
    RecordKind.WRONG_TYPE: "SCHEMA_VIOLATION",
    RecordKind.MISSING_FIELD: "SCHEMA_VIOLATION",
    RecordKind.NOT_AN_OBJECT: "NOT_AN_OBJECT",
}
POISON_KINDS: Final = tuple(kind for kind in RecordKind if kind is not RecordKind.VALID)
REQUIRED_FIELDS: Final = ("userId", "eventType", "productId", "timestamp")


class ProducedRecord(NamedTuple):
    partition_key: str
    data: bytes
    kind: RecordKind
    record_id: str
    """The event's ``eventId``, or ``poison-<uuid>`` for a poison record."""


# --------------------------------------------------------------------------- event generation


@dataclass(slots=True)
class _Session:
    session_id: str
    remaining: int
    viewed: list[str] = field(default_factory=list)
    cart: list[str] = field(default_factory=list)


def _uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _zipf_cum_weights(size: int, exponent: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank**exponent) for rank in range(1, size + 1)))


class RetailEventGenerator:
    """A small shop: users browsing in sessions, products by popularity. Deterministic for a
    given ``random.Random``."""

    def __init__(
        self,
        rng: random.Random,
        *,
        users: int = DEFAULT_USERS,
        products: int = DEFAULT_PRODUCTS,
        start_ms: int,
        mean_gap_ms: float = DEFAULT_MEAN_GAP_MS,
    ) -> None:
        if users < 1 or products < 1:
            msg = "users and products must be at least 1"
            raise ValueError(msg)
        self._rng = rng
        self._users = [f"user-{_uuid4(rng)}" for _ in range(users)]
        self._user_weights = _zipf_cum_weights(users, USER_ACTIVITY_EXPONENT)
        self._products = [f"P{number:05d}" for number in range(1, products + 1)]
        self._product_weights = _zipf_cum_weights(products, PRODUCT_POPULARITY_EXPONENT)
        self._prices = {p: rng.randrange(199, 20_000) for p in self._products}
        self._sessions: dict[str, _Session] = {}
        self._now_ms = float(start_ms)
        self._mean_gap_ms = max(mean_gap_ms, 0.001)
        self._types = [name for name, _ in EVENT_MIX]
        self._type_weights = [weight for _, weight in EVENT_MIX]
        self._channels = [name for name, _ in CHANNELS]
        self._channel_weights = [weight for _, weight in CHANNELS]

    def _popular_product(self) -> str:
        return self._rng.choices(self._products, cum_weights=self._product_weights)[0]

    def _session(self, user: str) -> _Session:
        session = self._sessions.get(user)
        if session is None or session.remaining <= 0:
            length = 1 + int(self._rng.expovariate(1 / (MEAN_SESSION_EVENTS - 1)))
            session = _Session(f"session-{_uuid4(self._rng)}", length)
            self._sessions[user] = session
        session.remaining -= 1
        return session

    def event(self) -> dict[str, Any]:
        rng = self._rng
        user = rng.choices(self._users, cum_weights=self._user_weights)[0]
        session = self._session(user)
        event_type = rng.choices(self._types, weights=self._type_weights)[0]
        if event_type == "view" or not (session.viewed or session.cart):
            product = self._popular_product()
        elif event_type == "add_to_cart":
            product = rng.choice(session.viewed or session.cart)
        else:
            product = rng.choice(session.cart or session.viewed)
        if event_type == "view":
            session.viewed = [*session.viewed[-9:], product]
        elif event_type == "add_to_cart":
            session.cart = [*session.cart[-9:], product]
        self._now_ms += rng.expovariate(1 / self._mean_gap_ms)
        event: dict[str, Any] = {
            "eventId": _uuid4(rng),
            "userId": user,
            "email": email_address(user),
            "sessionId": session.session_id,
            "eventType": event_type,
            "productId": product,
            "timestamp": int(self._now_ms),
            "channel": rng.choices(self._channels, weights=self._channel_weights)[0],
        }
        if event_type != "view":
            event["quantity"] = rng.choice((1, 1, 1, 2, 3))
            event["priceCents"] = self._prices[product]
        return event


def email_address(user_id: str) -> str:
    """The user's address: deterministic, at the reserved ``example.com`` (RFC 2606)."""
    return f"{user_id}@{EMAIL_DOMAIN}"


def _compact(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def poison_bytes(kind: RecordKind, event: Mapping[str, Any], rng: random.Random) -> bytes:
    """A record of ``kind`` made from a valid ``event``: what a buggy producer would send."""
    text = _compact(event)
    variant = rng.randrange(3)
    if kind is RecordKind.BAD_JSON:
        if variant == 0:
            return repr(dict(event)).encode()  # a Python dict, single quotes
        # Cut inside the object: its closing brace is missing, whatever the cut.
        return text[: rng.randrange(1, len(text) - 1)].encode()
    if kind is RecordKind.NOT_UTF8:
        if variant == 0:
            return text.encode("utf-16")  # starts with the byte order mark FF FE
        return _compact({**event, "note": "Crème brûlée"}).encode("latin-1")
    if kind is RecordKind.WRONG_TYPE:
        broken = dict(event)
        if variant == 0:
            broken["timestamp"] = str(event["timestamp"])
        elif variant == 1:
            broken["timestamp"] = event["timestamp"] / 1000  # float seconds
        else:
            broken["userId"] = rng.randrange(1, 10**9)
        return _compact(broken).encode()
    if kind is RecordKind.MISSING_FIELD:
        missing = rng.choice(REQUIRED_FIELDS)
        return _compact({k: v for k, v in event.items() if k != missing}).encode()
    if kind is RecordKind.NOT_AN_OBJECT:
        if variant == 0:
            return _compact([event]).encode()  # a batch in one record
        if variant == 1:
            return _compact(text).encode()  # encoded twice: a JSON string
        return b"null"
    msg = f"not a poison kind: {kind}"
    raise ValueError(msg)


def generate_records(
    count: int,
    *,
    seed: int | None = None,
    poison_rate: float = 0.0,
    users: int = DEFAULT_USERS,
    products: int = DEFAULT_PRODUCTS,
    start_ms: int | None = None,
    mean_gap_ms: float = DEFAULT_MEAN_GAP_MS,
) -> Iterator[ProducedRecord]:
    """``count`` records, lazily: retail events, a share ``poison_rate`` (0-1) of them replaced
    by poison records of a random kind. The same arguments give the same records."""
    if not 0.0 <= poison_rate <= 1.0:
        msg = f"poison_rate must be between 0 and 1, got {poison_rate}"
        raise ValueError(msg)
    rng = random.Random(seed)  # noqa: S311 -- test data, reproducible on purpose
    shop = RetailEventGenerator(
        rng,
        users=users,
        products=products,
        start_ms=start_ms if start_ms is not None else int(time.time() * 1000),
        mean_gap_ms=mean_gap_ms,
    )
    for _ in range(count):
        event = shop.event()
        key = str(event["userId"])
        if poison_rate and rng.random() < poison_rate:
            kind = rng.choice(POISON_KINDS)
            # Without the address: poison records stay exactly what they were before it.
            bare = {name: value for name, value in event.items() if name != "email"}
            data = poison_bytes(kind, bare, rng)
            yield ProducedRecord(key, data, kind, f"poison-{_uuid4(rng)}")
        else:
            yield ProducedRecord(key, _compact(event).encode(), RecordKind.VALID, event["eventId"])


# --------------------------------------------------------------------------- rate limiting


class TokenBucket:
    """``rate`` tokens per second, at most ``capacity`` saved up (it starts full).
    ``acquire(n)`` waits (injectable ``sleep``) until ``n`` tokens are there, then takes them."""

    def __init__(
        self,
        rate: float,
        capacity: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or capacity <= 0:
            msg = "rate and capacity must be positive"
            raise ValueError(msg)
        self._rate = rate
        self._capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = capacity
        self._last = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
        self._last = now

    def acquire(self, tokens: int) -> None:
        self._refill()
        if self._tokens < tokens:
            self._sleep((tokens - self._tokens) / self._rate)
            self._refill()
        # A coarse clock may leave the bucket slightly short: the debt delays the next request.
        self._tokens -= tokens


def batch_limit_for(rate: float) -> int:
    """Records per request: 500, or with a rate half a second's worth (at least 1)."""
    if rate <= 0:
        return MAX_RECORDS_PER_PUT
    return max(1, min(MAX_RECORDS_PER_PUT, math.floor(rate * FLUSH_SECONDS)))


# --------------------------------------------------------------------------- sending


@dataclass(slots=True)
class ProduceReport:
    sent: Counter[str] = field(default_factory=Counter)
    """Records accepted by the stream, by kind."""
    failed: Counter[str] = field(default_factory=Counter)
    """Records given up on, by kind."""
    failure_reasons: Counter[str] = field(default_factory=Counter)
    """Error code -> records given up on with it."""
    entry_errors: Counter[str] = field(default_factory=Counter)
    """Error code -> failed entries over all attempts (retried ones included)."""
    requests: int = 0
    """PutRecords calls made (each call counted once, whatever the SDK retried inside it)."""
    retried: int = 0
    """Entries sent again."""
    elapsed_seconds: float = 0.0

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())

    @property
    def total_failed(self) -> int:
        return sum(self.failed.values())

    @property
    def events_per_second(self) -> float:
        return self.total_sent / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0


class ProduceError(RuntimeError):
    """PutRecords failed in a way no retry fixes (stream missing, access denied, no
    credentials). ``report`` holds what was done before."""

    def __init__(self, message: str, report: ProduceReport) -> None:
        super().__init__(message)
        self.report = report


def _record_size(record: ProducedRecord) -> int:
    return len(record.data) + len(record.partition_key.encode("utf-8"))


def _local_problem(record: ProducedRecord) -> str | None:
    if not 1 <= len(record.partition_key) <= MAX_PARTITION_KEY_CHARS:
        return f"InvalidPartitionKey: must be 1 to {MAX_PARTITION_KEY_CHARS} characters"
    if _record_size(record) > MAX_RECORD_BYTES:
        return (
            f"RecordTooLarge: {_record_size(record)} bytes with its partition key, "
            f"Kinesis takes {MAX_RECORD_BYTES}"
        )
    return None


class _Producer:
    def __init__(
        self,
        client: Any,
        stream: str,
        *,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
        rand: Callable[[], float],
        manifest: TextIO | None,
    ) -> None:
        self._client = client
        self._stream = stream
        self._policy = policy
        self._sleep = sleep
        self._rand = rand
        self._manifest = manifest
        self.report = ProduceReport()

    def _write(self, record: ProducedRecord, status: Mapping[str, str]) -> None:
        if self._manifest is None:
            return
        line = {
            "id": record.record_id,
            "kind": record.kind.value,
            "expected": record.kind.expected,
            "partitionKey": record.partition_key,
            "sha256": hashlib.sha256(record.data).hexdigest(),
            "length": len(record.data),
            **status,
        }
        self._manifest.write(json.dumps(line, separators=(",", ":")) + "\n")

    def _accepted(self, record: ProducedRecord, result: Mapping[str, Any]) -> None:
        self.report.sent[record.kind.value] += 1
        self._write(
            record,
            {
                "status": "sent",
                "shardId": str(result.get("ShardId", "")),
                "sequenceNumber": str(result["SequenceNumber"]),
            },
        )

    def _given_up(self, record: ProducedRecord, code: str, why: str) -> None:
        self.report.failed[record.kind.value] += 1
        self.report.failure_reasons[code] += 1
        self._write(record, {"status": "failed", "error": why})

    def sendable(
        self, records: Iterable[ProducedRecord], on_progress: Callable[[int], None]
    ) -> Iterator[ProducedRecord]:
        """The records Kinesis can take; the others are reported failed at once."""
        for record in records:
            problem = _local_problem(record)
            if problem is None:
                yield record
            else:
                self._given_up(record, problem.split(":", 1)[0], problem)
                on_progress(1)

    def send(self, batch: list[ProducedRecord]) -> None:
        pending = batch
        attempt = 1
        while pending:
            failed = self._put(pending)
            retry: list[ProducedRecord] = []
            for record, code, message in failed:
                self.report.entry_errors[code] += 1
                if code in PERMANENT_ENTRY_ERRORS:
                    self._given_up(record, code, f"{code}: {message}".rstrip(": "))
                elif attempt >= self._policy.max_attempts:
                    why = f"{code}: {message}".rstrip(": ") + f" (after {attempt} attempts)"
                    self._given_up(record, code, why)
                else:
                    retry.append(record)
            if retry:
                self._sleep(self._policy.delay(attempt, self._rand))
                self.report.retried += len(retry)
                attempt += 1
            pending = retry

    def _put(self, records: list[ProducedRecord]) -> list[tuple[ProducedRecord, str, str]]:
        """One PutRecords call; returns the entries that failed (record, code, message)."""
        self.report.requests += 1
        try:
            response = self._client.put_records(
                Records=[{"Data": r.data, "PartitionKey": r.partition_key} for r in records],
                **stream_params(self._stream),
            )
        except (ClientError, BotoCoreError) as exc:
            if classify_exception(exc) is not ErrorKind.RETRYABLE:
                msg = f"PutRecords to {self._stream} failed: {describe_exception(exc)}"
                raise ProduceError(msg, self.report) from exc
            code = error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__
            return [(record, code or "RequestFailed", str(exc)) for record in records]
        results: list[dict[str, Any]] = response.get("Records") or []
        failed: list[tuple[ProducedRecord, str, str]] = []
        for position, record in enumerate(records):
            result = results[position] if position < len(results) else {}
            if result.get("SequenceNumber") and not result.get("ErrorCode"):
                self._accepted(record, result)
            else:
                code = str(result.get("ErrorCode") or "NoResult")
                failed.append((record, code, str(result.get("ErrorMessage") or "")))
        return failed


def produce(
    client: Any,
    stream: str,
    records: Iterable[ProducedRecord],
    *,
    rate: float = 0.0,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rand: Callable[[], float] = random.random,
    manifest: TextIO | None = None,
    on_progress: Callable[[int], None] = lambda count: None,
) -> ProduceReport:
    """Put ``records`` into ``stream`` (name or ARN) with PutRecords; see the module docstring.

    ``rate`` > 0 limits the records per second (token bucket on ``clock`` and ``sleep``);
    ``policy`` bounds the attempts per record and the backoff between them; ``manifest``
    receives one JSON line per record; ``on_progress(n)`` after every n records settled.
    Raises :class:`ProduceError` on an error no retry fixes.
    """
    producer = _Producer(client, stream, policy=policy, sleep=sleep, rand=rand, manifest=manifest)
    limit = batch_limit_for(rate)
    bucket = TokenBucket(rate, limit, clock=clock, sleep=sleep) if rate > 0 else None
    started = clock()
    try:
        sendable = producer.sendable(records, on_progress)
        for batch in put_records_batches(sendable, _record_size, max_records=limit):
            if bucket is not None:
                bucket.acquire(len(batch))
            producer.send(batch)
            on_progress(len(batch))
    finally:
        producer.report.elapsed_seconds = clock() - started
    return producer.report


# --------------------------------------------------------------------------- output


def render_report(report: ProduceReport, stream: str, console: Console) -> None:
    table = Table(title=f"records put into {stream}")
    table.add_column("kind")
    table.add_column("expected outcome")
    table.add_column("sent", justify="right")
    table.add_column("failed", justify="right")
    for kind in RecordKind:
        if report.sent[kind.value] or report.failed[kind.value]:
            table.add_row(
                kind.value,
                kind.expected,
                str(report.sent[kind.value]),
                str(report.failed[kind.value]),
            )
    table.add_section()
    table.add_row("total", "", str(report.total_sent), str(report.total_failed))
    console.print(table)
    poison = report.total_sent - report.sent[RecordKind.VALID.value]
    console.print(
        f"sent: {report.total_sent} ({poison} poison); failed: {report.total_failed}; "
        f"PutRecords requests: {report.requests}; entries retried: {report.retried}; "
        f"elapsed: {report.elapsed_seconds:.2f} s; {report.events_per_second:.0f} events/s"
    )
    if report.entry_errors:
        errors = ", ".join(f"{code} x{n}" for code, n in report.entry_errors.most_common())
        console.print(f"failed entries over all attempts: {errors}")
    if report.failure_reasons:
        reasons = ", ".join(f"{code} x{n}" for code, n in report.failure_reasons.most_common())
        console.print(f"[bold]records given up on: {reasons}[/bold]")


# --------------------------------------------------------------------------- CLI


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        msg = f"must be a number from 0 to 1 (the share of poison records), got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value >= 0.0 and math.isfinite(value)):
        msg = f"must be events per second, 0 or more (0: as fast as possible), got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"must be a whole number of at least 1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.producer",
        description="Put realistic retail events (and optionally poison records) into a "
        "Kinesis stream, PutRecords with retries of the failed entries only.",
    )
    where = parser.add_argument_group("stream")
    where.add_argument("--stream-name", metavar="NAME|ARN", help="the Kinesis stream")
    where.add_argument(
        "--terraform-outputs",
        metavar="FILE",
        help="`terraform output -json` of an environment ('-': stdin); gives stream_name",
    )
    what = parser.add_argument_group("records")
    what.add_argument(
        "--count", type=_positive, default=DEFAULT_COUNT, help=f"events (default {DEFAULT_COUNT})"
    )
    what.add_argument(
        "--rate",
        type=_rate,
        default=0.0,
        metavar="EVENTS_PER_SECOND",
        help="throughput cap (token bucket); 0, the default: as fast as possible",
    )
    what.add_argument(
        "--poison-rate",
        type=_fraction,
        default=0.0,
        metavar="0-1",
        help="share of poison records (bad JSON, not UTF-8, wrong types, missing fields, not "
        "an object); default 0",
    )
    what.add_argument("--seed", type=int, help="random seed (default: drawn and printed)")
    what.add_argument(
        "--users",
        type=_positive,
        default=DEFAULT_USERS,
        help=f"user pool (default {DEFAULT_USERS})",
    )
    what.add_argument(
        "--products",
        type=_positive,
        default=DEFAULT_PRODUCTS,
        help=f"product catalogue (default {DEFAULT_PRODUCTS})",
    )
    out = parser.add_argument_group("sending and output")
    out.add_argument(
        "--max-attempts",
        type=_positive,
        default=DEFAULT_MAX_ATTEMPTS,
        help=f"attempts per record before it is reported failed (default {DEFAULT_MAX_ATTEMPTS})",
    )
    out.add_argument("--manifest", metavar="FILE", help="write one JSON line per record here")
    out.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_aws_arguments(
        parser, region_help="AWS region (default: from the stream ARN, else the AWS config)"
    )
    return parser


def main(
    argv: list[str] | None = None,
    *,
    client: Any = None,
    console: Console | None = None,
    error_console: Console | None = None,
    stdin: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    start_ms: int | None = None,
) -> int:
    args = _parser().parse_args(argv)
    out = console or Console()
    err = error_console or Console(stderr=True)
    try:
        outputs = (
            read_terraform_outputs(args.terraform_outputs, stdin or sys.stdin)
            if args.terraform_outputs
            else {}
        )
        stream = args.stream_name or first_output(outputs, STREAM_OUTPUTS)
        if not stream:
            msg = (
                "no stream: pass --stream-name NAME, or --terraform-outputs FILE "
                "(output stream_name)"
            )
            raise ValueError(msg)
    except (OSError, ValueError) as exc:
        err.print(f"error: {exc}")
        return 2

    seed = args.seed if args.seed is not None else secrets.randbits(32)
    records = generate_records(
        args.count,
        seed=seed,
        poison_rate=args.poison_rate,
        users=args.users,
        products=args.products,
        start_ms=start_ms,
        mean_gap_ms=1000 / args.rate if args.rate else DEFAULT_MEAN_GAP_MS,
    )
    policy = RetryPolicy(
        max_attempts=args.max_attempts,
        base_delay=DEFAULT_POLICY.base_delay,
        max_delay=DEFAULT_POLICY.max_delay,
    )
    err.print(f"producing {args.count} events into {stream} (seed {seed})")
    show_progress = not args.no_progress and err.is_terminal
    with contextlib.ExitStack() as stack:
        try:
            if client is None:
                session = aws_session(
                    region=args.region or region_from_stream_arn(stream), profile=args.profile
                )
                client = session.client("kinesis", **client_options(args.endpoint_url))
            manifest = (
                stack.enter_context(open(args.manifest, "w", encoding="utf-8"))
                if args.manifest
                else None
            )
        except (BotoCoreError, OSError) as exc:
            err.print(f"error: {describe_exception(exc)}")
            return 2
        try:
            with progress_bar(err, show_progress) as progress:
                task = progress.add_task("putting records", total=args.count)
                report = produce(
                    client,
                    stream,
                    records,
                    rate=args.rate,
                    policy=policy,
                    sleep=sleep,
                    clock=clock,
                    manifest=manifest,
                    on_progress=lambda n: progress.advance(task, n),
                )
        except ProduceError as exc:
            render_report(exc.report, stream, out)
            err.print(f"error: {exc}")
            return 2
    render_report(report, stream, out)
    if args.manifest:
        out.print(f"manifest: {args.manifest}")
    return 1 if report.total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
