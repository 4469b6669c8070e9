"""One local runtime per test session (per xdist worker): ``python -m stream_pipeline.local.runtime
serve``
on a free loopback port, in a scratch directory; stopped at the end, and every process it
started must be gone by then."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from local_runtime_harness import Aws, RuntimeProcess, harness


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeProcess]:
    process = RuntimeProcess(root=tmp_path_factory.mktemp("local-runtime")).start()
    yield process
    status = process.stop()
    assert status == 0, (process.root / "stderr.txt").read_text()
    assert process.leftover_processes() == [], "worker processes outlived the runtime"


@pytest.fixture
def aws(runtime: RuntimeProcess) -> Iterator[Aws]:
    with harness(runtime) as clients:
        yield clients


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    return tmp_path
