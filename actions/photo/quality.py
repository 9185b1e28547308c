"""The photo quality gate: is this a usable photo of skin, before any model looks at it?

``decode`` turns uploaded bytes into an upright RGB image (or ``PhotoRejected``); ``check_quality``
measures a downscaled copy and names what is wrong in words a patient can act on. numpy and
Pillow only, a few milliseconds per photo.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from PIL import Image, ImageFile, ImageOps

WORK_SIDE: Final = 512  # statistics are computed with the long side at most this
MIN_SIDE: Final = 256  # a short side below this is too little to see a wound

BORDER_LUMA: Final = 16  # a row or column this dark (nearly everywhere) is padding
BORDER_SHARE: Final = 0.98


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a photo: a stable code, what is wrong, and how to fix it."""

    code: str
    message: str
    tip: str


class PhotoRejected(Exception):
    """The bytes could not be used as a photo at all (not an image, damaged, too many pixels)."""

    def __init__(self, code: str, message: str, tip: str) -> None:
        super().__init__(message)
        self.code, self.message, self.tip = code, message, tip

    def as_problem(self) -> Problem:
        return Problem(self.code, self.message, self.tip)


@dataclass
class QualityReport:
    """The gate's verdict: usable or not, the problems (most important first), the numbers."""

    usable: bool
    problems: list[Problem] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        return [problem.code for problem in self.problems]


_SEND_PHOTO_TIP = (
    "Please take a photo of the skin with your phone's camera and send that photo itself."
)

# ---------------------------------------------------------------------------------------------
# Decoding


_heif_registered: bool | None = None


def _register_heif() -> bool:
    """Teach Pillow HEIC/HEIF if pillow-heif is installed (once, on first need)."""
    global _heif_registered
    if _heif_registered is None:
        try:
            from pillow_heif import register_heif_opener
        except ImportError:
            _heif_registered = False
        else:
            register_heif_opener()
            _heif_registered = True
    return _heif_registered


_HEIF_BRANDS: Final = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS: Final = {b"avif", b"avis"}


def _iso_brand(data: bytes) -> bytes | None:
    """The major brand of an ISO media file (HEIC, AVIF), or None for anything else."""
    return data[8:12] if data[4:8] == b"ftyp" else None


_FORMATS: Final = ("JPEG", "PNG", "WEBP")


def decode(data: bytes, max_pixels: int = 40_000_000) -> Image.Image:
    """Upright RGB image from uploaded bytes, or ``PhotoRejected`` with a reason and a tip.

    Pixel count is checked from the header before anything is decoded (decompression bombs),
    the image is fully loaded (a truncated file is an error here, not in a model later) and
    EXIF orientation is applied, so the rest of the checker sees what the patient saw.
    """
    if not data:
        raise PhotoRejected(
            "not_an_image", "That file is empty, so there is no photo to look at.", _SEND_PHOTO_TIP
        )
    formats: tuple[str, ...] = _FORMATS
    brand = _iso_brand(data)
    if brand in _AVIF_BRANDS:
        formats = ("AVIF",)
    elif brand in _HEIF_BRANDS:
        if not _register_heif():
            raise PhotoRejected(
                "unsupported_format",
                "That photo is in the HEIC format, which I can't open here.",
                "On an iPhone, choose Settings > Camera > Formats > Most Compatible, or share "
                "the photo from the Photos app as JPEG, then send it again.",
            )
        formats = ("HEIF", "AVIF")
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(formats)) as opened:
                width, height = opened.size
                if width < 1 or height < 1 or width * height > max_pixels:
                    raise _too_many_pixels(width, height)
                opened.load()
                upright = ImageOps.exif_transpose(opened)
                return _to_rgb(upright)
    except PhotoRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(None, None) from None
    except Image.UnidentifiedImageError:
        raise PhotoRejected(
            "not_an_image",
            "That file doesn't look like a photo I can open.",
            _SEND_PHOTO_TIP,
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError):
        raise PhotoRejected(
            "damaged",
            "I couldn't open that photo: it looks damaged or only partly sent.",
            "Please send the photo again; if it keeps failing, take a new one.",
        ) from None


def _too_many_pixels(width: int | None, height: int | None) -> PhotoRejected:
    size = f" ({width}×{height})" if width and height else ""
    return PhotoRejected(
        "too_many_pixels",
        f"That image has more pixels{size} than I can safely open.",
        "Please send it again at a smaller size (for example choose 'Large' rather than "
        "'Actual size' when sharing), or take the photo in the camera's standard mode.",
    )


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB, with transparency flattened onto white (how a viewer would show it)."""
    if image.mode == "RGB":
        return image
    if image.mode in {"RGBA", "LA", "PA"} or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in {"I;16", "I;16B", "I;16L", "I"}:
        scaled = np.asarray(image, dtype=np.float64)
        top = float(scaled.max()) or 1.0
        return Image.fromarray((scaled * (255.0 / top)).astype(np.uint8)).convert("RGB")
    return image.convert("RGB")


# ---------------------------------------------------------------------------------------------
# Measuring

# Thresholds: set by scripts/photo/measure_gate.py on 160 FUSeg photos (every fifth held out for
# the tests) and degraded / rendered counterparts; bench/results/photo_gate.json has the
# distributions, how each value was picked, and the accuracy.
LUMA_P95_MIN: Final = 100.0  # too_dark: even the brightest 5 % of the photo is dim
CLIPPED_SHARE_MAX: Final = 0.22  # overexposed: share of pixels blown out to white
LUMA_P5_MAX: Final = 135.0  # overexposed (washed out): even the darkest 5 % is bright
LUMA_MEAN_MAX: Final = 198.0  # overexposed: the whole photo is very bright
SHARPNESS_MIN: Final = 0.90  # blurry: log10 variance of the 2nd derivative, weakest direction
STEEP_SHARE_MIN: Final = 0.0058  # not_a_photo: share of pixels at a razor-sharp edge (text, UI)

_LUMA = np.array([77, 150, 29], dtype=np.uint16)  # BT.601 weights ×256


def work_copy(image: Image.Image, side: int = WORK_SIDE) -> Image.Image:
    """The image with its long side at most ``side`` (box filter: an area average, fast)."""
    image = image if image.mode == "RGB" else _to_rgb(image)
    long_side = max(image.size)
    if long_side <= side:
        return image
    scale = side / long_side
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BOX, reducing_gap=1.0)


def _content_box(peak: np.ndarray) -> tuple[int, int, int, int]:
    """Rows and columns left after trimming near-black padding bars (FUSeg's) from each edge."""
    dark = peak <= BORDER_LUMA
    top, bottom = _trim(dark.mean(axis=1) >= BORDER_SHARE)
    left, right = _trim(dark.mean(axis=0) >= BORDER_SHARE)
    height, width = dark.shape
    if bottom - top < height // 4 or right - left < width // 4:
        return 0, height, 0, width  # mostly black: a dark photo, not padding
    return top, bottom, left, right


def _trim(pad: np.ndarray) -> tuple[int, int]:
    n = len(pad)
    start, end = 0, n
    while start < n and pad[start]:
        start += 1
    while end > start and pad[end - 1]:
        end -= 1
    # Step a couple of pixels past the padding's edge: resampling and JPEG smear it.
    if start > 0:
        start = min(end, start + 2)
    if end < n:
        end = max(start, end - 2)
    return start, end


def _percentiles(hist: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    cdf = np.cumsum(hist)
    total = float(cdf[-1])
    return [float(np.searchsorted(cdf, q / 100 * total, side="left")) for q in qs]


def measure(image: Image.Image, extended: bool = False) -> dict[str, float]:
    """The statistics the gate decides on, from a downscaled copy with black padding trimmed.

    ``extended`` adds the candidate statistics that were measured but not chosen (for
    scripts/photo/measure_gate.py).
    """
    width, height = image.size
    full = np.asarray(work_copy(image), dtype=np.uint8)
    r, g, b = full[..., 0], full[..., 1], full[..., 2]
    peak = np.maximum(np.maximum(r, g), b)
    top, bottom, left, right = _content_box(peak)
    rgb8 = full[top:bottom, left:right]
    metrics: dict[str, float] = {
        "width": float(width),
        "height": float(height),
        "short_side": float(min(width, height)),
        "padding_share": 1.0 - rgb8.shape[0] * rgb8.shape[1] / (full.shape[0] * full.shape[1]),
    }
    if min(rgb8.shape[:2]) < 8:
        return metrics
    luma8 = ((rgb8.astype(np.uint16) @ _LUMA) >> 8).astype(np.uint8)
    hist = np.bincount(luma8.ravel(), minlength=256)
    metrics.update(_exposure(luma8, hist))
    metrics.update(_sharpness(luma8, hist, extended))
    metrics.update(_rendered(rgb8, extended))
    return metrics


def _exposure(luma8: np.ndarray, hist: np.ndarray) -> dict[str, float]:
    p5, p50, p95 = _percentiles(hist, (5, 50, 95))
    n = float(luma8.size)
    return {
        "luma_mean": float(np.dot(hist, np.arange(256)) / n),
        "luma_p5": p5,
        "luma_p50": p50,
        "luma_p95": p95,
        "clipped_share": float(hist[250:].sum() / n),
        "dark_share": float(hist[:40].sum() / n),
    }


def _sharpness(luma8: np.ndarray, hist: np.ndarray, extended: bool) -> dict[str, float]:
    """Second-derivative energy in the weakest of four directions, after stretching contrast.

    Stretching (1st to 99th percentile to full range) keeps a dim photo from reading as soft;
    the weakest direction catches camera shake, which leaves edges across the motion sharp.
    Computed at <= 512 px, so a large photo is judged at the scale a person views it.
    """
    lo, hi = _percentiles(hist, (1, 99))
    grey = (luma8.astype(np.float32) - lo) * (255.0 / max(hi - lo, 1.0))
    c2 = 2.0 * grey[1:-1, 1:-1]
    directional = [
        float((grey[1:-1, :-2] + grey[1:-1, 2:] - c2).var()),
        float((grey[:-2, 1:-1] + grey[2:, 1:-1] - c2).var()),
        float((grey[:-2, :-2] + grey[2:, 2:] - c2).var()) / 2.0,
        float((grey[:-2, 2:] + grey[2:, :-2] - c2).var()) / 2.0,
    ]
    metrics = {"sharpness": float(np.log10(min(directional) + 1.0))}
    if extended:
        lap = grey[1:-1, :-2] + grey[1:-1, 2:] + grey[:-2, 1:-1] + grey[2:, 1:-1] - 2.0 * c2
        grad = np.maximum(
            np.abs(grey[:-1, 1:] - grey[:-1, :-1]), np.abs(grey[1:, :-1] - grey[:-1, :-1])
        )
        metrics |= {
            "laplacian_var_log": float(np.log10(float(lap.var()) + 1.0)),
            "edge_share": float((grad > 20.0).mean()),
            "grad_p99": float(np.percentile(grad, 99)),
        }
    return metrics


def _rendered(rgb8: np.ndarray, extended: bool) -> dict[str, float]:
    """Where screens, documents and drawings differ from photos of skin.

    A rendered image has razor-sharp edges: a step of more than 100 levels in some channel from
    one pixel to the next, from text, UI outlines and flat fills. A photo, even at 512 px, has
    edges a few pixels wide (lens, focus, demosaicing), so such steps are rare. Measured, this
    one statistic separated best (colour count, colour entropy, flat blocks were weaker).
    """
    steep_mask = np.zeros((rgb8.shape[0] - 1, rgb8.shape[1] - 1), dtype=bool)
    for k in range(3):
        channel = rgb8[..., k].astype(np.int16)
        here = channel[:-1, :-1]
        steep_mask |= np.abs(channel[:-1, 1:] - here) > 100
        steep_mask |= np.abs(channel[1:, :-1] - here) > 100
    steep = float(steep_mask.mean())
    metrics = {"steep_share": steep}
    if extended:
        q = (rgb8 >> 3).astype(np.uint16)
        codes = (q[..., 0] << 10) | (q[..., 1] << 5) | q[..., 2]
        counts = np.bincount(codes.ravel(), minlength=1 << 15)
        p = counts[counts > 0] / codes.size
        h, w = rgb8.shape[:2]
        channels = rgb8.astype(np.int16)
        blocks = channels[: h // 4 * 4, : w // 4 * 4].reshape(h // 4, 4, w // 4, 4, 3)
        spread = (blocks.max(axis=(1, 3)) - blocks.min(axis=(1, 3))).max(axis=-1)
        metrics |= {
            "top8_share": float(np.partition(counts, -8)[-8:].sum() / codes.size),
            "colour_entropy": float(-(p * np.log2(p)).sum()),
            "flat_share": float((spread <= 1).mean()),
        }
    return metrics


# ---------------------------------------------------------------------------------------------
# Deciding

_PROBLEMS: Final = {
    "not_a_photo": Problem(
        "not_a_photo",
        "This looks like a screenshot, a document or a drawing rather than a photo of the skin.",
        "Please use your phone's camera to take a photo of the area itself and send that photo. "
        "If you wanted to share a document, you can send it as a PDF instead.",
    ),
    "too_small": Problem(
        "too_small",
        "This photo is very small, so the details of the skin can't be seen.",
        "Please send the original photo from your camera (not a thumbnail or a cropped preview), "
        "taken about 20–30 cm (a hand's length) from the area.",
    ),
    "too_dark": Problem(
        "too_dark",
        "This photo is too dark to see the skin clearly.",
        "Please take it again in a bright room or near a window in daylight; switch on the "
        "flash or ask someone to hold a lamp if it is still dim.",
    ),
    "overexposed": Problem(
        "overexposed",
        "This photo is too bright: parts of the skin are washed out to white.",
        "Please take it again out of direct sunlight and without a bright lamp right next to "
        "the skin; try without the flash, or tap the skin on the screen to set the exposure.",
    ),
    "blurry": Problem(
        "blurry",
        "This photo is blurred, so the edges and surface of the skin can't be seen.",
        "Please hold the phone steady (rest your elbows on something), keep about 20–30 cm "
        "from the area, tap the skin on the screen to focus, and wait a moment before taking it.",
    ),
}


def problem(code: str) -> Problem:
    """The patient-facing message and tip for a problem code."""
    return _PROBLEMS[code]


def decide(metrics: dict[str, float]) -> list[str]:
    """Problem codes for measured statistics, most important first.

    A thumbnail is named only as too small (sharpness and edges mean little at that size), and
    a screenshot or drawing only as not a photo: telling someone their screenshot is blurred
    or too bright would be advice about the wrong thing.
    """
    if metrics["short_side"] < MIN_SIDE:
        return ["too_small"]  # the statistics below mean little on a thumbnail
    if "steep_share" not in metrics:  # nothing left after trimming padding
        return ["too_dark"]
    if metrics["steep_share"] >= STEEP_SHARE_MIN:
        return ["not_a_photo"]
    codes: list[str] = []
    if metrics["luma_p95"] < LUMA_P95_MIN:
        codes.append("too_dark")
    elif (
        metrics["clipped_share"] > CLIPPED_SHARE_MAX
        or metrics["luma_p5"] > LUMA_P5_MAX
        or metrics["luma_mean"] > LUMA_MEAN_MAX
    ):
        codes.append("overexposed")
    if metrics["sharpness"] < SHARPNESS_MIN:
        codes.append("blurry")
    return codes


def check_quality(image: Image.Image) -> QualityReport:
    """Is this photo usable for looking at the skin? Problems come most important first."""
    metrics = measure(image)
    codes = decide(metrics)
    return QualityReport(not codes, [_PROBLEMS[code] for code in codes], metrics)
