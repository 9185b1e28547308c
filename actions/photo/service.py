"""The photo checker: quality gate, then the CNN, then an overlay the patient can see.

Loaded once per process (the action server warms it up at start). The gate runs first and alone
decides whether a photo is usable: a dark or blurred photo gets a tip, never a guess.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actions.photo.quality import PhotoRejected, Problem, check_quality, decode

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

logger = logging.getLogger(__name__)

OVERLAY_MAX_SIDE = 1280
OUTLINE = (255, 214, 0)  # yellow: visible on skin, dressings and dark backgrounds
SHADOW = (20, 20, 20)


@dataclass
class PhotoResult:
    """What one photo gave: usable or why not, and the wound's probability and share."""

    usable: bool
    problems: list[Problem] = field(default_factory=list)
    wound_probability: float | None = None
    wound_area_fraction: float | None = None
    wound_found: bool = False
    timings_ms: dict[str, float] = field(default_factory=dict)
    image: Image.Image | None = field(default=None, repr=False)
    mask: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON (no pixels)."""
        return {
            "usable": self.usable,
            "problems": [p.code for p in self.problems],
            "wound_probability": _round(self.wound_probability),
            "wound_area_fraction": _round(self.wound_area_fraction),
            "wound_found": self.wound_found,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


class PhotoChecker:
    """Gate + CNN + overlay; thread-safe lazy load of the model."""

    def __init__(self, model_dir: Path, device: str = "auto", max_pixels: int = 50_000_000) -> None:
        self.model_dir, self.device, self.max_pixels = Path(model_dir), device, max_pixels
        self._model: Any = None
        self._config: dict[str, Any] = {}
        self._lock = threading.Lock()

    def load(self) -> Any:
        """The model (loaded on first use; ``warm_up`` calls this at start)."""
        with self._lock:
            if self._model is None:
                from actions.photo.model import load_model

                started = time.perf_counter()
                self._model = load_model(self.model_dir, device=_device(self.device))
                self._config = dict(getattr(self._model, "config", {}))
                logger.info("photo model loaded in %.0f ms", 1000 * (time.perf_counter() - started))
        return self._model

    warm_up = load

    @property
    def presence_threshold(self) -> float:
        self.load()
        return float(self._config.get("presence_threshold", 0.5))

    def check(self, data: bytes) -> PhotoResult:
        """Decode, gate, and (if usable) find the wound; never raises for bad input."""
        try:
            image = decode(data, self.max_pixels)
        except PhotoRejected as rejected:
            return PhotoResult(False, [Problem(rejected.code, rejected.message, rejected.tip)])
        return self.check_image(image)

    def check_image(self, image: Image.Image) -> PhotoResult:
        from actions.photo.model import predict

        started = time.perf_counter()
        report = check_quality(image)
        gate_ms = 1000 * (time.perf_counter() - started)
        if not report.usable:
            return PhotoResult(False, report.problems, timings_ms={"gate": gate_ms}, image=image)
        model = self.load()
        started = time.perf_counter()
        [prediction] = predict(model, [image])
        cnn_ms = 1000 * (time.perf_counter() - started)
        found = (
            prediction.wound_probability >= self.presence_threshold and prediction.area_fraction > 0
        )
        return PhotoResult(
            True,
            [],
            float(prediction.wound_probability),
            float(prediction.area_fraction),
            bool(found),
            {"gate": gate_ms, "cnn": cnn_ms},
            image,
            prediction.mask,
        )

    def overlay(self, result: PhotoResult) -> bytes:
        """The photo with the wound's outline drawn on it, as a JPEG (no metadata)."""
        if result.image is None or result.mask is None:
            raise ValueError("no photo or mask to draw")
        return draw_outline(result.image, result.mask)


def draw_outline(image: Image.Image, mask: np.ndarray) -> bytes:
    """A thick outline (with a dark halo for contrast) and a light tint inside the wound."""
    import numpy as np
    from PIL import Image, ImageFilter

    photo = image.convert("RGB")
    scale = min(1.0, OVERLAY_MAX_SIDE / max(photo.size))
    size = (max(1, round(photo.width * scale)), max(1, round(photo.height * scale)))
    photo = photo.resize(size, Image.Resampling.LANCZOS) if scale < 1 else photo.copy()
    region = Image.fromarray(np.asarray(mask, dtype=np.uint8) * 255).resize(size)
    width = max(3, round(max(size) / 200)) | 1  # odd filter sizes
    inner = region.filter(ImageFilter.MinFilter(width))
    edge = np.asarray(region) > np.asarray(inner)
    halo = np.asarray(region.filter(ImageFilter.MaxFilter(width + 2))) > np.asarray(
        inner.filter(ImageFilter.MinFilter(3))
    )
    pixels = np.asarray(photo).copy()
    inside = np.asarray(region) > 127
    pixels[inside] = (0.85 * pixels[inside] + 0.15 * np.array(OUTLINE)).astype(np.uint8)
    pixels[halo] = SHADOW
    pixels[edge] = OUTLINE
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=88)
    return out.getvalue()


def _device(requested: str) -> str:
    if requested != "auto":
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
