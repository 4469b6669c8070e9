"""One local stack per test session (per pytest-xdist worker that runs e2e tests): the local
runtime on a free loopback port in a scratch directory, with the real ``environments/local``
applied to it by ``terraform apply`` (stream_pipeline.local.stack). Stopped at the end; no
process it started may outlive it.

Scenarios share the stack: each produces its own records (its own seed, so its own eventIds),
counts only its own manifest, deletes its own DLQ messages and undoes its faults and mapping
changes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import pytest
from e2e_pipeline import Pipeline

from stream_pipeline.local.stack import LocalStack, StackError
from tools import dependencies_layer, package
from tools.terraform_stage import REPO_ROOT, terraform_env

FAST_RUNTIME = [
    "--poll-interval",
    "0.05",
    "--config-interval",
    "1",
    "--retry-delay",
    "0",
    "--async-retry-delay",
    "0.05",
    "--seed",
    "7",
]


def _processes_alive(pids: Iterable[int]) -> list[int]:
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


REUSE_VARIABLE = "E2E_REUSE_LOCAL_STACK"
"""Set to 1 to run the suite against the stack `make local-up` started (build/local), which
is left running: quicker while working on a scenario. Faults and mapping changes are undone."""


def start_stack(base: Path, log: TextIO, **options: Any) -> tuple[LocalStack, dict[str, Any]]:
    """A local stack under ``base`` (``options``: a root and functions of its own), up, with
    its outputs: the function zips and the dependencies layer are built into ``base/build``
    (what `make package` leaves in build/).

    One more try on a fresh emulator when the apply fails: seen once in about ten runs, and
    more often under load, the provider retried a CreateFunction moto had already done
    ("Function already exist"). The suite tests the pipeline, not the provider's retries
    against moto.
    """
    for name in package.function_names():
        package.build(name, base / "build")
    dependencies_layer.link_into(base / "build")
    for attempt in (1, 2):
        stack = LocalStack(
            root=base / f"stack-{attempt}",
            port=0,
            runtime_args=FAST_RUNTIME,
            log=log,
            checkout=REPO_ROOT,
            build_dir=base / "build",
            terraform_env=terraform_env(),
            **options,
        )
        try:
            return stack, stack.up()
        except BaseException as error:
            stack.down()
            log.flush()
            print(Path(log.name).read_text()[-5000:])
            if attempt == 2 or not isinstance(error, StackError):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


_STACKS_TO_STOP: list[LocalStack] = []
"""The session's stack, stopped right after the last test that uses it: an idle runtime still
polls (about a fifth of a core), which the rest of the suite can use."""
_LAST_USER: list[str] = []
"""The node id of the last collected test that uses ``pipeline``."""


def _stop(stack: LocalStack) -> None:
    """Stop the stack (idempotent) and check that no process it started outlives it."""
    workers = set(stack.worker_pids())
    runtime = stack.runtime_pid()
    stack.down()
    deadline = time.monotonic() + 5
    while _processes_alive([*workers, *([runtime] if runtime else [])]):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    leftover = _processes_alive([*workers, *([runtime] if runtime else [])])
    assert leftover == [], f"processes outlived the local stack: {leftover}"
    assert not stack.root.exists()


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    if os.environ.get(REUSE_VARIABLE) == "1":
        stack = LocalStack(checkout=REPO_ROOT)
        if stack.runtime_pid() is None:
            pytest.fail(f"{REUSE_VARIABLE}=1 but no local stack is running (make local-up)")
        yield Pipeline(stack, stack.outputs())
        return
    base = tmp_path_factory.mktemp("e2e")
    with (base / "local-stack.log").open("w") as log:
        started = time.monotonic()
        stack, outputs = start_stack(base, log)
        print(f"local stack up in {time.monotonic() - started:.0f} s ({base})")
        pipeline = Pipeline(stack, outputs)
        pipeline.drain()
        _STACKS_TO_STOP.append(stack)
        try:
            yield pipeline
        finally:
            _stop(stack)


@pytest.fixture(autouse=True)
def _dummy_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tools (replay) build their clients from the default chain: never real ones."""
    for name in list(os.environ):
        if name.startswith("AWS_") and name != "AWS_CA_BUNDLE":
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")


@pytest.fixture
def clean_faults(pipeline: Pipeline) -> Iterator[Pipeline]:
    """A scenario that injects faults or changes the mapping gets both undone afterwards."""
    mapping = pipeline.client("lambda").get_event_source_mapping(UUID=pipeline.mapping_uuid)
    yield pipeline
    pipeline.faults({})
    pipeline.update_mapping(
        Enabled=True,
        MaximumRetryAttempts=mapping["MaximumRetryAttempts"],
        MaximumRecordAgeInSeconds=mapping["MaximumRecordAgeInSeconds"],
    )
    pipeline.drain()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every e2e test shares the session's stack: keep them on one pytest-xdist worker
    (`--dist loadgroup`) so the stack is applied once, while other workers run the rest.
    A worker runs its group in collection order: the last collected user of the stack is the
    last to run."""
    users = [item.nodeid for item in items if "pipeline" in getattr(item, "fixturenames", ())]
    _LAST_USER[:] = users[-1:]
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            # The example consumer's scenarios have their own stack: their own group.
            own_stack = Path(item.path).name == "test_orders_example_e2e.py"
            item.add_marker(pytest.mark.xdist_group("e2e-orders" if own_stack else "e2e"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After the last test that uses the session's stack (its fixtures torn down), stop it."""
    yield
    if _LAST_USER and item.nodeid == _LAST_USER[0] and os.environ.get(REUSE_VARIABLE) != "1":
        while _STACKS_TO_STOP:
            _stop(_STACKS_TO_STOP.pop())
