"""Every alarm the alarms module can create has its runbook section, and the override list knows it.

Each alarm's description ends with `See docs/runbook.md#<id>`: an id without a `## <id>` heading
would send the person on call to a dead link. The ids allowed in `alarm_overrides` are a copy of
the catalog's (variable validation cannot read locals), so the two must not drift apart.
"""

from __future__ import annotations

import re

import hcl2

from tools.hcl_scan import REPO_ROOT

ALARMS = REPO_ROOT / "modules" / "alarms"
RUNBOOK = REPO_ROOT / "docs" / "runbook.md"


def _catalog_ids() -> set[str]:
    with (ALARMS / "alarms.tf").open() as handle:
        parsed = hcl2.load(handle)
    catalog = next(block["alarm_catalog"] for block in parsed["locals"] if "alarm_catalog" in block)
    return set(catalog)


def _override_ids() -> set[str]:
    text = (ALARMS / "variables.tf").read_text()
    block = text[text.index('variable "alarm_overrides"') :]
    listed = block[block.index("contains([") : block.index("], id)")]
    return set(re.findall(r'"([a-z0-9-]+)"', listed))


def test_every_alarm_id_has_a_runbook_section() -> None:
    # GIVEN the alarm catalog of modules/alarms
    ids = _catalog_ids()
    assert "consumer-destination-delivery-failures" in ids
    # WHEN the runbook's second-level headings are read
    headings = set(re.findall(r"^## ([a-z0-9-]+)$", RUNBOOK.read_text(), re.MULTILINE))
    # THEN each alarm id is one of them
    assert sorted(ids - headings) == []


def test_alarm_overrides_accepts_exactly_the_catalog_ids() -> None:
    # GIVEN the catalog and the ids alarm_overrides' validation lists
    # WHEN they are compared
    # THEN they are the same set
    assert _override_ids() == _catalog_ids()
