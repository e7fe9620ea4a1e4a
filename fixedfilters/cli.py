"""The ``fixedfilters`` command (also ``python -m fixedfilters``): ``demo``, ``apply``, ``list``.

``fixedfilters demo [--out DIR]``
    Edge detection (Gaussian blur, Sobel x and y, gradient magnitude, Laplacian) through the
    Keras layers on the bundled test charts and a few ``skimage.data`` photographs; one labelled
    panel PNG per image, and the largest difference from OpenCV for each filter.

``fixedfilters apply FILTER INPUT... --out DIR [options]``
    One filter layer on image files and folders. Images are read as stored
    (``cv2.IMREAD_UNCHANGED``), same-shape images are batched through the layer, and each
    result is written as ``DIR/<stem>.<filter>.png`` (8-bit) or, with ``--raw``, as
    ``DIR/<stem>.<filter>.npy`` (the float32 layer output, ``height x width x channels``).

``fixedfilters list``
    The filters, their options with defaults, and their OpenCV equivalents.

Exit status: 0 on success, 1 when any input failed (each failure is named on stderr, the other
inputs are still processed), 2 for a usage error (nothing is read or written), 130 on Ctrl-C.
Every output is written atomically (a temporary file in the destination folder, then renamed), an
existing output is only replaced with ``--overwrite``, and an input file is never overwritten.

Keras (and so TensorFlow) is imported only by the commands that run a layer.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from fixedfilters.layers.base import FixedFilter

__all__ = ["main", "build_parser", "FILTERS", "FilterSpec", "IMAGE_SUFFIXES"]

PROG = "fixedfilters"

#: File suffixes picked up when a folder is given as INPUT (files named explicitly are always
#: tried, whatever their suffix: the decoder decides).
IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".dib", ".tif", ".tiff", ".webp"}
    | {".ppm", ".pgm", ".pbm", ".pnm"}
)

#: Border names (the first is the default); the layers also accept OpenCV-style aliases.
BORDER_NAMES = ("reflect_101", "reflect", "replicate", "constant", "wrap")

# A batch never holds more than this many input values (float32: 128 MiB), whatever
# --batch-size says, so a folder of large photos does not exhaust memory.
MAX_BATCH_VALUES = 1 << 25
# Images read but not yet filtered (waiting for same-shape companions) stay under this many bytes.
MAX_PENDING_BYTES = 1 << 29

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


# --------------------------------------------------------------------------------------------
# The filters
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FilterSpec:
    """One FILTER of ``apply``: its layer, options (with the layer's defaults) and OpenCV call."""

    name: str
    layer: str  # class name in fixedfilters
    summary: str
    params: tuple[tuple[str, str], ...]  # (layer keyword, default as text)
    opencv: str
    derivative: bool  # 8-bit output: convertScaleAbs (True) or round and clip (False)


_BORDER_PARAMS = (("border", "reflect_101"), ("border_value", "0.0"))

FILTERS: dict[str, FilterSpec] = {
    spec.name: spec
    for spec in (
        FilterSpec(
            "sobel",
            "Sobel",
            "Sobel derivative of order (dx, dy); --ksize -1 is the 3x3 Scharr kernel",
            (("dx", "1"), ("dy", "0"), ("ksize", "3"), ("scale", "1.0"), ("delta", "0.0"))
            + _BORDER_PARAMS,
            "cv2.Sobel(img, cv2.CV_32F, dx, dy, ksize=ksize, scale=scale, delta=delta, "
            "borderType=border)",
            True,
        ),
        FilterSpec(
            "scharr",
            "Scharr",
            "first derivative with the 3x3 Scharr kernel (dx + dy == 1)",
            (("dx", "1"), ("dy", "0"), ("scale", "1.0"), ("delta", "0.0")) + _BORDER_PARAMS,
            "cv2.Scharr(img, cv2.CV_32F, dx, dy, scale=scale, delta=delta, borderType=border)",
            True,
        ),
        FilterSpec(
            "laplacian",
            "Laplacian",
            "Laplacian d2/dx2 + d2/dy2 (ksize 1: the 3x3 4-neighbour kernel)",
            (("ksize", "1"), ("scale", "1.0"), ("delta", "0.0")) + _BORDER_PARAMS,
            "cv2.Laplacian(img, cv2.CV_32F, ksize=ksize, scale=scale, delta=delta, "
            "borderType=border)",
            True,
        ),
        FilterSpec(
            "gaussian",
            "GaussianBlur",
            "Gaussian blur; --ksize N or WIDTHxHEIGHT (0: from sigma), sigma 0: from ksize",
            (("ksize", "3"), ("sigma_x", "0.0"), ("sigma_y", "0.0")) + _BORDER_PARAMS,
            "cv2.GaussianBlur(img, (ksize, ksize), sigma_x, sigmaY=sigma_y, borderType=border)",
            False,
        ),
        FilterSpec(
            "magnitude",
            "SobelMagnitude",
            "gradient magnitude sqrt(gx**2 + gy**2) of the first Sobel derivatives",
            (("ksize", "3"),) + _BORDER_PARAMS,
            "cv2.magnitude(cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=ksize), "
            "cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=ksize))",
            True,
        ),
        FilterSpec(
            "filter2d",
            "Filter2D",
            "correlation with any kernel (--kernel FILE, .npy or CSV; required)",
            (("kernel", "(required)"), ("anchor", "centre"), ("delta", "0.0")) + _BORDER_PARAMS,
            "cv2.filter2D(img, cv2.CV_32F, kernel, anchor=anchor, delta=delta, borderType=border)",
            True,
        ),
    )
}

# Layer keyword -> command-line flag, for every option that belongs to some filter.
_FLAGS = {
    "dx": "--dx",
    "dy": "--dy",
    "ksize": "--ksize",
    "sigma_x": "--sigma-x",
    "sigma_y": "--sigma-y",
    "scale": "--scale",
    "delta": "--delta",
    "border": "--border",
    "border_value": "--border-value",
    "kernel": "--kernel",
    "anchor": "--anchor",
}


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------
class UsageError(Exception):
    """An invalid option: reported with the command's usage line, exit status 2."""


class InputError(Exception):
    """One input (or its output) failed: named on stderr, the others go on, exit status 1."""


def _err(message: str, file: IO[str] | None = None) -> None:
    print(f"{PROG}: {message}", file=file or sys.stderr, flush=True)


def _parse_ksize(text: str) -> int | tuple[int, int]:
    """``"5"`` -> 5; ``"7x5"`` or ``"7,5"`` -> ``(7, 5)`` (OpenCV order: width, height)."""
    parts = text.lower().replace(",", "x").split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer or WIDTHxHEIGHT, got {text!r}"
        ) from None
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return values[0], values[1]
    raise argparse.ArgumentTypeError(f"expected an integer or WIDTHxHEIGHT, got {text!r}")


def _parse_anchor(text: str) -> tuple[int, int]:
    """``"X,Y"`` -> ``(x, y)``, the anchor inside the kernel (``-1,-1``: the centre)."""
    parts = text.replace(" ", "").split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return int(parts[0]), int(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y (two integers), got {text!r}") from None


def load_kernel(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a 2-D kernel from ``.npy`` or from text (CSV: commas, or whitespace, one row a line).

    Raises:
        UsageError: the file is missing, unreadable, or not a 2-D array of numbers.
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".npy":
            kernel = np.load(path, allow_pickle=False)
        else:
            text = path.read_text(encoding="utf-8-sig")
            rows = [line for line in text.splitlines() if line.strip() and line[0] != "#"]
            delimiter = "," if any("," in line for line in rows) else None
            kernel = np.loadtxt(rows, delimiter=delimiter, ndmin=2, dtype=np.float64)
    except FileNotFoundError:
        raise UsageError(f"--kernel {path}: no such file") from None
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise UsageError(f"--kernel {path}: not a 2-D array of numbers ({err})") from None
    if kernel.ndim == 1:
        kernel = kernel[None, :]
    return kernel


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Keep OpenCV's own decoder warnings off stderr (failures are reported by name instead)."""
    import cv2

    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:
        yield
        return
    previous = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging.setLogLevel(previous)


def read_image(path: str | os.PathLike[str], gray: bool = False) -> np.ndarray:
    """Read an image as stored (``cv2.IMREAD_UNCHANGED``) as ``height x width x channels``.

    Channel order (BGR, BGRA) and dtype (uint8, uint16, float32, ...) are kept; a grayscale
    image gets one channel. ``gray=True`` converts BGR/BGRA to one gray channel first
    (``cv2.cvtColor``). Raises :class:`InputError` with a reason a user can act on.
    """
    import cv2

    try:
        data = np.fromfile(os.fspath(path), dtype=np.uint8)  # also non-ASCII paths on Windows
    except FileNotFoundError:
        raise InputError("no such file or directory") from None
    except IsADirectoryError:
        raise InputError("is a folder") from None
    except PermissionError:
        raise InputError("permission denied") from None
    except OSError as err:
        raise InputError(err.strerror or str(err)) from None
    if data.size == 0:
        raise InputError("empty file")
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise InputError("not a readable image (corrupt, truncated or an unsupported format)")
    if image.ndim == 2:
        image = image[:, :, None]
    if gray and image.shape[2] in (3, 4):
        if image.dtype not in (np.uint8, np.uint16, np.float32):
            image = image.astype(np.float32)
        code = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
        image = cv2.cvtColor(image, code)[:, :, None]
    return image


def to_uint8(output: np.ndarray, derivative: bool) -> np.ndarray:
    """The 8-bit picture of a float output, as OpenCV would make it.

    ``derivative=True``: ``cv2.convertScaleAbs(output)``, i.e. ``saturate(round(|x|))``;
    ``False`` (blurs): ``saturate(round(x))``, as OpenCV converts float to uint8. Rounding is to
    nearest, ties to even (``cvRound``); NaN becomes 0.
    """
    x = np.abs(output) if derivative else output
    x = np.nan_to_num(x, nan=0.0, posinf=255.0, neginf=0.0)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def write_atomic(
    dest: Path, write: Callable[[IO[bytes]], None], *, overwrite: bool = False
) -> None:
    """Write a file so that ``dest`` is either absent/unchanged or complete, never partial.

    ``write(fh)`` fills a temporary file in ``dest``'s folder; the file is flushed and synced,
    then renamed onto ``dest``. Without ``overwrite`` an existing ``dest`` is never replaced
    (a hard link, which fails if ``dest`` appeared meanwhile; where links are not supported, an
    existence check then a rename). On any error or interrupt the temporary file is removed.

    Raises:
        FileExistsError: ``dest`` exists and ``overwrite`` is false.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp creates 0600
        if overwrite:
            os.replace(tmp_name, dest)
            return
        try:
            os.link(tmp_name, dest)  # atomic and never clobbers
        except FileExistsError:
            raise FileExistsError(f"{dest} exists (use --overwrite to replace it)") from None
        except OSError:  # no hard links here (some network / FAT file systems)
            if dest.exists():
                raise FileExistsError(f"{dest} exists (use --overwrite to replace it)") from None
            os.replace(tmp_name, dest)
            return
        os.unlink(tmp_name)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def write_png(dest: Path, image: np.ndarray, *, overwrite: bool = False) -> None:
    """Encode ``image`` (uint8, 1, 3 or 4 channels, OpenCV order) as PNG, atomically."""
    import cv2

    if image.ndim == 3 and image.shape[2] not in (1, 3, 4):
        raise InputError(
            f"a {image.shape[2]}-channel result cannot be written as PNG; use --raw for .npy"
        )
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise InputError("OpenCV could not encode the result as PNG")
    write_atomic(dest, lambda fh: fh.write(encoded.tobytes()), overwrite=overwrite)


def write_npy(dest: Path, array: np.ndarray, *, overwrite: bool = False) -> None:
    """Save ``array`` with :func:`numpy.save`, atomically."""
    write_atomic(dest, lambda fh: np.save(fh, array, allow_pickle=False), overwrite=overwrite)


class Progress:
    """A tqdm bar on stderr when there is more than one image, stderr is a terminal and not quiet.

    Messages go through :meth:`message` so they do not tear the bar.
    """

    def __init__(self, total: int, *, quiet: bool, desc: str, unit: str = "image"):
        self.bar = None
        if total > 1 and not quiet and _isatty(sys.stderr):
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False)

    def message(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def advance(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _is_within(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# The parser
# --------------------------------------------------------------------------------------------
_APPLY_EPILOG = """\
options by filter (defaults as in the layers; see `fixedfilters list`):
  sobel      --dx 1 --dy 0 --ksize 3 --scale 1 --delta 0
  scharr     --dx 1 --dy 0 --scale 1 --delta 0
  laplacian  --ksize 1 --scale 1 --delta 0
  gaussian   --ksize 3 (or WIDTHxHEIGHT) --sigma-x 0 --sigma-y 0
  magnitude  --ksize 3
  filter2d   --kernel FILE (required) --anchor X,Y --delta 0
  all        --border reflect_101 --border-value 0
An option that does not belong to FILTER is an error.

output: DIR/<input stem>.<filter>.png, 8-bit: derivatives as cv2.convertScaleAbs(out) (|x|
rounded, saturated at 255), gaussian rounded and clipped to 0..255; channels kept in the order
read (BGR, BGRA). With --raw: DIR/<input stem>.<filter>.npy, the float32 layer output,
height x width x channels. Files found with --recursive keep their subfolder under DIR.
Every file is written atomically; an existing output is replaced only with --overwrite,
an input file never; two inputs with the same stem: the second fails, nothing is clobbered.

exit status: 0 ok, 1 some input failed (named on stderr; the others are still written),
2 invalid option (nothing read or written), 130 interrupted.

examples:
  fixedfilters apply sobel photo.jpg --out edges/
  fixedfilters apply gaussian photos/ --recursive --ksize 7x5 --sigma-x 1.5 --out blurred/
  fixedfilters apply magnitude a.png b.png --gray --raw --out arrays/
  fixedfilters apply filter2d img.png --kernel sharpen.csv --border replicate --out out/
"""

_DEMO_EPILOG = """\
The images: the bundled test charts (images/ in a clone; rendered in memory otherwise) and, when
scikit-image is installed, its photographs camera, astronaut and coins. Each image is converted
to grayscale and run through one Keras model: GaussianBlur(3), then Sobel(1, 0), Sobel(0, 1),
SobelMagnitude(3) and Laplacian(1) on the blurred image. Panels show |derivative|, scaled so
that its 99.5th percentile is white. Existing panels in DIR are replaced.
"""


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
    demo.set_defaults(handler=_cmd_demo, subparser=demo)

    apply = sub.add_parser(
        "apply",
        help="apply one filter to image files and folders",
        description="Apply one fixed filter layer to images and write the results to DIR.",
        epilog=_APPLY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    apply.add_argument("filter", metavar="FILTER", choices=list(FILTERS), help=", ".join(FILTERS))
    apply.add_argument(
        "inputs", metavar="INPUT", nargs="+", help="image files and folders (any mix)"
    )
    apply.add_argument("--out", "-o", metavar="DIR", required=True, help="output folder")
    layer_opts = apply.add_argument_group("filter options (the layers' names)")
    layer_opts.add_argument("--dx", type=int, help="order of the x derivative")
    layer_opts.add_argument("--dy", type=int, help="order of the y derivative")
    layer_opts.add_argument(
        "--ksize", type=_parse_ksize, metavar="N", help="kernel size (gaussian: N or WxH)"
    )
    layer_opts.add_argument("--sigma-x", type=float, metavar="S", help="gaussian sigma in x")
    layer_opts.add_argument("--sigma-y", type=float, metavar="S", help="gaussian sigma in y")
    layer_opts.add_argument("--scale", type=float, help="factor applied to the result")
    layer_opts.add_argument("--delta", type=float, help="added to the result after scale")
    layer_opts.add_argument(
        "--border", metavar="NAME", help=f"one of {', '.join(BORDER_NAMES)} (default reflect_101)"
    )
    layer_opts.add_argument(
        "--border-value", type=float, metavar="V", help="fill value of --border constant"
    )
    layer_opts.add_argument("--kernel", metavar="FILE", help="filter2d kernel, .npy or CSV")
    layer_opts.add_argument(
        "--anchor", type=_parse_anchor, metavar="X,Y", help="filter2d anchor (default: centre)"
    )
    io_opts = apply.add_argument_group("input and output")
    io_opts.add_argument(
        "--gray", action="store_true", help="convert BGR/BGRA images to grayscale first"
    )
    io_opts.add_argument(
        "--raw", action="store_true", help="write the float32 layer output as .npy instead"
    )
    io_opts.add_argument(
        "--batch-size",
        type=int,
        default=8,
        metavar="N",
        help="images per layer call (default 8; large images go fewer at a time)",
    )
    io_opts.add_argument(
        "--recursive", "-r", action="store_true", help="also read the subfolders of folders"
    )
    io_opts.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    io_opts.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bar and no summary line"
    )
    apply.set_defaults(handler=_cmd_apply, subparser=apply)

    listing = sub.add_parser(
        "list",
        help="the filters, their parameters and OpenCV equivalents",
        description="List the filters of `fixedfilters apply`, their options with defaults and "
        "the OpenCV call each one matches.",
    )
    listing.set_defaults(handler=_cmd_list, subparser=listing)
    return parser


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """Parse, letting ``apply`` take INPUTs on both sides of its options."""
    args, extras = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        parser.exit(EXIT_USAGE, f"\n{PROG}: error: choose a command (try `{PROG} demo`)\n")
    stray = [a for a in extras if a.startswith("-") and a != "-"]
    if args.command == "apply" and not stray:
        args.inputs.extend(a for a in extras if a != "--")
    elif extras:
        args.subparser.error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = _parse(parser, list(sys.argv[1:] if argv is None else argv))
        try:
            return args.handler(args)
        except UsageError as err:
            args.subparser.error(str(err))
    except SystemExit as exc:  # --help, --version (0) and usage errors (2)
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    except KeyboardInterrupt:
        _err("interrupted; no partial file was left behind")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `fixedfilters list | head`: stop quietly
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------------------------
# list
# --------------------------------------------------------------------------------------------
def _cmd_list(args: argparse.Namespace) -> int:
    lines = ["Filters of `fixedfilters apply FILTER INPUT... --out DIR [options]`:", ""]
    for spec in FILTERS.values():
        lines.append(f"{spec.name:<10} fixedfilters.{spec.layer}: {spec.summary}")
        opts = "  ".join(f"{_FLAGS[key]} {default}" for key, default in spec.params)
        lines.append(f"{'':<10} options: {opts}")
        lines.append(f"{'':<10} OpenCV:  {spec.opencv}")
        lines.append("")
    lines += [
        f"borders: {', '.join(BORDER_NAMES)} (default reflect_101 = cv2.BORDER_DEFAULT; "
        "wrap = numpy.pad(mode='wrap'))",
        "8-bit PNG: derivatives as cv2.convertScaleAbs(out), gaussian rounded and clipped; "
        "--raw: the float32 output as .npy",
        "common options: --gray --raw --batch-size N --recursive --overwrite --quiet",
    ]
    print("\n".join(lines))
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# apply
# --------------------------------------------------------------------------------------------
def make_layer(args: argparse.Namespace) -> FixedFilter:
    """Validate the filter options of ``args`` by building the layer.

    Raises:
        UsageError: an option that does not belong to the filter, a missing or unreadable
            ``--kernel``, or the layer's own ValueError/TypeError (an even ksize, an unknown
            border, ...).
    """
    spec = FILTERS[args.filter]
    allowed = {key for key, _ in spec.params}
    kwargs: dict[str, Any] = {}
    for key, flag in _FLAGS.items():
        value = getattr(args, key)
        if value is None:
            continue
        if key not in allowed:
            own = " ".join(_FLAGS[k] for k, _ in spec.params)
            raise UsageError(f"{flag} does not apply to {spec.name} (its options: {own})")
        kwargs[key] = value
    if spec.name == "filter2d":
        if "kernel" not in kwargs:
            raise UsageError("filter2d needs --kernel FILE (.npy, or CSV with one row a line)")
        kwargs["kernel"] = load_kernel(kwargs["kernel"])
    if isinstance(kwargs.get("ksize"), tuple) and spec.name != "gaussian":
        raise UsageError(f"--ksize must be one integer for {spec.name}")

    import fixedfilters

    try:
        return getattr(fixedfilters, spec.layer)(**kwargs)
    except (ValueError, TypeError) as err:
        raise UsageError(f"invalid {spec.name} options: {err}") from None


@dataclass
class Job:
    """One input image and the output it will become."""

    source: Path  # as given or found (used in messages)
    dest: Path


def _output_name_filter(path: Path) -> str | None:
    """``x.sobel.png`` -> ``"sobel"`` (a fixedfilters output name), else None."""
    suffixes = path.suffixes
    if len(suffixes) >= 2 and suffixes[-1].lower() in (".png", ".npy"):
        name = suffixes[-2][1:].lower()
        if name in FILTERS:
            return name
    return None


def _scan_folder(folder: Path, recursive: bool, out_dir: Path) -> Iterator[Path]:
    """Image files of ``folder`` (sorted), skipping the output folder and its outputs."""
    out_inside = _resolve(folder) != out_dir and _is_within(out_dir, _resolve(folder))
    walker = sorted(folder.rglob("*") if recursive else folder.iterdir())
    for path in walker:
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue  # hidden files and folders (our own temporary files among them)
        if not path.is_file():
            continue
        resolved = _resolve(path)
        if out_inside and _is_within(resolved, out_dir):
            continue  # the output folder sits inside this input folder
        if resolved.parent == out_dir and _output_name_filter(path):
            continue  # a result of an earlier run written next to its inputs
        yield path


def plan_jobs(
    inputs: Sequence[str],
    out_dir: Path,
    filter_name: str,
    *,
    raw: bool,
    recursive: bool,
    overwrite: bool,
    report: Callable[[str], None],
) -> tuple[list[Job], int]:
    """Expand INPUTs into jobs; return ``(jobs, failures)``, each failure already reported.

    A folder contributes its image files (``--recursive``: also its subfolders', whose relative
    folder is kept under ``out_dir``). Failures: a missing input, a folder without images, two
    inputs that would write the same output (the later one fails: nothing is clobbered), an
    output that would replace an input file, an existing output without ``--overwrite``.
    """
    ext = "npy" if raw else "png"
    out_resolved = _resolve(out_dir)
    failures = 0
    candidates: list[tuple[Path, Path]] = []  # (source, dest)
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            found = list(_scan_folder(path, recursive, out_resolved))
            if not found:
                hint = "" if recursive else " (--recursive also reads its subfolders)"
                report(f"error: {path}: folder holds no images{hint}")
                failures += 1
            for image in found:
                rel = image.parent.relative_to(path)
                candidates.append((image, out_dir / rel / f"{image.stem}.{filter_name}.{ext}"))
        elif path.exists():
            candidates.append((path, out_dir / f"{path.stem}.{filter_name}.{ext}"))
        else:
            report(f"error: {path}: no such file or directory")
            failures += 1

    sources = {_resolve(source) for source, _ in candidates}
    jobs: list[Job] = []
    seen_sources: set[Path] = set()
    dests: dict[Path, Path] = {}
    for source, dest in candidates:
        key = _resolve(source)
        if key in seen_sources:
            continue  # the same file named twice (e.g. itself and its folder)
        seen_sources.add(key)
        dest_key = _resolve(dest)
        if dest_key in sources:
            report(
                f"error: {source}: its output {dest} is an input file; refusing to overwrite "
                "an input (choose another --out)"
            )
            failures += 1
        elif dest_key in dests:
            report(
                f"error: {source}: its output {dest} is also the output of {dests[dest_key]} "
                "(same name); skipped, nothing overwritten. Process one of them separately"
            )
            failures += 1
        elif not overwrite and dest.exists():
            report(f"error: {source}: {dest} exists (use --overwrite to replace it)")
            failures += 1
        else:
            dests[dest_key] = source
            jobs.append(Job(source, dest))
    return jobs, failures


class _Runner:
    """Reads images, batches same-shape ones through the layer, writes the results."""

    def __init__(self, layer: FixedFilter, args: argparse.Namespace, progress: Progress):
        self.layer = layer
        self.spec = FILTERS[args.filter]
        self.args = args
        self.progress = progress
        self.pending: dict[tuple[int, ...], list[tuple[Job, np.ndarray]]] = {}
        self.pending_bytes = 0
        self.written: list[Path] = []
        self.failures = 0
        self.saturated: list[Path] = []
        self.alpha: list[Path] = []

    def fail(self, job: Job, reason: str) -> None:
        self.progress.message(f"{PROG}: error: {job.source}: {reason}")
        self.failures += 1
        self.progress.advance()

    def run(self, jobs: Sequence[Job]) -> None:
        for job in jobs:
            try:
                image = read_image(job.source, gray=self.args.gray)
            except InputError as err:
                self.fail(job, str(err))
                continue
            key = image.shape
            group = self.pending.setdefault(key, [])
            group.append((job, image))
            self.pending_bytes += image.nbytes
            limit = max(1, min(self.args.batch_size, MAX_BATCH_VALUES // image.size))
            if len(group) >= limit:
                self.flush(key)
            while self.pending_bytes > MAX_PENDING_BYTES and self.pending:
                biggest = max(self.pending, key=lambda k: sum(a.nbytes for _, a in self.pending[k]))
                self.flush(biggest)
        for key in list(self.pending):
            self.flush(key)

    def flush(self, key: tuple[int, ...]) -> None:
        group = self.pending.pop(key)
        self.pending_bytes -= sum(image.nbytes for _, image in group)
        from keras import ops

        batch = np.stack([image.astype(np.float32, copy=False) for _, image in group])
        try:
            outputs = np.asarray(ops.convert_to_numpy(self.layer(batch)), dtype=np.float32)
        except Exception as err:  # e.g. out of memory: name every image of the batch
            for job, _ in group:
                self.fail(job, f"the {self.spec.name} layer failed: {err}")
            return
        for (job, image), output in zip(group, outputs, strict=True):
            self.write(job, image, output)

    def write(self, job: Job, image: np.ndarray, output: np.ndarray) -> None:
        try:
            if self.args.raw:
                write_npy(job.dest, output, overwrite=self.args.overwrite)
            else:
                picture = to_uint8(output, self.spec.derivative)
                write_png(job.dest, picture, overwrite=self.args.overwrite)
                if image.dtype != np.uint8 and np.any(np.abs(output) > 255.5):
                    self.saturated.append(job.source)
                if output.shape[-1] == 4:
                    self.alpha.append(job.source)
        except InputError as err:
            self.fail(job, str(err))
            return
        except OSError as err:  # disk full, permission denied, exists meanwhile, ...
            reason = err.strerror if err.strerror and err.filename else str(err)
            self.fail(job, f"cannot write {job.dest}: {reason}")
            return
        self.written.append(job.dest)
        self.progress.advance()


def _cmd_apply(args: argparse.Namespace) -> int:
    # 1. Every option is checked before anything is read or written.
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1. Received: {args.batch_size}")
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file, not a folder")
    layer = make_layer(args)

    # 2. The inputs, then the work.
    jobs, failures = plan_jobs(
        args.inputs,
        out_dir,
        args.filter,
        raw=args.raw,
        recursive=args.recursive,
        overwrite=args.overwrite,
        report=lambda message: _err(message),
    )
    progress = Progress(len(jobs), quiet=args.quiet, desc=f"{PROG} {args.filter}")
    runner = _Runner(layer, args, progress)
    try:
        with _quiet_opencv():
            runner.run(jobs)
    finally:
        progress.close()
    failures += runner.failures

    if runner.saturated:
        _err(
            f"note: {len(runner.saturated)} result(s) from images deeper than 8 bits saturate at "
            "255 in the 8-bit PNG (first: "
            f"{runner.saturated[0]}); --raw keeps the exact values, --scale can fit them"
        )
    if runner.alpha:
        _err(
            f"note: {len(runner.alpha)} image(s) have an alpha channel, filtered like the colour "
            f"channels (first: {runner.alpha[0]}); --gray drops it"
        )
    if not args.quiet:
        kind = "float32 .npy" if args.raw else "8-bit PNG"
        print(f"wrote {len(runner.written)} {kind} file(s) to {out_dir}{os.sep}")
    if failures:
        _err(f"{failures} input(s) failed (see above)")
        return EXIT_FAILED
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------------------------
#: The demo's filters: (key, panel label, OpenCV reference as shown in the report).
DEMO_FILTERS = (
    ("gaussian", "Gaussian blur 3x3", "cv2.GaussianBlur(img, (3, 3), 0)"),
    ("sobel_x", "|Sobel x|", "cv2.Sobel(blur, cv2.CV_32F, 1, 0, ksize=3)"),
    ("sobel_y", "|Sobel y|", "cv2.Sobel(blur, cv2.CV_32F, 0, 1, ksize=3)"),
    ("magnitude", "gradient magnitude", "cv2.magnitude(sobel_x, sobel_y)"),
    ("laplacian", "|Laplacian|", "cv2.Laplacian(blur, cv2.CV_32F, ksize=1)"),
)

SKIMAGE_PHOTOS = ("camera", "astronaut", "coins")


def _bundled_images_dir() -> Path | None:
    """The repository's ``images/`` (next to the package), else ``./images``, if it has charts."""
    import fixedfilters
    from fixedfilters import charts

    for folder in (Path(fixedfilters.__file__).resolve().parent.parent / "images", Path("images")):
        if folder.is_dir() and any((folder / f"{name}.png").is_file() for name in charts.CHARTS):
            return folder
    return None


def demo_images() -> tuple[list[tuple[str, np.ndarray]], str]:
    """The demo's images ``[(name, uint8 image as stored, BGR(A) or gray)]`` and their origin.

    The bundled charts are read from ``images/`` (only files named after
    :data:`fixedfilters.charts.CHARTS`, so an unrelated ``./images`` is never swept in); a chart
    not found there is rendered in memory. scikit-image's photographs follow when it imports.
    """
    import cv2

    from fixedfilters import charts

    folder = _bundled_images_dir()
    images: list[tuple[str, np.ndarray]] = []
    for name in charts.CHARTS:
        image = None
        if folder is not None and (folder / f"{name}.png").is_file():
            image = cv2.imread(str(folder / f"{name}.png"), cv2.IMREAD_UNCHANGED)
        if image is None:
            image = charts.render(name)
        images.append((name, image))
    origin = f"charts from {folder}" if folder is not None else "charts rendered in memory"
    try:
        from skimage import data as skdata
    except ImportError:
        return images, origin + " (install scikit-image for its photographs too)"
    added = 0
    for name in SKIMAGE_PHOTOS:
        try:
            photo = getattr(skdata, name)()
        except Exception:  # a photograph that would need a download: skip it
            continue
        if photo.ndim == 3:
            photo = cv2.cvtColor(photo, cv2.COLOR_RGB2BGR)
        images.append((f"skimage-{name}", photo))
        added += 1
    return images, origin + f" and {added} skimage.data photograph(s)"


def _to_gray_float(image: np.ndarray) -> np.ndarray:
    """A 2-D float32 gray plane of a gray/BGR/BGRA uint8 image (alpha over white)."""
    import cv2

    if image.ndim == 3 and image.shape[2] == 4:
        image = _over_white(image)
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3:
        image = image[:, :, 0]
    return image.astype(np.float32)


def _over_white(bgra: np.ndarray) -> np.ndarray:
    alpha = bgra[:, :, 3:4].astype(np.float32) / 255.0
    mixed = bgra[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def build_demo_model() -> Any:
    """The demo's Keras model: gray image -> {gaussian, sobel_x, sobel_y, magnitude, laplacian}.

    A functional model of fixed layers: ``GaussianBlur(3)``, then on the blurred image
    ``Sobel(1, 0)``, ``Sobel(0, 1)``, ``SobelMagnitude(3)`` and ``Laplacian(1)``.
    """
    import keras

    import fixedfilters as ff

    image = keras.Input((None, None, 1), name="image")
    blur = ff.GaussianBlur(3, name="gaussian")(image)
    outputs = {
        "gaussian": blur,
        "sobel_x": ff.Sobel(1, 0, 3, name="sobel_x")(blur),
        "sobel_y": ff.Sobel(0, 1, 3, name="sobel_y")(blur),
        "magnitude": ff.SobelMagnitude(3, name="magnitude")(blur),
        "laplacian": ff.Laplacian(1, name="laplacian")(blur),
    }
    return keras.Model(image, outputs, name="edge_detection")


def opencv_edges(gray: np.ndarray) -> dict[str, np.ndarray]:
    """The demo pipeline computed by OpenCV on a 2-D float32 plane."""
    import cv2

    blur = cv2.GaussianBlur(gray, (3, 3), 0)
    sobel_x = cv2.Sobel(blur, cv2.CV_32F, 1, 0, ksize=3)
    sobel_y = cv2.Sobel(blur, cv2.CV_32F, 0, 1, ksize=3)
    return {
        "gaussian": blur,
        "sobel_x": sobel_x,
        "sobel_y": sobel_y,
        "magnitude": cv2.magnitude(sobel_x, sobel_y),
        "laplacian": cv2.Laplacian(blur, cv2.CV_32F, ksize=1),
    }


def _display(output: np.ndarray, derivative: bool) -> np.ndarray:
    """A uint8 picture of a filter output: blurs as is, |derivatives| scaled to p99.5 -> 255."""
    if not derivative:
        return to_uint8(output, derivative=False)
    magnitude = np.abs(output)
    top = float(np.percentile(magnitude, 99.5))
    if top <= 1e-6:
        top = float(magnitude.max())
    gain = 255.0 / top if top > 1e-6 else 1.0
    return to_uint8(magnitude * gain, derivative=False)


def _tile(picture: np.ndarray, label: str, header: int = 24) -> np.ndarray:
    """``picture`` (gray or BGR uint8) under a white strip with ``label`` in it."""
    import cv2

    if picture.ndim == 2:
        picture = cv2.cvtColor(picture, cv2.COLOR_GRAY2BGR)
    height, width = picture.shape[:2]
    strip = np.full((header, width, 3), 255, np.uint8)
    scale = 0.5
    font = cv2.FONT_HERSHEY_SIMPLEX
    while scale > 0.3 and cv2.getTextSize(label, font, scale, 1)[0][0] > width - 8:
        scale -= 0.05
    cv2.putText(strip, label, (4, header - 8), font, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([strip, picture])


def make_panel(
    name: str, image: np.ndarray, outputs: dict[str, np.ndarray], note: str = ""
) -> np.ndarray:
    """A 2 x 3 labelled grid: original, blur, magnitude / Sobel x, Sobel y, Laplacian.

    ``note`` is appended to the footer line (the demo puts the difference from OpenCV there).
    """
    import cv2

    if image.ndim == 3 and image.shape[2] == 4:
        original = _over_white(image)
    elif image.ndim == 3 and image.shape[2] == 1:
        original = image[:, :, 0]
    else:
        original = image
    labels = {key: label for key, label, _ in DEMO_FILTERS}
    tiles = {key: _tile(_display(outputs[key], key != "gaussian"), labels[key]) for key in labels}
    tiles["original"] = _tile(original, f"original: {name}")
    gap = np.full((tiles["original"].shape[0], 6, 3), 255, np.uint8)
    rows = [
        np.hstack([tiles["original"], gap, tiles["gaussian"], gap, tiles["magnitude"]]),
        np.hstack([tiles["sobel_x"], gap, tiles["sobel_y"], gap, tiles["laplacian"]]),
    ]
    panel = np.vstack([rows[0], np.full((6, rows[0].shape[1], 3), 255, np.uint8), rows[1]])
    footer = np.full((22, panel.shape[1], 3), 255, np.uint8)
    cv2.putText(
        footer,
        "fixedfilters Keras layers on the grayscale image; |derivatives| scaled so that the "
        f"99.5th percentile is white{note}",
        (4, 15),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.4,
        (90, 90, 90),
        1,
        cv2.LINE_AA,
    )
    return np.vstack([panel, footer])


def _cmd_demo(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file, not a folder")
    from keras import ops

    images, origin = demo_images()
    model = build_demo_model()
    worst = {key: 0.0 for key, _, _ in DEMO_FILTERS}
    largest = {key: 0.0 for key, _, _ in DEMO_FILTERS}
    written: list[Path] = []
    progress = Progress(len(images), quiet=args.quiet, desc=f"{PROG} demo")
    try:
        for name, image in images:
            gray = _to_gray_float(image)
            result = model(gray[None, :, :, None])
            outputs = {
                k: np.asarray(ops.convert_to_numpy(v))[0, :, :, 0] for k, v in result.items()
            }
            reference = opencv_edges(gray)
            diffs = {k: float(np.max(np.abs(outputs[k] - reference[k]))) for k in worst}
            for key, diff in diffs.items():
                worst[key] = max(worst[key], diff)
                largest[key] = max(largest[key], float(np.max(np.abs(reference[key]))))
            note = f"; max |layer - OpenCV| = {max(diffs.values()):.2g}"
            dest = out_dir / f"{name}.png"
            write_png(dest, make_panel(name, image, outputs, note), overwrite=True)
            written.append(dest)
            progress.advance()
    finally:
        progress.close()

    print(f"fixedfilters demo: {len(images)} images ({origin})")
    print(f"wrote {len(written)} panels to {out_dir.resolve()}{os.sep}:")
    for path in written:
        print(f"  {path}")
    print()
    print("largest |Keras layer - OpenCV| over all images (float32):")
    print(f"  {'filter':<10} {'OpenCV reference':<44} {'max |diff|':>10} {'max |out|':>10}")
    for key, _, reference_call in DEMO_FILTERS:
        print(f"  {key:<10} {reference_call:<44} {worst[key]:>10.3g} {largest[key]:>10.4g}")
    print(f"filtered, compared and written in {time.perf_counter() - started:.1f} s")
    return EXIT_OK
