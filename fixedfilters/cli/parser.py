"""The argument parser and ``fixedfilters list``, both made from the filter table.

Importing this module, ``--help`` of every command and ``list`` import neither Keras nor
TensorFlow: the handlers of ``apply`` and ``demo`` are imported when they run.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

from fixedfilters.cli._common import EXIT_OK, EXIT_USAGE, PROG
from fixedfilters.cli.filters import BORDER_NAMES, FILTERS, OPTIONS, REQUIRED, flag

__all__ = ["build_parser", "cmd_list", "parse"]

_COMMON = "--gray --raw --abs --batch-size N --recursive --overwrite --quiet"


def _shown(key: str, default: str) -> str:
    """An option as ``--help`` and ``list`` show it: ``--kernel FILE (required)`` for a required
    one, ``[--l2-gradient]`` for a switch, else the flag and its default."""
    if OPTIONS[key].switch:
        if OPTIONS[key].negatable and default == "True":
            return f"[{flag(key)} | --no-{flag(key)[2:]}] (default: {flag(key)})"
        return f"[{flag(key)}]"
    if default == REQUIRED:
        return f"{flag(key)} {OPTIONS[key].metavar or 'VALUE'} {REQUIRED}"
    return f"{flag(key)} {default}"


def _options_by_filter() -> str:
    width = max(len(name) for name in FILTERS) + 2
    lines = []
    for spec in FILTERS.values():
        opts = " ".join(_shown(key, default) for key, default in spec.params)
        lines.append(f"  {spec.name:<{width}} {opts}".rstrip())
    return "\n".join(lines)


def _apply_epilog() -> str:
    return f"""\
options by filter (defaults as in the layers; see `fixedfilters list`):
{_options_by_filter()}
An option that does not belong to FILTER is an error.

output: DIR/<input stem>.<filter>.png: what cv2.imwrite writes for the OpenCV call with the
image's own depth (ddepth=-1) where the layer computes in it: on 8-bit images gaussian,
median, box, blur, filter2d, gabor, the pyramids and the morphology filters (e.g.
cv2.filter2D(img, -1, kernel): saturated to 0..255, negative responses are 0; --abs writes
cv2.convertScaleAbs of the float32 result instead; filter2d and gabor kernels of 50 taps or
more on 8-bit images, where cv2.filter2D correlates by DFT: within 1 of its bytes, on at most
0.2% of the values measured), and all of these but box and blur on
16-bit images (a 16-bit PNG); canny and convertscaleabs are 8-bit. Otherwise an 8-bit PNG of
the float32 result: derivatives as cv2.convertScaleAbs(out) (|x| rounded, saturated at 255),
blurs rounded and clipped to 0..255. Channels are kept in the order read (BGR, BGRA). canny
takes 8-bit gray or BGR images (BGRA: the alpha channel is dropped, as cv2.IMREAD_COLOR reads
it). A --dstsize that does not fit an image fails that image (named; the others are written).
With --raw: DIR/<input stem>.<filter>.npy, the layer output (float32; uint8 for canny and
convertscaleabs), height x width x channels. Files found with --recursive keep their
subfolder under DIR. Every file is written atomically; an existing output is replaced only with
--overwrite, an input file never; two inputs with the same stem: the second fails, nothing is
clobbered.

exit status: 0 ok, 1 some input failed (named on stderr; the others are still written),
2 invalid option (nothing read or written), 130 interrupted.

examples:
  fixedfilters apply sobel photo.jpg --out edges/
  fixedfilters apply gaussian photos/ --recursive --ksize 7x5 --sigma-x 1.5 --out blurred/
  fixedfilters apply magnitude a.png b.png --gray --raw --out arrays/
  fixedfilters apply filter2d img.png --kernel sharpen.csv --border replicate --out out/
  fixedfilters apply canny photos/ --threshold1 50 --threshold2 150 --out edges/
  fixedfilters apply morphology scan.png --op open --ksize 5 --shape ellipse --out clean/
  fixedfilters apply gabor img.png --ksize 21 --sigma 4 --theta 0.785 --lambd 10 \\
      --gamma 0.5 --out g/
  fixedfilters apply pyrdown photos/ --out half/
"""


_DEMO_EPILOG = """\
The images: the bundled test charts (images/ in a clone; rendered in memory otherwise) and, when
scikit-image is installed, its photographs camera, astronaut and coins. Each image is converted
to grayscale and run through one Keras model: GaussianBlur(3), then Sobel(1, 0), Sobel(0, 1),
SobelMagnitude(3) and Laplacian(1) on the blurred image; Canny(50, 150) runs on the 8-bit gray
image. Panels show |derivative|, scaled so that its 99.5th percentile is white, the Canny edges,
and each filter's difference from OpenCV (for Canny: pixels that differ from cv2.Canny).
Existing panels in DIR are replaced.
"""


def _run_apply(args: argparse.Namespace) -> int:
    from fixedfilters.cli.runner import cmd_apply

    return cmd_apply(args)


def _run_demo(args: argparse.Namespace) -> int:
    from fixedfilters.cli.demo import cmd_demo

    return cmd_demo(args)


def build_parser() -> argparse.ArgumentParser:
    """The ``fixedfilters`` argument parser (subcommands ``demo``, ``apply``, ``list``)."""
    from fixedfilters import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="OpenCV-exact fixed-filter Keras layers, from the command line.",
        epilog="Start with `fixedfilters demo`; `fixedfilters COMMAND --help` for each command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="edge detection on the bundled images, panels and differences from OpenCV",
        description="Run an edge-detection pipeline through the Keras layers on the bundled\n"
        "images, write one labelled panel PNG per image to DIR and report the largest\n"
        "difference from OpenCV for each filter.",
        epilog=_DEMO_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--out",
        "-o",
        metavar="DIR",
        default="fixedfilters-demo",
        help="folder for the panels (default: ./fixedfilters-demo/)",
    )
    demo.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    demo.set_defaults(handler=_run_demo, subparser=demo)

    apply = sub.add_parser(
        "apply",
        help="apply one filter to image files and folders",
        description="Apply one fixed filter layer to images and write the results to DIR.",
        epilog=_apply_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    apply.add_argument("filter", metavar="FILTER", choices=list(FILTERS), help=", ".join(FILTERS))
    apply.add_argument(
        "inputs", metavar="INPUT", nargs="+", help="image files and folders (any mix)"
    )
    apply.add_argument("--out", "-o", metavar="DIR", required=True, help="output folder")
    layer_opts = apply.add_argument_group("filter options (the layers' argument names)")
    for key, option in OPTIONS.items():
        if option.switch and option.negatable:
            layer_opts.add_argument(
                flag(key), dest=key, action=argparse.BooleanOptionalAction, help=option.help
            )
        elif option.switch:
            layer_opts.add_argument(
                flag(key), dest=key, action="store_const", const=True, help=option.help
            )
        else:
            layer_opts.add_argument(
                flag(key), dest=key, type=option.type, metavar=option.metavar, help=option.help
            )
    io_opts = apply.add_argument_group("input and output")
    io_opts.add_argument(
        "--gray", action="store_true", help="convert BGR/BGRA images to grayscale first"
    )
    io_opts.add_argument(
        "--raw",
        action="store_true",
        help="write the layer output as .npy instead (float32; uint8 for 8-bit filters)",
    )
    io_opts.add_argument(
        "--abs",
        action="store_true",
        help="filter2d, gabor: write cv2.convertScaleAbs of the float32 result (|x|, rounded, "
        "saturated) instead of cv2.filter2D(img, -1, ...)'s saturated result",
    )
    io_opts.add_argument(
        "--batch-size",
        type=int,
        default=8,
        metavar="N",
        help="same-shape images per layer call (default 8; large images go fewer at a time)",
    )
    io_opts.add_argument(
        "--recursive", "-r", action="store_true", help="also read the subfolders of folders"
    )
    io_opts.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    io_opts.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bar and no summary line"
    )
    apply.set_defaults(handler=_run_apply, subparser=apply)

    listing = sub.add_parser(
        "list",
        help="the filters, their parameters and OpenCV equivalents",
        description="List the filters of `fixedfilters apply`, their options with defaults and "
        "the OpenCV call each one matches.",
    )
    listing.set_defaults(handler=cmd_list, subparser=listing)
    return parser


_VALUED = frozenset(flag(key) for key, option in OPTIONS.items() if not option.switch)
_NEGATIVE = re.compile(r"-[\d.]")


def _join_negative_values(argv: Sequence[str]) -> list[str]:
    """``--anchor -1,-1`` -> ``--anchor=-1,-1``: argparse takes a value that starts with ``-``
    for an option unless it is a plain number (``-1``, not ``-1,-1``, ``-3x5`` or ``-1e3``)."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] == "--":
            return out + list(argv[i:])
        if argv[i] in _VALUED and i + 1 < len(argv) and _NEGATIVE.match(argv[i + 1]):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


def parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """Parse, letting ``apply`` take INPUTs on both sides of its options and option values
    that start with ``-`` (``--anchor -1,-1``)."""
    args, extras = parser.parse_known_args(_join_negative_values(argv))
    if args.command is None:
        parser.print_help(sys.stderr)
        parser.exit(EXIT_USAGE, f"\n{PROG}: error: choose a command (try `{PROG} demo`)\n")
    stray = [a for a in extras if a.startswith("-") and a != "-"]
    if args.command == "apply" and not stray:
        args.inputs.extend(a for a in extras if a != "--")
    elif extras:
        args.subparser.error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def cmd_list(args: argparse.Namespace) -> int:
    """``fixedfilters list``: every filter, its options with the layer's defaults, its OpenCV."""
    width = max(len(name) for name in FILTERS) + 1
    lines = ["Filters of `fixedfilters apply FILTER INPUT... --out DIR [options]`:", ""]
    for spec in FILTERS.values():
        lines.append(f"{spec.name:<{width}} fixedfilters.{spec.layer}: {spec.summary}")
        opts = "  ".join(_shown(key, default) for key, default in spec.params)
        lines.append(f"{'':<{width}} options: {opts}")
        lines.append(f"{'':<{width}} OpenCV:  {spec.opencv}")
        lines.append("")
    lines += [
        f"borders: {', '.join(BORDER_NAMES)} (reflect_101 = cv2.BORDER_DEFAULT; "
        "wrap = numpy.pad(mode='wrap')); morphology's default is OpenCV's: constant, a value "
        "that never wins (--border-value None)",
        "PNG: the OpenCV call's own 8-bit (16-bit) result where the layer computes in the "
        "image's depth (`apply --help`), else derivatives as cv2.convertScaleAbs(out), blurs "
        "rounded and clipped to 8 bits; --raw: the layer output as .npy",
        f"common options: {_COMMON}",
    ]
    print("\n".join(lines))
    return EXIT_OK
