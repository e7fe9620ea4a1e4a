"""OpenCV references for the parity tests: one table of filters, cv2 called per plane.

Each case knows how to build our layer and how to compute the same thing with cv2 on one 2-D
float32 plane. Borders cv2 supports natively are passed to cv2 as borderType. The two it cannot
express are built with numpy.pad and then filtered by cv2 on the padded plane and cropped:
"wrap" (OpenCV's filters refuse BORDER_WRAP; the issue defines it as numpy.pad(mode="wrap")
followed by a valid correlation) and "constant" with a non-zero border_value (cv2.Sobel and
friends always pad with 0).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import cv2
import keras
import numpy as np

import fixedfilters as ff

CV_BORDER = {
    "reflect_101": cv2.BORDER_REFLECT_101,
    "reflect": cv2.BORDER_REFLECT,
    "replicate": cv2.BORDER_REPLICATE,
    "constant": cv2.BORDER_CONSTANT,
}
CV_DEPTH = {"uint8": cv2.CV_8U, "int16": cv2.CV_16S, "uint16": cv2.CV_16U}
NP_MODE = {"wrap": "wrap", "constant": "constant"}
BORDERS = ("reflect_101", "reflect", "replicate", "constant", "wrap")


@dataclasses.dataclass(frozen=True)
class Case:
    """One filter configuration: our layer, and cv2 on a plane with a given borderType."""

    id: str
    make: Callable[..., ff.FixedFilter]  # make(border=..., border_value=...) -> layer
    cv: Callable[[np.ndarray, int], np.ndarray]  # cv(plane, borderType) -> output plane
    tapsum: float  # sum of |taps| (scale included), the tolerance unit
    radius: int  # half-size of the kernel, enough padding for the numpy.pad references
    delta: float = 0.0
    # What the shared tests may assume of the layer (new families narrow these):
    borders: tuple[str, ...] = BORDERS  # the borders it accepts; the first is its default
    linear: bool = True  # a (sum of) linear correlations: adjoint gradients, NaN rules
    same_shape: bool = True  # output (H, W) == input (H, W): can sit in a FilterBank
    has_taps: bool = True  # holds fixed weights (a median has none)
    # False where cv2's running sums spread a NaN/inf past the windows holding it (boxFilter):
    # the shared NaN test skips it; the family's own tests check the local rule instead.
    opencv_nan_local: bool = True

    @property
    def default_border(self) -> str:
        return self.borders[0]

    def pick_border(self, *preferred: str) -> str:
        """The first of ``preferred`` this case accepts, else its default border."""
        return next((b for b in preferred if b in self.borders), self.default_border)


def _sep_tapsum(kx, ky, scale=1.0):
    return float(np.abs(np.outer(ky, kx)).sum() * abs(scale))


def sobel_case(dx, dy, ksize, scale=1.0, delta=0.0) -> Case:
    kx, ky = cv2.getDerivKernels(dx, dy, ksize, ktype=cv2.CV_64F)
    return Case(
        id=f"sobel-{dx}{dy}-k{ksize}" + (f"-s{scale}-d{delta}" if scale != 1 or delta else ""),
        make=lambda **kw: ff.Sobel(dx, dy, ksize, scale=scale, delta=delta, **kw),
        cv=lambda p, b: cv2.Sobel(
            p, cv2.CV_32F, dx, dy, ksize=ksize, scale=scale, delta=delta, borderType=b
        ),
        tapsum=_sep_tapsum(kx.ravel(), ky.ravel(), scale),
        radius=max(len(kx), len(ky)) // 2,
        delta=delta,
    )


def scharr_case(dx, dy, scale=1.0, delta=0.0) -> Case:
    return Case(
        id=f"scharr-{dx}{dy}" + (f"-s{scale}-d{delta}" if scale != 1 or delta else ""),
        make=lambda **kw: ff.Scharr(dx, dy, scale=scale, delta=delta, **kw),
        cv=lambda p, b: cv2.Scharr(p, cv2.CV_32F, dx, dy, scale=scale, delta=delta, borderType=b),
        tapsum=32.0 * abs(scale),
        radius=1,
        delta=delta,
    )


def laplacian_case(ksize, scale=1.0, delta=0.0) -> Case:
    if ksize == 1:
        k2 = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float)
    else:
        a = cv2.getDerivKernels(2, 0, ksize, ktype=cv2.CV_64F)
        b = cv2.getDerivKernels(0, 2, ksize, ktype=cv2.CV_64F)
        k2 = np.outer(a[1], a[0]) + np.outer(b[1], b[0])
    return Case(
        id=f"laplacian-k{ksize}" + (f"-s{scale}-d{delta}" if scale != 1 or delta else ""),
        make=lambda **kw: ff.Laplacian(ksize, scale=scale, delta=delta, **kw),
        cv=lambda p, b: cv2.Laplacian(
            p, cv2.CV_32F, ksize=ksize, scale=scale, delta=delta, borderType=b
        ),
        tapsum=float(np.abs(k2).sum() * abs(scale)) * 2,  # two terms, summed in float32
        radius=max(1, ksize // 2),
        delta=delta,
    )


def gaussian_case(ksize, sigma_x=0.0, sigma_y=0.0) -> Case:
    ks = ksize if isinstance(ksize, tuple) else (ksize, ksize)
    # the radius of the kernels cv2 will use: probe cv2 with an impulse, no guessing
    probe = np.zeros((129, 129), np.float32)
    probe[64, 64] = 1
    resp = cv2.GaussianBlur(probe, ks, sigma_x, sigmaY=sigma_y, borderType=cv2.BORDER_CONSTANT)
    ys, xs = np.nonzero(resp)
    radius = int(max(64 - ys.min(), 64 - xs.min(), 1))
    return Case(
        id=f"gaussian-{ks[0]}x{ks[1]}-sx{sigma_x}-sy{sigma_y}",
        make=lambda **kw: ff.GaussianBlur(ksize, sigma_x, sigma_y, **kw),
        cv=lambda p, b: cv2.GaussianBlur(p, ks, sigma_x, sigmaY=sigma_y, borderType=b),
        tapsum=1.0,
        radius=radius,
    )


def filter2d_case(kernel, anchor=None, delta=0.0, name="k") -> Case:
    k = np.asarray(kernel, np.float64)
    cv_anchor = (-1, -1) if anchor is None else anchor
    return Case(
        id=f"filter2d-{name}-{k.shape[0]}x{k.shape[1]}-a{anchor}" + (f"-d{delta}" if delta else ""),
        make=lambda **kw: ff.Filter2D(k, anchor=anchor, delta=delta, **kw),
        cv=lambda p, b: cv2.filter2D(
            p, cv2.CV_32F, k.astype(np.float32), anchor=cv_anchor, delta=delta, borderType=b
        ),
        tapsum=float(np.abs(k).sum()),
        radius=max(k.shape),
        delta=delta,
    )


def magnitude_case(ksize) -> Case:
    kx, ky = cv2.getDerivKernels(1, 0, ksize, ktype=cv2.CV_64F)

    def cv(p, b):
        gx = cv2.Sobel(p, cv2.CV_32F, 1, 0, ksize=ksize, borderType=b)
        gy = cv2.Sobel(p, cv2.CV_32F, 0, 1, ksize=ksize, borderType=b)
        return cv2.magnitude(gx, gy)

    return Case(
        id=f"magnitude-k{ksize}",
        make=lambda **kw: ff.SobelMagnitude(ksize, **kw),
        cv=cv,
        tapsum=2 * _sep_tapsum(kx.ravel(), ky.ravel()),
        radius=max(1, (len(kx) // 2)),
    )


# The registry: a filter listed here gets the parity matrix, the frozen-in-training,
# serialization and data_format tests.
CASES = [
    sobel_case(1, 0, 3),
    sobel_case(0, 1, 3),
    sobel_case(1, 1, 3),
    sobel_case(2, 0, 5),
    sobel_case(0, 2, 7, scale=0.25, delta=3.0),
    sobel_case(1, 0, 1),
    sobel_case(0, 1, 1),
    sobel_case(1, 2, 5),
    sobel_case(3, 0, 7),
    sobel_case(1, 0, -1),
    sobel_case(1, 0, 31),
    scharr_case(1, 0),
    scharr_case(0, 1, scale=2.0, delta=-1.5),
    laplacian_case(1),
    laplacian_case(3),
    laplacian_case(5, scale=0.5, delta=10.0),
    laplacian_case(7),
    gaussian_case(3),
    gaussian_case(5),
    gaussian_case(7, 1.5),
    gaussian_case((5, 3), 1.2, 0.7),
    gaussian_case((3, 9), 0.0, 0.0),
    gaussian_case(0, 2.0),
    gaussian_case((0, 0), 1.1, 2.3),
    filter2d_case([[1, 2, 3], [4, 5, 6], [7, 8, 10]], name="asym"),
    filter2d_case([[0.5, -1.0], [0.25, 2.0]], name="even"),
    filter2d_case([[1, 0, -1, 2]], anchor=(3, 0), name="row"),
    filter2d_case(np.arange(20).reshape(5, 4) / 7.0 - 1, anchor=(1, 4), delta=2.5, name="5x4"),
    magnitude_case(3),
    magnitude_case(5),
    magnitude_case(-1),
]


def _no_border_value(make):
    """The pyramids and the median have no constant border and refuse ``border_value``: the
    registry's uniform ``border_value`` (which only a constant border reads) is dropped here."""

    def wrapped(border_value=0.0, **kw):
        del border_value  # no border of theirs reads it
        return make(**kw)

    return wrapped


def median_case(ksize) -> Case:
    """cv2.medianBlur (float32 planes: ksize 3 and 5; replicate border only; exact)."""
    return Case(
        id=f"median-k{ksize}",
        make=_no_border_value(lambda **kw: ff.MedianBlur(ksize, **kw)),
        cv=lambda p, b: cv2.medianBlur(p, ksize),
        tapsum=0.0,  # a selection: the tolerance is zero, outputs must be equal
        radius=ksize // 2,
        borders=("replicate",),
        linear=False,
        has_taps=False,
    )


# MedianBlur (a selection: exact, replicate border only)
CASES += [median_case(3), median_case(5)]


def cases_with(border: str | None = None, *, linear: bool | None = None, same_shape=None):
    """The registry's cases that accept ``border`` (and are linear / keep the shape, if asked)."""
    return [
        c
        for c in CASES
        if (border is None or border in c.borders)
        and (linear is None or c.linear == linear)
        and (same_shape is None or c.same_shape == same_shape)
    ]


def case_borders() -> list[tuple[Case, str]]:
    """Every (case, border) pair the registry supports, for parametrized matrices."""
    return [(c, b) for c in CASES for b in c.borders]


def reference(case: Case, img: np.ndarray, border: str, border_value: float = 0.0) -> np.ndarray:
    """cv2's answer for a (B, H, W, C) batch, plane by plane, as float32."""
    img = np.asarray(img, np.float32)
    planes = [
        [reference_plane(case, img[b, :, :, c], border, border_value) for c in range(img.shape[3])]
        for b in range(img.shape[0])
    ]
    if not planes or not planes[0]:
        return np.empty(img.shape, np.float32)
    return np.stack([np.stack(p, axis=-1) for p in planes]).astype(np.float32)


def reference_plane(case: Case, plane: np.ndarray, border: str, border_value: float = 0.0):
    plane = np.ascontiguousarray(plane, np.float32)
    if border in CV_BORDER and not (border == "constant" and border_value != 0.0):
        return case.cv(plane, CV_BORDER[border])
    # numpy.pad the plane by more than the kernel radius, filter, crop the original window.
    r = case.radius + 1
    kwargs = {"constant_values": border_value} if border == "constant" else {}
    padded = np.pad(plane, r, mode=NP_MODE[border], **kwargs).astype(np.float32)
    full = case.cv(np.ascontiguousarray(padded), cv2.BORDER_REPLICATE)
    return full[r : r + plane.shape[0], r : r + plane.shape[1]]


def tolerance(case: Case, img: np.ndarray) -> float:
    """The issue's bound: 1e-5 * sum|taps| * max(1, max|x|) + 1e-6 * |delta|."""
    xmax = float(np.max(np.abs(img))) if np.size(img) else 0.0
    return 1e-5 * case.tapsum * max(1.0, xmax) + 1e-6 * abs(case.delta)


# -- morphology (Erode, Dilate, MorphologyEx): min/max, linear=False ----------------------------
# The layers' default border is OpenCV's morphology default (constant, a value that never wins);
# the registry passes border_value explicitly, so cv2 gets borderValue=0 for "constant" here.
def morph_case(op, ksize=3, shape="rect", anchor=None, iterations=1) -> Case:
    from fixedfilters.structuring import structuring_element

    element = structuring_element(shape, ksize, anchor)
    kh, kw = element.shape
    cv_anchor = (-1, -1) if anchor is None else anchor
    code = {"erode": 0, "dilate": 1, "gradient": 4}[op]
    # a full rectangle with iterations is one enlarged rectangle (OpenCV); other elements
    # repeat, so the numpy.pad references ("wrap", constant != 0) hold for these cases only
    assert iterations == 1 or element.all()
    return Case(
        id=f"morph-{op}-{shape}-{kw}x{kh}-a{anchor}-i{iterations}",
        make=lambda **kw_: ff.MorphologyEx(
            op, ksize, shape=shape, anchor=anchor, iterations=iterations, **kw_
        ),
        cv=lambda p, b: cv2.morphologyEx(
            p, code, element, anchor=cv_anchor, iterations=iterations, borderType=b, borderValue=0
        ),
        tapsum=2.0 if op == "gradient" else 1.0,
        radius=max(kh, kw) * max(iterations, 1),
        borders=("constant", "reflect_101", "reflect", "replicate", "wrap"),
        linear=False,
    )


# -- box, Gabor and pyramids (issue 11, the linear families) -------------------------------------
def box_case(ksize, normalize=True, anchor=None) -> Case:
    kw, kh = ksize if isinstance(ksize, tuple) else (ksize, ksize)
    cv_anchor = (-1, -1) if anchor is None else anchor
    return Case(
        id=f"box-{kw}x{kh}-n{int(normalize)}-a{anchor}",
        make=lambda **kw_: ff.BoxFilter(ksize, normalize=normalize, anchor=anchor, **kw_),
        cv=lambda p, b: cv2.boxFilter(
            p, cv2.CV_32F, (kw, kh), anchor=cv_anchor, normalize=normalize, borderType=b
        ),
        tapsum=1.0 if normalize else float(kw * kh),
        radius=max(kw, kh),
        opencv_nan_local=False,
    )


def blur_case(ksize) -> Case:
    kw, kh = ksize if isinstance(ksize, tuple) else (ksize, ksize)
    return Case(
        id=f"blur-{kw}x{kh}",
        make=lambda **kw_: ff.Blur(ksize, **kw_),
        cv=lambda p, b: cv2.blur(p, (kw, kh), borderType=b),
        tapsum=1.0,
        radius=max(kw, kh),
        opencv_nan_local=False,
    )


def gabor_case(ksize, sigma, theta, lambd, gamma, psi=np.pi / 2) -> Case:
    k = cv2.getGaborKernel(
        ksize if isinstance(ksize, tuple) else (ksize, ksize),
        sigma,
        theta,
        lambd,
        gamma,
        psi,
        ktype=cv2.CV_64F,
    )
    return Case(
        id=f"gabor-{k.shape[1]}x{k.shape[0]}-s{sigma}-t{theta:.3f}-l{lambd}-g{gamma}-p{psi:.3f}",
        make=lambda **kw: ff.Gabor(ksize, sigma, theta, lambd, gamma, psi, **kw),
        cv=lambda p, b: cv2.filter2D(p, cv2.CV_32F, k, borderType=b),
        tapsum=float(np.abs(k).sum()),
        radius=max(k.shape),
    )


def pyrdown_case(dstsize=None, border_first="reflect_101") -> Case:
    # OpenCV 5.1's pyrDown also takes BORDER_WRAP (natively, tested in test_pyramid.py); the
    # registry's wrap reference pads and crops for same-size outputs, so it is left out here.
    return Case(
        id=f"pyrdown-{dstsize}",
        make=_no_border_value(lambda **kw: ff.PyrDown(dstsize, **kw)),
        cv=lambda p, b: cv2.pyrDown(p, dstsize=dstsize or (0, 0), borderType=b),
        tapsum=1.0,
        radius=2,
        borders=("reflect_101", "reflect", "replicate"),
        same_shape=False,
    )


def pyrup_case() -> Case:
    return Case(
        id="pyrup",
        make=_no_border_value(lambda **kw: ff.PyrUp(**kw)),
        cv=lambda p, b: cv2.pyrUp(p, borderType=b),
        tapsum=4.0,  # 4 * outer(k, k) on the zero-stuffed image; per output at most 1
        radius=2,
        borders=("reflect_101",),
        same_shape=False,
    )


CASES += [
    morph_case("erode", 3),
    morph_case("dilate", (5, 3), "ellipse"),
    morph_case("erode", (2, 3), "cross", anchor=(0, 2)),
    morph_case("dilate", 3, iterations=3),
    morph_case("gradient", 5, "ellipse"),
    box_case(3),
    box_case((4, 2), normalize=False, anchor=(0, 1)),
    box_case(31),
    blur_case((5, 3)),
    gabor_case(7, 2.0, np.pi / 4, 6.0, 0.5),
    gabor_case((9, 5), 1.5, 1.0, 4.0, 1.5, 0.0),
    pyrdown_case(),
    pyrup_case(),
]


# -- integer outputs: cv2 per image, compared byte for byte ------------------------------------
def cv_batch(fn, img):
    """cv2 on each (H, W, C) image of the batch; cv2 drops a trailing 1-channel axis."""
    return np.stack([fn(np.ascontiguousarray(im)).reshape(im.shape) for im in img])


def assert_same_bytes(got, want, what=""):
    """Equality with cv2's result, dtype included (never a tolerance)."""
    got = np.asarray(keras.ops.convert_to_numpy(got))
    assert got.dtype == want.dtype, (what, got.dtype, want.dtype)
    bad = np.argwhere(got != want)
    assert bad.size == 0, f"{what}: {len(bad)} differ, first {bad[:3].tolist()}"


# -- the mode matrix (tests/test_modes.py): every layer in every way Keras runs it -----------------
INT_DTYPES = ("uint8", "uint16", "int16")


@dataclasses.dataclass(frozen=True)
class ModeCase:
    """A layer as the mode matrix runs it: a factory, and the dtype and channels it is fed."""

    id: str
    make: Callable[[], keras.layers.Layer]
    dtype: str = "float32"  # input dtype
    channels: int = 3


def _integer_outputs(case: Case) -> list[tuple[str, str]]:
    """Each integer ``output_dtype`` the case's layer supports, with one input dtype that takes
    it (the output's own depth first, then uint8): ``[(input dtype, output dtype), ...]``."""
    layer = case.make()
    found: dict[str, str] = {}
    for out in INT_DTYPES:
        for inp in (out, *INT_DTYPES):
            if out in layer._output_dtypes(inp):
                found[out] = inp
                break
    return [(inp, out) for out, inp in found.items()]


def _mode_cases() -> list[ModeCase]:
    cases = []
    for c in CASES:
        cases.append(ModeCase(c.id, c.make))
        for inp, out in _integer_outputs(c):
            make = (lambda c_, o: lambda: c_.make(output_dtype=o))(c, out)
            cases.append(ModeCase(f"{c.id}-{inp}-to-{out}", make, inp))
    # Layers outside the parity table (other references, other outputs), same contract.
    cases += [
        ModeCase("canny-50-150", lambda: ff.Canny(50, 150), "uint8", 1),
        ModeCase("canny-20-60-k5-l2", lambda: ff.Canny(20, 60, 5, True), "uint8", 3),
        ModeCase("convert-scale-abs", lambda: ff.ConvertScaleAbs(1.7, -3.2), "float32"),
        ModeCase("convert-scale-abs-int16", lambda: ff.ConvertScaleAbs(0.3, 5.0), "int16"),
        ModeCase("median-k7-uint8", lambda: ff.MedianBlur(7, output_dtype="uint8"), "uint8"),
        ModeCase("median-k3-uint8", lambda: ff.MedianBlur(3, output_dtype="uint8"), "uint8"),
        ModeCase(
            "filter-bank",
            lambda: ff.FilterBank([ff.Sobel(1, 0), ff.GaussianBlur(5), ff.BoxFilter(3)]),
        ),
        ModeCase("edge-stem", lambda: ff.edge_stem(3, blur_ksize=5), "float32", 1),
    ]
    return cases


MODE_CASES = _mode_cases()


def _core_mode_cases() -> list[ModeCase]:
    """Every float case, the layers outside the table, and each integer output of the first
    case of each family (the exact integer paths are per family; their traces are what makes
    a mode expensive): the cases of the modes that run beside the full-registry ones."""
    seen: set[str] = set()
    core = []
    for c in MODE_CASES:
        if "-to-" not in c.id:
            core.append(c)
            continue
        family = c.id.split("-")[0]
        out = c.id.rsplit("-to-", 1)[1]
        if (family, out) not in seen:
            seen.add((family, out))
            core.append(c)
    return core


CORE_MODE_CASES = _core_mode_cases()


def mode_input(case: ModeCase, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A deterministic image batch of ``case.dtype`` spanning its whole range."""
    rng = np.random.default_rng(seed)
    if case.dtype == "float32":
        return rng.uniform(-40.0, 300.0, shape).astype(np.float32)
    info = np.iinfo(case.dtype)
    x = rng.integers(int(info.min), int(info.max) + 1, shape)
    # smooth regions too, so edge and rank filters see structure, not only noise
    x[..., : shape[-3] // 2, :, :] //= 4
    return x.astype(case.dtype)
