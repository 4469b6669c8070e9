"""A test-only Lambda handler package for the local runtime suite (copied to a scratch dir)."""
