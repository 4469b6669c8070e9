"""The runtime's SES v2 configuration sets read back as AWS returns them, so the e-mail
notifier's ``aws_sesv2_configuration_set`` applies to the emulator
(stream_pipeline.local.runtime.moto_patches)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stream_pipeline.local.runtime import moto_patches


@pytest.fixture
def sesv2() -> Iterator[Any]:
    with mock_aws():
        moto_patches.apply()
        yield boto3.client("sesv2", region_name="us-east-1")


@pytest.mark.parametrize(
    ("sending_options", "expected"),
    [({"SendingEnabled": True}, True), ({"SendingEnabled": False}, False), (None, True)],
    ids=["enabled", "disabled", "unset"],
)
def test_sending_options_read_back_as_a_boolean(
    sesv2: Any, sending_options: dict[str, bool] | None, expected: bool
) -> None:
    # GIVEN a configuration set created as the provider creates the notifier's
    arguments: dict[str, Any] = {
        "ConfigurationSetName": "orders-notifier",
        "ReputationOptions": {"ReputationMetricsEnabled": True},
        "DeliveryOptions": {"TlsPolicy": "REQUIRE"},
        "Tags": [{"Key": "environment", "Value": "local"}],
    }
    if sending_options is not None:
        arguments["SendingOptions"] = sending_options
    sesv2.create_configuration_set(**arguments)
    # WHEN it is read back
    configuration_set = sesv2.get_configuration_set(ConfigurationSetName="orders-notifier")
    # THEN SendingEnabled is a boolean (AWS's shape; moto nests the request object), and the
    # other options and the tags are what was given
    assert configuration_set["SendingOptions"] == {"SendingEnabled": expected}
    assert configuration_set["ReputationOptions"]["ReputationMetricsEnabled"] is True
    assert configuration_set["DeliveryOptions"] == {"TlsPolicy": "REQUIRE"}
    arn = "arn:aws:ses:us-east-1:123456789012:configuration-set/orders-notifier"
    assert sesv2.list_tags_for_resource(ResourceArn=arn)["Tags"] == arguments["Tags"]
