"""Test charts rendered by this project itself: no third-party images, nothing downloaded.

Each chart is a deterministic ``uint8`` image a few hundred pixels a side, drawn with numpy and
OpenCV only (no Keras / TensorFlow), chosen to make fixed filters interesting to look at: edges
at every orientation (:func:`siemens_star`), corners and frequencies (:func:`checkerboard`),
colour edges (:func:`shapes`), fine detail (:func:`text`), smooth ramps next to a hard step
(:func:`ramp`), a step buried in noise (:func:`noisy_step`) and a four-channel BGRA image with
an alpha channel (:func:`color_zone_plate`).

Channel order follows OpenCV: colour charts are BGR (3 channels) or BGRA (4 channels), so they
can be passed straight to ``cv2`` functions and written with ``cv2.imwrite``.

Usage::

    from fixedfilters import charts

    images = charts.render_all()          # {"siemens_star": array(...), ...}
    charts.save_all("images")             # writes images/<name>.png atomically
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np

__all__ = [
    "CHARTS",
    "render",
    "render_all",
    "save_all",
    "siemens_star",
    "checkerboard",
    "shapes",
    "text",
    "ramp",
    "noisy_step",
    "color_zone_plate",
]

#: Supersampling factor used to anti-alias the charts computed analytically in numpy.
_SUPERSAMPLE = 4


def _grid(height: int, width: int, factor: int = _SUPERSAMPLE) -> tuple[np.ndarray, np.ndarray]:
    """Return float64 ``(y, x)`` sample coordinates, in output pixels, of a supersampled grid.

    The grid has ``height * factor`` rows and ``width * factor`` columns; sample centres are
    placed inside each output pixel so that averaging ``factor x factor`` blocks (see
    :func:`_downsample`) gives a box-filtered, anti-aliased image. Pixel ``(i, j)`` covers
    ``[i, i + 1) x [j, j + 1)``.
    """
    ys = (np.arange(height * factor, dtype=np.float64) + 0.5) / factor
    xs = (np.arange(width * factor, dtype=np.float64) + 0.5) / factor
    return np.meshgrid(ys, xs, indexing="ij")


def _downsample(image: np.ndarray, factor: int = _SUPERSAMPLE) -> np.ndarray:
    """Average non-overlapping ``factor x factor`` blocks of a 2-D or 3-D (H, W, C) array."""
    h, w = image.shape[0] // factor, image.shape[1] // factor
    blocks = image.reshape(h, factor, w, factor, *image.shape[2:])
    return blocks.mean(axis=(1, 3))


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """Round a float image in ``[0, 255]`` to ``uint8`` (values outside are clipped)."""
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def siemens_star(size: int = 320, spokes: int = 48) -> np.ndarray:
    """Grayscale Siemens star: ``spokes`` black/white wedge pairs, anti-aliased by supersampling.

    Edges run at every orientation and their spacing shrinks towards the centre, so the chart
    shows the angular response of directional filters (Sobel x vs y, Scharr's better isotropy)
    and where blurring merges the spokes. The star sits on mid-gray outside its disc.

    Args:
        size: side of the square image in pixels.
        spokes: number of black (and of white) wedges, 36 to 72 gives a readable chart.

    Returns:
        ``uint8`` array of shape ``(size, size)``.
    """
    y, x = _grid(size, size)
    cy = cx = size / 2.0
    dy, dx = y - cy, x - cx
    radius = np.hypot(dx, dy)
    theta = np.arctan2(dy, dx)
    wedge = np.where(np.sin(spokes * theta) >= 0.0, 235.0, 20.0)
    outer = 0.46 * size
    value = np.where(radius <= outer, wedge, 128.0)
    # A thin white ring around the star and a small gray hub at the centre.
    value = np.where((radius > outer) & (radius <= outer + 2.0), 255.0, value)
    value = np.where(radius <= 0.025 * size, 128.0, value)
    return _to_uint8(_downsample(value))


def checkerboard(height: int = 256, width: int = 384) -> np.ndarray:
    """Grayscale checkerboards with squares of several sizes, one of them rotated.

    The left half holds axis-aligned boards with 32, 16 and 8 pixel squares (exact, no
    anti-aliasing needed: corners fall on pixel boundaries); the right half holds a board of 24
    pixel squares rotated by 30 degrees, anti-aliased by supersampling. Corners make the chart a
    natural test for Laplacian and Sobel-magnitude responses, the small squares for how far a
    Gaussian blur washes out detail.

    Returns:
        ``uint8`` array of shape ``(height, width)``.
    """
    image = np.empty((height, width), dtype=np.float64)
    half = width // 2
    rows = np.arange(height)[:, None]
    # Left half: three horizontal bands of axis-aligned squares (32, 16, 8 px).
    band_edges = np.linspace(0, height, 4).astype(int)
    for (top, bottom), square in zip(
        zip(band_edges[:-1], band_edges[1:], strict=True), (32, 16, 8), strict=True
    ):
        cols = np.arange(half)[None, :]
        parity = ((rows[top:bottom] // square) + (cols // square)) % 2
        image[top:bottom, :half] = np.where(parity == 0, 40.0, 215.0)
    # Right half: a rotated board, supersampled.
    y, x = _grid(height, width - half)
    angle = np.deg2rad(30.0)
    cy, cx = height / 2.0, (width - half) / 2.0
    u = (x - cx) * np.cos(angle) + (y - cy) * np.sin(angle)
    v = -(x - cx) * np.sin(angle) + (y - cy) * np.cos(angle)
    square = 24.0
    parity = (np.floor(u / square) + np.floor(v / square)) % 2
    image[:, half:] = _downsample(np.where(parity == 0, 40.0, 215.0))
    # A 2-pixel mid-gray separator between the halves.
    image[:, half - 1 : half + 1] = 128.0
    return _to_uint8(image)


def shapes(height: int = 288, width: int = 384) -> np.ndarray:
    """BGR colour chart: filled and outlined shapes and lines on a two-way gradient background.

    Filled circles, rectangles, a triangle and an ellipse of different colours, plus straight
    lines of several widths and angles, all drawn with ``cv2.LINE_AA``. Shapes of equal
    luminance but different hue show why per-channel filtering differs from filtering a gray
    conversion; the smooth gradient background should give a weak, uniform gradient response.

    Returns:
        ``uint8`` array of shape ``(height, width, 3)``, channels in BGR order.
    """
    ys = np.linspace(0.0, 1.0, height)[:, None]
    xs = np.linspace(0.0, 1.0, width)[None, :]
    background = np.empty((height, width, 3), dtype=np.float64)
    background[..., 0] = 60.0 + 120.0 * xs  # blue grows to the right
    background[..., 1] = 50.0 + 40.0 * (1.0 - ys) * xs  # a little green towards top right
    background[..., 2] = 40.0 + 130.0 * ys  # red grows downwards
    image = np.ascontiguousarray(_to_uint8(background))

    aa = cv2.LINE_AA
    cv2.circle(image, (70, 70), 45, (40, 200, 250), -1, aa)  # yellow-orange disc
    cv2.circle(image, (70, 70), 18, (30, 30, 30), -1, aa)  # dark hole
    cv2.circle(image, (320, 220), 38, (255, 255, 255), 3, aa)  # white ring
    cv2.rectangle(image, (150, 25), (260, 110), (60, 180, 60), -1, aa)  # green box
    cv2.rectangle(image, (170, 45), (240, 90), (230, 90, 40), 2, aa)  # blue outline
    triangle = np.array([[40, 260], [140, 150], [190, 265]], dtype=np.int32)
    cv2.fillPoly(image, [triangle], (200, 60, 220), aa)  # magenta triangle
    cv2.ellipse(image, (300, 90), (65, 35), 25.0, 0.0, 360.0, (30, 40, 230), -1, aa)  # red
    cv2.ellipse(image, (230, 200), (40, 22), -40.0, 0.0, 360.0, (220, 220, 30), -1, aa)  # cyan
    # Lines of different colours, widths and angles.
    cv2.line(image, (10, 285), (380, 130), (255, 255, 255), 1, aa)
    cv2.line(image, (200, 280), (380, 255), (0, 0, 0), 2, aa)
    cv2.line(image, (10, 140), (120, 125), (0, 255, 255), 3, aa)
    cv2.line(image, (360, 10), (280, 150), (255, 0, 255), 2, aa)
    cv2.line(image, (130, 5), (130, 135), (255, 255, 0), 1, aa)  # exactly vertical
    cv2.line(image, (150, 130), (270, 130), (0, 128, 255), 1, aa)  # exactly horizontal
    return image


def text(height: int = 200, width: int = 480) -> np.ndarray:
    """Grayscale text at several font sizes, drawn with ``cv2.putText`` (anti-aliased).

    Thin strokes, serifs and small glyphs show fine-detail behaviour: how much of a small font
    survives a Gaussian blur, and the double-edge response of Sobel/Laplacian on one-pixel lines.
    Font rasterisation may differ slightly between OpenCV versions.

    Returns:
        ``uint8`` array of shape ``(height, width)``: dark text on a light background.
    """
    image = np.full((height, width), 235, dtype=np.uint8)
    aa = cv2.LINE_AA
    lines = [
        ("fixedfilters", cv2.FONT_HERSHEY_DUPLEX, 1.8, 3, 58),
        ("Sobel  Scharr  Laplacian", cv2.FONT_HERSHEY_SIMPLEX, 1.0, 2, 105),
        ("Gaussian 0123456789", cv2.FONT_HERSHEY_COMPLEX, 0.8, 1, 143),
        (
            "ksize=3 sigma=1.5 BORDER_REFLECT_101 (OpenCV parity)",
            cv2.FONT_HERSHEY_PLAIN,
            1.0,
            1,
            170,
        ),
        (
            "small text: the quick brown fox jumps over the lazy dog",
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4,
            1,
            190,
        ),
    ]
    for string, font, scale, thickness, baseline_y in lines:
        cv2.putText(image, string, (12, baseline_y), font, scale, 20, thickness, aa)
    return image


def ramp(height: int = 257, width: int = 321) -> np.ndarray:
    """Grayscale ramps: a horizontal ramp with a sharp step in the middle over a radial ramp.

    Top half: a linear ramp from 10 to 100 on the left half, a jump, and 150 to 245 on the right
    half; a first-derivative filter gives a constant response on the ramps and a spike at the
    step, a second-derivative (Laplacian) filter gives zero on the ramps. Bottom half: a radial
    ramp (brightness grows linearly with distance from its centre) with a hard ring at radius
    ``0.6 * half height``. The odd size (257 x 321) exercises odd-sized inputs and centring.

    Returns:
        ``uint8`` array of shape ``(height, width)``.
    """
    image = np.empty((height, width), dtype=np.float64)
    top = height // 2
    mid = width // 2
    left = np.linspace(10.0, 100.0, mid)
    right = np.linspace(150.0, 245.0, width - mid)
    image[:top, :] = np.concatenate([left, right])[None, :]

    bottom = height - top
    y, x = _grid(bottom, width)
    cy, cx = bottom / 2.0, width / 2.0
    radius = np.hypot(y - cy, x - cx)
    rmax = np.hypot(cy, cx)
    value = 20.0 + 200.0 * radius / rmax
    value = np.where(radius < 0.6 * cy, value + 35.0, value)
    image[top:, :] = _downsample(value)
    return _to_uint8(image)


def noisy_step(size: int = 256, sigma: float = 20.0, seed: int = 20240501) -> np.ndarray:
    """Grayscale vertical step edge (70 | 185) with additive Gaussian noise of std ``sigma``.

    The noise comes from ``np.random.default_rng(seed)``, so the chart is deterministic. Raw
    Sobel responds to the noise almost as strongly as to the edge; Gaussian smoothing first
    (or Sobel's built-in smoothing at larger ksize) makes the edge stand out.

    Returns:
        ``uint8`` array of shape ``(size, size)``.
    """
    rng = np.random.default_rng(seed)
    clean = np.where(np.arange(size)[None, :] < size // 2, 70.0, 185.0)
    clean = np.broadcast_to(clean, (size, size))
    noise = rng.normal(0.0, sigma, size=(size, size))
    return _to_uint8(clean + noise)


def color_zone_plate(size: int = 288) -> np.ndarray:
    """BGRA colour zone plate: concentric rings whose frequency grows with radius, plus alpha.

    Each colour channel is a zone plate ``cos(k * r**2)`` with a different ``k``, so the rings
    (and their aliasing once blurred or downsampled) differ per channel. The alpha channel is
    opaque in the middle and fades to transparent towards the corners, with a hard-edged
    transparent square notch, to exercise four-channel images where alpha must be filtered
    like any other channel. Anti-aliased by supersampling; the highest frequency stays below
    Nyquist.

    Returns:
        ``uint8`` array of shape ``(size, size, 4)``, channels in BGRA order.
    """
    y, x = _grid(size, size)
    c = size / 2.0
    r2 = (y - c) ** 2 + (x - c) ** 2
    rmax = np.sqrt(2.0) * c
    # Local frequency d(phase)/dr = 2 * k * r; k = scale * pi / (2 * rmax) keeps it < pi.
    channels = []
    for scale in (0.8, 0.55, 0.35):  # B, G, R; at most 0.8 x Nyquist in the corners
        k = scale * np.pi / (2.0 * rmax)
        channels.append(127.5 + 127.5 * np.cos(k * r2))
    radius = np.sqrt(r2)
    alpha = 255.0 * np.clip((rmax - radius) / (0.35 * rmax), 0.0, 1.0)
    notch = (np.abs(y - 0.78 * size) < 0.08 * size) & (np.abs(x - 0.78 * size) < 0.08 * size)
    alpha = np.where(notch, 0.0, alpha)
    channels.append(alpha)
    return _to_uint8(_downsample(np.stack(channels, axis=-1)))


#: Every chart, by name (also the PNG file stem). Each callable renders a fresh ``uint8`` array.
CHARTS: dict[str, Callable[[], np.ndarray]] = {
    "siemens_star": siemens_star,
    "checkerboard": checkerboard,
    "shapes": shapes,
    "text": text,
    "ramp": ramp,
    "noisy_step": noisy_step,
    "color_zone_plate": color_zone_plate,
}


def render(name: str) -> np.ndarray:
    """Render one chart by name.

    Raises:
        KeyError: when ``name`` is not in :data:`CHARTS` (the message lists the valid names).
    """
    try:
        factory = CHARTS[name]
    except KeyError:
        raise KeyError(f"unknown chart {name!r}; choose from {sorted(CHARTS)}") from None
    return factory()


def render_all() -> dict[str, np.ndarray]:
    """Render every chart in :data:`CHARTS`; returns ``{name: uint8 array}`` in registry order."""
    return {name: factory() for name, factory in CHARTS.items()}


def _write_png_atomic(path: Path, image: np.ndarray) -> None:
    """Encode ``image`` as PNG and write it to ``path`` atomically.

    The bytes go to a temporary file in the same folder, are flushed to disk, then moved over
    ``path`` with :func:`os.replace`, so readers never see a partial file; on any failure the
    temporary file is removed and an existing ``path`` is left untouched.
    """
    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise OSError(f"OpenCV could not encode {path.name} as PNG")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(encoded.tobytes())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp creates 0600; give the PNG ordinary permissions
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


def save_all(out_dir: str | os.PathLike[str], names: Iterable[str] | None = None) -> list[Path]:
    """Render charts and write each as ``<out_dir>/<name>.png`` atomically.

    Args:
        out_dir: destination folder, created if missing.
        names: charts to write (default: all of :data:`CHARTS`, in registry order).

    Returns:
        The paths written, in order.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in CHARTS if names is None else names:
        path = out / f"{name}.png"
        _write_png_atomic(path, render(name))
        written.append(path)
    return written
