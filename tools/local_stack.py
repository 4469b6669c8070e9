"""Bring the whole pipeline up on this machine, and down again: the local runtime (moto's server
plus the event source mappings and Lambda execution it lacks) with ``environments/local`` applied
to it by Terraform.

    python -m tools.local_stack up      [--port N] [--root DIR]   # make local-up
    python -m tools.local_stack down    [--root DIR]              # make local-down
    python -m tools.local_stack status  [--root DIR]              # runtime, endpoint, outputs
    python -m tools.local_stack outputs [--root DIR] [-json]      # terraform output

Everything lives under ``--root`` (default ``build/local``), nothing in the source tree:

- ``runtime.pid``: the runtime's process id (``down`` stops exactly that process; the runtime
  stops its own workers); ``runtime.out`` / ``runtime.err``: its output;
- ``state/``: the runtime's state directory (``state.json``, ``runtime.log``, ``faults.json``);
- ``stack/``: a copy of ``environments/local`` (symlinks resolved) and ``modules/`` with the
  function zips in ``stack/build/``, plus ``backend_local.tf`` pointing the state at
  ``terraform.tfstate`` under the root. ``terraform -chdir=build/local/stack/environments/local
  output`` therefore works as for any other environment.

``up`` is idempotent: with the runtime alive it re-applies (a no-op plan when nothing changed);
with a dead or missing runtime it starts one and discards the old Terraform state (the emulator
keeps its data in memory: a new runtime starts empty). ``down`` is idempotent too.

Importable: :class:`LocalStack` (the end-to-end suite starts one per session on a free port).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

from tools import dependencies_layer, package
from tools.local_runtime.client import read_state
from tools.terraform_stage import REPO_ROOT, terraform_env

DEFAULT_ROOT: Final = REPO_ROOT / "build" / "local"
ENVIRONMENT_DIR: Final = REPO_ROOT / "environments" / "local"
DEFAULT_PORT: Final = 4566
RUNTIME_START_TIMEOUT: Final = 60.0
RUNTIME_STOP_TIMEOUT: Final = 30.0
PORT_IN_USE_EXIT: Final = 3
"""``python -m tools.local_runtime serve`` exits with this status when the port is taken."""
DUMMY_CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
}
_COPY_IGNORED = shutil.ignore_patterns(
    ".terraform", "*.tfstate", "*.tfstate.*", "tfplan", "__pycache__", "tests"
)


class StackError(RuntimeError):
    """The stack could not be brought up (or down); ``str()`` says why and what to do."""


def local_region() -> str:
    """``aws_region`` of environments/local/terraform.tfvars (the runtime reads that region)."""
    text = (ENVIRONMENT_DIR / "terraform.tfvars").read_text(encoding="utf-8")
    match = re.search(r'^\s*aws_region\s*=\s*"([^"]+)"', text, re.MULTILINE)
    return match.group(1) if match else "us-east-1"


# --------------------------------------------------------------------------- the stack


def _process_is_runtime(pid: int) -> bool:
    """``pid`` is alive and is a local runtime (not a recycled pid of something else)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError, IndexError):
        if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False  # a zombie child of ours: it has exited
    return b"tools.local_runtime" in cmdline and b"serve" in cmdline


def _runtime_environment() -> dict[str, str]:
    """The caller's environment without AWS settings that could point the runtime elsewhere."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key not in ("PYTHONPATH", "TABLE_NAME", "DLQ_URL")
    }
    environment.update(PYTHONPATH=str(REPO_ROOT), PYTHONDONTWRITEBYTECODE="1")
    return environment


@dataclass
class LocalStack:
    """The local runtime plus ``environments/local`` applied to it, all under ``root``."""

    root: Path = DEFAULT_ROOT
    port: int = DEFAULT_PORT
    """Requested loopback port; 0 picks a free one (``endpoint`` tells which)."""
    runtime_args: list[str] = field(default_factory=list)
    """Extra ``serve`` options (e.g. ``--poll-interval 0.05`` in tests)."""
    log: TextIO | None = None
    """Where Terraform's output goes (None: this process's stdout)."""
    _process: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ layout

    @property
    def pid_file(self) -> Path:
        return self.root / "runtime.pid"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def stack_dir(self) -> Path:
        return self.root / "stack"

    @property
    def terraform_dir(self) -> Path:
        return self.stack_dir / "environments" / "local"

    @property
    def tfstate(self) -> Path:
        return self.root / "terraform.tfstate"

    # ------------------------------------------------------------------ runtime

    def runtime_pid(self) -> int | None:
        """The recorded runtime's pid when that process is alive, else None."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _process_is_runtime(pid) else None

    @property
    def endpoint(self) -> str:
        state = read_state(self.state_dir)
        if state is None or not state.get("port"):
            msg = f"no local runtime state in {self.state_dir}: run `make local-up` first"
            raise StackError(msg)
        return f"http://127.0.0.1:{state['port']}"

    def start_runtime(self) -> bool:
        """Start the runtime unless the recorded one is alive; True when it was started."""
        if self.runtime_pid() is not None:
            return False
        self.root.mkdir(parents=True, exist_ok=True)
        # A new runtime starts empty: the old state (runtime and Terraform) describes nothing.
        shutil.rmtree(self.state_dir, ignore_errors=True)
        self.tfstate.unlink(missing_ok=True)
        self.tfstate.with_suffix(".tfstate.backup").unlink(missing_ok=True)
        command = [
            sys.executable,
            "-m",
            "tools.local_runtime",
            "serve",
            "--port",
            str(self.port),
            "--state-dir",
            str(self.state_dir),
            "--region",
            local_region(),
            *self.runtime_args,
        ]
        stderr_path = self.root / "runtime.err"
        with (self.root / "runtime.out").open("wb") as out, stderr_path.open("wb") as err:
            self._process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=_runtime_environment(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # survives `make local-up` and its terminal's Ctrl-C
            )
        self.pid_file.write_text(f"{self._process.pid}\n")
        deadline = time.monotonic() + RUNTIME_START_TIMEOUT
        while time.monotonic() < deadline:
            status = self._process.poll()
            if status is not None:
                self.pid_file.unlink(missing_ok=True)
                message = stderr_path.read_text(errors="replace").strip()
                if status == PORT_IN_USE_EXIT:
                    raise StackError(f"{message}\n(set LOCAL_PORT=<another port>)")
                msg = f"the local runtime exited with status {status}:\n{message}"
                raise StackError(msg)
            state = read_state(self.state_dir)
            if state is not None and state.get("config_generation", 0) >= 1:
                return True
            time.sleep(0.05)
        self.stop_runtime()
        msg = f"the local runtime did not start within {RUNTIME_START_TIMEOUT:.0f} s"
        raise StackError(msg)

    def stop_runtime(self) -> bool:
        """SIGTERM the recorded runtime and wait for it; True when one was running."""
        pid = self.runtime_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + RUNTIME_STOP_TIMEOUT
        while self._alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if self._alive(pid):
            os.kill(pid, signal.SIGKILL)  # its workers exit on their own once it is gone
            while self._alive(pid):
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True

    def _alive(self, pid: int) -> bool:
        if self._process is not None and self._process.pid == pid:
            return self._process.poll() is None  # our child: reap it
        return _process_is_runtime(pid)

    def worker_pids(self) -> list[int]:
        state = read_state(self.state_dir) or {}
        return [int(pid) for pid in state.get("worker_pids") or []]

    # ------------------------------------------------------------------ terraform

    def stage(self) -> Path:
        """Copy environments/local and modules/ under ``stack/`` (Terraform's working dir)."""
        (self.stack_dir / "environments").mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.stack_dir / "modules", ignore_errors=True)
        shutil.copytree(REPO_ROOT / "modules", self.stack_dir / "modules", ignore=_COPY_IGNORED)
        for name in package.function_names():
            package.build(name, self.stack_dir / "build")
        dependencies_layer.link_into(self.stack_dir / "build")
        # Keep .terraform (providers, backend) across re-applies; replace every other file.
        self.terraform_dir.mkdir(exist_ok=True)
        for path in self.terraform_dir.iterdir():
            if path.is_file():
                path.unlink()
        for source in ENVIRONMENT_DIR.iterdir():
            wanted = source.suffix in (".tf", ".tfvars") or source.name == ".terraform.lock.hcl"
            if source.is_file() and wanted:
                shutil.copyfile(source.resolve(), self.terraform_dir / source.name)
        (self.terraform_dir / "backend_local.tf").write_text(
            "# Written by tools/local_stack.py: the state lives outside this copy.\n"
            'terraform {\n  backend "local" {\n'
            f"    path = {json.dumps(str(self.tfstate))}\n"
            "  }\n}\n"
        )
        return self.terraform_dir

    def terraform(self, *args: str, capture: bool = False) -> str:
        command = ["terraform", f"-chdir={self.terraform_dir}", *args]
        stdout: Any = subprocess.PIPE if capture else (self.log or None)
        result = subprocess.run(
            command,
            env=terraform_env(),
            stdout=stdout,
            stderr=subprocess.PIPE if capture else subprocess.STDOUT,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            detail = result.stderr if capture else "(see its output above)"
            msg = f"{' '.join(command)} failed (exit {result.returncode}) {detail}"
            raise StackError(msg)
        return result.stdout if capture else ""

    def apply(self) -> None:
        self.stage()
        self.terraform("init", "-input=false", "-no-color")
        self.terraform(
            "apply",
            "-input=false",
            "-auto-approve",
            "-no-color",
            "-compact-warnings",
            f"-var=local_endpoint={self.endpoint}",
        )

    def outputs(self) -> dict[str, Any]:
        if not self.tfstate.exists():
            msg = f"no Terraform state in {self.tfstate}: run `make local-up` first"
            raise StackError(msg)
        document = json.loads(self.terraform("output", "-json", capture=True))
        return {name: value["value"] for name, value in document.items()}

    # ------------------------------------------------------------------ up / down

    def up(self) -> dict[str, Any]:
        started = self.start_runtime()
        how = "started" if started else "already running"
        self._say(f"local runtime {how} (pid {self.runtime_pid()}) at {self.endpoint}")
        try:
            self.apply()
        except BaseException:
            if started:
                self.stop_runtime()
            raise
        return self.outputs()

    def down(self) -> bool:
        stopped = self.stop_runtime()
        shutil.rmtree(self.root, ignore_errors=True)
        return stopped

    def _say(self, text: str) -> None:
        print(text, file=self.log or sys.stdout, flush=True)


def client_kwargs(endpoint: str, region: str | None = None) -> dict[str, Any]:
    """boto3 ``client(...)`` keyword arguments for the local stack (dummy credentials)."""
    return {
        "endpoint_url": endpoint,
        "region_name": region or local_region(),
        "aws_access_key_id": DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


def describe(stack: LocalStack, outputs: dict[str, Any]) -> str:
    endpoint = stack.endpoint
    lines = [
        f"local stack up: endpoint {endpoint} (dummy credentials, region {local_region()})",
        f"  stream_name        {outputs.get('stream_name')}",
        f"  results_table_name {outputs.get('results_table_name')}",
        f"  dlq_url            {outputs.get('dlq_url')}",
        f"  e-mail notifier    {outputs.get('email_notifier_function_name') or '-'} "
        "(SES in the emulator counts its e-mails: get_send_quota)",
        f"  runtime pid {stack.runtime_pid()} ({stack.pid_file}), state {stack.state_dir}",
        f"  outputs: terraform -chdir={relative(stack.terraform_dir)} output",
        "  stop it: make local-down",
    ]
    return "\n".join(lines)


def relative(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(REPO_ROOT))
    return str(path)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.local_stack",
        description="The local runtime with environments/local applied to it.",
    )
    parser.add_argument(
        "--root", type=Path, default=DEFAULT_ROOT, help="where pid, state and Terraform live"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the runtime (unless running) and apply")
    up.add_argument("--port", type=int, default=DEFAULT_PORT, help="loopback port (0: any)")
    commands.add_parser("down", help="stop the runtime started by `up`, remove the root")
    commands.add_parser("status", help="is it up; endpoint, outputs, counters")
    outputs = commands.add_parser("outputs", help="terraform output of the local stack")
    outputs.add_argument("-json", dest="as_json", action="store_true", help="as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    stack = LocalStack(root=args.root.resolve(), port=getattr(args, "port", DEFAULT_PORT))
    try:
        if args.command == "up":
            started = time.monotonic()
            outputs = stack.up()
            print(describe(stack, outputs))
            print(f"  (local-up took {time.monotonic() - started:.0f} s)")
        elif args.command == "down":
            stopped = stack.down()
            print("local runtime stopped" if stopped else "no local runtime was running")
            print(f"removed {relative(stack.root)}")
        elif args.command == "status":
            pid = stack.runtime_pid()
            if pid is None:
                print("local stack is down (make local-up)")
                return 1
            print(describe(stack, stack.outputs()))
            state = read_state(stack.state_dir) or {}
            print(f"  drained: {state.get('drained')}")
            print(f"  counters: {json.dumps(state.get('counters', {}).get('global', {}))}")
        elif args.command == "outputs":
            outputs = stack.outputs()
            if args.as_json:
                print(json.dumps({k: {"value": v} for k, v in outputs.items()}, indent=2))
            else:
                for name, value in sorted(outputs.items()):
                    print(f"{name} = {json.dumps(value)}")
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
