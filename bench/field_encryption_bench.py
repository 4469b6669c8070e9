"""Section ``field_encryption``: what encrypting the e-mail address costs the stream processor,
with the AWS HTTP layer stubbed as in section ``stream_processor``, KMS included.

What one measurement is: ``time.process_time`` around one ``lambda_handler(event, context)`` call
of the warm stream processor on producer events that all carry an address (``email``), once
as shipped with ``SENSITIVE_FIELDS`` unset (the address stays inside ``extra``, in clear) and once
with ``SENSITIVE_FIELDS=email`` and a field key (``FIELD_ENCRYPTION_KEY_ARN``): the consumer kit
encrypts the address with Powertools' data masking over the AWS Encryption SDK before the write.
The stub answers the SDK's KMS ``GenerateDataKey`` (a random 32-byte data key per stub) and its
botocore client signs and parses the request as for any other API; the difference between the
two runs is the encryption's CPU per value (header, key derivation, AES-GCM, base64) plus the
KMS request whenever the data key cache is cold. The encrypted run starts from a fresh encryptor
(cold cache, as after a cold start), so its first batch pays the one ``GenerateDataKey``; the
median of the repeated calls is the warm cost. The two runs' calls alternate, so that a change
of the machine's load hits both alike, and the added CPU is the median of the pairs'
differences. Excluded as in ``stream_processor``: the Lambda
runtime, network and service time (KMS's included), cold start (loading the Encryption SDK and
cryptography: section ``cold_start``).

The bench also checks what would be stored (the BatchWriteItem items of the first call): the
``email`` attribute is binary and holds no clear address, no attribute of any item holds one,
and a reader's :class:`~stream_pipeline.kit.FieldDecryptor` gets the addresses back.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from bench.common import (
    ACCOUNT,
    REGION,
    FakeLambdaContext,
    Options,
    Result,
    Target,
    at_most,
    environment,
    exactly,
    functions_on_path,
    per_thousand,
    quiet,
    summary,
)
from bench.consumer_bench import DLQ_URL, FUNCTION_NAME, HANDLER_ENVIRONMENT, TABLE_NAME
from bench.events import BASE_TIMESTAMP_MS, kinesis_event
from bench.stubbed_aws import StubbedAws

SECTION: Final = "field_encryption"
BATCHES: Final = (100, 1_000)
"""The mapping's default batch size (modules/pipeline), and section stream_processor's reference
batch."""
FIELD: Final = "email"
KEY_ARN: Final = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f1e2d3c-4b5a-4697-8877-665544332211"
TARGET_KMS_PER_1000_COLD: Final = 1
"""One field, data keys cached 5 minutes or 100,000 values: 1,000 records from a cold cache need
one GenerateDataKey (without the cache: 1,000)."""
TARGET_ADDED_US_PER_VALUE: Final = 400.0
"""The top of docs/security.md's former estimate (0.25-0.4 ms per value), on which its capacity
advice (memory, parallelization factor) rests."""
MIN_PAIRS: Final = 5
MAX_PAIRS: Final = 100
MIN_CPU_NS: Final = 1_000_000_000
"""Timed calls: a difference of two noisy figures needs more samples than one figure."""
SAMPLE_DECRYPTED: Final = 5
"""Stored values a reader decrypts, to prove they are the addresses."""

Call = Callable[[dict[str, Any]], Any]


def address_event(records: int, seed: int) -> tuple[dict[str, Any], dict[str, str]]:
    """``records`` valid producer events, each with the address of its user, and the
    address by user id (what a reader must get back)."""
    from stream_pipeline.producer.generator import generate_records

    produced = list(generate_records(records, seed=seed, start_ms=BASE_TIMESTAMP_MS))
    addresses: dict[str, str] = {}
    for record in produced:
        event = json.loads(record.data)
        addresses[str(event["userId"])] = str(event[FIELD])
    return (
        kinesis_event([r.data for r in produced], [r.partition_key for r in produced]),
        addresses,
    )


def dependencies(aws: StubbedAws, *, encrypted: bool) -> Any:
    """The processor's dependencies from its environment as modules/pipeline sets it, with or
    without the sensitive field, on the stub's clients."""
    from stream_pipeline.kit import ConsumerSettings, Dependencies
    from stream_pipeline.kit.dependencies import DYNAMODB_CONFIG
    from stream_pipeline.kit.field_encryption import FIELD_KEY_VARIABLE, SENSITIVE_FIELDS_VARIABLE
    from stream_pipeline.runtime.lambda_setup import SDK_CONFIG

    environ = {
        "DLQ_URL": DLQ_URL,
        "TABLE_NAME": TABLE_NAME,
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
    }
    if encrypted:
        environ |= {SENSITIVE_FIELDS_VARIABLE: FIELD, FIELD_KEY_VARIABLE: KEY_ARN}
    settings = ConsumerSettings.from_env(name="stream_processor", needs_table=True, environ=environ)
    return Dependencies(
        settings=settings,
        dynamodb=aws.client("dynamodb", config=DYNAMODB_CONFIG),
        sqs=aws.client("sqs", config=SDK_CONFIG),
        field_encryptor=encryptor(aws, settings),
    )


def encryptor(aws: StubbedAws, settings: Any) -> Any:
    """The field encryptor ``Dependencies.from_env`` builds for these settings (None without
    sensitive fields), on a fresh data masker of the stub: its data key cache is empty."""
    from stream_pipeline.kit import FieldEncryptor

    if not (settings.sensitive_fields and settings.field_key_arn):
        return None
    return FieldEncryptor(
        key_arn=settings.field_key_arn,
        fields=settings.sensitive_fields,
        table=TABLE_NAME,
        masker=aws.field_masker(settings.field_key_arn),
    )


def _holds(value: Any, text: str) -> bool:
    """Whether a wire-form attribute value (or anything inside it) contains ``text``."""
    if isinstance(value, str):
        return text in value
    if isinstance(value, bytes | bytearray):
        return text.encode() in value
    if isinstance(value, dict):
        return any(_holds(inner, text) for inner in value.values())
    if isinstance(value, list):
        return any(_holds(inner, text) for inner in value)
    return False


def stored_check(
    items: list[dict[str, Any]], addresses: dict[str, str], aws: StubbedAws | None
) -> Result:
    """What the written items hold: how many store the field as binary without the clear
    address, how many hold a clear address anywhere; with ``aws``, a reader decrypts a sample."""
    from stream_pipeline.kit import FieldDecryptor

    binary = [
        item
        for item in items
        if set(item.get(FIELD, {})) == {"B"}
        and not _holds(item[FIELD], addresses[item["userId"]["S"]])
    ]
    clear = sum(_holds(item, addresses[item["userId"]["S"]]) for item in items)
    result: Result = {
        "items": len(items),
        "field_binary_without_address": len(binary),
        "items_with_clear_address": clear,
        "mean_encrypted_bytes": (
            round(sum(len(item[FIELD]["B"]) for item in binary) / len(binary), 1)
            if binary
            else None
        ),
    }
    if aws is not None and binary:
        reader = FieldDecryptor(
            key_arn=KEY_ARN, fields=(FIELD,), table=TABLE_NAME, masker=aws.field_masker(KEY_ARN)
        )
        sample = binary[:SAMPLE_DECRYPTED]
        result["decrypted_sample"] = len(sample)
        result["decrypted_sample_matches"] = sum(
            reader.decrypt_item({FIELD: item[FIELD]["B"]})[FIELD] == addresses[item["userId"]["S"]]
            for item in sample
        )
    return result


@dataclass(slots=True)
class _Variant:
    """The processor without or with field encryption: its stub, dependencies, CPU samples."""

    name: str
    aws: StubbedAws
    wired: Any
    cpu_ns: list[int] = field(default_factory=list)


def _counted(call: Call, variant: _Variant, event: dict[str, Any]) -> tuple[Any, list[Any]]:
    """The variant's first call on ``event``: requests counted, items kept, CPU timed."""
    variant.aws.reset()
    variant.aws.keep_items = True
    cpu_start = time.process_time_ns()
    response = call(event)
    variant.cpu_ns.append(time.process_time_ns() - cpu_start)
    variant.aws.keep_items = False
    return response, list(variant.aws.items)


def _paired(
    call: Call, use: Callable[[_Variant], None], variants: tuple[_Variant, ...], event: Any
) -> None:
    """More timed calls of both variants in turn (which one goes first alternates), so that a
    change of the machine's load hits both alike: :data:`MIN_PAIRS` pairs and
    :data:`MIN_CPU_NS` in all at least, :data:`MAX_PAIRS` at most."""
    pairs = 1  # the counted calls
    while pairs < MAX_PAIRS and (
        pairs < MIN_PAIRS or sum(sum(v.cpu_ns) for v in variants) < MIN_CPU_NS
    ):
        for variant in variants if pairs % 2 == 0 else tuple(reversed(variants)):
            use(variant)
            cpu_start = time.process_time_ns()
            call(event)
            variant.cpu_ns.append(time.process_time_ns() - cpu_start)
        pairs += 1


def _report(
    variant: _Variant,
    records: int,
    first: tuple[Any, list[Any], dict[str, int]],
    addresses: dict[str, str],
    *,
    reader: bool,
) -> Result:
    """A variant's figures: CPU over all its calls, requests and items of its first call, KMS
    requests over all its calls; ``reader``: a reader decrypts a sample of what it stored."""
    response, items, first_counts = first
    aws = variant.aws
    kms_total = sum(count for api, count in aws.counts.items() if api.startswith("kms."))
    cpu_summary = summary([ns / 1e6 for ns in variant.cpu_ns])
    processed = records * len(variant.cpu_ns)
    return {
        "cpu_us_per_record": round(float(cpu_summary["median"]) * 1000 / records, 2),
        "cpu_ms_per_invocation": cpu_summary,
        "batch_item_failures": len(response["batchItemFailures"]),
        "requests_first_call": first_counts,
        "requests_per_1000_records_first_call": per_thousand(first_counts, records),
        "kms_requests_first_call": sum(
            count for api, count in first_counts.items() if api.startswith("kms.")
        ),
        "records_processed": processed,
        "kms_requests_all_calls": kms_total,
        "kms_requests_per_1000_records_all_calls": round(kms_total * 1000 / processed, 3),
        "items_written_first_call": len(items),
        "unexpected_requests": dict(aws.unexpected),
        "encryption_contexts": [
            dict(c) for c in {tuple(sorted(c.items())) for c in aws.encryption_contexts}
        ],
        "stored": stored_check(items, addresses, aws if reader else None),
    }


def run(options: Options) -> tuple[Result, list[Target]]:
    functions_on_path()
    with environment(**HANDLER_ENVIRONMENT):
        from stream_processor import app

        try:
            with quiet(app.consumer.logger):
                return _run(options, app)
        finally:
            app.consumer.set_dependencies(None)


def _variant(name: str, call: Call, app: Any, warm_event: dict[str, Any]) -> _Variant:
    """A variant on a stub of its own, its clients warmed; the encrypting one then gets a fresh
    encryptor, so that its first (counted) call starts from a cold data key cache."""
    aws = StubbedAws()
    wired = dependencies(aws, encrypted=name == "with")
    app.consumer.set_dependencies(wired)
    call(warm_event)  # the new clients' first-request costs stay out
    wired.field_encryptor = encryptor(aws, wired.settings)
    return _Variant(name, aws, wired)


def _run(options: Options, app: Any) -> tuple[Result, list[Target]]:
    context: Any = FakeLambdaContext(FUNCTION_NAME)

    def call(event: dict[str, Any]) -> Any:
        return app.lambda_handler(event, context)

    # Warm: the handler's first-call costs, and the Encryption SDK's and cryptography's imports
    # (cold start, not per record), on a stub of their own.
    warm_event, _ = address_event(10, options.seed + 1)
    for encrypted in (False, True):
        app.consumer.set_dependencies(dependencies(StubbedAws(), encrypted=encrypted))
        call(warm_event)

    rows: list[Result] = []
    for records in BATCHES:
        event, addresses = address_event(records, options.seed)
        label = f"{records:,} producer events with an address"
        options.log(f"{SECTION}: {label}")
        variants = tuple(_variant(name, call, app, warm_event) for name in ("without", "with"))
        firsts = []
        for variant in variants:
            app.consumer.set_dependencies(variant.wired)
            response, items = _counted(call, variant, event)
            firsts.append((response, items, dict(sorted(variant.aws.counts.items()))))
        if not options.quick:
            _paired(call, lambda v: app.consumer.set_dependencies(v.wired), variants, event)
        without, with_ = (
            _report(variant, records, first, addresses, reader=variant.name == "with")
            for variant, first in zip(variants, firsts, strict=True)
        )
        added = [
            (encrypted - clear) / 1000 / records
            for clear, encrypted in zip(variants[0].cpu_ns, variants[1].cpu_ns, strict=True)
        ]
        rows.append(
            {
                "label": label,
                "records": records,
                "without": without,
                "with": with_,
                "added_cpu_us_per_record": round(statistics.median(added), 2),
                "pairs": len(added),
            }
        )

    result: Result = {
        "status": "ok",
        "method": __doc__,
        "field": FIELD,
        "key_arn": KEY_ARN,
        "timing": (
            "quick: one call per row and variant (counted and timed; the encrypted one from a "
            "cold data key cache)"
            if options.quick
            else f"the two variants called in turn, at least {MIN_PAIRS} pairs and "
            f"{MIN_CPU_NS / 1e9:g} s of CPU in all (at most {MAX_PAIRS} pairs) per row; medians "
            "per variant, and the added CPU as the median of the pairs' differences; the first "
            "pair also counted (the encrypted call from a cold data key cache)"
        ),
        "rows": rows,
    }
    largest = rows[-1]
    targets = [
        exactly(
            SECTION,
            "KMS requests per 1,000 records, cold data key cache",
            largest["with"]["kms_requests_first_call"] * 1000 / largest["records"],
            TARGET_KMS_PER_1000_COLD,
            "requests",
            "1,000 records with an address in one batch; without the cache: 1,000",
        ),
        at_most(
            SECTION,
            f"CPU added per encrypted value, {largest['label']}",
            largest["added_cpu_us_per_record"],
            TARGET_ADDED_US_PER_VALUE,
            "us",
            f"without {largest['without']['cpu_us_per_record']} us, with "
            f"{largest['with']['cpu_us_per_record']} us per record; the top of the former "
            "estimate, which the capacity advice in docs/security.md rests on",
        ),
    ]
    return result, targets
