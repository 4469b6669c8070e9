"""Faults on the way to the DLQ, end to end on the environments' stack (``environments/local``
applied to the local runtime), each ending lost = 0:

* an on-failure destination that rejects deliveries: AWS drops the batch and publishes
  ``DestinationDeliveryFailures``; the records are then only in the stream, and the operator's
  recovery (a catch-up consumer reading the stream from the incident's start) accounts for them;
* a DynamoDB stream record with binary attributes (``B``, ``BS``) whose consumer fails:
  on-failure record -> hydrate -> DLQ envelope with the original bytes.
"""

from __future__ import annotations

import base64
import hashlib
import operator
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from e2e_pipeline import Pipeline
from test_zero_loss import assert_as_expected, assert_zero_loss, expecting

from stream_pipeline.local.accounting import ManifestEntry
from stream_pipeline.runtime.dlq_envelope import canonical_json

RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED"
METRIC = {"Namespace": "AWS/Lambda", "MetricName": "DestinationDeliveryFailures"}
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}


@pytest.fixture
def deployed_mapping(clean_faults: Pipeline) -> Iterator[dict[str, Any]]:
    """The processor's mapping as deployed; its on-failure destination is put back afterwards
    (``clean_faults`` puts back the rest)."""
    mapping = clean_faults.client("lambda").get_event_source_mapping(UUID=clean_faults.mapping_uuid)
    yield mapping
    clean_faults.update_mapping(DestinationConfig=mapping["DestinationConfig"])


def _delivery_failures(
    pipeline: Pipeline, since: datetime, period: int, statistic: str
) -> list[float]:
    """The processor's DestinationDeliveryFailures, one value per period since ``since``."""
    statistics = pipeline.client("cloudwatch").get_metric_statistics(
        **METRIC,
        Dimensions=[{"Name": "FunctionName", "Value": pipeline.processor}],
        StartTime=since - timedelta(seconds=period),
        EndTime=datetime.now(UTC) + timedelta(seconds=period),
        Period=period,
        Statistics=[statistic],
    )
    return [float(point[statistic]) for point in statistics["Datapoints"]]


def _catch_up_from(
    pipeline: Pipeline, started: datetime, mapping: dict[str, Any], run: str
) -> None:
    """The operator's recovery while the stream still holds the dropped records: a catch-up
    consumer (the processor's code and configuration, another name: AWS allows one mapping per
    function and stream) reads the stream from the incident's start (AT_TIMESTAMP) with the
    deployed error handling, and is removed once it has caught up. Re-reading records already
    handled is harmless: writes are idempotent and a record dead-lettered again keeps its
    envelope id."""
    awslambda = pipeline.client("lambda")
    function = pipeline.processor_clone(f"catch-up-{run}")
    uuid_ = awslambda.create_event_source_mapping(
        EventSourceArn=pipeline.outputs["stream_arn"],
        FunctionName=function,
        StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=started,
        **pipeline.mapping_settings(mapping),
    )["UUID"]
    try:
        pipeline.drain()
    finally:
        awslambda.delete_event_source_mapping(UUID=uuid_)
        awslambda.delete_function(FunctionName=function)


def test_a_rejecting_on_failure_destination_is_alarmed_and_its_records_recovered(
    clean_faults: Pipeline, deployed_mapping: dict[str, Any]
) -> None:
    """GIVEN the processor's on-failure destination pointing at a topic that does not exist
    (deliveries rejected) and every DynamoDB write of the processor throttled, one retry
    WHEN 15 events (20 % poison) are put and their batches exhaust their retries
    THEN the on-failure records cannot be delivered: the valid events are dropped (lost, for
    now: only the stream holds them) and DestinationDeliveryFailures has a period with Sum > 0
    for the processor, which meets the condition of the alarm on it;
    AND WHEN the destination is restored, the cause fixed and a catch-up consumer reads the
    stream from the incident's start
    THEN every event is stored once and every poison record is in the DLQ: lost = 0."""
    pipeline = clean_faults
    run = uuid.uuid4().hex[:8]
    region, account = pipeline.outputs["stream_arn"].split(":")[3:5]
    missing_topic = f"arn:aws:sns:{region}:{account}:on-failure-gone-{run}"
    pipeline.update_mapping(
        MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": missing_topic}}
    )
    pipeline.faults({pipeline.processor: ["throttle-dynamodb:100"]})
    started = datetime.now(UTC)

    manifest = pipeline.produce(15, seed=201, poison_rate=0.2)
    pipeline.drain()

    valid = [entry for entry in manifest if entry.expected == "stored"]
    assert valid, "the seed produced no valid event"
    dropped = pipeline.reconcile(manifest, keep=True)
    assert sorted(e.record_id for e in dropped.lost) == sorted(e.record_id for e in valid)
    failures = _delivery_failures(pipeline, started, 60, "Sum")
    assert any(value > 0 for value in failures), f"no DestinationDeliveryFailures: {failures}"

    pipeline.update_mapping(
        MaximumRetryAttempts=deployed_mapping["MaximumRetryAttempts"],
        DestinationConfig=deployed_mapping["DestinationConfig"],
    )
    pipeline.faults({})
    _catch_up_from(pipeline, started, deployed_mapping, run)

    recovered = pipeline.reconcile(manifest)
    assert_zero_loss(recovered, 15)
    assert_as_expected(recovered)
    assert recovered.stored == len(valid)

    # The alarm on the metric comes from the alarms part of issue #15 (modules/alarms):
    # required here, so this scenario passes once both are merged.
    alarms = pipeline.client("cloudwatch").describe_alarms_for_metric(
        **METRIC, Dimensions=[{"Name": "FunctionName", "Value": pipeline.processor}]
    )["MetricAlarms"]
    assert alarms, f"no alarm watches DestinationDeliveryFailures of {pipeline.processor}"
    for alarm in alarms:
        # Breaching: as many periods as the alarm needs ("M of N"), each past the threshold.
        values = _delivery_failures(pipeline, started, int(alarm["Period"]), alarm["Statistic"])
        compare = COMPARISONS[alarm["ComparisonOperator"]]
        breaching = [value for value in values if compare(value, float(alarm["Threshold"]))]
        needed = alarm.get("DatapointsToAlarm") or alarm["EvaluationPeriods"]
        assert len(breaching) >= needed, (alarm["AlarmName"], values)


# --------------------------------------------------------------------------- DynamoDB binary


def _binary_item(n: int, run: str) -> dict[str, Any]:
    """A retail event as a DynamoDB item, with a binary and a binary set attribute (bytes that
    are not UTF-8: a lossy path would show)."""
    return {
        "pk": {"S": f"{run}-{n}"},
        "eventId": {"S": f"ddb-binary-{run}-{n}"},
        "userId": {"S": f"user-{n}"},
        "eventType": {"S": "view"},
        "productId": {"S": f"P{n:05d}"},
        "timestamp": {"N": str(1_700_000_000_000 + n)},
        "thumbnail": {"B": bytes([0xFF, 0x00, n, 0x80])},
        "signatures": {"BS": [b"\x00\x01" + bytes([n]), b"\xfe\xff"]},
    }


def _as_in_a_stream_record(value: Any) -> Any:
    """boto3's item (bytes) -> DynamoDB JSON as a stream record carries it (base64 text)."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {key: _as_in_a_stream_record(member) for key, member in value.items()}
    if isinstance(value, list):
        return [_as_in_a_stream_record(member) for member in value]
    return value


def test_a_dynamodb_record_with_binary_attributes_reaches_the_dlq_with_its_bytes(
    clean_faults: Pipeline, deployed_mapping: dict[str, Any]
) -> None:
    """GIVEN a table with a NEW_AND_OLD_IMAGES stream read by a function with the processor's
    code and configuration, the deployed mapping's on-failure destination (the topic hydrate
    reads), one retry, and every DynamoDB write of that function throttled; the table's stream
    added to the streams hydrate serves (SOURCE_STREAM_ARNS, as the module's source_stream_arns
    sets it: a stream it does not serve is never read)
    WHEN 4 items with B and BS attributes are written
    THEN their batches exhaust the retries, hydrate reads them back from the DynamoDB stream
    and each is in the DLQ (RETRIES_EXHAUSTED) with its NewImage's original bytes: lost = 0."""
    pipeline = clean_faults
    awslambda = pipeline.client("lambda")
    dynamodb = pipeline.client("dynamodb")
    run = uuid.uuid4().hex[:8]
    table = f"e2e-ddb-binary-{run}"
    stream_arn = pipeline.stream_table(table)
    with pipeline.hydrate_serving(stream_arn):
        function = pipeline.processor_clone(f"ddb-binary-{run}")
        pipeline.faults({function: ["throttle-dynamodb:100"]})
        uuid_ = awslambda.create_event_source_mapping(
            EventSourceArn=stream_arn,
            FunctionName=function,
            StartingPosition="TRIM_HORIZON",
            **{**pipeline.mapping_settings(deployed_mapping), "MaximumRetryAttempts": 1},
        )["UUID"]
        try:
            manifest = []
            for n in range(4):
                item = _binary_item(n, run)
                dynamodb.put_item(TableName=table, Item=item)
                image = _as_in_a_stream_record(item)
                manifest.append(
                    ManifestEntry(
                        record_id=image["eventId"]["S"],
                        expected=RETRIES_EXHAUSTED,
                        sha256=hashlib.sha256(canonical_json(image)).hexdigest(),
                        dynamodb_keys={"pk": image["pk"]},
                    )
                )
            pipeline.drain()

            result = pipeline.reconcile(expecting(manifest, RETRIES_EXHAUSTED))
        finally:
            awslambda.delete_event_source_mapping(UUID=uuid_)
            awslambda.delete_function(FunctionName=function)

    assert_zero_loss(result, 4)
    assert_as_expected(result)
    assert dict(result.dead_lettered) == {RETRIES_EXHAUSTED: 4}
    assert result.without_original_bytes == []
