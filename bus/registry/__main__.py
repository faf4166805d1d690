"""``python -m bus.registry check|freeze|show``: verify, freeze or print the bus schemas."""
from __future__ import annotations

import json
import sys

from bus.registry import REGISTRY, freeze, snapshot_drift


def main(argv: list[str]) -> int:
    """Run the command in ``argv``; return the process exit code."""
    command = argv[0] if argv else "check"
    if command == "check":
        problems = snapshot_drift(REGISTRY)
        for line in problems:
            print(line)
        print("schemas match their snapshots" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0
    if command == "freeze":
        for path in freeze(REGISTRY):
            print(f"wrote {path}")
        return 0
    if command == "show":
        print(json.dumps(REGISTRY.describe(), indent=2))
        return 0
    print("usage: python -m bus.registry [check|freeze|show]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
