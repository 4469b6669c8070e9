"""The local runtime with a checkout's ``environments/local`` (or another root) applied to it
by Terraform (see docs/local.md); its command line is :mod:`stream_pipeline.local.stack_cli`.

Importable: :class:`LocalStack` (the end-to-end suite starts one per session on a free port).
"""

from __future__ import annotations

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

from stream_pipeline.local.runtime.client import read_state

ENVIRONMENT: Final = Path("environments") / "local"
"""The local environment, relative to a checkout of the repository."""
DEFAULT_ROOT: Final = Path("build") / "local"
"""Pid, state, Terraform working copy and state: relative to the checkout."""
DEFAULT_BUILD_DIR: Final = Path("build")
"""The function zips (``make package``): relative to the checkout."""
RUNTIME_MODULE: Final = "stream_pipeline.local.runtime"
DEFAULT_PORT: Final = 4566
RUNTIME_START_TIMEOUT: Final = 60.0
RUNTIME_STOP_TIMEOUT: Final = 30.0
PORT_IN_USE_EXIT: Final = 3
"""``python -m stream_pipeline.local.runtime serve`` exits with this status when the port is
taken."""
DUMMY_CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
}
SHARED_SOURCES: Final = Path("src") / "stream_pipeline"
"""What a consumer packaged from a source folder zips with it (modules/stream-consumer hashes
it at plan time): copied next to modules/."""
LOCAL_ENDPOINT_VARIABLE: Final = "local_endpoint"
"""A root declaring this variable (environments/local) points its provider at the runtime
itself; any other root gets a provider override file (:data:`PROVIDER_OVERRIDE`)."""
PROVIDER_OVERRIDE: Final = "zz_local_runtime_override.tf"
_OVERRIDDEN_SERVICES: Final = (
    "cloudwatch",
    "dynamodb",
    "iam",
    "kinesis",
    "kms",
    "lambda",
    "logs",
    "s3",
    "sesv2",
    "sns",
    "sqs",
    "sts",
)
_COPY_IGNORED = shutil.ignore_patterns(
    ".terraform", "*.tfstate", "*.tfstate.*", "tfplan", "__pycache__", "tests"
)


class StackError(RuntimeError):
    """The stack could not be brought up (or down); ``str()`` says why and what to do."""


def require_checkout(checkout: Path) -> Path:
    """``checkout`` when it holds the repository's environments/local, modules/, functions/
    and src/stream_pipeline; else StackError saying so."""
    missing = [
        str(part)
        for part in (
            ENVIRONMENT / "terraform.tfvars",
            Path("modules"),
            Path("functions"),
            SHARED_SOURCES,
        )
        if not (checkout / part).exists()
    ]
    if missing:
        msg = (
            f"{checkout} is not a checkout of terraform-aws-stream-pipeline (no "
            f"{', '.join(missing)}): run this from the repository's root, or pass --checkout DIR"
        )
        raise StackError(msg)
    return checkout


def local_region(checkout: Path | None = None) -> str:
    """``aws_region`` of environments/local/terraform.tfvars (the runtime reads that region)."""
    tfvars = (checkout or Path.cwd()) / ENVIRONMENT / "terraform.tfvars"
    try:
        text = tfvars.read_text(encoding="utf-8")
    except OSError:
        return "us-east-1"
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
    return RUNTIME_MODULE.encode() in cmdline and b"serve" in cmdline


def _runtime_environment() -> dict[str, str]:
    """The caller's environment without AWS settings that could point the runtime elsewhere."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key not in ("PYTHONPATH", "TABLE_NAME", "DLQ_URL")
    }
    environment.update(PYTHONDONTWRITEBYTECODE="1")
    return environment


def terraform_environment(checkout: Path) -> dict[str, str]:
    """The caller's environment for Terraform, non-interactive; the provider installation of
    ``build/terraform.rc`` (written by the Makefile) unless TF_CLI_CONFIG_FILE is set."""
    environment = dict(os.environ)
    environment.update(
        TF_IN_AUTOMATION="1", TF_INPUT="0", CHECKPOINT_DISABLE="1", AWS_EC2_METADATA_DISABLED="true"
    )
    environment.pop("TF_LOG", None)
    cli_config = checkout / "build" / "terraform.rc"
    if "TF_CLI_CONFIG_FILE" not in environment and cli_config.is_file():
        environment["TF_CLI_CONFIG_FILE"] = str(cli_config)
    return environment


def _link_or_copy(source: Path, target: Path) -> None:
    """Hard-link (the layer zip is tens of MB), or copy across file systems."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def provider_override(endpoint: str, region: str) -> str:
    """An override file pointing a root's ``aws`` provider at the local runtime (Terraform
    merges it into the root's own provider block)."""
    endpoints = "\n".join(f"    {name} = {json.dumps(endpoint)}" for name in _OVERRIDDEN_SERVICES)
    return (
        "# Written by stream-pipeline local up: this copy of the root talks to the local runtime.\n"
        'provider "aws" {\n'
        f"  region                      = {json.dumps(region)}\n"
        '  access_key                  = "test"\n'
        '  secret_key                  = "test"\n'
        "  skip_credentials_validation = true\n"
        "  skip_metadata_api_check     = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_region_validation      = true\n"
        "  s3_use_path_style           = true\n"
        f"  endpoints {{\n{endpoints}\n  }}\n"
        "}\n"
    )


@dataclass
class LocalStack:
    """The local runtime plus a Terraform root (``environments/local`` by default) applied to
    it, all under ``root``.

    ``checkout``: the repository (environments/local, modules/, functions/; default the working
    directory); ``root`` defaults to its build/local (build/local-<terraform root> for another
    root), ``build_dir`` (the function zips of ``make package``) to its build/.
    ``terraform_root``: the root module to apply, inside the checkout (its module sources are
    relative to it), e.g. ``examples/orders``. ``functions_dirs``: more folders the runtime
    imports handler packages from, after the checkout's functions/ (a team's own, e.g.
    ``examples/orders/functions``)."""

    root: Path | None = None
    port: int = DEFAULT_PORT
    """Requested loopback port; 0 picks a free one (``endpoint`` tells which)."""
    runtime_args: list[str] = field(default_factory=list)
    """Extra ``serve`` options (e.g. ``--poll-interval 0.05`` in tests)."""
    log: TextIO | None = None
    """Where Terraform's output goes (None: this process's stdout)."""
    checkout: Path = field(default_factory=Path.cwd)
    build_dir: Path | None = None
    terraform_env: dict[str, str] | None = None
    """Terraform's environment (default: :func:`terraform_environment`)."""
    terraform_root: Path = ENVIRONMENT
    functions_dirs: list[Path] = field(default_factory=list)
    _process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.checkout = self.checkout.resolve()
        root_module = self.terraform_root
        if not root_module.is_absolute():
            root_module = self.checkout / root_module
        try:
            self.terraform_root = root_module.resolve().relative_to(self.checkout)
        except ValueError:
            msg = (
                f"the Terraform root {self.terraform_root} is not inside the checkout "
                f"{self.checkout}: its module sources are relative to the repository"
            )
            raise StackError(msg) from None
        default_root = DEFAULT_ROOT
        if self.terraform_root != ENVIRONMENT:
            default_root = DEFAULT_ROOT.with_name("local-" + "-".join(self.terraform_root.parts))
        self.root = (self.root or self.checkout / default_root).resolve()
        self.build_dir = (self.build_dir or self.checkout / DEFAULT_BUILD_DIR).resolve()
        self.functions_dirs = [
            (d if d.is_absolute() else self.checkout / d).resolve() for d in self.functions_dirs
        ]

    @property
    def base(self) -> Path:
        assert self.root is not None  # set by __post_init__
        return self.root

    # ------------------------------------------------------------------ layout

    @property
    def pid_file(self) -> Path:
        return self.base / "runtime.pid"

    @property
    def state_dir(self) -> Path:
        return self.base / "state"

    @property
    def stack_dir(self) -> Path:
        return self.base / "stack"

    @property
    def terraform_dir(self) -> Path:
        return self.stack_dir / self.terraform_root

    def _declares_local_endpoint(self) -> bool:
        pattern = re.compile(rf'variable\s+"{LOCAL_ENDPOINT_VARIABLE}"')
        return any(
            pattern.search(path.read_text(encoding="utf-8"))
            for path in (self.checkout / self.terraform_root).glob("*.tf")
        )

    @property
    def tfstate(self) -> Path:
        return self.base / "terraform.tfstate"

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
            msg = (
                f"no local runtime state in {self.state_dir}: run `stream-pipeline local up` first"
            )
            raise StackError(msg)
        return f"http://127.0.0.1:{state['port']}"

    def start_runtime(self) -> bool:
        """Start the runtime unless the recorded one is alive; True when it was started."""
        if self.runtime_pid() is not None:
            return False
        require_checkout(self.checkout)
        self.base.mkdir(parents=True, exist_ok=True)
        # A new runtime starts empty: the old state (runtime and Terraform) describes nothing.
        shutil.rmtree(self.state_dir, ignore_errors=True)
        self.tfstate.unlink(missing_ok=True)
        self.tfstate.with_suffix(".tfstate.backup").unlink(missing_ok=True)
        command = [
            sys.executable,
            "-m",
            RUNTIME_MODULE,
            "serve",
            "--port",
            str(self.port),
            "--state-dir",
            str(self.state_dir),
            "--functions-dir",
            str(self.checkout / "functions"),
            *[arg for d in self.functions_dirs for arg in ("--functions-dir", str(d))],
            "--region",
            local_region(self.checkout),
            *self.runtime_args,
        ]
        stderr_path = self.base / "runtime.err"
        with (self.base / "runtime.out").open("wb") as out, stderr_path.open("wb") as err:
            self._process = subprocess.Popen(
                command,
                cwd=self.checkout,
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
        """Copy the Terraform root, modules/, src/stream_pipeline and the function zips under
        ``stack/`` (the root's copy is Terraform's working dir)."""
        checkout = require_checkout(self.checkout)
        source_root = checkout / self.terraform_root
        if not any(source_root.glob("*.tf")):
            msg = f"{self.terraform_root} holds no .tf file: not a Terraform root module"
            raise StackError(msg)
        assert self.build_dir is not None  # set by __post_init__
        names = sorted(p.parent.name for p in (checkout / "functions").glob("*/app.py"))
        missing = [name for name in names if not (self.build_dir / f"{name}.zip").is_file()]
        # The functions' dependencies layer (make package builds it next to the zips).
        layers = sorted(self.build_dir.glob("dependencies-*.zip"))
        if not layers:
            missing.append("dependencies-<runtime>-<arch>")
        if missing:
            msg = (
                f"no {', '.join(f'{name}.zip' for name in missing)} in {self.build_dir}: "
                "run `make package` (or pass --build-dir DIR)"
            )
            raise StackError(msg)
        self.stack_dir.mkdir(parents=True, exist_ok=True)
        for shared in (Path("modules"), SHARED_SOURCES):
            shutil.rmtree(self.stack_dir / shared, ignore_errors=True)
            shutil.copytree(checkout / shared, self.stack_dir / shared, ignore=_COPY_IGNORED)
        (self.stack_dir / "build").mkdir(exist_ok=True)
        for zip_name in [f"{name}.zip" for name in names] + [p.name for p in layers]:
            _link_or_copy(self.build_dir / zip_name, self.stack_dir / "build" / zip_name)
        # Keep .terraform (providers, backend) across re-applies; replace everything else.
        self.terraform_dir.mkdir(parents=True, exist_ok=True)
        for path in self.terraform_dir.iterdir():
            if path.is_file():
                path.unlink()
            elif path.is_dir() and path.name != ".terraform":
                shutil.rmtree(path)
        for source in source_root.iterdir():
            wanted = source.suffix in (".tf", ".tfvars") or source.name == ".terraform.lock.hcl"
            if source.is_file() and wanted:
                shutil.copyfile(source.resolve(), self.terraform_dir / source.name)
            elif source.is_dir() and not _COPY_IGNORED(str(source_root), [source.name]):
                # A team's root holds its function folders (a consumer's source_dir).
                shutil.copytree(source, self.terraform_dir / source.name, ignore=_COPY_IGNORED)
        if not self._declares_local_endpoint():
            (self.terraform_dir / PROVIDER_OVERRIDE).write_text(
                provider_override(self.endpoint, local_region(checkout))
            )
        (self.terraform_dir / "backend_local.tf").write_text(
            "# Written by stream-pipeline local up: the state lives outside this copy.\n"
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
            env=self.terraform_env or terraform_environment(self.checkout),
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
        variables = (
            [f"-var={LOCAL_ENDPOINT_VARIABLE}={self.endpoint}"]
            if self._declares_local_endpoint()
            else []
        )
        self.terraform(
            "apply", "-input=false", "-auto-approve", "-no-color", "-compact-warnings", *variables
        )

    def outputs(self) -> dict[str, Any]:
        if not self.tfstate.exists():
            msg = f"no Terraform state in {self.tfstate}: run `stream-pipeline local up` first"
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
        shutil.rmtree(self.base, ignore_errors=True)
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
