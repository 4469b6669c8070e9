"""The runtime as a process: loopback only, a clear error on a busy port, the status and
wait-drained commands, and no worker outliving it."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from local_runtime_harness import Aws, RuntimeProcess, harness, runtime_environment

from tools.terraform_stage import REPO_ROOT


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stream_pipeline.local.runtime", *args],
        cwd=cwd,
        env=runtime_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_busy_port_is_a_clear_error(scratch: Path) -> None:
    """GIVEN something already listening on a loopback port
    WHEN the runtime is asked to serve on it
    THEN it exits with status 3 and says which port and how to choose another.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = _cli(
            "serve",
            "--port",
            str(port),
            "--state-dir",
            str(scratch / "state"),
            "--functions-dir",
            str(REPO_ROOT / "functions"),
            cwd=scratch,
        )

    assert result.returncode == 3
    assert f"127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr


def test_the_emulator_listens_on_loopback_only(runtime: RuntimeProcess) -> None:
    """GIVEN the running runtime
    WHEN its listening sockets are looked up in /proc/net/tcp
    THEN every socket on its port is bound to 127.0.0.1.
    """
    table = Path("/proc/net/tcp")
    if not table.exists():
        pytest.skip("no /proc/net/tcp on this system")
    port = f"{runtime.port:04X}"
    listening = [
        fields[1].split(":")[0]
        for fields in (line.split() for line in table.read_text().splitlines()[1:])
        if fields[1].endswith(f":{port}") and fields[3] == "0A"
    ]
    assert listening == ["0100007F"]


def test_status_and_wait_drained_commands(runtime: RuntimeProcess, scratch: Path) -> None:
    """GIVEN the running runtime
    WHEN `status` and `wait-drained` are run against its state directory
    THEN status prints the state (port, counters) and wait-drained exits 0.
    """
    status = _cli("status", "--state-dir", str(runtime.state_dir), cwd=scratch)
    drained = _cli(
        "wait-drained", "--state-dir", str(runtime.state_dir), "--timeout", "30", cwd=scratch
    )

    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    assert state["port"] == runtime.port
    assert "counters" in state
    assert drained.returncode == 0, drained.stderr


def test_workers_die_with_the_runtime_even_when_it_is_killed(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """GIVEN a second runtime with a warm worker
    WHEN the runtime process is killed with SIGKILL (no chance to clean up)
    THEN the worker notices and exits on its own: no orphan is left.
    """
    other = RuntimeProcess(root=tmp_path_factory.mktemp("killed-runtime")).start()
    try:
        with harness(other) as aws:
            function = aws.function(mode="echo")
            response = aws.awslambda.invoke(FunctionName=function, Payload=b"{}")
            assert "FunctionError" not in response
        assert other.leftover_processes(timeout=0)  # the warm worker is running
    finally:
        other.stop(sig=signal.SIGKILL)

    assert other.leftover_processes(timeout=10) == []


def test_the_runtime_log_and_function_logs_are_in_the_state_dir(aws: Aws) -> None:
    """GIVEN a function that prints
    WHEN it is invoked
    THEN its output is in <state-dir>/functions/<name>.log and the runtime logs to runtime.log.
    """
    function = aws.function(mode="echo")

    aws.awslambda.invoke(FunctionName=function, Payload=b'{"hello": 1}')

    assert (aws.runtime.state_dir / "runtime.log").stat().st_size > 0
    log = aws.runtime.state_dir / "functions" / f"{function}.log"
    assert "probe echo: 0 record(s)" in log.read_text()
