"""terraform-aws-stream-pipeline: zero-loss Kinesis stream processing.

- ``stream_pipeline.runtime``: the Lambda-side code every function of the pipeline shares
  (bundled into each deployment zip; depends only on what the Lambda runtime and the Powertools
  layer provide);
- ``stream_pipeline.replay``: replay the dead-letter queue and a failure bucket into the stream;
- ``stream_pipeline.producer``: the retail sample data generator;
- ``stream_pipeline.local``: the pipeline on this machine (local runtime, stack, demo);
- ``stream_pipeline.cli``: the ``stream-pipeline`` command.

This module stays import-light: a deployment zip holds it next to ``runtime`` without the
distribution's metadata, so ``__version__`` is looked up only when asked for.
"""

from __future__ import annotations

DISTRIBUTION = "terraform-aws-stream-pipeline"


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(DISTRIBUTION)
        except PackageNotFoundError:  # a deployment zip: no dist-info
            return "0+unknown"
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
