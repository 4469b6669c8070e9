"""Lambda entry point: purchases and add-to-carts from the retail stream -> fraud flags
(DynamoDB) and alerts (SNS), on the consumer kit (decoding, validation, DLQ, retries, metrics).

Handler string: ``fraud_detector.app.lambda_handler``. See README.md next to this file.

Per batch (``prepare_batch``, ``batch.py``): the valid purchases and add-to-carts are grouped by
user; each user's history is read once, the batch's new events written in one BatchWriteItem
pass. Per record: the kit validates :class:`FraudEvent` (else ``SCHEMA_VIOLATION``,
dead-lettered); the rules the event can trip are evaluated in memory over the user's history
and the batch, in event time; each tripped rule settles one flag. Anything that fails
(DynamoDB, SNS) makes the record a batch item failure: everything here is idempotent, so the
retry is safe.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import boto3

from fraud_detector.batch import BatchHistory, Sighting, prepare
from fraud_detector.config import NAME, REQUIRED_VARIABLES, Settings
from fraud_detector.history import History
from fraud_detector.models import FraudEvent
from fraud_detector.rules import HANDLED_EVENT_TYPES
from fraud_detector.store import FlagBook, FlagOutcome
from stream_pipeline.kit import SKIP, ConsumerSettings, StreamConsumer, StreamRecord
from stream_pipeline.kit.dependencies import DYNAMODB_CONFIG
from stream_pipeline.runtime.dlq_envelope import KINESIS_SOURCE
from stream_pipeline.runtime.lambda_setup import SDK_CONFIG

COUNTERS: Final = {
    FlagOutcome.RAISED: "FlagsRaised",
    FlagOutcome.REPUBLISHED: "AlertsRepublished",
    FlagOutcome.DUPLICATE: "FlagsDuplicate",
    FlagOutcome.EXTENDED: "FlagsExtended",
}
HISTORY_DUPLICATES: Final = "HistoryDuplicates"


@dataclass(frozen=True, slots=True)
class Detector:
    """The detector's own dependencies (``consumer.extras``), built once per cold start."""

    settings: Settings
    history: History
    flags: FlagBook

    @classmethod
    def create(
        cls,
        settings: Settings,
        *,
        dynamodb: Any,
        sns: Any,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Detector:
        """``sleep``: the history writes' backoff (tests pass a no-op)."""
        return cls(
            settings=settings,
            history=History(
                dynamodb,
                settings.history_table_name,
                settings.thresholds.history_ttl_seconds,
                sleep=sleep,
            ),
            flags=FlagBook(dynamodb, sns, settings.flags_table_name, settings.alert_topic_arn),
        )

    @classmethod
    def from_env(cls, _: ConsumerSettings | None = None) -> Detector:
        return cls.create(
            Settings.from_env(),
            dynamodb=boto3.client("dynamodb", config=DYNAMODB_CONFIG),
            sns=boto3.client("sns", config=SDK_CONFIG),
        )


def _event_id(record: StreamRecord[FraudEvent]) -> str:
    return record.event.eventId or record.derived_id


consumer: StreamConsumer[FraudEvent] = StreamConsumer(
    name=NAME,
    model=FraudEvent,
    event_sources=(KINESIS_SOURCE,),
    required_env=REQUIRED_VARIABLES,
    extras=Detector.from_env,
    counters=(HISTORY_DUPLICATES, *COUNTERS.values()),
)
logger = consumer.logger


@consumer.prepare_batch
def prepare_batch(records: Sequence[StreamRecord[FraudEvent]]) -> BatchHistory:
    detector: Detector = consumer.extras
    sightings = [
        Sighting(record.event, _event_id(record))
        for record in records
        if record.event.eventType in HANDLED_EVENT_TYPES
    ]
    history = prepare(detector.history, sightings, detector.settings.thresholds)
    consumer.count(HISTORY_DUPLICATES, history.duplicates)
    return history


@consumer.record_handler
def record_handler(record: StreamRecord[FraudEvent]) -> object:
    event = record.event
    if event.eventType not in HANDLED_EVENT_TYPES:
        return SKIP  # the event filter lets only these through; anything else is not ours
    detector: Detector = consumer.extras
    history: BatchHistory = consumer.prepared
    trips = history.of(event.userId).trips(event, _event_id(record), detector.settings.thresholds)
    for trip in trips:
        outcome = detector.flags.settle(trip, record.received_at)
        consumer.count(COUNTERS[outcome])
        if outcome is FlagOutcome.RAISED:
            logger.info(
                "fraud flag raised",
                extra={"rule": str(trip.rule), "user_id": trip.user_id, "flag_key": trip.flag_key},
            )
    return None


lambda_handler = consumer.lambda_handler
