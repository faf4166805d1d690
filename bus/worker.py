"""``python -m bus.worker``: the store worker, kept at this path for docs and scripts; the worker
itself is :mod:`bootstrap.worker` (built by the composition root)."""
from __future__ import annotations

if __name__ == "__main__":
    import sys

    from bootstrap.worker import main

    sys.exit(main())
