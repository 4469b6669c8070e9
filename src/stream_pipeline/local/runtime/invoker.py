"""Runs handlers in worker processes: a pool of warm "containers" per function.

A worker is started on demand (cold start: it imports the handler), reused while warm, and
replaced when it crashes, times out, or the function's configuration changes. A handler
exception, a timeout (the worker is killed, as Lambda restarts the runtime) and a worker that
exits mid-invocation are all function errors (``Unhandled``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from stream_pipeline.local.runtime.faults import Directive, FaultBook
from stream_pipeline.local.runtime.model import FunctionConfig
from stream_pipeline.local.runtime.stats import Stats

LOG = logging.getLogger("local_runtime.invoker")

WORKER_SCRIPT: Final = Path(__file__).with_name("worker.py")
WORKER_RUNTIME: Final = f"python{sys.version_info.major}.{sys.version_info.minor}"
"""The Lambda runtime the workers are: they run on this interpreter (the project's one Python)."""
UNHANDLED: Final = "Unhandled"
_EXITED: Final = object()
INIT_TIMEOUT_SECONDS: Final = 10.0
"""Lambda's limit on a function's Init phase; its timeout applies to the invocation after it."""


@dataclass(frozen=True, slots=True)
class InvokerOptions:
    endpoint: str
    functions_dirs: tuple[str, ...]
    log_dir: Path
    max_workers_per_function: int = 10
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class Invocation:
    request_id: str
    function_error: str | None
    """None on success, ``Unhandled`` when the function failed (error, timeout, crash)."""
    payload: Any
    """The handler's return value, or the error document."""
    outcome: str
    """``success``, ``error``, ``timeout``, ``crash`` or ``init-error``."""

    @property
    def ok(self) -> bool:
        return self.function_error is None


class Worker:
    def __init__(self, function: FunctionConfig, options: InvokerOptions) -> None:
        self.function = function
        self.fingerprint = function.fingerprint
        options.log_dir.mkdir(parents=True, exist_ok=True)
        self._log: IO[bytes] = (options.log_dir / f"{function.name}.log").open("ab")
        self.process = subprocess.Popen(
            # -P: the worker's own directory stays off the handler's import path.
            [sys.executable, "-P", str(WORKER_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=worker_environment(function, options),
            cwd=options.functions_dirs[0],
            start_new_session=True,
        )
        self._replies: queue.Queue[Any] = queue.Queue()
        threading.Thread(target=self._read, name=f"worker-{self.process.pid}", daemon=True).start()
        self._send(
            {"type": "init", "handler": function.handler}
            | ({"seed": options.seed} if options.seed is not None else {})
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with contextlib.suppress(ValueError):
                self._replies.put(json.loads(line))
        self._replies.put(_EXITED)

    def _send(self, message: dict[str, Any]) -> bool:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(message).encode("utf-8") + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        return True

    def wait_ready(self, timeout: float) -> bool:
        """Wait for the end of the worker's Init phase (its ``ready``); False after ``timeout``
        or when it exited (then the invocation that follows sees the exit)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self._replies.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return False
            if reply is _EXITED:
                self._replies.put(_EXITED)
                return False
            if isinstance(reply, dict) and reply.get("type") == "ready":
                return True

    def call(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | str:
        """The worker's answer, or ``"timeout"`` / ``"exit"``."""
        if not self._send(request):
            return "exit"
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self._replies.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return "timeout"
            if reply is _EXITED:
                return "exit"
            if isinstance(reply, dict) and reply.get("id") == request["id"]:
                return reply

    def exit_status(self) -> int | None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            return self.process.wait(timeout=2)
        return None

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                if self.process.stdin is not None:
                    self.process.stdin.close()
            try:
                self.process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._log.close()


def worker_environment(function: FunctionConfig, options: InvokerOptions) -> dict[str, str]:
    """The function's configured environment, plus what the Lambda runtime would set, plus the
    emulator endpoint and dummy credentials. Nothing leaks from the runtime's own environment."""
    region = function.region
    environment = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 -- only a fallback
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        **function.environment,
        "AWS_ENDPOINT_URL": options.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local-runtime",
        "LAMBDA_TASK_ROOT": options.functions_dirs[0],
        "PYTHONPATH": os.pathsep.join(options.functions_dirs),
        "_HANDLER": function.handler,
        # There is no X-Ray daemon locally.
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_XRAY_SDK_ENABLED": "false",
    }
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        environment.pop(name, None)
    return environment


class FunctionPool:
    """The warm workers of one function (at most ``max_workers`` at a time)."""

    def __init__(self, function: FunctionConfig, options: InvokerOptions) -> None:
        self.function = function
        self._options = options
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._condition = threading.Condition()
        self._closed = False

    def update(self, function: FunctionConfig) -> None:
        with self._condition:
            self.function = function
            stale = [w for w in self._idle if w.fingerprint != function.fingerprint]
            self._idle = [w for w in self._idle if w.fingerprint == function.fingerprint]
        for worker in stale:
            worker.stop()

    def acquire(self) -> tuple[Worker, bool]:
        """A warm worker, or a new one (cold start: True)."""
        with self._condition:
            while True:
                if self._closed:
                    msg = f"function {self.function.name} is being shut down"
                    raise RuntimeError(msg)
                if self._idle:
                    worker = self._idle.pop()
                    self._busy.add(worker)
                    return worker, False
                if len(self._busy) < self._options.max_workers_per_function:
                    break
                self._condition.wait()
            function = self.function
        worker = Worker(function, self._options)
        with self._condition:
            self._busy.add(worker)
        return worker, True

    def release(self, worker: Worker, *, reusable: bool) -> None:
        with self._condition:
            self._busy.discard(worker)
            keep = reusable and not self._closed
            keep = keep and worker.fingerprint == self.function.fingerprint
            if keep:
                self._idle.append(worker)
            self._condition.notify()
        if not keep:
            worker.stop()

    def pids(self) -> list[int]:
        with self._condition:
            return sorted(w.pid for w in [*self._idle, *self._busy] if w.process.poll() is None)

    def close(self) -> None:
        with self._condition:
            self._closed = True
            workers = [*self._idle, *self._busy]
            self._idle = []
            self._condition.notify_all()
        for worker in workers:
            worker.kill()


class Invoker:
    def __init__(self, options: InvokerOptions, stats: Stats, faults: FaultBook) -> None:
        self.options = options
        self._stats = stats
        self._faults = faults
        self._pools: dict[str, FunctionPool] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._invocations: dict[str, int] = {}
        self._closed = False

    def set_functions(self, functions: Sequence[FunctionConfig]) -> None:
        with self._lock:
            if self._closed:
                return
            known = {function.arn: function for function in functions}
            for arn, function in known.items():
                pool = self._pools.get(arn)
                if pool is None:
                    self._pools[arn] = FunctionPool(function, self.options)
                else:
                    pool.update(function)
            gone = [arn for arn in self._pools if arn not in known]
            removed = [self._pools.pop(arn) for arn in gone]
        for pool in removed:
            pool.close()

    def function(self, arn: str) -> FunctionConfig | None:
        with self._lock:
            pool = self._pools.get(arn)
            return pool.function if pool is not None else None

    def wait_for_function(self, arn: str, timeout: float) -> FunctionConfig | None:
        """A function created a moment ago is known after the next configuration refresh."""
        deadline = time.monotonic() + timeout
        while True:
            function = self.function(arn)
            if function is not None or time.monotonic() >= deadline or self._closed:
                return function
            time.sleep(0.05)

    def worker_pids(self) -> list[int]:
        with self._lock:
            pools = list(self._pools.values())
        return sorted(pid for pool in pools for pid in pool.pids())

    def _next_invocation(self, name: str) -> int:
        with self._lock:
            number = self._invocations.get(name, 0) + 1
            self._invocations[name] = number
            return number

    def invoke(self, function_arn: str, event: Any, *, batch_key: str | None = None) -> Invocation:
        with self._lock:
            pool = self._pools.get(function_arn)
        request_id = str(uuid.uuid4())
        if pool is None:
            error = {
                "errorMessage": f"Function not found: {function_arn}",
                "errorType": "ResourceNotFoundException",
            }
            return Invocation(request_id, UNHANDLED, error, "init-error")
        function = pool.function
        if function.runtime and function.runtime != WORKER_RUNTIME:
            # Running it anyway would test the function on another Python than it deploys on.
            error = {
                "errorMessage": f"{function.name} declares {function.runtime}; the local runtime "
                f"runs {WORKER_RUNTIME} only (its interpreter, the project's .python-version)",
                "errorType": "Runtime.UnsupportedRuntime",
            }
            return Invocation(request_id, UNHANDLED, error, "init-error")
        number = self._next_invocation(function.name)
        directive = self._faults.directive(function.name, number, batch_key)
        self._stats.invocation_started()
        try:
            return self._run(pool, function, event, request_id, directive)
        finally:
            self._stats.invocation_finished()

    def _run(
        self,
        pool: FunctionPool,
        function: FunctionConfig,
        event: Any,
        request_id: str,
        directive: Directive,
    ) -> Invocation:
        name = function.name
        try:
            worker, cold = pool.acquire()
        except (OSError, RuntimeError) as exc:  # cannot start a worker, or shutting down
            self._stats.count("function_errors", function=name)
            error = {"errorType": "Runtime.Unavailable", "errorMessage": str(exc)}
            return Invocation(request_id, UNHANDLED, error, "crash")
        if cold:
            self._stats.count("worker_starts", function=name)
            # As in Lambda, the function's timeout starts after the Init phase (the handler's
            # imports), which has a limit of its own; an Init that outlasts it goes on inside
            # the invocation, as Lambda then re-runs it there.
            worker.wait_ready(INIT_TIMEOUT_SECONDS)
        self._stats.count("invocations", function=name)
        deadline = time.time() + function.timeout
        request = {
            "type": "invoke",
            "id": next(self._ids),
            "event": event,
            "deadline_ms": deadline * 1000,
            "fault": directive.action,
            "throttle_dynamodb": directive.throttle_dynamodb,
            "context": {
                "function_name": name,
                "invoked_function_arn": function.arn,
                "memory_limit_in_mb": function.memory,
                "aws_request_id": request_id,
            },
        }
        reply = worker.call(request, function.timeout)
        if reply == "timeout":
            worker.kill()
            pool.release(worker, reusable=False)
            self._stats.count("timeouts", function=name)
            self._stats.count("function_errors", function=name)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            message = f"{stamp} {request_id} Task timed out after {function.timeout:.2f} seconds"
            LOG.warning("%s: %s", name, message)
            return Invocation(request_id, UNHANDLED, {"errorMessage": message}, "timeout")
        if not isinstance(reply, dict):
            status = worker.exit_status()
            pool.release(worker, reusable=False)
            self._stats.count("worker_crashes", function=name)
            self._stats.count("function_errors", function=name)
            message = (
                f"RequestId: {request_id} Error: Runtime exited with error: exit status {status}"
            )
            LOG.warning("%s: %s", name, message)
            error = {"errorType": "Runtime.ExitError", "errorMessage": message}
            return Invocation(request_id, UNHANDLED, error, "crash")
        fatal = bool(reply.get("fatal"))
        pool.release(worker, reusable=not fatal)
        if reply.get("ok"):
            return Invocation(request_id, None, reply.get("result"), "success")
        self._stats.count("function_errors", function=name)
        error = reply.get("error") or {}
        LOG.info(
            "%s: function error %s: %s", name, error.get("errorType"), error.get("errorMessage")
        )
        outcome = "init-error" if error.get("errorType") == "Runtime.ImportModuleError" else "error"
        return Invocation(request_id, UNHANDLED, error, outcome)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pools = list(self._pools.values())
            self._pools = {}
        for pool in pools:
            pool.close()
