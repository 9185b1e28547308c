"""Photo checker latency on this CPU: gate + CNN per photo, model load time, and the same model
without the inference path's optimisations, in the same run.

Why: a patient waits for this reply in a chat. Goal: p95 <= 300 ms per photo (decode, quality
gate, CNN, mask back to the photo's size) on this 2-core CPU.

Ours: the shipped path (`PhotoChecker.check`): decode, gate on a downscaled copy, the CNN on a
letterboxed 320 px input under `torch.inference_mode()`. Baseline: the same weights run the plain
way: eager fp32 with autograd on, at the photo's full resolution (padded to a multiple of 32).

Inputs: FUSeg photos from the held-out split, upscaled to a phone-like 1600x1200 JPEG (what a
patient's upload looks like after the upload store re-encodes it).

    .venv/bin/python bench/photo_bench.py [--data ../shared/data/wound-fuseg] [--photos 40]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_OUT = ROOT / "bench" / "results" / "photo_bench.json"
PHONE = (1600, 1200)


def phone_photos(data_dir: Path, count: int) -> list[bytes]:
    """Held-out FUSeg photos as phone-sized JPEG bytes."""
    from PIL import Image

    split = json.loads((ROOT / "models/photo-cnn/split.json").read_text())
    names = split["holdout"]
    photos = []
    for name in names[:count]:
        path = next((data_dir / "validation/images").glob(f"{Path(name).stem}.*"))
        with Image.open(path) as image:
            big = image.convert("RGB").resize(PHONE, Image.Resampling.BICUBIC)
        out = io.BytesIO()
        big.save(out, format="JPEG", quality=92)
        photos.append(out.getvalue())
    return photos


def stats(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(sorted(values), n=100, method="inclusive")
    return {"n": len(values), "p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1),
            "mean_ms": round(statistics.fmean(values), 1)}  # fmt: skip


def ours(photos: list[bytes], repeats: int) -> tuple[dict[str, Any], Any]:
    from actions.photo.service import PhotoChecker

    checker = PhotoChecker(ROOT / "models/photo-cnn", device="cpu")
    started = time.perf_counter()
    model = checker.load()
    load_s = time.perf_counter() - started
    checker.check(photos[0])  # first call: allocations, lazy imports (not counted)
    total, gate, cnn = [], [], []
    for _ in range(repeats):
        for data in photos:
            started = time.perf_counter()
            result = checker.check(data)
            total.append(1000 * (time.perf_counter() - started))
            gate.append(result.timings_ms.get("gate", 0.0))
            if "cnn" in result.timings_ms:
                cnn.append(result.timings_ms["cnn"])
    report = {
        "model_load_s": round(load_s, 3),
        "cold_start_s": cold_start(),
        "per_photo": stats(total),
        "gate": stats(gate),
        "cnn": stats(cnn) if len(cnn) > 1 else {"n": len(cnn)},
    }
    return report, model


def cold_start() -> float:
    """A fresh process: import torch and the model code, load the weights (action-server start)."""
    import subprocess

    code = (
        "import time; t = time.perf_counter(); from pathlib import Path; "
        "from actions.photo.service import PhotoChecker; "
        "PhotoChecker(Path('models/photo-cnn'), device='cpu').load(); "
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return round(float(out.stdout.strip().splitlines()[-1]), 2)


def baseline(model: Any, photos: list[bytes], count: int) -> dict[str, Any]:
    """Decode + the same network, eager fp32 with autograd, at the photo's full resolution."""
    import numpy as np
    import torch
    from PIL import Image

    from actions.photo.model import normalise

    times = []
    for data in photos[:count]:
        started = time.perf_counter()
        with Image.open(io.BytesIO(data)) as image:
            pixels = np.asarray(image.convert("RGB"))
        height, width = pixels.shape[:2]
        padded = np.zeros(((height + 31) // 32 * 32, (width + 31) // 32 * 32, 3), np.uint8)
        padded[:height, :width] = pixels
        batch = torch.from_numpy(normalise(padded[None]))
        mask_logits, presence = model(batch)
        _ = (torch.sigmoid(mask_logits[0, 0, :height, :width]) > 0.5).numpy()
        _ = float(torch.sigmoid(presence.detach())[0])
        times.append(1000 * (time.perf_counter() - started))
    return {"per_photo": stats(times), "resolution": f"{PHONE[0]}x{PHONE[1]}"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/wound-fuseg")
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--baseline-photos", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    photos = phone_photos(args.data, args.photos)
    report, model = ours(photos, args.repeats)
    report["baseline_eager_fullres"] = baseline(model, photos, args.baseline_photos)
    report["speedup_p50"] = round(
        report["baseline_eager_fullres"]["per_photo"]["p50_ms"] / report["per_photo"]["p50_ms"], 1
    )
    report |= {
        "command": "bench/photo_bench.py " + " ".join(sys.argv[1:]),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "threads": args.threads,
        "photo_size": f"{PHONE[0]}x{PHONE[1]} JPEG",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
