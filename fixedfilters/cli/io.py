"""Image files in and out: reading as stored, the 8-bit picture of a result, atomic writes, the
progress bar. OpenCV is imported only when an image is read or written."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import numpy as np

from fixedfilters.cli._common import InputError, isatty

__all__ = [
    "IMAGE_SUFFIXES",
    "Progress",
    "quiet_opencv",
    "read_image",
    "to_picture",
    "to_uint8",
    "write_atomic",
    "write_npy",
    "write_png",
]

#: File suffixes picked up when a folder is given as INPUT (files named explicitly are always
#: tried, whatever their suffix: the decoder decides).
IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".dib", ".tif", ".tiff", ".webp"}
    | {".ppm", ".pgm", ".pbm", ".pnm"}
)


@contextlib.contextmanager
def quiet_opencv() -> Iterator[None]:
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


def to_picture(output: np.ndarray, picture: str) -> np.ndarray:
    """The PNG image of a layer output: uint8 and uint16 as they are (8- and 16-bit PNGs), else
    the 8-bit :func:`to_uint8`.

    ``picture`` is a :class:`~fixedfilters.cli.filters.FilterSpec`'s: ``"abs"`` (derivatives:
    ``cv2.convertScaleAbs``) or ``"round"`` (blurs: rounded and clipped).
    """
    if output.dtype in (np.uint8, np.uint16):
        return output
    return to_uint8(output, derivative=picture == "abs")


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
    """Encode ``image`` (uint8 or uint16, 1, 3 or 4 channels, OpenCV order) as PNG, atomically."""
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
        if total > 1 and not quiet and isatty(sys.stderr):
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
