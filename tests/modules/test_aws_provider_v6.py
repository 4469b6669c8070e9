"""hashicorp/aws 6.x: nothing the 6.0 upgrade guide removes or renames is used.

The modules and environments allow `>= 5.73, < 7.0`; only 5.100.0 is in the offline mirror,
so plans, `terraform validate` and the native tests prove 5.x, and this proves 6.x as far as
the upgrade guide goes: `tests/data/aws_provider_v6_removed.yaml` (its source, entry by entry)
against every `.tf` file under modules/ and environments/ (tools/aws_provider_v6.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tools import aws_provider_v6
from tools.hcl_scan import REPO_ROOT, SHIPPED_TREES, blocks, parse, tf_files

# Both scans of every .tf file share a worker, and so its cache of parsed files.
pytestmark = pytest.mark.xdist_group("hcl-scan")


def test_no_module_or_environment_uses_what_provider_6_removes() -> None:
    # GIVEN every .tf file the library ships (non-vacuous: the files and the list are there)
    files = tf_files(*(REPO_ROOT / tree for tree in SHIPPED_TREES))
    assert len(files) >= 30, files
    entries = aws_provider_v6.load()
    # WHEN each is checked against the upgrade guide's list
    findings = aws_provider_v6.check()
    # THEN none uses a removed, renamed or deprecated type, argument or attribute
    assert not findings, "\n".join(map(str, findings))
    assert len(entries) >= 100


def test_the_list_covers_the_types_the_library_uses_that_the_guide_changes() -> None:
    # GIVEN the resource and data source types the library uses
    used = {
        (kind, labels[0])
        for path in tf_files(*(REPO_ROOT / tree for tree in SHIPPED_TREES))
        for kind in ("resource", "data")
        for labels, _ in blocks(parse(path), kind)
    }
    listed = {(entry.kind, entry.type) for entry in aws_provider_v6.load()}
    # WHEN the ones the guide changes are looked up (data aws_region: name deprecated; the
    # aws_s3_bucket resource: region now the managed Region, bucket_region the bucket's)
    # THEN the list has them, with the guide's section as source
    assert {("data", "aws_region"), ("resource", "aws_s3_bucket")} <= used & listed
    document = yaml.safe_load(aws_provider_v6.DATA_FILE.read_text())
    assert document["source"]["url"] == aws_provider_v6.GUIDE_URL
    for raw in document["entries"]:
        assert raw["source"].startswith(aws_provider_v6.GUIDE_URL + "#"), raw
        assert raw["replacement"], raw


PLANTED = """
provider "aws" {
  region = "eu-west-1"
  endpoints {
    opsworks = "http://localhost"
  }
}

data "aws_region" "x" {}

resource "aws_eip" "ip" {
  count = 1
  vpc   = true
}

resource "aws_eks_addon" "addon" {
  dynamic "resolve_conflicts" {
    for_each = []
    content {}
  }
}

resource "aws_opsworks_stack" "stack" {}

resource "aws_bedrock_model_invocation_logging_configuration" "logging" {
  logging_config {
    embedding_data_delivery_enabled = true
  }
}

locals {
  # data.aws_region.x.name in a comment is not a use
  region   = "${data.aws_region.x.name}-suffix"
  ip_vpc   = aws_eip.ip[0].vpc
  s3       = aws_bedrock_model_invocation_logging_configuration.logging.logging_config.s3_config
  fine_id  = data.aws_region.x.id
  fine_set = aws_bedrock_model_invocation_logging_configuration.logging.logging_config[0]
}
"""


def test_the_checker_names_file_address_and_argument_of_each_planted_use(
    tmp_path: Path,
) -> None:
    # GIVEN a .tf file that uses one thing of each kind the 6.0 guide removes or changes
    planted = tmp_path / "planted.tf"
    planted.write_text(PLANTED)
    # WHEN it is checked
    findings = [str(f) for f in aws_provider_v6.check([tmp_path])]
    # THEN each use is reported with the file, the address and what to use instead
    expected = [
        "provider.aws: sets endpoints.opsworks, which is removed",
        "data.aws_region.x: reads name, which is deprecated",
        "aws_eip.ip: sets vpc, which is removed",
        "aws_eip.ip[0]: reads vpc, which is removed",
        "aws_eks_addon.addon: sets resolve_conflicts, which is removed",
        "aws_opsworks_stack.stack: the type aws_opsworks_stack is removed",
        "aws_bedrock_model_invocation_logging_configuration.logging: reads logging_config,"
        " which is now a list",
    ]
    for text in expected:
        assert any(f"{planted}: {text}" in f for f in findings), (text, findings)
    assert len(findings) == len(expected), findings
    region = next(f for f in findings if "aws_region" in f)
    assert "instead: region" in region
    assert "version-6-upgrade#data-source-aws_region" in region


def test_the_attributes_both_majors_have_are_not_reported(tmp_path: Path) -> None:
    # GIVEN the library's own way to read the Region, and look-alike names
    (tmp_path / "ok.tf").write_text(
        'data "aws_region" "current" {}\n'
        "locals {\n"
        "  a = data.aws_region.current.id\n"
        '  b = "logs.${data.aws_region.current.id}.amazonaws.com"\n'
        "  c = var.name\n"
        "  d = data.aws_region.current.name_like\n"
        "}\n"
    )
    # WHEN it is checked / THEN nothing is reported
    assert aws_provider_v6.check([tmp_path]) == []
