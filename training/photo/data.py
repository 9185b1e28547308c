"""Training and evaluation data for WoundNet (numpy + PIL only; used by train.py and evaluate.py).

- FUSeg 2021 validation split: 200 foot-ulcer photos with wound masks, 512x512, zero padded.
  A fixed, seeded held-out set of 40 photos (stratified by wound size) lives in
  ``models/photo-cnn/split.json`` and is never trained on; 32 of the other 160 are the
  validation photos that pick the epoch and the presence threshold.
- Augmentation for segmentation: 90-degree and small-angle rotations, flips, random resized
  crops around the wound or anywhere (scale jitter), zoom-out with padding, padding removed,
  colour jitter (brightness, contrast, saturation, hue, gamma), blur, noise and JPEG artefacts.
- Negatives for the presence head: wound-free crops of the same split's photos, crops of
  photographs bundled in installed packages, and images rendered here with PIL (documents,
  lab-report tables, receipts, chat/app screenshots, plain skin, flat/blurred images). The
  held-out negatives use other photos, other fonts and other seeds than training.

Nothing here is imported at run time by the action server.
"""

from __future__ import annotations

import io
import json
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from healthbot.settings import TrainingSettings

ROOT = Path(__file__).resolve().parents[2]


def default_data_dir() -> Path | None:
    """The FUSeg folder named by HEALTHBOT_FUSEG_DIR, or None (unset or empty).

    Training data is given on the command line (`make train-photo` passes the FUSeg folder) or by
    that variable; the product itself never reads it.
    """
    return TrainingSettings(_env_ignore_empty=True).fuseg_dir


def add_data_argument(parser: Any) -> None:
    """``--data``: required unless HEALTHBOT_FUSEG_DIR names the folder (train and evaluate)."""
    default = default_data_dir()
    parser.add_argument(
        "--data",
        default=default,
        required=default is None,
        help="FUSeg folder (has validation/); make passes it",
    )


DEFAULT_OUT = "models/photo-cnn"
SPLIT_FILE = "split.json"
HOLDOUT_SIZE = 40
VAL_SIZE = 32
SPLIT_SEED = 13

Array = NDArray[np.uint8]
Mask = NDArray[np.bool_]
Rng = np.random.Generator

# Photographs shipped inside installed packages (relative to a site-packages folder).
TRAIN_PHOTOS = ("sklearn/datasets/images/china.jpg", "sklearn/datasets/images/flower.jpg")
HELDOUT_PHOTOS = ("matplotlib/mpl-data/sample_data/grace_hopper.jpg",)
SITE_PACKAGES = (
    ".venv/lib/python3.11/site-packages",
    ".venv-rasa/lib/python3.10/site-packages",
)

TRAIN_FONTS = ("dejavu/DejaVuSans", "dejavu/DejaVuSerif", "dejavu/DejaVuSansMono")
HELDOUT_FONTS = (
    "liberation/LiberationSans",
    "liberation/LiberationSerif",
    "liberation/LiberationMono",
)
FONT_DIR = Path("/usr/share/fonts/truetype")


def resolve(path: str | Path) -> Path:
    """A CLI path, relative paths taken from the repository root."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() else (ROOT / candidate).resolve()


def shown(path: Path) -> str:
    """A path relative to the repository root when it lies inside it."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------------
# FUSeg


@dataclass
class Sample:
    """One FUSeg photo (512x512x3 uint8, zero padded) and its wound mask (bool)."""

    name: str
    image: Array
    mask: Mask

    @property
    def has_wound(self) -> bool:
        return bool(self.mask.any())

    @cached_property
    def valid(self) -> Mask:
        """The photo's own pixels (not the zero padding)."""
        return content_mask(self.image)

    @cached_property
    def mask_table(self) -> NDArray[np.int32]:
        """Summed-area table of the wound mask (for fast "is this box wound-free")."""
        return _integral(self.mask)

    @cached_property
    def valid_table(self) -> NDArray[np.int32]:
        return _integral(self.valid)


def _integral(mask: Mask) -> NDArray[np.int32]:
    table = np.pad(mask.astype(np.int32), ((1, 0), (1, 0)))
    return table.cumsum(0, dtype=np.int32).cumsum(1, dtype=np.int32)


def _box_sum(table: NDArray[np.int32], top: int, left: int, h: int, w: int) -> int:
    """Sum inside a box (clipped to the table)."""
    rows, cols = table.shape[0] - 1, table.shape[1] - 1
    t, b = max(0, top), min(rows, top + h)
    lft, r = max(0, left), min(cols, left + w)
    if b <= t or r <= lft:
        return 0
    return int(table[b, r] - table[t, r] - table[b, lft] + table[t, lft])


def content_mask(image: Array) -> Mask:
    """Pixels inside the photo's content box (rows/columns that are not all black)."""
    nonzero = image.max(axis=2) > 8
    rows = np.flatnonzero(nonzero.mean(axis=1) > 0.02)
    cols = np.flatnonzero(nonzero.mean(axis=0) > 0.02)
    out = np.zeros(image.shape[:2], dtype=bool)
    if rows.size and cols.size:
        out[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] = True
    return out


def load_fuseg(data_dir: Path) -> list[Sample]:
    """The 200 photo/mask pairs of ``validation/`` (sorted by name)."""
    images = data_dir / "validation" / "images"
    labels = data_dir / "validation" / "labels"
    if not images.is_dir():
        raise SystemExit(f"FUSeg images not found in {images}")
    samples = []
    for path in sorted(images.glob("*.png")):
        image = np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)
        label = np.asarray(Image.open(labels / path.name).convert("L"))
        samples.append(Sample(path.stem, image, label > 127))
    return samples


def _stratified_pick(names: list[str], areas: dict[str, float], count: int, rng: Rng) -> list[str]:
    """``count`` names, one from each of ``count`` consecutive groups ordered by wound area."""
    ordered = sorted(names, key=lambda name: (areas[name], name))
    groups = np.array_split(np.arange(len(ordered)), count)
    return sorted(ordered[int(rng.choice(group))] for group in groups)


def make_split(samples: list[Sample], seed: int = SPLIT_SEED) -> dict[str, object]:
    """Held-out 40 and validation 32 (of the other 160), each stratified by wound size."""
    rng = np.random.default_rng(seed)
    areas = {s.name: float(s.mask.mean()) for s in samples}
    names = [s.name for s in samples]
    holdout = _stratified_pick(names, areas, HOLDOUT_SIZE, rng)
    rest = [n for n in names if n not in set(holdout)]
    val = _stratified_pick(rest, areas, VAL_SIZE, rng)
    train = [n for n in rest if n not in set(val)]
    return {
        "dataset": "FUSeg 2021 validation split (uwm-bigdata/wound-segmentation @ 42a272d)",
        "seed": seed,
        "method": "stratified by wound area: sort by mask fraction, one random photo per group",
        "holdout": holdout,
        "val": val,
        "train": train,
    }


def ensure_split(out_dir: Path, samples: list[Sample], seed: int = SPLIT_SEED) -> dict[str, list]:
    """The committed split (written once, then only read and checked)."""
    path = out_dir / SPLIT_FILE
    names = {s.name for s in samples}
    if path.exists():
        split = json.loads(path.read_text(encoding="utf-8"))
        listed = set(split["holdout"]) | set(split["val"]) | set(split["train"])
        if listed != names:
            raise SystemExit(f"{path} does not match the data set's photos")
        return split
    split = make_split(samples, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(split, indent=1) + "\n", encoding="utf-8")
    return split  # type: ignore[return-value]


def by_names(samples: list[Sample], names: list[str]) -> list[Sample]:
    index = {s.name: s for s in samples}
    return [index[n] for n in names]


# ---------------------------------------------------------------------------------------------
# Geometry and colour augmentation (image, mask and content mask move together)


def letterbox_arrays(image: Array, masks: list[Mask], size: int) -> tuple[Array, list[Mask]]:
    """Resize keeping the aspect ratio into a zero-padded ``size`` square (as the model does)."""
    height, width = image.shape[:2]
    scale = size / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    left, top = (size - new_w) // 2, (size - new_h) // 2
    out = np.zeros((size, size, 3), dtype=np.uint8)
    out[top : top + new_h, left : left + new_w] = np.asarray(
        Image.fromarray(image).resize((new_w, new_h), Image.Resampling.BILINEAR, reducing_gap=3.0)
    )
    out_masks = []
    for mask in masks:
        resized = Image.fromarray(mask.astype(np.uint8) * 255).resize(
            (new_w, new_h), Image.Resampling.BILINEAR
        )
        canvas = np.zeros((size, size), dtype=bool)
        canvas[top : top + new_h, left : left + new_w] = np.asarray(resized) > 127
        out_masks.append(canvas)
    return out, out_masks


def rotate_arrays(image: Array, masks: list[Mask], angle: float) -> tuple[Array, list[Mask]]:
    """Rotation about the centre, same size, zero fill."""
    rotated = np.asarray(
        Image.fromarray(image).rotate(angle, Image.Resampling.BILINEAR, fillcolor=(0, 0, 0))
    )
    out = []
    for mask in masks:
        m = Image.fromarray(mask.astype(np.uint8) * 255).rotate(angle, Image.Resampling.BILINEAR)
        out.append(np.asarray(m) > 127)
    return rotated, out


def flip_rotate(image: Array, masks: list[Mask], rng: Rng) -> tuple[Array, list[Mask]]:
    """A random element of the dihedral group (90-degree turns and a mirror)."""
    k = int(rng.integers(4))
    flip = bool(rng.random() < 0.5)

    def apply(a: np.ndarray) -> np.ndarray:
        a = np.rot90(a, k)
        return np.ascontiguousarray(a[:, ::-1] if flip else a)

    return apply(image), [apply(m) for m in masks]


def crop_box(
    shape: tuple[int, int], rng: Rng, min_frac: float, max_frac: float, centre: tuple[int, int]
) -> tuple[int, int, int, int]:
    """A random box (top, left, height, width) of side ``frac`` x the image side near ``centre``."""
    height, width = shape
    side = max(height, width) * rng.uniform(min_frac, max_frac)
    aspect = math.exp(rng.uniform(math.log(0.7), math.log(1.4)))
    box_h = int(np.clip(side * math.sqrt(aspect), 16, height))
    box_w = int(np.clip(side / math.sqrt(aspect), 16, width))
    cy, cx = centre
    top = int(np.clip(cy - rng.uniform(0.15, 0.85) * box_h, 0, height - box_h))
    left = int(np.clip(cx - rng.uniform(0.15, 0.85) * box_w, 0, width - box_w))
    return top, left, box_h, box_w


def zoom_out(image: Array, masks: list[Mask], rng: Rng) -> tuple[Array, list[Mask]]:
    """Shrink into a black canvas of the same size at a random place (more padding)."""
    height, width = image.shape[:2]
    factor = rng.uniform(0.55, 0.9)
    new_h, new_w = max(8, int(height * factor)), max(8, int(width * factor))
    top, left = int(rng.integers(0, height - new_h + 1)), int(rng.integers(0, width - new_w + 1))
    out = np.zeros_like(image)
    out[top : top + new_h, left : left + new_w] = np.asarray(
        Image.fromarray(image).resize((new_w, new_h), Image.Resampling.BILINEAR)
    )
    out_masks = []
    for mask in masks:
        canvas = np.zeros_like(mask)
        canvas[top : top + new_h, left : left + new_w] = (
            np.asarray(
                Image.fromarray(mask.astype(np.uint8) * 255).resize(
                    (new_w, new_h), Image.Resampling.BILINEAR
                )
            )
            > 127
        )
        out_masks.append(canvas)
    return out, out_masks


def colour_jitter(image: Array, valid: Mask, rng: Rng, strength: float = 1.0) -> Array:
    """Brightness, contrast, saturation, hue, gamma; blur, noise, JPEG; padding stays black."""
    x = image.astype(np.float32) / 255.0
    s = strength
    if rng.random() < 0.8:  # saturation
        grey = x.mean(axis=2, keepdims=True)
        x = grey + (x - grey) * rng.uniform(1 - 0.3 * s, 1 + 0.3 * s)
    if rng.random() < 0.8:  # brightness
        x = x * rng.uniform(1 - 0.3 * s, 1 + 0.3 * s)
    if rng.random() < 0.8:  # contrast around the photo's mean
        mean = float(x[valid].mean()) if valid.any() else 0.5
        x = mean + (x - mean) * rng.uniform(1 - 0.25 * s, 1 + 0.25 * s)
    if rng.random() < 0.5:  # white balance / colour cast
        x = x * rng.uniform(1 - 0.08 * s, 1 + 0.08 * s, size=(1, 1, 3))
    x = np.clip(x, 0.0, 1.0)
    if rng.random() < 0.3:  # gamma
        x = x ** rng.uniform(0.75, 1.33)
    out = (x * 255.0 + 0.5).astype(np.uint8)
    if rng.random() < 0.4:  # hue, small: wound colour matters
        hsv = np.asarray(Image.fromarray(out).convert("HSV")).copy()
        shift = round(rng.uniform(-0.03, 0.03) * 255 * s)
        hsv[..., 0] = (hsv[..., 0].astype(np.int16) + shift) % 256
        out = np.asarray(Image.fromarray(hsv, mode="HSV").convert("RGB"))
    if rng.random() < 0.15:
        out = np.asarray(
            Image.fromarray(out).filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.5)))
        )
    if rng.random() < 0.2:
        noise = rng.normal(0, rng.uniform(2, 8), size=out.shape)
        out = np.clip(out.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        buffer = io.BytesIO()
        Image.fromarray(out).save(buffer, format="JPEG", quality=int(rng.integers(35, 95)))
        out = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    out = np.array(out, dtype=np.uint8)
    out[~valid] = 0
    return out


def _content_crop(image: Array, masks: list[Mask]) -> tuple[Array, list[Mask]]:
    """Crops to the content box (``masks[-1]`` is the content mask)."""
    valid = masks[-1]
    rows, cols = np.flatnonzero(valid.any(axis=1)), np.flatnonzero(valid.any(axis=0))
    if not rows.size or not cols.size:
        return image, masks
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    return image[box], [m[box] for m in masks]


def augment_positive(sample: Sample, rng: Rng, size: int) -> tuple[Array, Mask, float, float]:
    """An augmented (image, mask, presence label, presence weight) from a FUSeg photo.

    Label 1 when the crop keeps the wound, 0 when it misses it entirely; crops that keep only a
    sliver of it get weight 0 for the presence loss.
    """
    image, mask = sample.image, sample.mask
    masks = [mask, sample.valid]
    if rng.random() < 0.5:  # photos without the black padding, as phones send them
        image, masks = _content_crop(image, masks)
    image, masks = flip_rotate(image, masks, rng)
    if rng.random() < 0.4:
        image, masks = rotate_arrays(image, masks, rng.uniform(-20, 20))
    total = int(masks[0].sum())
    if rng.random() < 0.45:
        wound = np.argwhere(masks[0])
        if wound.size and rng.random() < 0.85:
            cy, cx = (int(v) for v in wound[rng.integers(len(wound))])
        else:
            cy = int(rng.integers(image.shape[0]))
            cx = int(rng.integers(image.shape[1]))
        top, left, h, w = crop_box(image.shape[:2], rng, 0.3, 0.9, (cy, cx))
        image = image[top : top + h, left : left + w]
        masks = [m[top : top + h, left : left + w] for m in masks]
    elif rng.random() < 0.25:
        image, masks = zoom_out(image, masks, rng)
    kept = int(masks[0].sum())
    image, masks = letterbox_arrays(image, masks, size)
    image = colour_jitter(image, masks[1], rng)
    mask = masks[0] & masks[1]
    if total == 0:
        return image, mask, 0.0, 0.0  # FUSeg photos without a mask: segmentation only
    if kept == 0 or not mask.any():
        return image, mask, 0.0, 1.0
    if kept >= 0.3 * total or mask.sum() >= 0.002 * size * size:
        return image, mask, 1.0, 1.0
    return image, mask, 1.0, 0.0


# ---------------------------------------------------------------------------------------------
# Negatives


def wound_free_crop(sample: Sample, rng: Rng, tries: int = 40) -> Array | None:
    """A crop of a FUSeg photo at least 24 px (of 512) from the wound, mostly photo."""
    image, mask = sample.image, sample.mask
    margin = 24
    height, width = mask.shape
    for _ in range(tries):
        side = rng.uniform(0.2, 0.6) * max(height, width)
        aspect = math.exp(rng.uniform(math.log(0.6), math.log(1.6)))
        h = int(min(height - 2 * margin, side * math.sqrt(aspect)))
        w = int(min(width - 2 * margin, side / math.sqrt(aspect)))
        if h < 48 or w < 48:
            continue
        top = int(rng.integers(0, height - h + 1))
        left = int(rng.integers(0, width - w + 1))
        if _box_sum(sample.mask_table, top - margin, left - margin, h + 2 * margin, w + 2 * margin):
            continue
        if _box_sum(sample.valid_table, top, left, h, w) < 0.7 * h * w:
            continue
        return image[top : top + h, left : left + w]
    return None


def negative_view(image: Array, rng: Rng, size: int, crop: bool = True) -> Array:
    """Augments a non-wound image like a positive: crops, turns, padding, colour."""
    valid = np.ones(image.shape[:2], dtype=bool)
    masks = [valid]
    if crop and rng.random() < 0.6:
        top, left, h, w = crop_box(
            image.shape[:2],
            rng,
            0.35,
            1.0,
            (int(rng.integers(image.shape[0])), int(rng.integers(image.shape[1]))),
        )
        image = image[top : top + h, left : left + w]
        masks = [m[top : top + h, left : left + w] for m in masks]
    image, masks = flip_rotate(image, masks, rng)
    if rng.random() < 0.3:
        image, masks = rotate_arrays(image, masks, rng.uniform(-20, 20))
    if rng.random() < 0.25:
        image, masks = zoom_out(image, masks, rng)
    if rng.random() < 0.3:  # FUSeg-like: pad to a square at the photo's scale
        side = max(image.shape[:2])
        padded = np.zeros((side, side, 3), dtype=np.uint8)
        pad_mask = np.zeros((side, side), dtype=bool)
        top = int(rng.integers(0, side - image.shape[0] + 1))
        left = int(rng.integers(0, side - image.shape[1] + 1))
        padded[top : top + image.shape[0], left : left + image.shape[1]] = image
        pad_mask[top : top + image.shape[0], left : left + image.shape[1]] = masks[0]
        image, masks = padded, [pad_mask]
    image, masks = letterbox_arrays(image, masks, size)
    return colour_jitter(image, masks[0], rng)


def package_photos(names: tuple[str, ...]) -> list[tuple[str, Array]]:
    """Photographs shipped in installed packages (first site-packages that has each)."""
    roots = [ROOT / p for p in SITE_PACKAGES] + [Path(p) for p in sys.path if "site-packages" in p]
    found = []
    for name in names:
        for root in roots:
            path = root / name
            if path.is_file():
                found.append((name, np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)))
                break
    return found


# ---- rendered images -------------------------------------------------------------------------

# fmt: off
WORDS = (
    "patient", "name", "date", "birth", "clinic", "report", "result", "range", "units",
    "reference", "normal", "high", "low", "glucose", "haemoglobin", "hba1c", "creatinine",
    "sodium", "potassium", "cholesterol", "triglycerides", "albumin", "urea", "white", "cell",
    "count", "platelets", "ferritin", "vitamin", "thyroid", "tsh", "insulin", "blood",
    "pressure", "appointment", "follow-up", "medication", "dose", "tablet", "daily", "morning",
    "evening", "prescribed", "pharmacy", "doctor", "nurse", "ward", "visit", "notes", "history",
    "diabetes", "foot", "care", "dressing", "change", "please", "contact", "the", "and", "of",
    "to", "with", "for", "on", "at", "by", "from", "your", "this", "that", "will", "be", "is",
    "are", "was", "were", "have", "has", "insurance", "policy", "number", "invoice", "total",
    "amount", "paid", "balance", "due", "address", "phone", "email", "street", "city",
    "postcode", "signature", "approved", "pending", "sample", "collected", "received", "fasting",
    "specimen", "serum",
)
# fmt: on


def _font(family: str, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    suffix = "-Bold" if bold else ("-Regular" if "liberation" in family else "")
    path = FONT_DIR / f"{family}{suffix}.ttf"
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)  # type: ignore[return-value]


def _words(rng: Rng, count: int) -> str:
    return " ".join(str(w) for w in rng.choice(WORDS, size=count))


def _light(rng: Rng) -> tuple[int, int, int]:
    base = int(rng.integers(225, 256))
    return (base, base - int(rng.integers(0, 12)), base - int(rng.integers(0, 25)))


def _dark(rng: Rng) -> tuple[int, int, int]:
    base = int(rng.integers(10, 70))
    return (base, base + int(rng.integers(0, 15)), base + int(rng.integers(0, 25)))


def _colour(rng: Rng) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(30, 230, size=3))  # type: ignore[return-value]


def _photographed(page: Image.Image, rng: Rng) -> Image.Image:
    """The page as a phone photo of it: on a surface, tilted, unevenly lit, a bit soft."""
    width, height = page.size
    surface = np.ones((int(height * 1.25), int(width * 1.25), 3), dtype=np.float32)
    surface *= np.array(_colour(rng), dtype=np.float32)
    surface += rng.normal(0, 6, size=surface.shape[:2])[..., None]
    canvas = Image.fromarray(np.clip(surface, 0, 255).astype(np.uint8))
    angle = rng.uniform(-8, 8)
    tilted = page.rotate(angle, Image.Resampling.BILINEAR, expand=True)
    mask = Image.new("L", page.size, 255).rotate(angle, Image.Resampling.BILINEAR, expand=True)
    left = int(rng.integers(0, max(1, canvas.width - tilted.width + 1)))
    top = int(rng.integers(0, max(1, canvas.height - tilted.height + 1)))
    canvas.paste(tilted, (left, top), mask)
    x = np.asarray(canvas, dtype=np.float32)
    yy, xx = np.mgrid[0 : x.shape[0], 0 : x.shape[1]].astype(np.float32)
    light = 1.0 + rng.uniform(-0.25, 0.1) * (
        (xx / x.shape[1] - rng.uniform(0, 1)) ** 2 + (yy / x.shape[0] - rng.uniform(0, 1)) ** 2
    )
    x = np.clip(x * light[..., None] * rng.uniform(0.75, 1.05), 0, 255).astype(np.uint8)
    out = Image.fromarray(x)
    if rng.random() < 0.6:
        out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    return out


def render_document(rng: Rng, fonts: tuple[str, ...]) -> Image.Image:
    """A letter or lab report page: heading, paragraphs, a results table."""
    width, height = int(rng.integers(500, 700)), int(rng.integers(650, 900))
    page = Image.new("RGB", (width, height), _light(rng))
    draw = ImageDraw.Draw(page)
    family = fonts[int(rng.integers(len(fonts)))]
    size = int(rng.integers(11, 18))
    body, head = _font(family, size), _font(family, size + 8, bold=True)
    ink = _dark(rng)
    y = int(rng.integers(20, 60))
    if rng.random() < 0.6:
        draw.rectangle((0, 0, width, y + 10), fill=_colour(rng))
        y += 25
    draw.text((30, y), _words(rng, 3).title(), font=head, fill=ink)
    y += size + 22
    while y < height - 60:
        if rng.random() < 0.35:  # a table
            columns = int(rng.integers(3, 6))
            rows = int(rng.integers(3, 10))
            row_h = size + 10
            col_w = (width - 60) // columns
            for r in range(rows):
                if y + row_h > height - 30:
                    break
                if r == 0 and rng.random() < 0.7:
                    draw.rectangle((30, y, width - 30, y + row_h), fill=(220, 220, 225))
                for c in range(columns):
                    text = (
                        _words(rng, 1)
                        if c == 0 or r == 0
                        else f"{rng.uniform(0, 300):.1f}"
                        if rng.random() < 0.6
                        else _words(rng, 1)
                    )
                    draw.text((34 + c * col_w, y + 4), text, font=body, fill=ink)
                draw.line((30, y + row_h, width - 30, y + row_h), fill=(150, 150, 150))
                y += row_h
            y += 12
        else:
            for _ in range(int(rng.integers(2, 7))):
                if y > height - 40:
                    break
                draw.text((30, y), _words(rng, int(rng.integers(5, 11))), font=body, fill=ink)
                y += size + 6
            y += 10
    return _photographed(page, rng) if rng.random() < 0.7 else page


def render_receipt(rng: Rng, fonts: tuple[str, ...]) -> Image.Image:
    """A till receipt: narrow, monospace, prices, a total."""
    width, height = int(rng.integers(260, 360)), int(rng.integers(500, 800))
    page = Image.new("RGB", (width, height), _light(rng))
    draw = ImageDraw.Draw(page)
    mono = [f for f in fonts if "Mono" in f] or list(fonts)
    font = _font(mono[0], int(rng.integers(11, 16)))
    ink = _dark(rng)
    y = 20
    draw.text((width // 4, y), "PHARMACY", font=_font(mono[0], 20, bold=True), fill=ink)
    y += 36
    total = 0.0
    while y < height - 80:
        price = float(rng.uniform(0.5, 40))
        total += price
        draw.text((15, y), _words(rng, 2)[:22], font=font, fill=ink)
        draw.text((width - 80, y), f"{price:6.2f}", font=font, fill=ink)
        y += 20
    draw.line((15, y, width - 15, y), fill=ink, width=1)
    draw.text((15, y + 8), f"TOTAL {total:10.2f}", font=font, fill=ink)
    return _photographed(page, rng) if rng.random() < 0.8 else page


def render_screenshot(rng: Rng, fonts: tuple[str, ...]) -> Image.Image:
    """A phone screenshot: a chat with bubbles, or an app list with icons and buttons."""
    width, height = int(rng.integers(360, 480)), int(rng.integers(640, 900))
    dark = rng.random() < 0.3
    background = _dark(rng) if dark else _light(rng)
    page = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(page)
    family = fonts[0]
    size = int(rng.integers(13, 18))
    font = _font(family, size)
    text_colour = (235, 235, 235) if dark else (25, 25, 30)
    accent = _colour(rng)
    draw.rectangle((0, 0, width, 24), fill=(0, 0, 0) if dark else (245, 245, 245))
    draw.text((10, 5), "9:41", font=_font(family, 12), fill=text_colour)
    draw.rectangle((0, 24, width, 80), fill=accent)
    draw.text(
        (60, 42), _words(rng, 2).title(), font=_font(family, 18, bold=True), fill=(255, 255, 255)
    )
    draw.ellipse((12, 34, 48, 70), fill=_colour(rng))
    y = 95
    chat = rng.random() < 0.6
    while y < height - 90:
        if chat:
            lines = int(rng.integers(1, 4))
            bubble_w = int(rng.uniform(0.45, 0.75) * width)
            bubble_h = lines * (size + 6) + 14
            mine = rng.random() < 0.5
            x0 = width - bubble_w - 12 if mine else 12
            fill = accent if mine else ((60, 60, 65) if dark else (235, 235, 240))
            draw.rounded_rectangle((x0, y, x0 + bubble_w, y + bubble_h), radius=14, fill=fill)
            for line in range(lines):
                draw.text(
                    (x0 + 10, y + 7 + line * (size + 6)),
                    _words(rng, int(rng.integers(2, 5))),
                    font=font,
                    fill=(255, 255, 255) if mine else text_colour,
                )
            y += bubble_h + 10
        else:
            draw.ellipse((14, y, 54, y + 40), fill=_colour(rng))
            draw.text((66, y + 2), _words(rng, 3).title(), font=font, fill=text_colour)
            draw.text((66, y + 22), _words(rng, 4), font=_font(family, 11), fill=(130, 130, 130))
            draw.line((66, y + 48, width, y + 48), fill=(200, 200, 200))
            y += 56
    draw.rounded_rectangle(
        (10, height - 60, width - 70, height - 20), radius=18, outline=(160, 160, 160)
    )
    draw.ellipse((width - 58, height - 62, width - 14, height - 18), fill=accent)
    return page


# Skin tones spanning light to dark (approximate sRGB of Fitzpatrick I-VI and between).
SKIN_TONES = (
    (245, 215, 195), (234, 192, 165), (224, 172, 140), (205, 150, 115), (190, 135, 100),
    (165, 115, 85), (140, 95, 65), (115, 75, 50), (90, 60, 42), (70, 48, 35),
)  # fmt: skip


def _smooth_noise(rng: Rng, shape: tuple[int, int], cells: int) -> NDArray[np.float32]:
    small = rng.normal(0, 1, size=(cells, cells)).astype(np.float32)
    big = Image.fromarray(small, mode="F").resize((shape[1], shape[0]), Image.Resampling.BICUBIC)
    return np.asarray(big, dtype=np.float32)


def render_skin(rng: Rng, fonts: tuple[str, ...]) -> Image.Image:
    """Plain skin without a wound: tone, shading, pores, creases, sometimes hair and a sheet."""
    del fonts
    height, width = int(rng.integers(400, 640)), int(rng.integers(400, 640))
    tone = np.array(SKIN_TONES[int(rng.integers(len(SKIN_TONES)))], dtype=np.float32)
    tone = tone * rng.uniform(0.9, 1.08, size=3)
    x = np.ones((height, width, 3), dtype=np.float32) * tone
    x *= (1.0 + 0.12 * _smooth_noise(rng, (height, width), int(rng.integers(3, 7))))[..., None]
    x *= (1.0 + 0.04 * _smooth_noise(rng, (height, width), int(rng.integers(20, 60))))[..., None]
    x += rng.normal(0, rng.uniform(1.5, 5), size=(height, width))[..., None]
    image = Image.fromarray(np.clip(x, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    crease = tuple(int(v * 0.8) for v in tone)
    for _ in range(int(rng.integers(0, 14))):  # creases
        x0, y0 = int(rng.integers(width)), int(rng.integers(height))
        length, angle = rng.uniform(30, 200), rng.uniform(0, math.pi)
        x1, y1 = x0 + length * math.cos(angle), y0 + length * math.sin(angle)
        draw.line((x0, y0, x1, y1), fill=crease, width=int(rng.integers(1, 3)))
    if rng.random() < 0.4:  # hair
        for _ in range(int(rng.integers(10, 60))):
            x0, y0 = int(rng.integers(width)), int(rng.integers(height))
            angle = rng.uniform(0, math.pi)
            draw.line(
                (x0, y0, x0 + 25 * math.cos(angle), y0 + 25 * math.sin(angle)),
                fill=(40, 30, 25),
                width=1,
            )
    if rng.random() < 0.3:  # a mole or two
        for _ in range(int(rng.integers(1, 3))):
            cx, cy, r = int(rng.integers(width)), int(rng.integers(height)), int(rng.integers(2, 6))
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tuple(int(v * 0.55) for v in tone))
    if rng.random() < 0.5:  # limb edge on a sheet / floor
        sheet = Image.new(
            "RGB", (width, height), _light(rng) if rng.random() < 0.7 else _colour(rng)
        )
        region = Image.new("L", (width, height), 0)
        ImageDraw.Draw(region).ellipse(
            (
                -int(rng.integers(0, width // 2)),
                int(rng.integers(0, height // 3)),
                width + int(rng.integers(0, width // 2)),
                height + int(rng.integers(height // 3, height)),
            ),
            fill=255,
        )
        image = Image.composite(image, sheet, region.filter(ImageFilter.GaussianBlur(3)))
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))


def render_plain(rng: Rng, fonts: tuple[str, ...]) -> Image.Image:
    """A flat colour, a gradient or a blurred noise field (blank or failed shots)."""
    del fonts
    height, width = int(rng.integers(300, 600)), int(rng.integers(300, 600))
    kind = int(rng.integers(3))
    a, b = np.array(_colour(rng), np.float32), np.array(_colour(rng), np.float32)
    if kind == 0:
        x = np.ones((height, width, 3), np.float32) * a
    elif kind == 1:
        t = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
        x = a * (1 - t) + b * t + np.zeros((height, 1, 1), np.float32)
    else:
        x = a + 60 * _smooth_noise(rng, (height, width), int(rng.integers(4, 30)))[..., None]
    x += rng.normal(0, 3, size=(height, width))[..., None]
    return Image.fromarray(np.clip(x, 0, 255).astype(np.uint8))


RENDERERS: dict[str, Callable[[Rng, tuple[str, ...]], Image.Image]] = {
    "document": render_document,
    "receipt": render_receipt,
    "screenshot": render_screenshot,
    "skin": render_skin,
    "plain": render_plain,
}


def rendered_pool(counts: dict[str, int], seed: int, held_out: bool) -> list[tuple[str, Array]]:
    """Rendered non-wound images; held-out ones use other fonts (when installed) and seeds."""
    rng = np.random.default_rng(seed)
    fonts = HELDOUT_FONTS if held_out else TRAIN_FONTS
    pool = []
    for kind, count in counts.items():
        for index in range(count):
            image = RENDERERS[kind](rng, fonts).convert("RGB")
            pool.append((f"{kind}-{index}", np.asarray(image, dtype=np.uint8)))
    return pool


# ---------------------------------------------------------------------------------------------
# Training stream


@dataclass
class Batch:
    images: Array  # N, S, S, 3 uint8
    masks: Mask  # N, S, S
    labels: NDArray[np.float32]  # presence
    weights: NDArray[np.float32]  # presence loss weight


TRAIN_RENDER_COUNTS = {"document": 40, "receipt": 14, "screenshot": 30, "skin": 40, "plain": 12}
VAL_RENDER_COUNTS = {"document": 6, "receipt": 2, "screenshot": 5, "skin": 6, "plain": 2}
HELDOUT_RENDER_COUNTS = {"document": 12, "receipt": 4, "screenshot": 10, "skin": 12, "plain": 4}


class TrainStream:
    """Epochs of augmented positives and negatives, shuffled, in batches."""

    def __init__(
        self, photos: list[Sample], size: int, seed: int, negatives_per_epoch: int
    ) -> None:
        self.photos = photos
        self.size = size
        self.rng = np.random.default_rng(seed)
        self.negatives_per_epoch = negatives_per_epoch
        self.wound_free_sources = [s for s in photos if s.has_wound]
        self.package = package_photos(TRAIN_PHOTOS)
        self.rendered = rendered_pool(TRAIN_RENDER_COUNTS, seed + 1, held_out=False)

    def describe(self) -> dict[str, object]:
        return {
            "photos": len(self.photos),
            "negatives_per_epoch": self.negatives_per_epoch,
            "package_photos": [name for name, _ in self.package],
            "rendered": dict(TRAIN_RENDER_COUNTS),
        }

    def _negative(self) -> Array:
        rng, size = self.rng, self.size
        roll = rng.random()
        if roll < 0.45:
            for _ in range(5):
                source = self.wound_free_sources[int(rng.integers(len(self.wound_free_sources)))]
                crop = wound_free_crop(source, rng)
                if crop is not None:
                    return negative_view(crop, rng, size, crop=False)
        if roll < 0.6 and self.package:
            _, photo = self.package[int(rng.integers(len(self.package)))]
            return negative_view(photo, rng, size)
        _, image = self.rendered[int(rng.integers(len(self.rendered)))]
        return negative_view(image, rng, size)

    def epoch(self, batch_size: int) -> Iterator[Batch]:
        items: list[tuple[str, int]] = [("pos", i) for i in range(len(self.photos))]
        items += [("neg", i) for i in range(self.negatives_per_epoch)]
        order = self.rng.permutation(len(items))
        for start in range(0, len(order), batch_size):
            chosen = [items[i] for i in order[start : start + batch_size]]
            images, masks, labels, weights = [], [], [], []
            for kind, index in chosen:
                if kind == "pos":
                    image, mask, label, weight = augment_positive(
                        self.photos[index], self.rng, self.size
                    )
                else:
                    image = self._negative()
                    mask = np.zeros((self.size, self.size), dtype=bool)
                    label, weight = 0.0, 1.0
                images.append(image)
                masks.append(mask)
                labels.append(label)
                weights.append(weight)
            yield Batch(
                np.stack(images),
                np.stack(masks),
                np.asarray(labels, dtype=np.float32),
                np.asarray(weights, dtype=np.float32),
            )

    def steps_per_epoch(self, batch_size: int) -> int:
        return math.ceil((len(self.photos) + self.negatives_per_epoch) / batch_size)


# ---------------------------------------------------------------------------------------------
# Fixed evaluation sets (no augmentation beyond a deterministic crop)


@dataclass
class NegativeImage:
    source: str
    image: Image.Image


def negative_set(
    photos: list[Sample], seed: int, held_out: bool, crops_per_photo: int = 1
) -> list[NegativeImage]:
    """Non-wound images for validation (seed from training's family) or the held-out test.

    Held-out: wound-free crops of the 40 held-out photos, a photograph not used in training
    (and crops of it), rendered images with other fonts and seeds.
    """
    rng = np.random.default_rng(seed)
    out: list[NegativeImage] = []
    for sample in photos:
        if not sample.has_wound:
            continue
        for _ in range(crops_per_photo):
            crop = wound_free_crop(sample, rng)
            if crop is not None:
                out.append(NegativeImage(f"fuseg-crop:{sample.name}", Image.fromarray(crop)))
    names = HELDOUT_PHOTOS if held_out else TRAIN_PHOTOS
    for name, photo in package_photos(names):
        out.append(NegativeImage(f"package:{name}", Image.fromarray(photo)))
        for index in range(4):
            top, left, h, w = crop_box(
                photo.shape[:2],
                rng,
                0.35,
                0.7,
                (int(rng.integers(photo.shape[0])), int(rng.integers(photo.shape[1]))),
            )
            crop = photo[top : top + h, left : left + w]
            out.append(NegativeImage(f"package:{name}#crop{index}", Image.fromarray(crop)))
    counts = HELDOUT_RENDER_COUNTS if held_out else VAL_RENDER_COUNTS
    for name, image in rendered_pool(counts, seed + 1, held_out=held_out):
        out.append(NegativeImage(f"rendered:{name}", Image.fromarray(image)))
    return out
