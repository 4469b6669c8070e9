"""The local runtime: moto's server in-process, plus the event source mappings, SNS -> Lambda
deliveries and handler workers that moto only stores the configuration of.

Configuration comes from the emulator's own API (what Terraform declared), re-read every
``config_interval`` seconds and at once when a function, mapping, invoke config or subscription
changes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline.local.runtime import moto_patches
from stream_pipeline.local.runtime.async_invoke import AsyncInvoker
from stream_pipeline.local.runtime.destinations import Clients
from stream_pipeline.local.runtime.faults import FaultBook, FunctionFaults
from stream_pipeline.local.runtime.filters import InvalidPatternError, compile_patterns
from stream_pipeline.local.runtime.hub import HUB
from stream_pipeline.local.runtime.invoker import Invoker, InvokerOptions
from stream_pipeline.local.runtime.model import (
    STATE_FILE,
    AsyncConfig,
    FunctionConfig,
    MappingConfig,
)
from stream_pipeline.local.runtime.stats import Stats
from stream_pipeline.local.runtime.streams import MappingRunner, RunnerContext, StreamOptions

LOG = logging.getLogger("local_runtime")

LOOPBACK: Final = "127.0.0.1"

FAULT_FILE: Final = "faults.json"
LOG_FILE: Final = "runtime.log"
FUNCTION_LOG_DIR: Final = "functions"


class PortInUseError(RuntimeError):
    """The port is taken; ``str()`` says which and what to do."""


@dataclass(frozen=True, slots=True)
class RuntimeOptions:
    port: int
    state_dir: Path
    functions_dirs: tuple[Path, ...]
    regions: tuple[str, ...] = ("us-east-1",)
    poll_interval: float = 0.25
    config_interval: float = 2.0
    retry_delay: float = 0.2
    async_retry_delay: float = 1.0
    max_workers_per_function: int = 10
    faults: dict[str, FunctionFaults] = field(default_factory=dict)
    seed: int | None = None
    state_interval: float = 0.1


def _port_in_use_error(port: int, reason: object) -> PortInUseError:
    return PortInUseError(
        f"cannot listen on {LOOPBACK}:{port}: {reason} -- is another local runtime or moto "
        "server running? Stop it or pass another --port."
    )


def _check_port(port: int) -> None:
    """Fail fast, and readably: werkzeug would print its own message and exit its thread."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError as exc:
            raise _port_in_use_error(port, exc.strerror or exc) from exc


def _start_moto(port: int) -> Any:
    from moto.server import ThreadedMotoServer

    _check_port(port)

    class LoopbackMotoServer(ThreadedMotoServer):
        """moto's server, but a failed bind is reported instead of hanging ``start()``."""

        startup_error: OSError | None = None

        def _server_entry(self) -> None:
            try:
                super()._server_entry()
            except (OSError, SystemExit) as exc:  # werkzeug calls sys.exit(1) on a busy port
                self.startup_error = exc if isinstance(exc, OSError) else OSError(str(exc))
                self._server_ready_event.set()

    server = LoopbackMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
    server.start()
    if server.startup_error is not None:
        raise _port_in_use_error(port, server.startup_error.strerror or server.startup_error)
    return server


class LocalRuntime:
    def __init__(self, options: RuntimeOptions) -> None:
        self.options = options
        self.stats = Stats()
        self.started_at = time.time()
        self._stopped = threading.Event()
        self._stop_requested = threading.Event()
        self._server: Any = None
        self.port = options.port
        self.endpoint = ""
        self._runners: dict[str, MappingRunner] = {}
        self._mapping_problems: dict[str, dict[str, Any]] = {}
        self._functions: dict[str, FunctionConfig] = {}
        self._async_configs: dict[str, AsyncConfig] = {}
        self._subscriptions: list[dict[str, Any]] = []
        self._errors: dict[str, str] = {}
        self._generation = 0
        self._config_read_at = 0.0
        """When the last completed refresh began reading: it reflects every change made before."""
        self._refreshing = threading.Event()
        self._threads: list[threading.Thread] = []
        self.faults = FaultBook(options.faults, options.state_dir / FAULT_FILE)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self.options.state_dir.mkdir(parents=True, exist_ok=True)
        moto_patches.apply()
        self._server = _start_moto(self.options.port)
        self.port = int(self._server.get_host_and_port()[1])
        self.endpoint = f"http://{LOOPBACK}:{self.port}"
        self.clients = Clients(self.endpoint)
        self.invoker = Invoker(
            InvokerOptions(
                endpoint=self.endpoint,
                functions_dirs=tuple(str(d) for d in self.options.functions_dirs),
                log_dir=self.options.state_dir / FUNCTION_LOG_DIR,
                max_workers_per_function=self.options.max_workers_per_function,
                seed=self.options.seed,
            ),
            self.stats,
            self.faults,
        )
        self.async_invoker = AsyncInvoker(
            self.invoker,
            self.clients,
            self.stats,
            self._async_config,
            retry_delay=self.options.async_retry_delay,
            function_wait=max(2.0, 2 * self.options.config_interval),
        )
        HUB.sns_sink = self.async_invoker.submit_sns
        moto_patches.set_invoke_sink(self._invoke_sink)
        HUB.notify_config_changed()
        for target, name in ((self._config_loop, "config"), (self._state_loop, "state")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        LOG.info("local runtime listening on %s", self.endpoint)

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._stop_requested.set()
        HUB.sns_sink = None
        moto_patches.set_invoke_sink(None)
        HUB.config_changed.set()
        for runner in list(self._runners.values()):
            runner.stopped.set()
        if self._server is not None:
            self.async_invoker.stop()
            self.invoker.close()
        for runner in list(self._runners.values()):
            runner.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._server is not None:
            self._write_state(final=True)
            self._server.stop()
        LOG.info("local runtime stopped")

    def wait(self) -> None:
        """Until ``request_stop()`` (a signal handler may call it)."""
        while not self._stop_requested.wait(0.5):
            pass

    def request_stop(self) -> None:
        self._stop_requested.set()

    # ------------------------------------------------------------------ lambda:Invoke

    def _invoke_sink(
        self, function_arn: str, payload: bytes, invocation_type: str
    ) -> tuple[bytes, str | None]:
        try:
            event = json.loads(payload or b"{}")
        except ValueError:
            error = {
                "errorMessage": "Could not parse request body into json",
                "errorType": "InvalidRequestContentException",
            }
            return json.dumps(error).encode(), "Unhandled"
        if invocation_type == "Event":
            self.async_invoker.submit(function_arn, event)
            return b"", None
        self.invoker.wait_for_function(function_arn, max(2.0, 2 * self.options.config_interval))
        result = self.invoker.invoke(function_arn, event)
        return json.dumps(result.payload).encode("utf-8"), result.function_error

    # ------------------------------------------------------------------ configuration

    def _async_config(self, function_arn: str) -> AsyncConfig:
        return self._async_configs.get(function_arn, AsyncConfig())

    def _regions(self) -> list[str]:
        regions = set(self.options.regions)
        with contextlib.suppress(Exception):  # discovery is a convenience
            from moto.awslambda.models import lambda_backends

            for account in list(lambda_backends.keys()):
                for region in list(lambda_backends[account].keys()):
                    regions.add(str(region))
        return sorted(regions)

    def _config_loop(self) -> None:
        while not self._stopped.is_set():
            HUB.config_changed.wait(self.options.config_interval)
            if self._stopped.is_set():
                return
            self._refreshing.set()
            HUB.config_changed.clear()
            try:
                self.refresh()
            except Exception:
                LOG.exception("configuration refresh failed")
                self._errors["refresh"] = "configuration refresh failed (see runtime.log)"
            finally:
                self._refreshing.clear()

    def refresh(self) -> None:
        started = time.time()
        functions: dict[str, FunctionConfig] = {}
        async_configs: dict[str, AsyncConfig] = {}
        mappings: dict[str, MappingConfig] = {}
        subscriptions: list[dict[str, Any]] = []
        for region in self._regions():
            lam = self.clients.get("lambda", region)
            for page in lam.get_paginator("list_functions").paginate():
                for summary in page.get("Functions") or []:
                    try:
                        payload = lam.get_function_configuration(
                            FunctionName=summary["FunctionName"]
                        )
                    except ClientError:
                        continue  # deleted meanwhile
                    function = FunctionConfig.from_api(payload)
                    functions[function.arn] = function
                    async_configs[function.arn] = self._read_async_config(lam, function)
            for page in lam.get_paginator("list_event_source_mappings").paginate():
                for item in page.get("EventSourceMappings") or []:
                    mapping = MappingConfig.from_api(item)
                    mappings[mapping.uuid] = mapping
            sns = self.clients.get("sns", region)
            for page in sns.get_paginator("list_subscriptions").paginate():
                subscriptions += [
                    {key: item.get(key) for key in ("SubscriptionArn", "TopicArn", "Endpoint")}
                    for item in page.get("Subscriptions") or []
                    if item.get("Protocol") == "lambda"
                ]
        if self._stopped.is_set():
            return
        self.invoker.set_functions(list(functions.values()))
        self._functions = functions
        self._async_configs = async_configs
        self._subscriptions = subscriptions
        self._reconcile(mappings)
        for runner in list(self._runners.values()):
            runner.refresh_shards()
        self._generation += 1
        self._config_read_at = started

    def _read_async_config(self, lam: Any, function: FunctionConfig) -> AsyncConfig:
        try:
            return AsyncConfig.from_api(
                lam.get_function_event_invoke_config(FunctionName=function.arn)
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in ("ResourceNotFoundException", "404"):
                self._warn_once(
                    "event-invoke-config",
                    f"get_function_event_invoke_config unsupported ({code}): async invocations "
                    "use 2 retries and no destination",
                )
            return AsyncConfig()
        except BotoCoreError as exc:
            self._warn_once("event-invoke-config", f"get_function_event_invoke_config: {exc}")
            return AsyncConfig()

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._errors:
            LOG.warning("%s", message)
        self._errors[key] = message

    def _reconcile(self, mappings: dict[str, MappingConfig]) -> None:
        problems: dict[str, dict[str, Any]] = {}
        wanted: dict[str, tuple[MappingConfig, list[dict[str, Any]]]] = {}
        for uuid, config in mappings.items():
            if config.kind == "unsupported":
                problems[uuid] = {
                    "state": "Unsupported",
                    "event_source_arn": config.source_arn,
                    "error": "only Kinesis and DynamoDB stream mappings are run locally",
                    "blocks_drained": False,
                }
                continue
            try:
                filters = compile_patterns(config.filter_patterns) if config.filter_patterns else []
            except InvalidPatternError as exc:
                problems[uuid] = {
                    "state": "Invalid",
                    "event_source_arn": config.source_arn,
                    "error": str(exc),
                    "blocks_drained": config.enabled,
                }
                continue
            wanted[uuid] = (config, filters)
        for uuid in [uuid for uuid in self._runners if uuid not in wanted]:
            self._runners.pop(uuid).stop()
            LOG.info("mapping %s stopped", uuid)
        for uuid, (config, filters) in wanted.items():
            runner = self._runners.get(uuid)
            if runner is not None and (
                runner.config.parallelization_factor != config.parallelization_factor
                or runner.config.stream_arn != config.stream_arn
            ):
                resume = runner.positions()
                runner.stop()
                runner = None
                self._runners.pop(uuid)
            else:
                resume = None
            if runner is None:
                context = RunnerContext(
                    clients=self.clients,
                    invoker=self.invoker,
                    stats=self.stats,
                    options=StreamOptions(
                        poll_interval=self.options.poll_interval,
                        retry_delay=self.options.retry_delay,
                    ),
                    filters=filters,
                )
                self._runners[uuid] = MappingRunner(config, context, resume=resume)
                LOG.info(
                    "mapping %s started: %s -> %s", uuid, config.source_arn, config.function_arn
                )
            else:
                runner.update(config, filters)
        self._mapping_problems = problems

    # ------------------------------------------------------------------ state

    def drained(self) -> bool:
        if HUB.config_changed.is_set() or self._refreshing.is_set() or self._generation == 0:
            return False
        writes = HUB.writes
        if not all(runner.drained(writes) for runner in list(self._runners.values())):
            return False
        if any(problem["blocks_drained"] for problem in self._mapping_problems.values()):
            return False
        return self.async_invoker.pending == 0 and self.stats.in_flight == 0

    def snapshot(self) -> dict[str, Any]:
        computed_at = time.time()
        drained = self.drained()
        writes = HUB.writes
        mappings = {uuid: runner.status(writes) for uuid, runner in list(self._runners.items())}
        mappings.update(self._mapping_problems)
        errors = dict(self._errors)
        if self.faults.file_error:
            errors["faults.json"] = self.faults.file_error
        return {
            "pid": os.getpid(),
            "port": self.port,
            "endpoint": self.endpoint,
            "started_at": self.started_at,
            "computed_at": computed_at,
            "stopped": self._stopped.is_set(),
            "drained": drained,
            "config_generation": self._generation,
            "config_read_at": self._config_read_at,
            "async_pending": self.async_invoker.pending,
            "worker_pids": self.invoker.worker_pids(),
            "counters": self.stats.snapshot(),
            "functions": {
                function.name: {
                    "arn": function.arn,
                    "handler": function.handler,
                    "timeout": function.timeout,
                    "async": vars_of(self._async_config(function.arn)),
                }
                for function in self._functions.values()
            },
            "mappings": mappings,
            "sns_lambda_subscriptions": self._subscriptions,
            "errors": errors,
            "moto_warnings": list(HUB.warnings),
        }

    def _write_state(self, *, final: bool = False) -> None:
        state = self.snapshot()
        if final:
            state["stopped"] = True
            state["drained"] = False
        path = self.options.state_dir / STATE_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2, sort_keys=True, default=str))
        temporary.replace(path)

    def _state_loop(self) -> None:
        while not self._stopped.wait(self.options.state_interval):
            try:
                self._write_state()
            except Exception:
                LOG.exception("could not write the state file")


def vars_of(config: AsyncConfig) -> dict[str, Any]:
    return {
        "maximum_retry_attempts": config.maximum_retry_attempts,
        "maximum_event_age": config.maximum_event_age,
        "on_failure": config.on_failure,
        "on_success": config.on_success,
        "source": config.source,
    }
