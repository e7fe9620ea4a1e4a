"""Regenerate the test charts in this folder: ``python images/render.py``.

Every image here is rendered by :mod:`fixedfilters.charts` (numpy + OpenCV); nothing is
downloaded and no third-party image is used. Works from a plain clone without installing the
package: the repository root is put on ``sys.path`` when ``fixedfilters`` is not importable.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Render every chart to ``<this folder>/<name>.png`` and print what was written."""
    # The package __init__ imports Keras (and so TensorFlow); keep its start-up chatter quiet.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        from fixedfilters import charts
    except ImportError:
        sys.path.insert(0, str(HERE.parent))
        from fixedfilters import charts

    for path in charts.save_all(HERE):
        print(f"wrote {path.relative_to(HERE.parent)} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
