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
    # 1. A grayscale image (uint8 for Canny, float32 for the filters).
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
    gray8 = np.ascontiguousarray(gray, dtype=np.uint8)
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

    # Canny edges (uint8 in, 0/255 out), the same bytes as cv2.Canny.
    canny_in = keras.Input((None, None, 1), dtype="uint8")
    canny_model = keras.Model(canny_in, ff.Canny(50, 150)(canny_in))
    edges = canny_model.predict(gray8[None, :, :, None], verbose=0)[0, :, :, 0]

    # 3. A figure: the image and each output (|x| for the signed ones).
    fig, axes = plt.subplots(2, 4, figsize=(16, 8), layout="constrained")
    axes.flat[-1].axis("off")
    pictures = [("image", gray), *results.items(), ("canny", edges.astype(np.float32))]
    for ax, (name, picture) in zip(axes.flat, pictures, strict=False):
        picture = np.abs(picture)
        bright = name in ("image", "blur", "canny")
        top = 255 if bright else np.percentile(picture, 99.5)  # edges: bright
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
    differing = int(np.count_nonzero(edges != cv2.Canny(gray8, 50, 150)))
    print(f"canny      pixels differing from cv2.Canny(image, 50, 150): {differing}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
