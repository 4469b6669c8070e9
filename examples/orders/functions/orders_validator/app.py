"""Valid orders -> the orders table; an order in a currency we do not take, or for a
non-positive amount, -> the DLQ with our own reason code. The kit does everything else."""

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from stream_pipeline.kit import DynamoDBSink, Reject, StreamConsumer, StreamRecord

ACCEPTED_CURRENCIES = frozenset({"EUR", "GBP", "USD"})


class Order(BaseModel):
    orderId: str = Field(min_length=1, max_length=128)
    customerId: str = Field(min_length=1, max_length=128)
    currency: str = Field(min_length=3, max_length=3)
    amount: Decimal


consumer = StreamConsumer(name="orders", model=Order, sink=DynamoDBSink(key=("orderId",)))


@consumer.record_handler
def record_handler(record: StreamRecord[Order]) -> dict[str, Any]:
    order = record.event
    if order.currency not in ACCEPTED_CURRENCIES:
        raise Reject("orders.INVALID_CURRENCY", f"currency {order.currency} is not accepted")
    if order.amount <= 0:
        raise Reject("orders.NON_POSITIVE_AMOUNT", "the amount must be positive")
    return {**order.model_dump(), "validatedAt": record.received_at.isoformat()}


lambda_handler = consumer.lambda_handler
