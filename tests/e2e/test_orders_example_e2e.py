"""The example consumer (examples/orders) end to end: its own root module applied to the local
runtime (as `make local-up ROOT=examples/orders FUNCTIONS=examples/orders/functions` does), its
handler packaged from its source folder by the modules, and every order accounted for -- stored
once in the orders table, or in the DLQ with its original bytes and the reason code -- with and
without faults.

The stack is this module's own (a second local runtime, on its own pytest-xdist group, so it
comes up while the other worker runs the environments' scenarios).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import start_stack

from stream_pipeline.local.accounting import DlqMessage, delete_messages, read_dlq, scan_items
from stream_pipeline.local.runtime.client import wait_drained
from stream_pipeline.local.stack import LocalStack, client_kwargs
from stream_pipeline.runtime.dlq_envelope import DlqEnvelope

EXAMPLE = Path("examples") / "orders"
DRAIN_TIMEOUT = 90.0


@dataclass(frozen=True)
class Order:
    """One record put on the orders stream and where it must end."""

    data: bytes
    expected: str
    """``stored``, or the reason code of its DLQ envelope."""
    order_id: str | None


def orders(count: int, *, seed: int) -> list[Order]:
    """``count`` records: mostly valid orders, and each way an order is rejected -- by the
    team's rules (currency, amount) and by the kit (not JSON, not UTF-8, missing field)."""
    rng = random.Random(seed)
    made: list[Order] = []
    for n in range(count):
        order_id = f"s{seed}-o{n}"
        order = {
            "orderId": order_id,
            "customerId": f"c{rng.randrange(50)}",
            "currency": rng.choice(["EUR", "GBP", "USD"]),
            "amount": round(rng.uniform(1, 500), 2),
        }
        kind = n % 10
        if kind == 1:
            made.append(
                Order(
                    json.dumps({**order, "currency": "XYZ"}).encode(),
                    "orders.INVALID_CURRENCY",
                    None,
                )
            )
        elif kind == 2:
            made.append(
                Order(
                    json.dumps({**order, "amount": -5}).encode(), "orders.NON_POSITIVE_AMOUNT", None
                )
            )
        elif kind == 3 and n % 20 == 3:
            made.append(Order(b'{"orderId": ' + order_id.encode(), "INVALID_JSON", None))
        elif kind == 3:
            made.append(Order(b"\xff\xfe" + order_id.encode(), "INVALID_ENCODING", None))
        elif kind == 4 and n % 20 == 4:
            made.append(
                Order(
                    json.dumps({k: v for k, v in order.items() if k != "customerId"}).encode(),
                    "SCHEMA_VIOLATION",
                    None,
                )
            )
        else:
            made.append(Order(json.dumps(order).encode(), "stored", order_id))
    return made


@dataclass
class OrdersStack:
    stack: LocalStack
    outputs: dict[str, Any]

    def client(self, service: str) -> Any:
        return boto3.client(service, **client_kwargs(self.stack.endpoint))

    @property
    def function(self) -> str:
        return str(self.outputs["consumer_function_name"])

    def put(self, records: list[Order]) -> None:
        kinesis = self.client("kinesis")
        for start in range(0, len(records), 100):
            chunk = records[start : start + 100]
            response = kinesis.put_records(
                StreamName=self.outputs["stream_name"],
                Records=[{"Data": r.data, "PartitionKey": str(i)} for i, r in enumerate(chunk)],
            )
            assert response["FailedRecordCount"] == 0

    def faults(self, faults: dict[str, list[str]]) -> None:
        path = self.stack.state_dir / "faults.json"
        path.with_suffix(".tmp").write_text(json.dumps(faults))
        path.with_suffix(".tmp").replace(path)
        time.sleep(0.02)

    def account(self, records: list[Order]) -> tuple[Counter[str], dict[bytes, DlqEnvelope]]:
        """Stored order ids (with how often), and this scenario's envelopes by payload; its
        DLQ messages are deleted."""
        wait_drained(self.stack.state_dir, timeout=DRAIN_TIMEOUT)
        ids = {r.order_id for r in records if r.order_id}
        stored = Counter(
            item["orderId"]
            for item in scan_items(self.client("dynamodb"), self.outputs["orders_table_name"])
            if item["orderId"] in ids
        )
        sqs = self.client("sqs")
        messages = read_dlq(sqs, self.outputs["dlq_url"], release=False)
        ours: list[DlqMessage] = []
        envelopes: dict[bytes, DlqEnvelope] = {}
        payloads = {r.data for r in records}
        for message in messages:
            envelope = DlqEnvelope.parse(message.body)
            if envelope.original_bytes() in payloads:
                ours.append(message)
                envelopes[envelope.original_bytes()] = envelope
        delete_messages(sqs, self.outputs["dlq_url"], ours)
        return stored, envelopes


@pytest.fixture(scope="module")
def orders_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrdersStack]:
    base = tmp_path_factory.mktemp("orders-e2e")
    with (base / "orders-stack.log").open("w") as log:
        stack, outputs = start_stack(
            base, log, terraform_root=EXAMPLE, functions_dirs=[EXAMPLE / "functions"]
        )
        try:
            yield OrdersStack(stack, outputs)
        finally:
            stack.down()


def assert_every_order_accounted_for(
    records: list[Order], stored: Counter[str], envelopes: dict[bytes, DlqEnvelope]
) -> None:
    expected_stored = Counter(r.order_id for r in records if r.expected == "stored")
    assert stored == expected_stored, "an order is missing from the table or stored twice"
    rejected = {r.data: r.expected for r in records if r.expected != "stored"}
    assert {payload: e.error_category for payload, e in envelopes.items()} == rejected
    assert sum(stored.values()) + len(envelopes) == len(records)


def test_every_order_is_stored_once_or_dead_lettered_with_its_reason(
    orders_stack: OrdersStack,
) -> None:
    """GIVEN the example's root applied to the local runtime
    WHEN 60 records are put: valid orders, orders the team rejects (currency, amount) and
    records the kit rejects (not JSON, not UTF-8, a missing field)
    THEN each valid order is in the orders table once, and each other record is in the DLQ
    with its original bytes and the reason code it deserves: none is lost.
    """
    records = orders(60, seed=1)
    orders_stack.put(records)

    stored, envelopes = orders_stack.account(records)

    assert_every_order_accounted_for(records, stored, envelopes)
    assert Counter(r.expected for r in records)["orders.INVALID_CURRENCY"] == 6


@pytest.mark.parametrize("fault", ["throttle-dynamodb:30", "crash-once-per-batch"])
def test_faults_in_the_example_consumer_lose_nothing(orders_stack: OrdersStack, fault: str) -> None:
    """GIVEN the example consumer's DynamoDB writes throttled 30 % of the time, or its worker
    crashing once per batch (a function error: the batch is bisected and retried)
    WHEN 40 records are put (12 with the crashes)
    THEN every order is still stored once or dead-lettered with its reason.
    """
    orders_stack.faults({orders_stack.function: [fault]})
    try:
        # A crash bisects the batch down to single records: fewer records keep it short.
        records = orders(40, seed=2) if fault.startswith("throttle") else orders(12, seed=3)
        orders_stack.put(records)
        stored, envelopes = orders_stack.account(records)
    finally:
        orders_stack.faults({})

    assert_every_order_accounted_for(records, stored, envelopes)
