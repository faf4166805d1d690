"""``python -m bus.worker``: the store worker (see :mod:`bootstrap.worker`)."""
from __future__ import annotations

import sys

from bootstrap.worker import main

if __name__ == "__main__":
    sys.exit(main())
