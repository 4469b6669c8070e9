"""The committed dependency lock files: one per environment, all alike, usable on any platform."""

from __future__ import annotations

import re

from tools.terraform_stage import roots

ENVIRONMENTS = [root for root in roots() if root.parent.name == "environments"]
ZIP_HASH = re.compile(r'"zh:[0-9a-f]{64}"')
TREE_HASH = re.compile(r'"h1:[A-Za-z0-9+/]{43}="')


def test_every_environment_commits_the_same_lock_file() -> None:
    """GIVEN the environment roots WHEN their lock files are read THEN each has one, and they
    are identical (the environments share one composition, so they pin one provider build)."""
    assert [path.name for path in ENVIRONMENTS] == ["dev", "local", "prod", "staging"]
    locks = {path.name: (path / ".terraform.lock.hcl").read_text() for path in ENVIRONMENTS}
    assert len(set(locks.values())) == 1, sorted(locks)


def test_lock_file_verifies_registry_packages_of_every_platform() -> None:
    """GIVEN a lock file WHEN terraform init downloads the provider from the registry on a
    platform other than the mirror's THEN a ``zh:`` (package zip) checksum is there to match:
    the lock holds the registry's checksums of every platform package, not only the ``h1:``
    of the linux_amd64 mirror it was generated from."""
    lock = (ENVIRONMENTS[0] / ".terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/hashicorp/aws"' in lock
    assert len(TREE_HASH.findall(lock)) >= 1
    assert len(ZIP_HASH.findall(lock)) >= 10  # 5.100.0 ships 15 platform packages
