"""The shipped wound model (models/photo-cnn): loads, predicts, maps masks back, finds wounds.

Fast, CPU only. The two FUSeg fixtures are held-out photos (never trained on), resized to 256 px.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[3]
MODEL_DIR = ROOT / "models" / "photo-cnn"
DATA = Path(__file__).parent / "data"
FIXTURES = sorted(p.stem.removesuffix("_photo") for p in DATA.glob("fuseg_*_photo.jpg"))

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")

from actions.photo import model as M  # noqa: E402


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(min(2, torch.get_num_threads()))
    return M.load_model(MODEL_DIR, device="cpu")


def foot_like(width: int, height: int, seed: int = 0) -> Image.Image:
    """A FUSeg-like picture: skin-coloured blob on a sheet with a reddish ulcer, zero padded."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height), (225, 225, 230))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.2, height * 0.1, width * 0.8, height * 0.95), fill=(205, 150, 120))
    cx, cy, r = width * 0.5, height * 0.55, min(width, height) * 0.08
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(170, 40, 40))
    draw.ellipse((cx - r / 2, cy - r / 2, cx + r / 2, cy + r / 2), fill=(210, 190, 90))
    pixels = np.asarray(image).astype(np.int16) + rng.integers(-6, 7, size=(height, width, 1))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def document(width: int = 600, height: int = 800) -> Image.Image:
    """A plain typed page with a small results table."""
    page = Image.new("RGB", (width, height), (250, 250, 247))
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=16)
    draw.text(
        (40, 40), "Laboratory report", font=ImageFont.load_default(size=26), fill=(20, 20, 20)
    )
    y = 100
    for index in range(14):
        draw.text(
            (40, y),
            f"Glucose fasting {90 + index} mg/dL  range 70-99",
            font=font,
            fill=(30, 30, 30),
        )
        draw.line((40, y + 24, width - 40, y + 24), fill=(170, 170, 170))
        y += 34
    for _ in range(8):
        draw.text(
            (40, y + 20),
            "Please bring this report to your next appointment.",
            font=font,
            fill=(30, 30, 30),
        )
        y += 26
    return page


def dice(pred: np.ndarray, true: np.ndarray) -> float:
    tp = np.count_nonzero(pred & true)
    return 2 * tp / max(1, np.count_nonzero(pred) + np.count_nonzero(true))


def test_module_imports_without_torch():
    code = "import sys, actions.photo.model; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_shipped_files_and_config():
    weights = MODEL_DIR / M.WEIGHTS_FILE
    assert weights.is_file() and weights.stat().st_size < 25_000_000
    config = json.loads((MODEL_DIR / M.CONFIG_FILE).read_text())
    assert config["input_size"] % 32 == 0
    assert config["mask_threshold"] == 0.5
    assert 0 < config["presence_threshold"] < 1
    split = json.loads((MODEL_DIR / "split.json").read_text())
    assert len(split["holdout"]) == 40
    assert not set(split["holdout"]) & (set(split["train"]) | set(split["val"]))


def test_preprocess_letterboxes_non_square_inputs():
    tensor, box = M.preprocess(Image.new("RGB", (640, 320), (255, 255, 255)))
    size = M.INPUT_SIZE
    assert tuple(tensor.shape) == (3, size, size)
    assert (box.width, box.height) == (size, size // 2)
    assert (box.original_width, box.original_height) == (640, 320)
    # zero padding above and below, the photo in the middle
    assert torch.allclose(tensor[:, 0, 0], torch.full((3,), -127 / 128))
    assert torch.allclose(tensor[:, size // 2, size // 2], torch.full((3,), 1.0))


@pytest.mark.parametrize(
    ("width", "height", "mode"),
    [
        (512, 512, "RGB"),
        (300, 200, "RGB"),
        (200, 300, "RGBA"),
        (1, 1, "RGB"),
        (7, 3, "L"),
        (3024, 4032, "RGB"),
        (64, 48, "P"),
    ],
)
def test_predict_maps_mask_to_original_size(model, width, height, mode):
    image = (
        foot_like(width, height).convert(mode)
        if min(width, height) > 8
        else Image.new(mode, (width, height))
    )
    [prediction] = M.predict(model, [image])
    assert prediction.mask.shape == (height, width)
    assert prediction.mask.dtype == np.bool_
    assert 0.0 <= prediction.area_fraction <= 1.0
    assert prediction.area_fraction == pytest.approx(prediction.mask.mean())
    assert 0.0 <= prediction.wound_probability <= 1.0


def test_batch_equals_single(model):
    images = [foot_like(400, 300, seed=1), document(), foot_like(256, 256, seed=2)]
    batched = M.predict(model, images)
    for image, together in zip(images, batched, strict=True):
        [alone] = M.predict(model, [image])
        assert alone.wound_probability == pytest.approx(together.wound_probability, abs=1e-4)
        assert (alone.mask != together.mask).mean() < 0.001


@pytest.mark.parametrize("name", FIXTURES)
def test_held_out_fuseg_photo(model, name):
    assert len(FIXTURES) == 2
    photo = Image.open(DATA / f"{name}_photo.jpg")
    true = np.asarray(Image.open(DATA / f"{name}_mask.png").convert("L")) > 127
    [prediction] = M.predict(model, [photo])
    assert prediction.mask.shape == true.shape
    assert dice(prediction.mask, true) > 0.5
    assert prediction.wound_probability >= model.config["presence_threshold"]
    assert prediction.wound_present
    assert 0 < prediction.area_fraction < 0.5


def test_document_is_not_a_wound(model):
    [prediction] = M.predict(model, [document()])
    assert prediction.wound_probability < model.config["presence_threshold"]
    assert not prediction.wound_present
    assert prediction.area_fraction < 0.01
