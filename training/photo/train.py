"""Trains WoundNet on FUSeg: ``python -m training.photo.train``.

Segmentation (BCE + batch-pooled soft Dice) and wound presence (BCE) are trained jointly from
ImageNet EfficientNet-Lite0 weights: AdamW, linear warm-up then cosine decay, fixed seeds, CUDA
with bfloat16 autocast when present, CPU otherwise. 128 training photos (plus rendered and
cropped negatives each epoch); the epoch is picked on 32 validation photos carved from the 160
non-held-out ones (plus validation negatives); the 40 held-out photos in ``split.json`` are never
read here. The presence threshold is chosen on the validation set too.

Writes ``wound_net.safetensors``, ``config.json`` and ``split.json`` (once) to ``--out``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from actions.photo import model as M
from training.photo import data as D
from training.photo import evaluate as E

if TYPE_CHECKING:
    import torch

VAL_NEGATIVE_SEED = 10_013


def set_seeds(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def losses(
    mask_logits: torch.Tensor,
    presence_logits: torch.Tensor,
    masks: torch.Tensor,
    labels: torch.Tensor,
    weights: torch.Tensor,
    presence_weight: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """BCE + soft Dice (pooled over the batch, like the FUSeg metric) + weighted presence BCE."""
    import torch.nn.functional as F

    mask_logits, presence_logits = mask_logits.float(), presence_logits.float()
    bce = F.binary_cross_entropy_with_logits(mask_logits, masks)
    probabilities = mask_logits.sigmoid()
    intersection = (probabilities * masks).sum()
    dice = 1 - (2 * intersection + 1) / (probabilities.sum() + masks.sum() + 1)
    presence = (
        F.binary_cross_entropy_with_logits(presence_logits, labels, reduction="none") * weights
    ).sum() / weights.sum().clamp(min=1)
    total = bce + dice + presence_weight * presence
    return total, {
        "bce": float(bce.detach()),
        "dice": float(dice.detach()),
        "presence": float(presence.detach()),
    }


def validate(
    model: torch.nn.Module,
    photos: list[D.Sample],
    negatives: list[D.NegativeImage],
) -> dict[str, Any]:
    """Pooled Dice on the validation photos; presence AUC against validation negatives."""
    model.eval()
    predictions = M.predict(model, [Image.fromarray(s.image) for s in photos])
    seg = E.segmentation_metrics([p.mask for p in predictions], [s.mask for s in photos])
    negative_predictions = M.predict(model, [n.image for n in negatives])
    positives = [
        p.wound_probability for p, s in zip(predictions, photos, strict=True) if s.has_wound
    ]
    scores = np.asarray(positives + [p.wound_probability for p in negative_predictions])
    labels = np.asarray([1] * len(positives) + [0] * len(negative_predictions))
    threshold = E.choose_threshold(scores, labels)
    presence = E.presence_metrics(scores, labels, threshold)
    return {
        "dice_pooled": seg["dice_pooled"],
        "dice_mean": seg["dice_mean"],
        "iou_pooled": seg["iou_pooled"],
        "presence_auc": presence["auc"],
        "presence_threshold": threshold,
        "presence_balanced_accuracy": presence["balanced_accuracy"],
        "presence_accuracy_at_0.5": E.presence_metrics(scores, labels, 0.5)["accuracy"],
        "score": seg["dice_pooled"] + 0.5 * presence["auc"],
    }


def select_input_size(
    model: torch.nn.Module,
    photos: list[D.Sample],
    negatives: list[D.NegativeImage],
    sizes: list[int],
) -> dict[str, Any]:
    """The inference side with the best validation Dice (pooled + mean per photo) and presence.

    The network is fully convolutional: a side larger than the training one shows small wounds
    with more pixels. Ties go to the smaller (cheaper) side.
    """
    config = dict(model.config)
    candidates = []
    for size in sorted(set(sizes)):
        model.config = {**config, "input_size": size}
        metrics = validate(model, photos, negatives)
        metrics["score"] = (
            metrics["dice_pooled"] + metrics["dice_mean"] + 0.5 * metrics["presence_auc"]
        )
        candidates.append({"input_size": size, **{k: round(v, 4) for k, v in metrics.items()}})
        print(
            f"input {size}: val dice {metrics['dice_pooled']:.4f} (mean {metrics['dice_mean']:.4f})"
            f", presence AUC {metrics['presence_auc']:.4f}",
            flush=True,
        )
    chosen = max(candidates, key=lambda c: (c["score"], -c["input_size"]))
    model.config = {**config, "input_size": chosen["input_size"]}
    return {"chosen": chosen, "candidates": candidates}


def parameter_groups(model: torch.nn.Module, lr: float, encoder_lr: float) -> list[dict]:
    encoder, rest = [], []
    for name, parameter in model.named_parameters():
        (encoder if name.startswith(("stem", "blocks")) else rest).append(parameter)
    return [{"params": encoder, "lr": encoder_lr}, {"params": rest, "lr": lr}]


def save(model: torch.nn.Module, out: Path, config: dict[str, Any]) -> Path:
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    path = out / M.WEIGHTS_FILE
    save_file(state, str(path), metadata={"format": "pt", "architecture": config["architecture"]})
    (out / M.CONFIG_FILE).write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    D.add_data_argument(parser)
    parser.add_argument("--out", default=D.DEFAULT_OUT, help="model folder to write")
    parser.add_argument("--epochs", type=int, default=36)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--size", type=int, default=M.TRAIN_SIZE, help="training input side")
    parser.add_argument("--lr", type=float, default=1e-3, help="decoder and heads")
    parser.add_argument("--encoder-lr", type=float, default=4e-4)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--warmup-epochs", type=float, default=1.0)
    parser.add_argument(
        "--infer-sizes",
        default="320,384,448",
        help="inference input sides to choose from on the validation set (fully convolutional)",
    )
    parser.add_argument("--presence-weight", type=float, default=0.5)
    parser.add_argument("--negatives", type=int, default=64, help="negatives per epoch")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--no-progress", action="store_true", help="no tqdm bars")
    args = parser.parse_args(argv)

    import torch

    started = time.perf_counter()
    set_seeds(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    use_amp = device == "cuda"
    out = D.resolve(args.out)

    samples = D.load_fuseg(D.resolve(args.data))
    split = D.ensure_split(out, samples)
    train_photos = D.by_names(samples, split["train"])
    val_photos = D.by_names(samples, split["val"])
    del samples  # the held-out photos are not used here
    stream = D.TrainStream(train_photos, args.size, args.seed, args.negatives)
    val_negatives = D.negative_set(val_photos, VAL_NEGATIVE_SEED, held_out=False)
    print(
        f"train {len(train_photos)} photos + {args.negatives} negatives/epoch; "
        f"val {len(val_photos)} photos + {len(val_negatives)} negatives; device {device}"
    )

    model = M.build_model(pretrained=True).to(device)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = 0.1  # TF's 0.99 decay adapts too slowly for a short fine-tune
    model.config = {**M.default_config(), "input_size": args.size}  # type: ignore[assignment]
    optimizer = torch.optim.AdamW(
        parameter_groups(model, args.lr, args.encoder_lr), weight_decay=args.weight_decay
    )
    steps_per_epoch = stream.steps_per_epoch(args.batch_size)
    total_steps = args.epochs * steps_per_epoch
    warmup = max(1, int(args.warmup_epochs * steps_per_epoch))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return 0.5 * (1 + np.cos(np.pi * min(1.0, progress)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    history: list[dict[str, Any]] = []
    best: dict[str, Any] = {"score": -1.0}
    best_state: dict[str, torch.Tensor] = {}
    train_seconds = 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        epoch_started = time.perf_counter()
        sums: dict[str, float] = {"loss": 0.0, "bce": 0.0, "dice": 0.0, "presence": 0.0}
        bar = tqdm(
            stream.epoch(args.batch_size),
            total=steps_per_epoch,
            desc=f"epoch {epoch}/{args.epochs}",
            disable=args.no_progress,
            leave=False,
        )
        for batch in bar:
            images = torch.from_numpy(M.normalise(batch.images)).to(device)
            masks = torch.from_numpy(batch.masks[:, None].astype(np.float32)).to(device)
            labels = torch.from_numpy(batch.labels).to(device)
            weights = torch.from_numpy(batch.weights).to(device)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
                mask_logits, presence_logits = model(images)
            loss, parts = losses(
                mask_logits, presence_logits, masks, labels, weights, args.presence_weight
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            scheduler.step()
            sums["loss"] += float(loss.detach())
            for key, value in parts.items():
                sums[key] += value
            bar.set_postfix(loss=f"{float(loss.detach()):.3f}")
        train_seconds += time.perf_counter() - epoch_started
        if epoch <= args.epochs // 2 and epoch % 4:
            print(f"epoch {epoch:>3}  loss {sums['loss'] / steps_per_epoch:.3f}", flush=True)
            continue  # the first half is validated every 4th epoch only (CPU time)
        metrics = validate(model, val_photos, val_negatives)
        record = {
            "epoch": epoch,
            **{k: round(v / steps_per_epoch, 4) for k, v in sums.items()},
            **{k: round(float(v), 4) for k, v in metrics.items()},
            "seconds": round(time.perf_counter() - epoch_started, 1),
        }
        history.append(record)
        marker = ""
        if metrics["score"] > best["score"]:
            best = {**metrics, "epoch": epoch}
            best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
            marker = "  *"
        print(
            f"epoch {epoch:>3}  loss {record['loss']:.3f}  val dice {metrics['dice_pooled']:.4f} "
            f"(mean {metrics['dice_mean']:.4f})  presence AUC {metrics['presence_auc']:.4f} "
            f"@{metrics['presence_threshold']:.2f} "
            f"bal.acc {metrics['presence_balanced_accuracy']:.3f}"
            f"  {record['seconds']:.0f}s{marker}",
            flush=True,
        )

    model.load_state_dict(best_state)
    selection = select_input_size(
        model, val_photos, val_negatives, [int(v) for v in args.infer_sizes.split(",")]
    )
    chosen = selection["chosen"]
    elapsed = time.perf_counter() - started
    config = {
        **M.default_config(),
        "input_size": chosen["input_size"],
        "train_size": args.size,
        "mask_threshold": 0.5,
        "presence_threshold": round(float(chosen["presence_threshold"]), 2),
        "normalisation": "(rgb - 127) / 128 per channel (EfficientNet-Lite's own), on 0..255",
        "letterbox": "resize keeping aspect to input_size, centred, zero padding",
        "weights": M.WEIGHTS_FILE,
        "training": {
            "data": "FUSeg 2021 validation split: 200 photos; split.json",
            "train_photos": len(train_photos),
            "val_photos": len(val_photos),
            "val_negatives": len(val_negatives),
            "heldout_photos": len(split["holdout"]),
            "stream": stream.describe(),
            "epochs": args.epochs,
            "best_epoch": best["epoch"],
            "best_val": {k: round(float(v), 4) for k, v in best.items() if k != "epoch"},
            "input_size_selection": selection["candidates"],
            "batch_size": args.batch_size,
            "steps": total_steps,
            "optimizer": f"AdamW lr {args.lr} (encoder {args.encoder_lr}), "
            f"weight decay {args.weight_decay}, warm-up {args.warmup_epochs} epoch, cosine",
            "loss": f"BCE + soft Dice (batch-pooled) + {args.presence_weight} x presence BCE",
            "seed": args.seed,
            "device": device,
            "cpu": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "train_seconds": round(train_seconds, 1),
            "total_seconds": round(elapsed, 1),
            "history": history,
        },
    }
    path = save(model, out, config)
    size_mb = path.stat().st_size / 1e6
    print(
        f"best epoch {best['epoch']}, input size {chosen['input_size']}: val dice "
        f"{chosen['dice_pooled']:.4f} (mean {chosen['dice_mean']:.4f}), presence AUC "
        f"{chosen['presence_auc']:.4f}, threshold {config['presence_threshold']}; "
        f"{elapsed / 60:.1f} min; wrote {D.shown(path)} ({size_mb:.1f} MB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
