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
median of the repeated calls is the warm cost. Excluded as in ``stream_processor``: the Lambda
runtime, network and service time (KMS's included), cold start (loading the Encryption SDK and
cryptography: section ``cold_start``).

The bench also checks what would be stored (the BatchWriteItem items of the first call): the
``email`` attribute is binary and holds no clear address, no attribute of any item holds one,
and a reader's :class:`~stream_pipeline.kit.FieldDecryptor` gets the addresses back.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
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
from bench.consumer_bench import DLQ_URL, FUNCTION_NAME, HANDLER_ENVIRONMENT, TABLE_NAME, timed
from bench.events import BASE_TIMESTAMP_MS, kinesis_event
from bench.stubbed_aws import StubbedAws

SECTION: Final = "field_encryption"
BATCHES: Final = (100, 1_000)
"""The mapping's default batch size (modules/pipeline), and the larger batch of the other rows."""
FIELD: Final = "email"
KEY_ARN: Final = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f1e2d3c-4b5a-4697-8877-665544332211"
TARGET_KMS_PER_1000_COLD: Final = 1
"""One field, data keys cached 5 minutes or 100,000 values: 1,000 records from a cold cache need
one GenerateDataKey (without the cache: 1,000)."""
TARGET_ADDED_US_PER_VALUE: Final = 400.0
"""The top of docs/security.md's former estimate (0.25-0.4 ms per value), on which its capacity
advice (memory, parallelization factor) rests."""
SAMPLE_DECRYPTED: Final = 5
"""Stored values a reader decrypts, to prove they are the addresses."""

Call = Callable[[dict[str, Any]], Any]


def address_event(records: int, seed: int) -> tuple[dict[str, Any], dict[str, str]]:
    """``records`` valid producer events, each with the address of its user, and the
    address by user id (what a reader must get back)."""
    import json

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
    from stream_pipeline.kit.consumer import DYNAMODB_CONFIG
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


def _measure(
    call: Call,
    aws: StubbedAws,
    event: dict[str, Any],
    addresses: dict[str, str],
    *,
    quick: bool,
    reader: bool,
) -> Result:
    """One counted call (its items kept and checked; ``reader``: a reader decrypts a sample,
    after the timing), then the timed repetitions."""
    records = len(event["Records"])
    aws.reset()
    aws.keep_items = True
    wall_start, cpu_start = time.perf_counter_ns(), time.process_time_ns()
    response = call(event)
    first = (time.process_time_ns() - cpu_start, time.perf_counter_ns() - wall_start)
    aws.keep_items = False
    first_counts = dict(sorted(aws.counts.items()))
    items = list(aws.items)
    cpu, _ = timed(call, event, quick=quick, first=first)
    total_counts: Counter[str] = Counter(aws.counts)
    kms_total = sum(count for api, count in total_counts.items() if api.startswith("kms."))
    cpu_summary = summary([ns / 1e6 for ns in cpu])
    return {
        "cpu_us_per_record": round(float(cpu_summary["median"]) * 1000 / records, 2),
        "cpu_ms_per_invocation": cpu_summary,
        "batch_item_failures": len(response["batchItemFailures"]),
        "requests_first_call": first_counts,
        "requests_per_1000_records_first_call": per_thousand(first_counts, records),
        "kms_requests_first_call": sum(
            count for api, count in first_counts.items() if api.startswith("kms.")
        ),
        "records_processed": records * len(cpu),
        "kms_requests_all_calls": kms_total,
        "kms_requests_per_1000_records_all_calls": round(
            kms_total * 1000 / (records * len(cpu)), 3
        ),
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
        row: Result = {"label": f"{records:,} producer events with an address", "records": records}
        for name, encrypted in (("without", False), ("with", True)):
            options.log(f"{SECTION}: {row['label']}, {name} encryption")
            aws = StubbedAws()
            wired = dependencies(aws, encrypted=encrypted)
            app.consumer.set_dependencies(wired)
            call(warm_event)  # the new clients' first-request costs stay out
            if encrypted:
                # A fresh encryptor: the counted call starts from a cold data key cache.
                wired.field_encryptor = encryptor(aws, wired.settings)
            row[name] = _measure(call, aws, event, addresses, quick=options.quick, reader=encrypted)
        row["added_cpu_us_per_record"] = round(
            row["with"]["cpu_us_per_record"] - row["without"]["cpu_us_per_record"], 2
        )
        rows.append(row)

    result: Result = {
        "status": "ok",
        "method": __doc__,
        "field": FIELD,
        "key_arn": KEY_ARN,
        "timing": (
            "quick: one call per row and variant (counted and timed; the encrypted one from a "
            "cold data key cache)"
            if options.quick
            else "median of at least 3 calls and 0.3 s of CPU in all (at most 100 calls) per "
            "row and variant, the first of them also counted (the encrypted one from a cold "
            "data key cache)"
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
