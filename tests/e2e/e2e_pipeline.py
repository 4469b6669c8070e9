"""The deployed local stack as a scenario drives and observes it (tests/e2e)."""

from __future__ import annotations

import io
import json
import secrets
import time
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from stream_pipeline.local.accounting import (
    ManifestEntry,
    Reconciliation,
    delete_messages,
    read_dlq,
    read_manifest,
    reconcile,
    release_messages,
    scan_items,
)
from stream_pipeline.local.runtime.client import read_state, wait_drained, wait_for
from stream_pipeline.local.stack import LocalStack, client_kwargs
from stream_pipeline.producer.generator import ProducedRecord, generate_records
from stream_pipeline.producer.sender import produce

DRAIN_TIMEOUT = 90.0
HYDRATE_STREAMS = "SOURCE_STREAM_ARNS"
"""The hydrate function's setting naming the streams it serves (comma-separated ARNs)."""


@dataclass
class Pipeline:
    """The deployed stack, with what a scenario needs to drive and observe it."""

    stack: LocalStack
    outputs: dict[str, Any]
    clients: dict[str, Any] = field(default_factory=dict)
    seed_base: int = field(default_factory=lambda: secrets.randbits(32) << 16)
    """Added to each scenario's seed: eventIds differ from any earlier run on the same stack."""

    def client(self, service: str) -> Any:
        if service not in self.clients:
            config = Config(retries={"max_attempts": 5, "mode": "standard"})
            self.clients[service] = boto3.client(
                service, config=config, **client_kwargs(self.stack.endpoint)
            )
        return self.clients[service]

    @property
    def processor(self) -> str:
        return str(self.outputs["consumer_function_name"])

    @property
    def hydrate(self) -> str:
        return str(self.outputs["hydrate_function_name"])

    @property
    def mapping_uuid(self) -> str:
        """The processor's Kinesis mapping (the one environments/local declares)."""
        mappings = self.client("lambda").list_event_source_mappings()["EventSourceMappings"]
        (mapping,) = [
            m
            for m in mappings
            if m["FunctionArn"].endswith(f":function:{self.processor}")
            and ":kinesis:" in m["EventSourceArn"]
        ]
        return str(mapping["UUID"])

    # ------------------------------------------------------------------ driving

    def produce(self, count: int, *, seed: int, poison_rate: float = 0.0) -> list[ManifestEntry]:
        records = generate_records(count, seed=self.seed_base + seed, poison_rate=poison_rate)
        return self.put(records)

    def put(self, records: Iterable[ProducedRecord]) -> list[ManifestEntry]:
        """PutRecords through the producer; the manifest of what the stream accepted."""
        buffer = io.StringIO()
        report = produce(
            self.client("kinesis"), self.outputs["stream_name"], records, manifest=buffer
        )
        assert report.total_failed == 0, report.failure_reasons
        return read_manifest(buffer.getvalue())

    def faults(self, faults: dict[str, list[str]]) -> None:
        """Replace ``faults.json`` (``{}``: no faults); the runtime re-reads it per invocation."""
        path = self.stack.state_dir / "faults.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(faults))
        temporary.replace(path)
        time.sleep(0.02)  # distinct mtimes for back-to-back changes

    def update_mapping(self, **settings: Any) -> None:
        """Change the processor's mapping through the API; return once the runtime runs it."""
        self.client("lambda").update_event_source_mapping(UUID=self.mapping_uuid, **settings)
        self._wait_for_refresh(time.time())

    @contextmanager
    def hydrate_serving(self, stream_arn: str) -> Iterator[None]:
        """The deployed hydrate function also serves ``stream_arn`` inside the block, as when an
        operator adds it to the module's ``source_stream_arns`` (hydrate dead-letters an
        on-failure record naming a stream it does not serve as UNSERVED_STREAM, unread). Its
        deployed environment is put back afterwards; the runtime runs each configuration before
        this returns."""
        awslambda = self.client("lambda")
        deployed = awslambda.get_function_configuration(FunctionName=self.hydrate)
        variables = dict(deployed["Environment"]["Variables"])
        served = f"{variables[HYDRATE_STREAMS]},{stream_arn}"
        self._configure_hydrate({**variables, HYDRATE_STREAMS: served})
        try:
            yield
        finally:
            self._configure_hydrate(variables)

    def _configure_hydrate(self, variables: dict[str, str]) -> None:
        self.client("lambda").update_function_configuration(
            FunctionName=self.hydrate, Environment={"Variables": variables}
        )
        self._wait_for_refresh(time.time())

    def _wait_for_refresh(self, changed_at: float) -> None:
        """Return once the runtime has read the configuration as changed at ``changed_at``."""
        # A refresh that began before the change may finish after it: wait for one that began
        # after it.
        wait_for(
            self.stack.state_dir,
            lambda state: float(state.get("config_read_at", 0)) > changed_at,
            timeout=30,
        )

    def processor_clone(self, suffix: str) -> str:
        """A function ``<processor>-<suffix>`` with the deployed processor's code and
        configuration (role, handler, environment: the same results table and DLQ)."""
        awslambda = self.client("lambda")
        deployed = awslambda.get_function_configuration(FunctionName=self.processor)
        name = f"{self.processor}-{suffix}"
        awslambda.create_function(
            FunctionName=name,
            Runtime=deployed["Runtime"],
            Role=deployed["Role"],
            Handler=deployed["Handler"],
            Timeout=deployed["Timeout"],
            MemorySize=deployed["MemorySize"],
            Environment={"Variables": deployed["Environment"]["Variables"]},
            Code={"ZipFile": _placeholder_zip()},
        )
        return name

    def mapping_settings(self, mapping: dict[str, Any] | None = None) -> dict[str, Any]:
        """The batching and error handling of ``mapping`` (default: the processor's mapping as
        it is now), for a mapping of one's own (CreateEventSourceMapping arguments)."""
        if mapping is None:
            mapping = self.client("lambda").get_event_source_mapping(UUID=self.mapping_uuid)
        names = (
            "BatchSize",
            "FunctionResponseTypes",
            "BisectBatchOnFunctionError",
            "MaximumRetryAttempts",
            "MaximumRecordAgeInSeconds",
            "DestinationConfig",
        )
        return {name: mapping[name] for name in names}

    def stream_table(self, name: str) -> str:
        """A new table ``name`` (key ``pk``) with a NEW_AND_OLD_IMAGES stream; its stream ARN."""
        dynamodb = self.client("dynamodb")
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        return str(dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"])

    def drain(self, timeout: float = DRAIN_TIMEOUT) -> dict[str, Any]:
        return wait_drained(self.stack.state_dir, timeout=timeout)

    def function_counters(self, function: str) -> dict[str, int]:
        state = read_state(self.stack.state_dir) or {}
        return dict(state.get("counters", {}).get("functions", {}).get(function, {}))

    # ------------------------------------------------------------------ observing

    def reconcile(self, manifest: list[ManifestEntry], *, keep: bool = False) -> Reconciliation:
        """Where each record of ``manifest`` ended; its DLQ messages are then deleted (so the
        next scenario starts from an empty queue) unless ``keep``."""
        sqs = self.client("sqs")
        url = self.outputs["dlq_url"]
        messages = read_dlq(sqs, url, release=False)
        result = reconcile(
            manifest,
            scan_items(self.client("dynamodb"), self.outputs["results_table_name"]),
            messages,
        )
        own = {m.message_id for m in result.messages}
        if keep:
            release_messages(sqs, url, messages)
        else:
            delete_messages(sqs, url, result.messages)
            release_messages(sqs, url, [m for m in messages if m.message_id not in own])
        return result


def _placeholder_zip() -> bytes:
    """moto wants a deployment package; the runtime imports the handler from functions/."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", "# the local runtime runs functions/ itself\n")
    return buffer.getvalue()
