"""Held-out evaluation of the shipped WoundNet: ``python -m training.photo.evaluate``.

Segmentation on the 40 held-out FUSeg photos (never trained on), at the photos' own 512x512
resolution: Dice pooled over all photos as the FUSeg challenge computes it
(2·ΣTP / (2·ΣTP + ΣFP + ΣFN)), pooled IoU, and mean per-photo Dice and IoU.
Presence: held-out wound photos against held-out non-wound images (wound-free crops of the
held-out photos, a packaged photograph never used in training and crops of it, rendered documents,
receipts, screenshots, skin and plain images with other fonts and seeds): ROC AUC, average
precision, accuracy at the shipped threshold, with counts.

Writes ``bench/results/photo_eval.json``, a ROC/PR plot and an outline grid under
``bench/results/photo/``, and prints a table. Reads the data folder given with ``--data``
(``make eval-photo`` passes the FUSeg folder); the action server never does.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from training.photo import data as D

HELDOUT_NEGATIVE_SEED = 20_260
DEFAULT_JSON = "bench/results/photo_eval.json"
DEFAULT_PLOTS = "bench/results/photo"


# ---------------------------------------------------------------------------------------------
# Metrics (numpy only; train.py uses them for validation too)


def confusion(pred: NDArray[np.bool_], true: NDArray[np.bool_]) -> tuple[int, int, int]:
    """(TP, FP, FN) pixel counts."""
    tp = int(np.count_nonzero(pred & true))
    return tp, int(np.count_nonzero(pred)) - tp, int(np.count_nonzero(true)) - tp


def segmentation_metrics(
    preds: Sequence[NDArray[np.bool_]], trues: Sequence[NDArray[np.bool_]]
) -> dict[str, Any]:
    """Pooled Dice/IoU (FUSeg style) and per-photo means (photos with a wound)."""
    totals = np.zeros(3, dtype=np.int64)
    dices, ious = [], []
    empty_clean = 0
    empty = 0
    for pred, true in zip(preds, trues, strict=True):
        tp, fp, fn = confusion(pred, true)
        totals += (tp, fp, fn)
        if true.any():
            dices.append(2 * tp / (2 * tp + fp + fn))
            ious.append(tp / (tp + fp + fn))
        else:
            empty += 1
            empty_clean += int(fp == 0)
    tp, fp, fn = (int(v) for v in totals)
    return {
        "photos": len(trues),
        "photos_with_wound": len(dices),
        "dice_pooled": 2 * tp / max(1, 2 * tp + fp + fn),
        "iou_pooled": tp / max(1, tp + fp + fn),
        "precision_pooled": tp / max(1, tp + fp),
        "recall_pooled": tp / max(1, tp + fn),
        "dice_mean": float(np.mean(dices)) if dices else 0.0,
        "dice_median": float(np.median(dices)) if dices else 0.0,
        "iou_mean": float(np.mean(ious)) if ious else 0.0,
        "photos_without_wound": empty,
        "photos_without_wound_predicted_empty": empty_clean,
        "pixels": {"tp": tp, "fp": fp, "fn": fn},
        "per_photo_dice": [round(float(d), 4) for d in dices],
    }


def roc_auc(scores: NDArray[np.float64], labels: NDArray[np.int_]) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count one half)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def roc_curve(scores: NDArray[np.float64], labels: NDArray[np.int_]) -> tuple[list, list]:
    """(false positive rates, true positive rates), thresholds from high to low."""
    order = np.argsort(-scores, kind="stable")
    ranked = labels[order]
    tps = np.concatenate([[0], np.cumsum(ranked == 1)])
    fps = np.concatenate([[0], np.cumsum(ranked == 0)])
    return (fps / max(1, fps[-1])).tolist(), (tps / max(1, tps[-1])).tolist()


def pr_curve(scores: NDArray[np.float64], labels: NDArray[np.int_]) -> tuple[list, list, float]:
    """(recalls, precisions, average precision)."""
    order = np.argsort(-scores, kind="stable")
    ranked = labels[order]
    tps = np.cumsum(ranked == 1)
    precision = tps / np.arange(1, len(ranked) + 1)
    recall = tps / max(1, tps[-1])
    ap = float(np.sum(precision[ranked == 1]) / max(1, tps[-1]))
    return recall.tolist(), precision.tolist(), ap


def presence_metrics(
    scores: NDArray[np.float64], labels: NDArray[np.int_], threshold: float
) -> dict[str, Any]:
    predicted = scores >= threshold
    tp = int(np.sum(predicted & (labels == 1)))
    tn = int(np.sum(~predicted & (labels == 0)))
    fp = int(np.sum(predicted & (labels == 0)))
    fn = int(np.sum(~predicted & (labels == 1)))
    positives, negatives = tp + fn, tn + fp
    return {
        "threshold": threshold,
        "positives": positives,
        "negatives": negatives,
        "auc": roc_auc(scores, labels),
        "average_precision": pr_curve(scores, labels)[2] if positives else float("nan"),
        "accuracy": (tp + tn) / max(1, positives + negatives),
        "balanced_accuracy": 0.5 * (tp / max(1, positives) + tn / max(1, negatives)),
        "sensitivity": tp / max(1, positives),
        "specificity": tn / max(1, negatives),
        "confusion": {"tp": tp, "fn": fn, "tn": tn, "fp": fp},
    }


def choose_threshold(scores: NDArray[np.float64], labels: NDArray[np.int_]) -> float:
    """The middle of the thresholds (0.05..0.95) with the best balanced accuracy."""
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    pos, neg = labels == 1, labels == 0
    balanced = np.array(
        [0.5 * (np.mean(scores[pos] >= t) + np.mean(scores[neg] < t)) for t in grid]
    )
    best = grid[balanced >= balanced.max() - 1e-9]
    return float(np.median(best))


# ---------------------------------------------------------------------------------------------
# Plots (PIL only: matplotlib is not a dependency)


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)  # type: ignore[return-value]


def plot_curves(
    roc: tuple[list, list], pr: tuple[list, list], auc: float, ap: float, title: str, path: Path
) -> None:
    """ROC and precision-recall side by side, as a PNG."""
    panel, margin = 420, 60
    image = Image.new("RGB", (2 * panel + 3 * margin, panel + 2 * margin + 30), "white")
    draw = ImageDraw.Draw(image)
    draw.text((margin, 12), title, font=_font(18), fill="black")

    def panel_at(
        index: int, xs: list, ys: list, xlabel: str, ylabel: str, label: str, diagonal: bool
    ) -> None:
        left, top = margin + index * (panel + margin), margin + 30

        def at(x: float, y: float) -> tuple[float, float]:
            return left + x * panel, top + (1 - y) * panel

        draw.rectangle((left, top, left + panel, top + panel), outline="black")
        for tick in np.linspace(0, 1, 6):
            x, y = at(tick, 0)
            draw.line((x, y, x, y + 5), fill="black")
            draw.text((x - 10, y + 8), f"{tick:.1f}", font=_font(12), fill="black")
            x, y = at(0, tick)
            draw.line((x - 5, y, x, y), fill="black")
            draw.text((x - 32, y - 7), f"{tick:.1f}", font=_font(12), fill="black")
            gx, gy = at(tick, 1)
            draw.line((gx, gy, gx, gy + panel), fill=(230, 230, 230))
            hx, hy = at(0, tick)
            draw.line((hx + 1, hy, hx + panel - 1, hy), fill=(230, 230, 230))
        if diagonal:
            draw.line((*at(0, 0), *at(1, 1)), fill=(180, 180, 180))
        draw.line([at(x, y) for x, y in zip(xs, ys, strict=True)], fill=(200, 40, 40), width=3)
        draw.text((left + panel // 2 - 40, top + panel + 28), xlabel, font=_font(14), fill="black")
        draw.text((left, top - 20), ylabel, font=_font(14), fill="black")
        draw.text((left + panel - 150, top + panel - 28), label, font=_font(15), fill=(200, 40, 40))

    panel_at(0, roc[0], roc[1], "false positive rate", "true positive rate", f"AUC {auc:.3f}", True)
    panel_at(1, pr[0], pr[1], "recall", "precision", f"AP {ap:.3f}", False)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def _outline(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    inner = mask.copy()
    inner[1:-1, 1:-1] = (
        mask[1:-1, 1:-1] & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    )
    edge = mask & ~inner
    grown = edge.copy()  # two pixels thick
    grown[1:] |= edge[:-1]
    grown[:, 1:] |= edge[:, :-1]
    return grown


def plot_grid(items: list[tuple[str, NDArray, NDArray, NDArray, float]], path: Path) -> None:
    """Held-out photos: true outline green, predicted outline yellow, with Dice."""
    tile, columns = 256, 4
    rows = math.ceil(len(items) / columns)
    grid = Image.new("RGB", (columns * tile, rows * (tile + 22) + 24), "white")
    draw = ImageDraw.Draw(grid)
    draw.text((6, 4), "green: true wound   yellow: predicted", font=_font(14), fill="black")
    for index, (name, image, true, pred, dice) in enumerate(items):
        pixels = image.copy()
        pixels[_outline(true)] = (40, 220, 60)
        pixels[_outline(pred)] = (255, 214, 0)
        x, y = (index % columns) * tile, 24 + (index // columns) * (tile + 22)
        grid.paste(Image.fromarray(pixels).resize((tile, tile), Image.Resampling.BILINEAR), (x, y))
        draw.text((x + 4, y + tile + 3), f"{name}  Dice {dice:.2f}", font=_font(13), fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    grid.save(path)


# ---------------------------------------------------------------------------------------------


def wound_crops(photos: list[D.Sample], seed: int) -> list[Image.Image]:
    """One deterministic crop around each wound (phone-like framing, no padding)."""
    rng = np.random.default_rng(seed)
    out = []
    for sample in photos:
        points = np.argwhere(sample.mask)
        if not len(points):
            continue
        (top, left), (bottom, right) = points.min(0), points.max(0)
        cy, cx = (top + bottom) // 2, (left + right) // 2
        side = max(bottom - top, right - left) * rng.uniform(2.0, 3.5) + 64
        half = int(min(side, 512) // 2)
        box = (max(0, cx - half), max(0, cy - half), min(512, cx + half), min(512, cy + half))
        out.append(Image.fromarray(sample.image).crop(box))
    return out


def source_group(source: str) -> str:
    """``fuseg-crop``, ``package:<file>`` or ``rendered:<kind>``."""
    prefix, _, rest = source.partition(":")
    if prefix == "package":
        return f"package:{Path(rest.split('#')[0]).name}"
    if prefix == "rendered":
        return f"rendered:{rest.split('-')[0]}"
    return prefix


def evaluate(model_dir: Path, data_dir: Path, device: str, plots: Path | None) -> dict[str, Any]:
    from actions.photo.model import load_model, predict

    model = load_model(model_dir, device=device)
    config = model.config
    samples = D.load_fuseg(data_dir)
    split = json.loads((model_dir / D.SPLIT_FILE).read_text(encoding="utf-8"))
    holdout = D.by_names(samples, split["holdout"])

    started = time.perf_counter()
    predictions = predict(model, [Image.fromarray(s.image) for s in holdout])
    per_image_ms = 1000 * (time.perf_counter() - started) / len(holdout)
    seg = segmentation_metrics([p.mask for p in predictions], [s.mask for s in holdout])

    negatives = D.negative_set(holdout, HELDOUT_NEGATIVE_SEED, held_out=True)
    negative_predictions = predict(model, [n.image for n in negatives])
    crops = wound_crops(holdout, HELDOUT_NEGATIVE_SEED + 1)
    crop_predictions = predict(model, crops)

    positives = [
        p.wound_probability for p, s in zip(predictions, holdout, strict=True) if s.has_wound
    ]
    negative_scores = [p.wound_probability for p in negative_predictions]
    threshold = float(config["presence_threshold"])
    scores = np.asarray(positives + negative_scores, dtype=np.float64)
    labels = np.asarray([1] * len(positives) + [0] * len(negative_scores))
    presence = presence_metrics(scores, labels, threshold)
    presence_half = presence_metrics(scores, labels, 0.5)
    crop_scores = np.asarray(
        [p.wound_probability for p in crop_predictions] + negative_scores, dtype=np.float64
    )
    crop_labels = np.asarray([1] * len(crop_predictions) + [0] * len(negative_scores))
    presence_crops = presence_metrics(crop_scores, crop_labels, threshold)

    by_source: dict[str, list[float]] = defaultdict(list)
    for item, prediction in zip(negatives, negative_predictions, strict=True):
        by_source[source_group(item.source)].append(prediction.wound_probability)
    negatives_by_source = {
        source: {
            "count": len(values),
            "correct": int(sum(v < threshold for v in values)),
            "max_probability": round(max(values), 4),
        }
        for source, values in sorted(by_source.items())
    }
    empty_photos = [
        {"photo": s.name, "wound_probability": round(p.wound_probability, 4)}
        for p, s in zip(predictions, holdout, strict=True)
        if not s.has_wound
    ]
    result: dict[str, Any] = {
        "model": str(model_dir),
        "input_size": config["input_size"],
        "mask_threshold": config["mask_threshold"],
        "segmentation": seg,
        "presence": presence,
        "presence_at_0.5": {k: presence_half[k] for k in ("accuracy", "confusion")},
        "presence_wound_crops": presence_crops,
        "negatives_by_source": negatives_by_source,
        "holdout_photos_without_mask": empty_photos,
        "cpu_ms_per_photo": round(per_image_ms, 1),
        "data": {
            "holdout_photos": len(holdout),
            "holdout_wound_photos": len(positives),
            "holdout_negatives": len(negatives),
            "negative_seed": HELDOUT_NEGATIVE_SEED,
        },
    }
    if plots is not None:
        roc = roc_curve(scores, labels)
        recall, precision, ap = pr_curve(scores, labels)
        plot_curves(
            roc,
            (recall, precision),
            presence["auc"],
            ap,
            f"Wound presence, held-out: {len(positives)} wound photos vs "
            f"{len(negative_scores)} non-wound images",
            plots / "presence_roc_pr.png",
        )
        ranked = sorted(
            (
                (s.name, s.image, s.mask, p.mask, d)
                for s, p, d in zip(
                    [s for s in holdout if s.has_wound],
                    [p for p, s in zip(predictions, holdout, strict=True) if s.has_wound],
                    seg["per_photo_dice"],
                    strict=True,
                )
            ),
            key=lambda item: item[4],
        )
        picks = [ranked[int(i)] for i in np.linspace(0, len(ranked) - 1, 12).round()]
        plot_grid(picks, plots / "holdout_outlines.png")
        result["plots"] = [str(plots / "presence_roc_pr.png"), str(plots / "holdout_outlines.png")]
    return result


def print_table(result: dict[str, Any]) -> None:
    seg, pres, crops = result["segmentation"], result["presence"], result["presence_wound_crops"]
    rows = [
        ("held-out photos (wound / total)", f"{seg['photos_with_wound']} / {seg['photos']}"),
        ("Dice, pooled (FUSeg)", f"{seg['dice_pooled']:.4f}"),
        ("IoU, pooled", f"{seg['iou_pooled']:.4f}"),
        ("Dice, mean per photo", f"{seg['dice_mean']:.4f}"),
        ("IoU, mean per photo", f"{seg['iou_mean']:.4f}"),
        ("presence: wound photos / non-wound", f"{pres['positives']} / {pres['negatives']}"),
        ("presence AUC", f"{pres['auc']:.4f}"),
        ("presence average precision", f"{pres['average_precision']:.4f}"),
        (f"presence accuracy @ {pres['threshold']:.2f}", f"{pres['accuracy']:.4f}"),
        ("  sensitivity / specificity", f"{pres['sensitivity']:.3f} / {pres['specificity']:.3f}"),
        ("presence AUC, wound crops", f"{crops['auc']:.4f}"),
        ("presence accuracy, wound crops", f"{crops['accuracy']:.4f}"),
        ("CPU ms per photo (batch 8)", f"{result['cpu_ms_per_photo']:.1f}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    for source, counts in result["negatives_by_source"].items():
        print(f"  negatives {source:<28} {counts['correct']}/{counts['count']} correct")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    D.add_data_argument(parser)
    parser.add_argument("--model", default=D.DEFAULT_OUT, help="model folder")
    parser.add_argument("--out", default=DEFAULT_JSON, help="results JSON")
    parser.add_argument("--plots", default=DEFAULT_PLOTS, help="folder for the PNG plots")
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    result = evaluate(D.resolve(args.model), D.resolve(args.data), device, D.resolve(args.plots))
    out = D.resolve(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result["model"] = D.shown(Path(result["model"]))
    result["plots"] = [D.shown(Path(p)) for p in result.get("plots", [])]
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    summary = {
        "source": D.shown(out),
        "segmentation": {
            k: round(v, 4) if isinstance(v, float) else v
            for k, v in result["segmentation"].items()
            if k != "per_photo_dice"
        },
        "presence": result["presence"],
        "presence_wound_crops": {
            k: result["presence_wound_crops"][k] for k in ("auc", "accuracy", "positives")
        },
        "cpu_ms_per_photo": result["cpu_ms_per_photo"],
    }
    metrics = D.resolve(args.model) / "metrics.json"
    metrics.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print_table(result)
    print(f"wrote {D.shown(out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
