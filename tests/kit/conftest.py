"""The consumer kit's tests: small consumers of the kind a team writes, on moto."""

from function_fixtures import _isolated_environment
from kit_harness import kit_aws

__all__ = ["_isolated_environment", "kit_aws"]
