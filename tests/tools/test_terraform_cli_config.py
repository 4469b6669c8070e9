"""Offline-first provider installation: mirror when present, registry otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import terraform_cli_config as cli_config


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    provider = tmp_path / "mirror/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64"
    provider.mkdir(parents=True)
    (provider / "terraform-provider-aws_v5.100.0_x5").write_bytes(b"binary")
    return tmp_path / "mirror"


@pytest.fixture(autouse=True)
def no_machine_mirrors(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests must not see whatever mirror the machine running them has.
    monkeypatch.setattr(cli_config, "CANDIDATE_MIRRORS", ())
    monkeypatch.delenv("TF_PLUGIN_DIR", raising=False)
    monkeypatch.delenv("TF_CLI_CONFIG_FILE", raising=False)


def test_configured_mirror_serves_its_providers_and_registry_the_rest(
    monkeypatch: pytest.MonkeyPatch, mirror: Path, tmp_path: Path
) -> None:
    # GIVEN TF_PLUGIN_DIR names a mirror holding hashicorp/aws
    monkeypatch.setenv("TF_PLUGIN_DIR", str(mirror))
    # WHEN the CLI configuration is resolved
    config = cli_config.resolve(tmp_path / "out/terraform.rc").read_text()
    # THEN aws installs from the mirror and only from it; other providers stay on the registry
    assert f'path    = "{mirror}"' in config
    assert 'include = ["registry.terraform.io/hashicorp/aws"]' in config
    assert 'exclude = ["registry.terraform.io/hashicorp/aws"]' in config


def test_mirror_found_in_a_standard_location(
    monkeypatch: pytest.MonkeyPatch, mirror: Path, tmp_path: Path
) -> None:
    # GIVEN no TF_PLUGIN_DIR but a mirror in one of the standard locations
    monkeypatch.setattr(cli_config, "CANDIDATE_MIRRORS", (str(tmp_path / "absent"), str(mirror)))
    # WHEN / THEN that mirror is used
    assert cli_config.find_mirror() == mirror


def test_empty_configured_mirror_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN TF_PLUGIN_DIR names a directory with no provider in it
    monkeypatch.setenv("TF_PLUGIN_DIR", str(tmp_path))
    # WHEN / THEN resolving fails and says what was expected
    with pytest.raises(SystemExit, match="holds no provider"):
        cli_config.resolve(tmp_path / "terraform.rc")


def test_without_mirror_the_registry_is_used(tmp_path: Path) -> None:
    # GIVEN no mirror anywhere and no user configuration
    # WHEN the CLI configuration is resolved
    config = cli_config.resolve(tmp_path / "terraform.rc").read_text()
    # THEN it configures no provider installation at all (registry default)
    assert "provider_installation" not in config


def test_without_mirror_a_users_own_cli_config_is_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN the user points TF_CLI_CONFIG_FILE at their own configuration and there is no mirror
    own = tmp_path / "own.rc"
    own.write_text('credentials "app.terraform.io" {}\n')
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(own))
    # WHEN / THEN theirs is used untouched
    assert cli_config.resolve(tmp_path / "terraform.rc") == own
