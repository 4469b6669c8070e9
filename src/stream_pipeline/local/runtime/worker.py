"""One warm "container" of a Lambda function: a process that imports the handler once and runs it
for every invocation the runtime sends (standard library only, until the handler is imported).

Launched by ``invoker.py`` as ``python -P worker.py`` with the functions directories on
``PYTHONPATH``, as the Lambda runtime puts the task root on the import path. Protocol: one JSON
document per line on stdin (``init`` with the handler and an optional seed first, then
``invoke``), a ``ready`` line once the handler is imported, then one answer per invocation, on
the *original* stdout, which is kept as a private pipe; file
descriptor 1 is pointed at stderr (the function's log file), so the handler's prints and
Powertools' log lines never mix with the protocol.

The process ends when stdin closes, and on its own when its parent (the runtime) disappears.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import sys
import threading
import time
import traceback
from typing import Any, BinaryIO

CRASH_EXIT_STATUS = 70
_throttle_percent = 0.0
_random = random.Random()  # noqa: S311 -- fault injection, not cryptography


class LambdaContext:
    """The context object of the Python runtime (the attributes Powertools and handlers use)."""

    def __init__(self, info: dict[str, Any], deadline_ms: float) -> None:
        self.function_name: str = info["function_name"]
        self.function_version: str = "$LATEST"
        self.invoked_function_arn: str = info["invoked_function_arn"]
        # The Python runtime reads it from AWS_LAMBDA_FUNCTION_MEMORY_SIZE: a string.
        self.memory_limit_in_mb: str = str(info["memory_limit_in_mb"])
        self.aws_request_id: str = info["aws_request_id"]
        self.log_group_name: str = f"/aws/lambda/{self.function_name}"
        self.log_stream_name: str = info.get("log_stream_name", "local")
        self.identity: Any = None
        self.client_context: Any = None
        self.tenant_id: str | None = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def _throttle_dynamodb(**_kwargs: Any) -> Any:
    if _throttle_percent <= 0 or _random.random() * 100 >= _throttle_percent:
        return None
    from botocore.awsrequest import AWSResponse

    error = {
        "Code": "ProvisionedThroughputExceededException",
        "Message": "throttled by the local runtime (fault throttle-dynamodb)",
    }
    http = AWSResponse("http://dynamodb.local-runtime", 400, {}, None)
    return http, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}


def _install_botocore_hook() -> None:
    """Every botocore client created from now on gets the throttling hook (off until asked)."""
    try:
        import botocore.session
    except ImportError:
        return
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        client.meta.events.register("before-call.dynamodb", _throttle_dynamodb)
        return client

    botocore.session.Session.create_client = create_client


def _error(exc: BaseException, request_id: str) -> dict[str, Any]:
    frames = traceback.extract_tb(exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": [line.rstrip("\n") for line in traceback.format_list(frames)],
    }


def _load(handler: str) -> tuple[Any, dict[str, Any] | None]:
    module_name, _, attribute = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        function = getattr(module, attribute)
    except Exception as exc:
        error = _error(exc, "")
        error["errorType"] = "Runtime.ImportModuleError"
        error["errorMessage"] = f"Unable to import module '{module_name}': {exc}"
        return None, error
    return function, None


def _send(out: BinaryIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message).encode("utf-8") + b"\n")
    out.flush()


def _invoke(
    out: BinaryIO, handler: Any, init_error: dict[str, Any] | None, request: dict[str, Any]
) -> None:
    global _throttle_percent
    _throttle_percent = float(request.get("throttle_dynamodb") or 0)
    ident = request["id"]
    context = LambdaContext(request["context"], float(request["deadline_ms"]))
    request_id = context.aws_request_id
    if init_error is not None:
        _send(out, {"id": ident, "ok": False, "error": init_error, "fatal": True})
        return
    fault = request.get("fault")
    if fault == "raise":
        message = f"injected by the local runtime (fault raise-on-invocation) {request_id}"
        error = {"errorMessage": message, "errorType": "InjectedFault", "requestId": request_id}
        _send(out, {"id": ident, "ok": False, "error": error})
        return
    try:
        result = handler(request["event"], context)
        payload = json.loads(json.dumps(result))
    except SystemExit as exc:
        error = _error(exc, request_id)
        error["errorType"] = "Runtime.ExitError"
        _send(out, {"id": ident, "ok": False, "error": error, "fatal": True})
        sys.stdout.flush()
        os._exit(exc.code if isinstance(exc.code, int) else 1)
    except (TypeError, ValueError) as exc:
        if "result" in locals():
            error = {
                "errorMessage": f"Unable to marshal response: {exc}",
                "errorType": "Runtime.MarshalError",
                "requestId": request_id,
            }
        else:
            error = _error(exc, request_id)
        _send(out, {"id": ident, "ok": False, "error": error})
        return
    except Exception as exc:
        _send(out, {"id": ident, "ok": False, "error": _error(exc, request_id)})
        return
    if fault == "crash":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(CRASH_EXIT_STATUS)
    _send(out, {"id": ident, "ok": True, "result": payload})


def main() -> int:
    protocol_in = sys.stdin.buffer
    sys.stdout.flush()
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()

    # The handler imports from the functions directories: the invoker puts them on PYTHONPATH
    # and starts this script with -P (this file's directory is not importable).
    first = protocol_in.readline()
    if not first:
        return 0
    init = json.loads(first)
    if init.get("seed") is not None:
        _random.seed(init["seed"])
    _install_botocore_hook()
    handler, init_error = _load(init["handler"])
    # The Init phase is over (imports done, or failed): Lambda starts the invocation's timeout
    # only now.
    _send(protocol_out, {"type": "ready"})

    for line in protocol_in:
        if line.strip():
            _invoke(protocol_out, handler, init_error, json.loads(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
