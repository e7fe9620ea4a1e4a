"""Edge detection with fixed Keras layers, checked against OpenCV.

Run: ``python demos/edge_detection.py [IMAGE [FIGURE]]``. Without IMAGE: scikit-image's
"camera" photograph (or the Siemens star chart without scikit-image); FIGURE: edges.png.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import keras  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")  # write a file, open no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fixedfilters as ff  # noqa: E402
from fixedfilters import charts  # noqa: E402


def main(image_path: str | None = None, figure_path: str = "edges.png") -> int:
    # 1. A grayscale image, as float32.
    if image_path:
        gray = cv2.imread(image_path, cv2.IMREAD_GRAYSCALE)
        if gray is None:
            sys.exit(f"cannot read {image_path!r} as an image")
    else:
        try:
            from skimage.data import camera

            gray = camera()
        except ImportError:
            gray = charts.render("siemens_star")
    gray = gray.astype(np.float32)

    # 2. A Keras model of fixed layers: blur, then four edge filters of the blurred image.
    inputs = keras.Input((None, None, 1))
    blur = ff.GaussianBlur(3)(inputs)
    outputs = {
        "blur": blur,
        "sobel_x": ff.Sobel(dx=1, dy=0)(blur),
        "sobel_y": ff.Sobel(dx=0, dy=1)(blur),
        "magnitude": ff.SobelMagnitude()(blur),
        "laplacian": ff.Laplacian()(blur),
    }
    model = keras.Model(inputs, outputs)
    results = model.predict(gray[None, :, :, None], verbose=0)  # batch of one, one channel
    results = {name: out[0, :, :, 0] for name, out in results.items()}

    # 3. A figure: the image and each output (|x| for the signed ones).
    fig, axes = plt.subplots(2, 3, figsize=(12, 8), layout="constrained")
    for ax, (name, picture) in zip(axes.flat, [("image", gray), *results.items()], strict=True):
        picture = np.abs(picture)
        top = 255 if name in ("image", "blur") else np.percentile(picture, 99.5)  # edges: bright
        ax.imshow(picture, cmap="gray", vmin=0, vmax=top)
        ax.set_title(f"|{name}|" if name in ("sobel_x", "sobel_y", "laplacian") else name)
        ax.axis("off")
    fig.savefig(figure_path, dpi=80)
    print(f"figure saved to {os.path.abspath(figure_path)}")

    # 4. The same pipeline in OpenCV, and the largest difference.
    cv_blur = cv2.GaussianBlur(gray, (3, 3), 0)
    cv_x, cv_y = cv2.Sobel(cv_blur, cv2.CV_32F, 1, 0), cv2.Sobel(cv_blur, cv2.CV_32F, 0, 1)
    reference = {
        "blur": cv_blur,
        "sobel_x": cv_x,
        "sobel_y": cv_y,
        "magnitude": cv2.magnitude(cv_x, cv_y),
        "laplacian": cv2.Laplacian(cv_blur, cv2.CV_32F),
    }
    for name, out in results.items():
        print(f"{name:<10} max |Keras - OpenCV| = {np.max(np.abs(out - reference[name])):.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
