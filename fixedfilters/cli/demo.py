"""``fixedfilters demo``: edge detection through the Keras layers on the bundled charts and a few
``skimage.data`` photographs, one labelled panel PNG per image, and the largest difference from
OpenCV for each filter (for Canny: the number of pixels that differ from ``cv2.Canny``)."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from fixedfilters.cli._common import EXIT_OK, PROG, UsageError
from fixedfilters.cli.io import Progress, to_uint8, write_png

__all__ = [
    "CANNY",
    "DEMO_FILTERS",
    "SKIMAGE_PHOTOS",
    "build_demo_model",
    "cmd_demo",
    "demo_images",
    "make_panel",
    "opencv_edges",
]

#: The demo's filters: (key, panel label, OpenCV reference as shown in the report).
DEMO_FILTERS = (
    ("gaussian", "Gaussian blur 3x3", "cv2.GaussianBlur(img, (3, 3), 0)"),
    ("sobel_x", "|Sobel x|", "cv2.Sobel(blur, cv2.CV_32F, 1, 0, ksize=3)"),
    ("sobel_y", "|Sobel y|", "cv2.Sobel(blur, cv2.CV_32F, 0, 1, ksize=3)"),
    ("magnitude", "gradient magnitude", "cv2.magnitude(sobel_x, sobel_y)"),
    ("laplacian", "|Laplacian|", "cv2.Laplacian(blur, cv2.CV_32F, ksize=1)"),
)

#: The Canny tile: (thresholds, panel label, OpenCV reference as shown in the report).
CANNY = ((50.0, 150.0), "Canny(50, 150)", "cv2.Canny(gray_uint8, 50, 150)")

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


def _to_gray(image: np.ndarray) -> np.ndarray:
    """The 2-D uint8 gray plane of a gray/BGR/BGRA uint8 image (alpha over white)."""
    import cv2

    if image.ndim == 3 and image.shape[2] == 4:
        image = _over_white(image)
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3:
        image = image[:, :, 0]
    return np.ascontiguousarray(image, dtype=np.uint8)


def _to_gray_float(image: np.ndarray) -> np.ndarray:
    """A 2-D float32 gray plane of a gray/BGR/BGRA uint8 image (alpha over white)."""
    return _to_gray(image).astype(np.float32)


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


def _text_tile(lines: list[str], height: int, width: int) -> np.ndarray:
    """A white tile of ``height x width`` (header included) with ``lines`` of text."""
    import cv2

    tile = np.full((height, width, 3), 255, np.uint8)
    scale = 0.5
    font = cv2.FONT_HERSHEY_SIMPLEX
    longest = max(lines, key=len)
    while scale > 0.3 and cv2.getTextSize(longest, font, scale, 1)[0][0] > width - 8:
        scale -= 0.05
    step = int(32 * scale) + 4
    for i, line in enumerate(lines):
        cv2.putText(tile, line, (4, 16 + i * step), font, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return tile


def make_panel(
    name: str,
    image: np.ndarray,
    outputs: dict[str, np.ndarray],
    note: str = "",
    report: list[str] | None = None,
) -> np.ndarray:
    """A 2 x 4 labelled grid: original, blur, magnitude, Canny / Sobel x, Sobel y, Laplacian and
    a text tile with ``report`` (the demo lists each filter's difference from OpenCV there).

    ``outputs`` holds the float outputs of :data:`DEMO_FILTERS` and ``"canny"`` (uint8 0/255).
    ``note`` is appended to the footer line.
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
    tiles["canny"] = _tile(outputs["canny"], CANNY[1])
    height, width = tiles["original"].shape[:2]
    tiles["report"] = _text_tile(report or [], height, width)
    gap = np.full((height, 6, 3), 255, np.uint8)
    rows = [
        np.hstack(
            [tiles["original"], gap, tiles["gaussian"], gap, tiles["magnitude"], gap]
            + [tiles["canny"]]
        ),
        np.hstack(
            [tiles["sobel_x"], gap, tiles["sobel_y"], gap, tiles["laplacian"], gap]
            + [tiles["report"]]
        ),
    ]
    panel = np.vstack([rows[0], np.full((6, rows[0].shape[1], 3), 255, np.uint8), rows[1]])
    footer = np.full((22, panel.shape[1], 3), 255, np.uint8)
    cv2.putText(
        footer,
        "fixedfilters Keras layers on the grayscale image; |derivatives| scaled so that the "
        f"99.5th percentile is white; Canny on the 8-bit gray image{note}",
        (4, 15),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.4,
        (90, 90, 90),
        1,
        cv2.LINE_AA,
    )
    return np.vstack([panel, footer])


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo (``args.out``, ``args.quiet``); print the report on stdout."""
    import cv2

    started = time.perf_counter()
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file, not a folder")
    from fixedfilters.cli.quiet import import_keras

    ops = import_keras().ops
    import fixedfilters as ff

    images, origin = demo_images()
    model = build_demo_model()
    (low, high), _, _ = CANNY
    canny = ff.Canny(low, high, name="canny")
    canny_differ = 0
    canny_pixels = 0
    worst = {key: 0.0 for key, _, _ in DEMO_FILTERS}
    largest = {key: 0.0 for key, _, _ in DEMO_FILTERS}
    written: list[Path] = []
    progress = Progress(len(images), quiet=args.quiet, desc=f"{PROG} demo")
    try:
        for name, image in images:
            gray8 = _to_gray(image)
            gray = gray8.astype(np.float32)
            result = model(gray[None, :, :, None])
            outputs = {
                k: np.asarray(ops.convert_to_numpy(v))[0, :, :, 0] for k, v in result.items()
            }
            outputs["canny"] = np.asarray(ops.convert_to_numpy(canny(gray8[None, :, :, None])))[
                0, :, :, 0
            ]
            reference = opencv_edges(gray)
            diffs = {k: float(np.max(np.abs(outputs[k] - reference[k]))) for k in worst}
            for key, diff in diffs.items():
                worst[key] = max(worst[key], diff)
                largest[key] = max(largest[key], float(np.max(np.abs(reference[key]))))
            differ = int(np.count_nonzero(outputs["canny"] != cv2.Canny(gray8, low, high)))
            canny_differ += differ
            canny_pixels += gray8.size
            lines = ["|layer - OpenCV|, max:"]
            lines += [f"  {key}: {diff:.2g}" for key, diff in diffs.items()]
            lines += [f"  canny: {differ} of {gray8.size} pixels differ"]
            dest = out_dir / f"{name}.png"
            write_png(dest, make_panel(name, image, outputs, report=lines), overwrite=True)
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
    print(
        f"Canny layer {CANNY[1]} vs {CANNY[2]} (uint8, 0/255): "
        f"{canny_differ} of {canny_pixels} pixels differ"
    )
    print(f"filtered, compared and written in {time.perf_counter() - started:.1f} s")
    return EXIT_OK
