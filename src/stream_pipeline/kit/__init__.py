"""The consumer kit: the public API a team writes its own stream consumer with.

Bundled into every deployment zip next to ``stream_pipeline.runtime`` (see docs/consumer-kit.md).
"""
