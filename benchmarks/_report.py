"""What every benchmark script ends with: the JSON result, the missed targets, the exit status.

Exit 0 when every target is met, 1 when one is missed (each named on stderr), and 2 (from
`missing_dependency`) when an optional baseline library is not installed.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def finish(results: dict[str, Any], missed: list[str]) -> int:
    """Print `results` and `missed` as JSON, each miss as a MISSED line on stderr; the exit status."""
    print(json.dumps({"results": results, "missed": missed}, indent=2, sort_keys=True))
    for line in missed:
        print(f"MISSED: {line}", file=sys.stderr)
    return 1 if missed else 0


def missing_dependency(script: str, package: str, install: str = "pip install -e '.[bench]'") -> int:
    """Say in one line which optional package the script needs; exit status 2."""
    print(f"benchmarks/{script} needs {package} ({install}); not measured", file=sys.stderr)
    return 2
