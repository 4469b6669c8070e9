"""Releases: the version lives in pyproject.toml, CHANGELOG.md keeps a section per version, and a
`v*` tag publishes `make dist` only when it is that version and has its section."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tools import release_notes
from tools.terraform_stage import REPO_ROOT

CHANGELOG = """# Changelog

## [Unreleased]

### Added
- Something new.

## [0.2.0] - 2026-12-06

### Changed
- The layer.

## [0.1.0] - 2026-11-22

### Added
- Everything.
"""


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    pyproject, changelog = tmp_path / "pyproject.toml", tmp_path / "CHANGELOG.md"
    pyproject.write_text('[project]\nname = "x"\nversion = "0.2.0"\n')
    changelog.write_text(CHANGELOG)
    return pyproject, changelog


def test_the_tag_of_the_version_gets_its_section_as_notes(project: tuple[Path, Path]) -> None:
    """GIVEN pyproject at 0.2.0 and a dated 0.2.0 section
    WHEN tag v0.2.0 is checked
    THEN the notes are that section's body alone."""
    notes = release_notes.notes_for_tag("v0.2.0", *project)

    assert notes == "### Changed\n- The layer."


@pytest.mark.parametrize(
    ("tag", "changelog", "message"),
    [
        ("v0.3.0", CHANGELOG, r"tag v0\.3\.0 is not v0\.2\.0, the version in pyproject\.toml"),
        (
            "v0.2.0",
            CHANGELOG.replace("## [0.2.0] - 2026-12-06", "## [0.1.9] - 2026-12-06"),
            r"no section for 0\.2\.0: rename \[Unreleased\]",
        ),
        (
            "v0.2.0",
            CHANGELOG.replace("## [0.2.0] - 2026-12-06", "## [0.2.0]"),
            r"## \[0\.2\.0\] needs a date",
        ),
    ],
    ids=["tag-is-not-the-version", "no-section", "section-without-date"],
)
def test_a_release_that_does_not_match_stops(
    project: tuple[Path, Path], tag: str, changelog: str, message: str
) -> None:
    """GIVEN a tag, pyproject and changelog that disagree
    WHEN the release gate checks them
    THEN it stops with a sentence saying what to fix."""
    pyproject, changelog_path = project
    changelog_path.write_text(changelog)

    with pytest.raises(release_notes.ReleaseError, match=message):
        release_notes.notes_for_tag(tag, pyproject, changelog_path)


def test_the_repository_changelog_keeps_a_changelog_shape() -> None:
    """GIVEN CHANGELOG.md and pyproject.toml
    WHEN they are read
    THEN [Unreleased] comes first, every other section is a dated version, and the project
    version is X.Y.Z (the tag a release will carry is v + that)."""
    sections = release_notes.sections()

    assert sections
    assert release_notes.format_errors(sections) == []
    assert re.fullmatch(r"\d+\.\d+\.\d+", release_notes.project_version())


def test_the_release_workflow_gates_tests_and_publishes_dist() -> None:
    """GIVEN the release workflow
    WHEN its trigger and steps are read
    THEN a v* tag runs the tag check, make test and make dist, then attaches dist/ to the
    tag's release, in that order."""
    workflow = yaml.safe_load((REPO_ROOT / ".github/workflows/release.yml").read_text())
    # YAML 1.1 reads the key `on` as True.
    trigger = workflow.get("on", workflow.get(True))
    (job,) = workflow["jobs"].values()
    commands = [step["run"] for step in job["steps"] if "run" in step]

    def position(fragment: str) -> int:
        (index,) = [i for i, command in enumerate(commands) if fragment in command]
        return index

    assert trigger == {"push": {"tags": ["v*"]}}
    assert job["permissions"] == {"contents": "write"}
    assert (
        position("tools.release_notes --check-tag")
        < position("make test")
        < position("make dist")
        < position("gh release create")
    )
    assert "dist/*" in commands[position("gh release create")]
