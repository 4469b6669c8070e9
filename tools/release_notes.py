"""Release notes of a version from CHANGELOG.md (Keep a Changelog), and the release gate.

`--check-tag vX.Y.Z` (the release workflow) stops unless the tag is `v` + pyproject.toml's
version and CHANGELOG.md has a dated `## [X.Y.Z] - YYYY-MM-DD` section; it then prints that
section's body, the release notes. Standard library only: it runs before `make setup`.

Usage: python -m tools.release_notes [--check-tag TAG] [--version X.Y.Z]
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
_HEADING: Final = re.compile(r"^## \[(?P<name>[^\]]+)\](?: - (?P<date>\S+))?\s*$", re.MULTILINE)
_VERSION: Final = re.compile(r"^\d+\.\d+\.\d+$")
_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ReleaseError(Exception):
    """What stops a release, as one sentence."""


@dataclass(frozen=True)
class Section:
    name: str
    """`Unreleased` or a version."""
    date: str | None
    body: str


def project_version(pyproject: Path = REPO_ROOT / "pyproject.toml") -> str:
    return str(tomllib.loads(pyproject.read_text())["project"]["version"])


def sections(changelog: Path = REPO_ROOT / "CHANGELOG.md") -> list[Section]:
    text = changelog.read_text()
    headings = list(_HEADING.finditer(text))
    return [
        Section(
            heading["name"],
            heading["date"],
            text[heading.end() : following.start() if following else len(text)].strip(),
        )
        for heading, following in zip(headings, [*headings[1:], None], strict=True)
    ]


def format_errors(found: list[Section]) -> list[str]:
    """Keep a Changelog's shape: `[Unreleased]` first (if at all), then dated versions."""
    errors = []
    for index, section in enumerate(found):
        if section.name == "Unreleased":
            if index != 0:
                errors.append("## [Unreleased] must be the first section")
            continue
        if not _VERSION.match(section.name):
            errors.append(f"## [{section.name}] is not a version (X.Y.Z)")
        if section.date is None or not _DATE.match(section.date):
            errors.append(f"## [{section.name}] needs a date: ## [{section.name}] - YYYY-MM-DD")
    return errors


def notes_for_tag(tag: str, pyproject: Path, changelog: Path) -> str:
    version = project_version(pyproject)
    if tag != f"v{version}":
        raise ReleaseError(
            f"tag {tag} is not v{version}, the version in {pyproject.name}: "
            f"set [project] version there, or tag v{version}"
        )
    found = sections(changelog)
    errors = format_errors(found)
    if errors:
        raise ReleaseError(f"{changelog.name}: " + "; ".join(errors))
    for section in found:
        if section.name == version:
            return section.body
    raise ReleaseError(
        f"{changelog.name} has no section for {version}: rename [Unreleased] to "
        f"## [{version}] - YYYY-MM-DD and start a new empty [Unreleased] above it"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check-tag", metavar="TAG", help="the release tag, e.g. v0.1.0")
    parser.add_argument("--version", help="print this version's notes (default: pyproject's)")
    args = parser.parse_args(argv)
    pyproject, changelog = REPO_ROOT / "pyproject.toml", REPO_ROOT / "CHANGELOG.md"
    try:
        if args.check_tag:
            print(notes_for_tag(args.check_tag, pyproject, changelog))
            return 0
        version = args.version or project_version(pyproject)
        for section in sections(changelog):
            if section.name == version:
                print(section.body)
                return 0
        raise ReleaseError(f"{changelog.name} has no section for {version}")
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
