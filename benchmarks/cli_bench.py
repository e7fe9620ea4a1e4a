"""The ``fixedfilters`` command against an equivalent OpenCV script, both as whole processes.

Makes 200 JPEGs of mixed sizes (``skimage.data`` photographs, cropped and scaled; seeded) in a
temporary folder, then times, interleaved, ``--repeat`` times each (medians reported):

* start-up alone: ``fixedfilters --help`` (no Keras/TensorFlow) and ``python -c "import cv2"``;
* ``fixedfilters apply sobel DIR --out OUT --quiet`` on 1 image and on all 200, and the cv2
  script (``imread``, ``Sobel`` to CV_32F, ``convertScaleAbs``, ``imwrite``) on the same;
* per image after start-up = ``(T(200) - T(1)) / 199``, and its ratio to cv2's.

It also checks that both write the same PNG bytes for every image. Usage::

    python benchmarks/cli_bench.py [--images 200] [--repeat 3]

Targets (issue 12): ``--help`` under 1 s; at most 3x cv2 per image after start-up. Timings on
a shared machine are noisy: read the ratios of one run, not the absolute times.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

CV2_SCRIPT = """\
import sys, pathlib, cv2
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
for path in sorted(src.iterdir()):
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    edges = cv2.convertScaleAbs(cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3))
    cv2.imwrite(str(out / f"{path.stem}.sobel.png"), edges)
"""


def make_images(folder: Path, count: int, seed: int = 0) -> list[tuple[int, int]]:
    """``count`` JPEGs of mixed sizes (crops of skimage photographs, scaled 0.25-1.25x)."""
    from skimage import data

    photos = []
    for name in ("astronaut", "camera", "coffee", "chelsea", "rocket", "coins", "moon", "page"):
        try:
            photo = getattr(data, name)()
        except Exception:  # a photograph that needs a download
            continue
        photos.append(photo if photo.ndim == 2 else cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    sizes = []
    for i in range(count):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        ch, cw = int(rng.integers(h // 3, h + 1)), int(rng.integers(w // 3, w + 1))
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        crop = photo[y : y + ch, x : x + cw]
        f = float(rng.uniform(0.25, 1.25))
        size = (max(1, round(cw * f)), max(1, round(ch * f)))
        image = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(folder / f"img{i:04d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        sizes.append(image.shape[:2])
    return sizes


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{result.stderr}")
    if result.stderr.strip():
        print(f"  stderr of {command[1:3]}: {result.stderr.strip()[:200]!r}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    repo = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # the command sets it itself
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "fixedfilters"]
    with tempfile.TemporaryDirectory(prefix="ff-cli-bench-") as tmp:
        tmp_path = Path(tmp)
        sizes = make_images(tmp_path / "all", args.images)
        (tmp_path / "one").mkdir()
        first = sorted((tmp_path / "all").iterdir())[0]
        shutil.copy(first, tmp_path / "one" / first.name)
        script = tmp_path / "cv2_sobel.py"
        script.write_text(CV2_SCRIPT)
        pixels = [h * w for h, w in sizes]
        print(
            f"{len(sizes)} JPEGs, {len(set(sizes))} distinct sizes, "
            f"{min(pixels)}..{max(pixels)} pixels (median {int(np.median(pixels))})"
        )

        times: dict[str, list[float]] = {}

        def run(key: str, cmd: list[str], out: Path | None = None) -> None:
            if out is not None:
                shutil.rmtree(out, ignore_errors=True)
            times.setdefault(key, []).append(timed(cmd, env))

        for _ in range(args.repeat):
            run("help", [*command, "--help"])
            run("cv2 import", [sys.executable, "-c", "import cv2, numpy"])
            for n in ("one", "all"):
                out_ff, out_cv = tmp_path / f"ff-{n}", tmp_path / f"cv-{n}"
                src = str(tmp_path / n)
                run(
                    f"ff {n}", [*command, "apply", "sobel", src, "--out", str(out_ff), "-q"], out_ff
                )
                run(f"cv2 {n}", [sys.executable, str(script), src, str(out_cv)], out_cv)

        same = sum(
            (tmp_path / "ff-all" / p.name).read_bytes() == p.read_bytes()
            for p in (tmp_path / "cv-all").iterdir()
        )
        med = {key: statistics.median(values) for key, values in times.items()}
        count = len(sizes)
        ff_per = (med["ff all"] - med["ff one"]) / (count - 1)
        cv_per = (med["cv2 all"] - med["cv2 one"]) / (count - 1)
        print(f"median of {args.repeat} interleaved runs (os.cpu_count()={os.cpu_count()}):")
        print(f"  fixedfilters --help                 {med['help']:7.2f} s  (target < 1 s)")
        print(f"  python -c 'import cv2, numpy'       {med['cv2 import']:7.2f} s")
        print(f"  fixedfilters apply sobel, 1 image   {med['ff one']:7.2f} s  (start-up)")
        print(f"  cv2 script, 1 image                 {med['cv2 one']:7.2f} s")
        print(f"  fixedfilters apply sobel, {count} images {med['ff all']:6.2f} s")
        print(f"  cv2 script, {count} images               {med['cv2 all']:6.2f} s")
        print(
            f"  per image after start-up: fixedfilters {ff_per * 1e3:.2f} ms, cv2 "
            f"{cv_per * 1e3:.2f} ms, ratio {ff_per / cv_per:.2f}x (target <= 3x)"
        )
        print(f"  identical PNG bytes: {same} of {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
