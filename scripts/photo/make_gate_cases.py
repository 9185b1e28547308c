"""Build the photo quality gate's test cases from FUSeg photos and rendered non-photos.

    .venv/bin/python scripts/photo/make_gate_cases.py [--fuseg /work/shared/data/wound-fuseg]

The 200 FUSeg validation photos are split once, by sorted name: every fifth photo (40) is held
out for these test cases, the other 160 are what ``measure_gate.py`` sets the thresholds on.
Bad cases are degraded copies of held-out photos (blur, dark, overexposed, too small) and
rendered images (chat and app screenshots, documents, drawings); good cases are held-out photos
with variations a phone really produces (exposure a little off, JPEG, sizes, orientation).

Writes tests/actions/photo/gate_cases/{good,bad}/<code>_*.jpg|png and cases.json. The
degradation and rendering functions are shared with measure_gate.py (different seeds).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "actions" / "photo" / "gate_cases"
DEFAULT_FUSEG = Path("/work/shared/data/wound-fuseg")
FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation")]


# ---------------------------------------------------------------------------------------------
# The data and its split


def fuseg_photos(root: Path) -> list[Path]:
    paths = sorted((root / "validation" / "images").glob("*.png"))
    if len(paths) != 200:
        raise SystemExit(f"expected 200 FUSeg validation photos under {root}, found {len(paths)}")
    return paths


def split(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(tuning, held out): every fifth photo by sorted name is held out for the test cases."""
    return (
        [p for i, p in enumerate(paths) if i % 5 != 4],
        [p for i, p in enumerate(paths) if i % 5 == 4],
    )


def load(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


def jpeg(image: Image.Image, quality: int = 85) -> Image.Image:
    """A JPEG round trip, as a phone or a messenger would compress it."""
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    out.seek(0)
    with Image.open(out) as decoded:
        return decoded.convert("RGB")


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32)


def _image(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))


def content_only(image: Image.Image) -> Image.Image:
    """FUSeg photos are zero-padded to 512×512; a phone photo has no bars."""
    rgb = np.asarray(image)
    live = rgb.max(axis=2) > 0
    rows, cols = np.flatnonzero(live.any(axis=1)), np.flatnonzero(live.any(axis=0))
    return image.crop((int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1))


# ---------------------------------------------------------------------------------------------
# Degradations (bad) and variations (good)


def gaussian_blur(image: Image.Image, radius: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def motion_blur(image: Image.Image, length: int, angle: float) -> Image.Image:
    """Camera shake: the average of the image shifted along a line of ``length`` pixels."""
    pixels = _pixels(image)
    pad = length + 1
    padded = np.pad(pixels, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    h, w = pixels.shape[:2]
    total = np.zeros_like(pixels)
    for i in range(length):
        t = i - (length - 1) / 2
        dx, dy = round(t * math.cos(angle)), round(t * math.sin(angle))
        total += padded[pad + dy : pad + dy + h, pad + dx : pad + dx + w]
    return _image(total / length)


def defocus_large(image: Image.Image, long_side: int, radius: float) -> Image.Image:
    """An out-of-focus photo at phone resolution: upscale, then blur at that scale."""
    scale = long_side / max(image.size)
    big = image.resize((round(image.width * scale), round(image.height * scale)), Image.BICUBIC)
    return big.filter(ImageFilter.GaussianBlur(radius))


def expose(
    image: Image.Image, gain: float, gamma: float = 1.0, noise: float = 0.0, seed: int = 0
) -> Image.Image:
    """Exposure change in (roughly) linear light, with sensor noise: dark or blown-out photos."""
    pixels = _pixels(image) / 255.0
    linear = pixels**2.2 * gain
    out = np.clip(linear, 0, 1) ** (gamma / 2.2) * 255.0
    if noise:
        out = out + np.random.default_rng(seed).normal(0, noise, out.shape)
    # Keep FUSeg's zero padding at zero (the gate must not take it for shadow).
    out[pixels.max(axis=2) == 0] = 0
    return _image(out)


def washed_out(image: Image.Image, amount: float) -> Image.Image:
    """Flash glare or a bright window behind: everything pulled toward white."""
    pixels = _pixels(image)
    return _image(pixels * (1 - amount) + 255.0 * amount)


def shrink(image: Image.Image, short_side: int) -> Image.Image:
    scale = short_side / min(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.LANCZOS)


def add_noise(image: Image.Image, sigma: float, seed: int) -> Image.Image:
    pixels = _pixels(image)
    return _image(pixels + np.random.default_rng(seed).normal(0, sigma, pixels.shape))


# ---------------------------------------------------------------------------------------------
# Rendered non-photos

WORDS = (  # noqa: SIM905
    "the wound on my left heel has been red and sore since tuesday and the nurse said to keep it "
    "clean and dry please send a photo when you can dressing changed this morning looks better "
    "thank you doctor appointment tomorrow at ten pharmacy prescription glucose blood pressure "
    "swelling pain mild moderate severe results normal range reference value patient name date "
    "of birth clinic report signed follow up in two weeks antibiotics ointment bandage foot ulcer"
).split()


def font(
    size: int, bold: bool = False, mono: bool = False, serif: bool = False
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    names = []
    if mono:
        names.append("DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf")
    if serif:
        names += [
            "DejaVuSerif-Bold.ttf" if bold else "DejaVuSerif.ttf",
            "LiberationSerif-Regular.ttf",
        ]
    names += ["DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", "LiberationSans-Regular.ttf"]
    for folder in FONT_DIRS:
        for name in names:
            if (folder / name).exists():
                return ImageFont.truetype(str(folder / name), size)
    return ImageFont.load_default(size)


def sentence(rng: random.Random, lo: int = 3, hi: int = 9) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))
    return text[0].upper() + text[1:]


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, fnt: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=fnt) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    return [*lines, line] if line else lines


def chat_screenshot(
    rng: random.Random, dark: bool = False, photo: Image.Image | None = None
) -> Image.Image:
    """A messenger conversation as a phone screenshot (optionally with a photo bubble)."""
    w, h = 540, 1170
    bg = (18, 18, 20) if dark else rng.choice([(255, 255, 255), (236, 229, 221), (242, 242, 247)])
    fg = (235, 235, 235) if dark else (20, 20, 20)
    mine = rng.choice([(0, 122, 255), (220, 248, 198), (43, 82, 120), (52, 199, 89)])
    theirs = (44, 44, 46) if dark else (229, 229, 234)
    image = Image.new("RGB", (w, h), bg)
    draw = ImageDraw.Draw(image)
    bar = (28, 28, 30) if dark else rng.choice([(247, 247, 247), (7, 94, 84), (81, 123, 163)])
    draw.rectangle((0, 0, w, 130), fill=bar)
    title = (255, 255, 255) if sum(bar) < 400 else (0, 0, 0)
    draw.text(
        (20, 12), f"{rng.randint(8, 22)}:{rng.randint(10, 59)}", font=font(22, True), fill=title
    )
    draw.ellipse(
        (20, 60, 80, 120), fill=rng.choice([(255, 149, 0), (175, 82, 222), (90, 200, 250)])
    )
    draw.text(
        (95, 72),
        rng.choice(["Dr Smith", "Wound clinic", "Mum", "Nurse Anna"]),
        font=font(26, True),
        fill=title,
    )
    y = 150
    body = font(rng.choice([20, 22, 24]))
    while y < h - 140:
        own = rng.random() < 0.5
        if photo is not None and y > 300 and rng.random() < 0.35:
            thumb = photo.copy()
            thumb.thumbnail((300, 300))
            x = w - thumb.width - 20 if own else 20
            image.paste(thumb, (x, y))
            y += thumb.height + 16
            photo = None
            continue
        lines = _wrap(draw, sentence(rng, 3, 16), body, 330)
        line_h = body.size + 8
        bw = int(max(draw.textlength(line, font=body) for line in lines)) + 32
        bh = line_h * len(lines) + 24
        x = w - bw - 16 if own else 16
        fill = mine if own else theirs
        draw.rounded_rectangle((x, y, x + bw, y + bh), radius=18, fill=fill)
        text_fill = (255, 255, 255) if sum(fill) < 400 else fg if not own else (0, 0, 0)
        for i, line in enumerate(lines):
            draw.text((x + 16, y + 12 + i * line_h), line, font=body, fill=text_fill)
        y += bh + rng.randint(10, 26)
    draw.rectangle((0, h - 100, w, h), fill=bar)
    draw.rounded_rectangle((16, h - 84, w - 90, h - 30), radius=26, fill=bg)
    draw.ellipse((w - 76, h - 86, w - 16, h - 26), fill=mine)
    return image


def app_screenshot(rng: random.Random, dark: bool = False) -> Image.Image:
    """A health app screen: header, cards with numbers, a small chart, buttons."""
    w, h = 540, 1170
    bg = (0, 0, 0) if dark else rng.choice([(242, 242, 247), (250, 250, 250), (255, 255, 255)])
    card = (28, 28, 30) if dark else (255, 255, 255)
    fg = (240, 240, 240) if dark else (28, 28, 30)
    accent = rng.choice([(255, 45, 85), (0, 122, 255), (52, 199, 89), (255, 149, 0)])
    image = Image.new("RGB", (w, h), bg)
    draw = ImageDraw.Draw(image)
    draw.text(
        (24, 40),
        rng.choice(["Summary", "Health", "My wound diary", "Glucose"]),
        font=font(40, True),
        fill=fg,
    )
    y = 120
    while y < h - 200:
        ch = rng.randint(120, 260)
        draw.rounded_rectangle((16, y, w - 16, y + ch), radius=16, fill=card)
        draw.text((36, y + 16), sentence(rng, 1, 3), font=font(22, True), fill=accent)
        draw.text(
            (36, y + 50),
            f"{rng.randint(60, 180)} {rng.choice(['mg/dL', 'bpm', 'steps', 'kcal'])}",
            font=font(34, True),
            fill=fg,
        )
        if ch > 170:
            bars = rng.randint(5, 12)
            for i in range(bars):
                bh = rng.randint(10, ch - 120)
                x0 = 36 + i * (w - 90) // bars
                draw.rectangle(
                    (x0, y + ch - 20 - bh, x0 + (w - 90) // bars - 8, y + ch - 20), fill=accent
                )
        y += ch + 16
    draw.rectangle((0, h - 90, w, h), fill=card)
    for i in range(4):
        cx = 67 + i * 135
        draw.ellipse((cx - 16, h - 76, cx + 16, h - 44), outline=accent if i == 0 else fg, width=3)
        draw.text(
            (cx - 24, h - 36), rng.choice(["Home", "Data", "Chat", "Me"]), font=font(16), fill=fg
        )
    return image


def document(
    rng: random.Random, kind: str = "letter", paper: tuple[int, int, int] = (255, 255, 255)
) -> Image.Image:
    """A lab report (table of results) or a letter, as a scan or a PDF export would look."""
    w, h = 760, 1075
    image = Image.new("RGB", (w, h), paper)
    draw = ImageDraw.Draw(image)
    ink = rng.choice([(0, 0, 0), (30, 30, 30), (20, 30, 80)])
    serif = rng.random() < 0.5
    draw.text(
        (60, 50),
        rng.choice(["City Hospital", "Wound Care Clinic", "Laboratory Services"]),
        font=font(30, True, serif=serif),
        fill=(0, 70, 140),
    )
    draw.line((60, 100, w - 60, 100), fill=(0, 70, 140), width=2)
    y = 130
    small = font(rng.choice([14, 15, 16]), serif=serif)
    if kind == "lab":
        draw.text((60, y), "LABORATORY REPORT", font=font(22, True), fill=ink)
        y += 50
        cols = [60, 300, 430, 560]
        for i, head in enumerate(["Test", "Result", "Units", "Reference"]):
            draw.text((cols[i], y), head, font=font(16, True), fill=ink)
        y += 30
        draw.line((60, y, w - 60, y), fill=ink, width=1)
        y += 10
        while y < h - 150:
            name = " ".join(rng.choice(WORDS) for _ in range(2)).title()
            value = f"{rng.uniform(0.1, 300):.1f}"
            flag = rng.random() < 0.15
            draw.text((cols[0], y), name, font=small, fill=ink)
            draw.text(
                (cols[1], y),
                value + (" H" if flag else ""),
                font=font(small.size, flag),
                fill=(200, 0, 0) if flag else ink,
            )
            draw.text(
                (cols[2], y),
                rng.choice(["mmol/L", "g/L", "U/L", "%", "x10^9/L"]),
                font=small,
                fill=ink,
            )
            draw.text(
                (cols[3], y), f"{rng.randint(1, 50)} - {rng.randint(51, 200)}", font=small, fill=ink
            )
            y += small.size + 12
            if rng.random() < 0.2:
                draw.line((60, y, w - 60, y), fill=(180, 180, 180), width=1)
                y += 8
    else:
        draw.text(
            (60, y),
            f"Dear {rng.choice(['Mr Jones', 'Patient', 'Colleague'])},",
            font=small,
            fill=ink,
        )
        y += 40
        while y < h - 180:
            for line in _wrap(
                draw, " ".join(sentence(rng, 8, 20) + "." for _ in range(3)), small, w - 120
            ):
                draw.text((60, y), line, font=small, fill=ink)
                y += small.size + 8
            y += 18
        draw.text((60, y + 10), "Yours sincerely,", font=small, fill=ink)
        draw.line((60, y + 70, 260, y + 60), fill=(20, 20, 120), width=2)
    draw.text((60, h - 50), f"Page 1 of {rng.randint(1, 3)}", font=font(12), fill=(120, 120, 120))
    return image


def drawing(rng: random.Random, kind: str = "clipart") -> Image.Image:
    """Clip-art, a line drawing, a chart or a flat illustration."""
    w, h = rng.choice([(800, 600), (600, 800), (700, 700)])
    if kind == "lines":
        image = Image.new("RGB", (w, h), (255, 255, 255))
        draw = ImageDraw.Draw(image)
        for _ in range(rng.randint(15, 40)):
            pts = [(rng.randint(0, w), rng.randint(0, h)) for _ in range(rng.randint(2, 6))]
            draw.line(
                pts,
                fill=rng.choice([(0, 0, 0), (40, 40, 40), (0, 0, 150)]),
                width=rng.randint(2, 6),
                joint="curve",
            )
        # A foot-like outline.
        cx, cy = w // 2, h // 2
        draw.ellipse((cx - 120, cy - 220, cx + 120, cy + 220), outline=(0, 0, 0), width=5)
        for i in range(5):
            draw.ellipse(
                (cx - 110 + i * 45, cy - 270, cx - 80 + i * 45, cy - 230),
                outline=(0, 0, 0),
                width=4,
            )
        return image
    if kind == "chart":
        image = Image.new("RGB", (w, h), (255, 255, 255))
        draw = ImageDraw.Draw(image)
        draw.line((60, 40, 60, h - 60, w - 30, h - 60), fill=(0, 0, 0), width=2)
        colors = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)]
        n = rng.randint(4, 12)
        for i in range(n):
            bh = rng.randint(20, h - 140)
            x0 = 80 + i * (w - 120) // n
            draw.rectangle((x0, h - 60 - bh, x0 + (w - 120) // n - 10, h - 60), fill=colors[i % 4])
            draw.text((x0, h - 50), f"W{i + 1}", font=font(14), fill=(0, 0, 0))
        draw.text((80, 10), "Wound size (cm²) by week", font=font(20, True), fill=(0, 0, 0))
        return image
    sky = rng.choice([(135, 206, 235), (255, 244, 214), (230, 230, 250), (255, 255, 255)])
    image = Image.new("RGB", (w, h), sky)
    draw = ImageDraw.Draw(image)
    if kind == "gradient":
        top, bottom = (
            np.array(sky, float),
            np.array(rng.choice([(255, 160, 122), (70, 130, 180)]), float),
        )
        t = np.linspace(0, 1, h)[:, None, None]
        image = _image(np.broadcast_to(top * (1 - t) + bottom * t, (h, w, 3)))
        draw = ImageDraw.Draw(image)
    palette = [
        (255, 99, 71),
        (255, 215, 0),
        (60, 179, 113),
        (106, 90, 205),
        (244, 164, 96),
        (255, 182, 193),
        (139, 69, 19),
    ]
    outline = (0, 0, 0) if rng.random() < 0.7 else None
    for _ in range(rng.randint(6, 16)):
        x0, y0 = rng.randint(-50, w - 50), rng.randint(-50, h - 50)
        x1, y1 = x0 + rng.randint(40, 300), y0 + rng.randint(40, 300)
        shape = rng.choice(["ellipse", "rect", "poly"])
        fill = rng.choice(palette)
        width = rng.randint(2, 5)
        if shape == "ellipse":
            draw.ellipse((x0, y0, x1, y1), fill=fill, outline=outline, width=width)
        elif shape == "rect":
            draw.rounded_rectangle(
                (x0, y0, x1, y1), radius=rng.randint(0, 30), fill=fill, outline=outline, width=width
            )
        else:
            pts = [(rng.randint(x0, x1), rng.randint(y0, y1)) for _ in range(rng.randint(3, 6))]
            draw.polygon(pts, fill=fill, outline=outline, width=width)
    if rng.random() < 0.5:
        draw.text((30, h - 80), sentence(rng, 2, 4), font=font(40, True), fill=(0, 0, 0))
    return image


def scan(rng: random.Random) -> Image.Image:
    """A scanned document: off-white paper and scanner noise."""
    page = document(rng, rng.choice(["lab", "letter"]), (246, 244, 238))
    return add_noise(page, 2.0, rng.randint(0, 10**6))


def non_photo(rng: random.Random, kind: str, photo: Image.Image | None = None) -> Image.Image:
    makers: dict[str, Callable[[], Image.Image]] = {
        "chat": lambda: chat_screenshot(rng, dark=False),
        "chat_dark": lambda: chat_screenshot(rng, dark=True),
        "chat_photo": lambda: chat_screenshot(rng, dark=False, photo=photo),
        "app": lambda: app_screenshot(rng, dark=False),
        "app_dark": lambda: app_screenshot(rng, dark=True),
        "lab": lambda: document(rng, "lab"),
        "letter": lambda: document(rng, "letter"),
        "scan": lambda: scan(rng),
        "clipart": lambda: drawing(rng, "clipart"),
        "gradient": lambda: drawing(rng, "gradient"),
        "lines": lambda: drawing(rng, "lines"),
        "chart": lambda: drawing(rng, "chart"),
    }  # fmt: skip
    return makers[kind]()


NON_PHOTO_KINDS = [
    "chat", "chat_dark", "chat_photo", "app", "app_dark", "lab", "letter", "scan",
    "clipart", "gradient", "lines", "chart",
]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# One bad or good case from a photo (shared with measure_gate.py: same ranges, other seeds)

BLUR_RADII = (3.0, 4.0, 6.0, 9.0)  # Gaussian sigma in pixels at 512 px: clearly out of focus
MOTION_LENGTHS = (14, 20, 28)  # camera shake, pixels at 512 px
DARK_GAINS = (0.015, 0.025, 0.04, 0.06)  # -4 to -6 EV: a dim room without flash
BRIGHT_GAINS = (4.0, 6.0, 9.0)  # +2 to +3.2 EV: blown out by flash or sun
WASHED = (0.55, 0.7)
SMALL_SIDES = (64, 120, 180, 240)


def bad_photo(image: Image.Image, code: str, rng: random.Random) -> tuple[Image.Image, str]:
    """A clearly unusable version of a FUSeg photo and a note on how it was made."""
    seed = rng.randint(0, 10**6)
    if code == "blurry":
        how = rng.choice(["gauss", "gauss", "motion", "large"])
        if how == "gauss":
            r = rng.choice(BLUR_RADII)
            return gaussian_blur(image, r), f"gaussian blur sigma {r}"
        if how == "motion":
            n, a = rng.choice(MOTION_LENGTHS), rng.uniform(0, math.pi)
            return motion_blur(image, n, a), f"motion blur {n} px at {math.degrees(a):.0f}°"
        side, r = rng.choice([1600, 2400]), rng.choice(BLUR_RADII)
        return defocus_large(image, side, r * side / 512), f"{side} px, blur sigma {r} at 512 px"
    if code == "too_dark":
        gain = rng.choice(DARK_GAINS)
        return expose(
            image, gain, noise=rng.choice([0.0, 1.5, 3.0]), seed=seed
        ), f"exposure ×{gain}"
    if code == "overexposed":
        if rng.random() < 0.3:
            amount = rng.choice(WASHED)
            return washed_out(image, amount), f"washed out {amount:.0%} toward white"
        gain = rng.choice(BRIGHT_GAINS)
        return expose(image, gain, noise=1.0, seed=seed), f"exposure ×{gain}"
    if code == "too_small":
        side = rng.choice(SMALL_SIDES)
        return shrink(content_only(image), side), f"short side {side} px"
    raise ValueError(code)


GOOD_VARIANTS = [
    "as_is", "no_padding", "brighter", "darker", "jpeg_low", "phone_size", "soft", "noisy",
    "rotated_exif", "contrast",
]  # fmt: skip


def good_photo(
    image: Image.Image, variant: str, rng: random.Random
) -> tuple[Image.Image, str, dict]:
    """An acceptable version of a FUSeg photo; the dict holds test-time steps (upscale, EXIF)."""
    seed = rng.randint(0, 10**6)
    if variant == "as_is":
        return image, "as published (zero-padded)", {}
    if variant == "no_padding":
        return content_only(image), "padding cropped", {}
    if variant == "brighter":
        g = rng.uniform(1.15, 1.5)
        return expose(image, g), f"exposure ×{g:.2f}", {}
    if variant == "darker":
        g = rng.uniform(0.5, 0.75)
        return expose(image, g, noise=1.0, seed=seed), f"exposure ×{g:.2f}", {}
    if variant == "jpeg_low":
        q = rng.randint(35, 60)
        return jpeg(image, q), f"JPEG quality {q}", {}
    if variant == "phone_size":
        side = rng.choice([1200, 1600, 2400, 3000, 4000])
        return content_only(image), f"upscaled to {side} px at test time", {"upscale_to": side}
    if variant == "soft":
        r = rng.uniform(0.5, 1.0)
        return gaussian_blur(image, r), f"slightly soft (sigma {r:.1f})", {}
    if variant == "noisy":
        s = rng.uniform(2, 5)
        return add_noise(image, s, seed), f"sensor noise sigma {s:.1f}", {}
    if variant == "rotated_exif":
        return (
            content_only(image).transpose(Image.ROTATE_270),
            "stored sideways, EXIF orientation 6",
            {"exif_orientation": 6},
        )
    if variant == "contrast":
        f = rng.uniform(0.8, 1.25)
        return ImageEnhance.Contrast(image).enhance(f), f"contrast ×{f:.2f}", {}
    raise ValueError(variant)


# ---------------------------------------------------------------------------------------------


def save(image: Image.Image, path: Path, exif_orientation: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".png":
        image.save(path, format="PNG", optimize=True)
        return
    exif = None
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
    image.save(path, format="JPEG", quality=85, **({"exif": exif} if exif else {}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fuseg", type=Path, default=DEFAULT_FUSEG)
    parser.add_argument("--out", type=Path, default=CASES)
    parser.add_argument("--seed", type=int, default=20260)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    _, held_out = split(fuseg_photos(args.fuseg))
    if args.out.exists():
        shutil.rmtree(args.out)
    cases: list[dict] = []

    def add(
        image: Image.Image,
        usable: bool,
        code: str | None,
        name: str,
        note: str,
        source: str | None,
        ext: str = "jpg",
        **extra: int,
    ) -> None:
        folder = "good" if usable else "bad"
        rel = f"{folder}/{code or 'ok'}_{name}.{ext}"
        save(image, args.out / rel, extra.get("exif_orientation"))
        cases.append(
            {
                "file": rel,
                "usable": usable,
                "expected": code,
                "note": note,
                "source": source,
                **extra,
            }
        )

    # Good: each held-out photo once as published-like, once with a phone-like variation.
    for i, path in enumerate(held_out):
        photo = load(path)
        variant = GOOD_VARIANTS[i % len(GOOD_VARIANTS)]
        image, note, extra = good_photo(photo, variant, rng)
        add(image, True, None, f"{path.stem}_{variant}", note, path.name, **extra)
        second = GOOD_VARIANTS[(i + 3) % len(GOOD_VARIANTS)]
        if second != variant and i % 2 == 0:
            image, note, extra = good_photo(photo, second, rng)
            add(image, True, None, f"{path.stem}_{second}", note, path.name, **extra)

    # Bad from photos: 40 held-out photos, each one degradation, cycling through the codes.
    codes = ["blurry", "too_dark", "overexposed", "too_small", "blurry"]
    for i, path in enumerate(held_out):
        code = codes[i % len(codes)]
        image, note = bad_photo(load(path), code, rng)
        add(image, False, code, path.stem, note, path.name)
    tiny = shrink(load(held_out[0]), 50).resize((50, 50))
    add(tiny, False, "too_small", "50x50", "50×50 pixels", held_out[0].name)

    # Rendered non-photos: two of each kind (PNG as a screen capture, or JPEG as sent on).
    for i, kind in enumerate(NON_PHOTO_KINDS * 2):
        photo = load(held_out[i % len(held_out)]) if kind == "chat_photo" else None
        image = non_photo(rng, kind, photo)
        image.thumbnail((1024, 1024))
        ext = "png" if i < len(NON_PHOTO_KINDS) else "jpg"
        add(image, False, "not_a_photo", f"{kind}_{i}", f"rendered {kind}", None, ext)

    manifest = {
        "about": "Photo quality gate cases; made by scripts/photo/make_gate_cases.py from FUSeg "
        "validation photos held out from threshold tuning (every fifth by sorted name) and from "
        "rendered screenshots, documents and drawings. 'expected' is the problem code a bad case "
        "must get; test-time steps: upscale_to (long side), exif_orientation (stored in the file).",
        "cases": cases,
    }
    (args.out / "cases.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    good = sum(c["usable"] for c in cases)
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(
        f"{len(cases)} cases ({good} good, {len(cases) - good} bad), {size / 1e6:.1f} MB "
        f"in {args.out}"
    )


if __name__ == "__main__":
    main()
