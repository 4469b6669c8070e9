"""The zip builder moved into the distribution: ``stream_pipeline.packaging`` (console script
``stream-pipeline-package``). This name stays for bench/, which imports it from here.

Usage: python -m tools.package [--out build] [FUNCTION ...]
"""

from __future__ import annotations

import sys

from stream_pipeline.packaging import REPO_ROOT, build, function_names, main

__all__ = ["REPO_ROOT", "build", "function_names", "main"]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
