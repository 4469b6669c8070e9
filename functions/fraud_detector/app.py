"""Lambda entry point: purchases and add-to-carts from the retail stream -> fraud flags
(DynamoDB) and alerts (SNS), on the consumer kit (decoding, validation, DLQ, retries, metrics).

Handler string: ``fraud_detector.app.lambda_handler``. See README.md next to this file.

Per record: the kit validates :class:`FraudEvent` (else ``SCHEMA_VIOLATION``, dead-lettered);
the event is remembered in the history once; the rules it can trip are evaluated over the
user's history in event time; each tripped rule settles one flag. Anything that fails (DynamoDB,
SNS) makes the record a batch item failure: everything here is idempotent, so the retry is safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import boto3

from fraud_detector.config import NAME, REQUIRED_VARIABLES, Settings
from fraud_detector.models import FraudEvent
from fraud_detector.rules import (
    HANDLED_EVENT_TYPES,
    PURCHASE,
    Trip,
    cart_burst_rule,
    new_country_rule,
    purchase_rules,
)
from fraud_detector.store import FlagBook, FlagOutcome, History
from stream_pipeline.kit import SKIP, ConsumerSettings, StreamConsumer, StreamRecord
from stream_pipeline.kit.consumer import DYNAMODB_CONFIG
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
    def create(cls, settings: Settings, *, dynamodb: Any, sns: Any) -> Detector:
        return cls(
            settings=settings,
            history=History(
                dynamodb, settings.history_table_name, settings.thresholds.history_ttl_seconds
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

    def trips(self, event: FraudEvent, event_id: str) -> list[Trip]:
        """Remember the event, then the rules it trips (the same on every delivery)."""
        limits = self.settings.thresholds
        if not self.history.record(event, event_id):
            consumer.count(HISTORY_DUPLICATES)
        end = event.timestamp
        if event.eventType == PURCHASE:
            start = end - limits.velocity_window_seconds * 1000
            trips = purchase_rules(
                event, event_id, self.history.window(event.userId, start, end), limits
            )
            # Only a purchase that is (now) the first from its country changes which countries
            # are new: the others need no query.
            if event.country is not None and end == self.history.note_purchase_country(
                event.userId, event.country, end, event_id
            ):
                firsts = self.history.first_purchases(event.userId)
                trips += new_country_rule(event.userId, firsts)
            return trips
        start = end - limits.cart_burst_window_seconds * 1000
        return cart_burst_rule(
            event, event_id, self.history.window(event.userId, start, end), limits
        )


consumer: StreamConsumer[FraudEvent] = StreamConsumer(
    name=NAME,
    model=FraudEvent,
    event_sources=(KINESIS_SOURCE,),
    required_env=REQUIRED_VARIABLES,
    extras=Detector.from_env,
    counters=(HISTORY_DUPLICATES, *COUNTERS.values()),
)
logger = consumer.logger


@consumer.record_handler
def record_handler(record: StreamRecord[FraudEvent]) -> object:
    event = record.event
    if event.eventType not in HANDLED_EVENT_TYPES:
        return SKIP  # the event filter lets only these through; anything else is not ours
    detector: Detector = consumer.extras
    for trip in detector.trips(event, event.eventId or record.derived_id):
        outcome = detector.flags.settle(trip, record.received_at)
        consumer.count(COUNTERS[outcome])
        if outcome is FlagOutcome.RAISED:
            logger.info(
                "fraud flag raised",
                extra={"rule": str(trip.rule), "user_id": trip.user_id, "flag_key": trip.flag_key},
            )
    return None


lambda_handler = consumer.lambda_handler
