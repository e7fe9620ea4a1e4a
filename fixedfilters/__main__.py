"""``python -m fixedfilters``: the same command as the ``fixedfilters`` console script."""

from __future__ import annotations

import sys

from fixedfilters.cli import main

if __name__ == "__main__":
    sys.exit(main())
