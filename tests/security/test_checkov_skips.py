"""Every checkov skip of the repository is still needed, and none hides in a config file.

Skips sit inline (``#checkov:skip=<check>:<reason>``) next to the resource they concern. A skip
that checkov would pass without is a stale claim a reviewer must not trust (issue #16: the
CKV_AWS_272 and CKV_AWS_18 skips were), so each one is proven here: checkov runs once, with no
config file, on a copy of the modules from which every inline skip is removed, restricted to the
skipped check ids; each skipped check must then fail in the file that skips it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
SCANNED = ("modules", "environments", "examples")
SKIP = re.compile(r"#\s*checkov:skip=(?P<check>CKV2?_AWS_\d+):(?P<reason>.*)$", re.MULTILINE)

pytestmark = pytest.mark.xdist_group("checkov")


@dataclass(frozen=True)
class Skip:
    path: str
    """The file, relative to modules/ (as checkov names it when it scans that folder)."""
    check: str
    reason: str


def _tf_files() -> Iterator[Path]:
    for folder in SCANNED:
        for path in sorted((REPO_ROOT / folder).rglob("*.tf")):
            if ".terraform" not in path.parts:
                yield path


def _skips() -> list[Skip]:
    skips = []
    for path in _tf_files():
        for match in SKIP.finditer(path.read_text()):
            relative = path.relative_to(REPO_ROOT)
            assert relative.parts[0] == "modules", f"{relative}: skips belong in the modules"
            skips.append(
                Skip(
                    path="/" + "/".join(relative.parts[1:]),
                    check=match["check"],
                    reason=match["reason"].strip(),
                )
            )
    return skips


SKIPS = _skips()


def test_the_repository_has_skips_to_prove() -> None:
    # GIVEN the modules WHEN their inline skips are collected THEN there are some (a pattern
    # that matched nothing would make every test below vacuous)
    assert len(SKIPS) >= 5, SKIPS


@pytest.mark.parametrize("skip", SKIPS, ids=lambda s: f"{s.check}{s.path}")
def test_every_skip_gives_its_reason(skip: Skip) -> None:
    # GIVEN an inline skip WHEN its reason is read THEN it says why, in a sentence
    assert len(skip.reason) >= 40, f"{skip.check} in {skip.path} needs a reason"


def test_the_config_file_skips_nothing() -> None:
    # GIVEN make checkov's config file WHEN its settings are read
    config: dict[str, Any] = yaml.safe_load((REPO_ROOT / ".checkov.yml").read_text())
    # THEN it runs every check and fails on any failure: no skip list, no allow list, no paths
    # left out, no soft fail (skips are inline, proven below)
    left_out = ("skip-check", "check", "skip-path", "skip-framework", "soft-fail-on")
    assert not [key for key in left_out if key in config]
    assert config["soft-fail"] is False
    assert sorted(config["directory"]) == sorted(SCANNED)


@pytest.fixture(scope="module")
def failed_without_skips(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    """(check id, file) of every skipped check that fails once the inline skips are gone."""
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `make setup`")
    scratch = tmp_path_factory.mktemp("checkov")
    copy = scratch / "modules"
    shutil.copytree(
        REPO_ROOT / "modules", copy, ignore=shutil.ignore_patterns(".terraform", "tests")
    )
    for path in copy.rglob("*.tf"):
        path.write_text(SKIP.sub("", path.read_text()))
    assert not any(SKIP.search(p.read_text()) for p in copy.rglob("*.tf"))
    # From the scratch folder, which holds no .checkov.yml: checkov reads no config file.
    result = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            "modules",
            "--framework",
            "terraform",
            "--skip-download",
            "--skip-path",
            "examples",
            "--check",
            ",".join(sorted({skip.check for skip in SKIPS})),
            "--output",
            "json",
        ],
        cwd=scratch,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    return {
        (failed["check_id"], failed["file_path"])
        for each in reports
        for failed in each["results"]["failed_checks"]
    }


@pytest.mark.parametrize(
    "skip", sorted({(s.check, s.path) for s in SKIPS}), ids=lambda s: f"{s[0]}{s[1]}"
)
def test_every_skip_is_still_needed(
    skip: tuple[str, str], failed_without_skips: set[tuple[str, str]]
) -> None:
    # GIVEN a skipped check and the file that skips it
    # WHEN checkov scans the modules without any inline skip (failed_without_skips)
    # THEN that check fails in that file: the skip hides a real finding, it is not stale
    assert skip in failed_without_skips, (
        f"checkov passes {skip[0]} in modules{skip[1]} without its skip: remove the skip"
    )
