"""The example's own consumer (package.source_dir): the module zips this folder with the
shared runtime and the consumer kit (stream_pipeline.kit), which a real consumer builds on.
Here: accept every record, so the example plans and deploys without business logic."""

from __future__ import annotations

from typing import Any


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, list[Any]]:
    return {"batchItemFailures": []}
