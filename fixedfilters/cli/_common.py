"""What every part of the command shares: its name, exit codes, the two error kinds, messages."""

from __future__ import annotations

import sys
from typing import IO

PROG = "fixedfilters"

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """An invalid option: reported with the command's usage line, exit status 2."""


class InputError(Exception):
    """One input (or its output) failed: named on stderr, the others go on, exit status 1."""


def err(message: str, file: IO[str] | None = None) -> None:
    """Print ``fixedfilters: message`` on stderr (flushed: it may precede a long run)."""
    print(f"{PROG}: {message}", file=file or sys.stderr, flush=True)


def isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False
