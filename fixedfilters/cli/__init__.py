"""The ``fixedfilters`` command (also ``python -m fixedfilters``): ``demo``, ``apply``, ``list``.

``fixedfilters demo [--out DIR]``
    Edge detection (Gaussian blur, Sobel x and y, gradient magnitude, Laplacian) through the
    Keras layers on the bundled test charts and a few ``skimage.data`` photographs; one labelled
    panel PNG per image, and the largest difference from OpenCV for each filter.

``fixedfilters apply FILTER INPUT... --out DIR [options]``
    One filter layer (every one: ``fixedfilters list``) on image files and folders. Images are
    read as stored (``cv2.IMREAD_UNCHANGED``), local filters go in fixed-size tiles and others
    as whole images (consecutive same-shape ones batched), and each result is written as
    ``DIR/<stem>.<filter>.png`` (OpenCV's own bytes with ``ddepth=-1`` where the layer computes
    in the image's depth, 8- or 16-bit; else 8-bit from the float32 result) or, with ``--raw``,
    as ``DIR/<stem>.<filter>.npy`` (the layer output, ``height x width x channels``).

``fixedfilters list``
    The filters, their options with defaults, and their OpenCV equivalents.

Exit status: 0 on success, 1 when any input failed (each failure is named on stderr, the other
inputs are still processed), 2 for a usage error (nothing is read or written), 130 on Ctrl-C.
Every output is written atomically (a temporary file in the destination folder, then renamed), an
existing output is only replaced with ``--overwrite``, and an input file is never overwritten.

The package, one concern a module: :mod:`~fixedfilters.cli.filters` (the filter table),
:mod:`~fixedfilters.cli.options` (each layer keyword's command-line form),
:mod:`~fixedfilters.cli.parser` (argparse and ``list``), :mod:`~fixedfilters.cli.io` (reading,
8-bit pictures, atomic writes, progress), :mod:`~fixedfilters.cli.runner` (``apply``),
:mod:`~fixedfilters.cli.demo`, :mod:`~fixedfilters.cli.quiet` (Keras without start-up noise).
``--help``, ``list`` and ``apply --help`` import neither Keras nor TensorFlow.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence

from fixedfilters.cli._common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    InputError,
    UsageError,
    err,
)
from fixedfilters.cli.filters import FILTERS, OPTIONS, FilterSpec, Option, load_kernel
from fixedfilters.cli.io import IMAGE_SUFFIXES, read_image, to_uint8, write_atomic
from fixedfilters.cli.parser import build_parser, parse

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "FILTERS",
    "IMAGE_SUFFIXES",
    "OPTIONS",
    "PROG",
    "FilterSpec",
    "InputError",
    "Option",
    "UsageError",
    "build_parser",
    "load_kernel",
    "main",
    "read_image",
    "to_uint8",
    "write_atomic",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parse(parser, list(sys.argv[1:] if argv is None else argv))
        try:
            return args.handler(args)
        except UsageError as error:
            args.subparser.error(str(error))
    except SystemExit as exc:  # --help, --version (0) and usage errors (2)
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    except KeyboardInterrupt:
        err("interrupted; no partial file was left behind")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `fixedfilters list | head`: stop quietly
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    raise AssertionError("unreachable")  # pragma: no cover
