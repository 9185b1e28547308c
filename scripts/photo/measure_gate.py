"""Set the photo quality gate's thresholds by measurement, and say how well they do.

    .venv/bin/python scripts/photo/measure_gate.py [--fuseg /work/shared/data/wound-fuseg]

Data: the 160 FUSeg validation photos not held out for the test cases (see make_gate_cases.py).
Each one gives, JPEG-compressed at quality 85 like the test cases:
  good         the photo itself and two acceptable variations (exposure a little off, JPEG 35-60,
               phone resolutions, slight softness, noise, contrast, padding cropped, rotated)
  blurry       Gaussian blur (sigma 3-9 px at 512 px), camera shake (14-28 px), or a 1600-2400 px
               photo out of focus by the same amount
  too_dark     exposure ×0.015-0.06 (-4 to -6 EV), with or without sensor noise
  overexposed  exposure ×4-9 (+2 to +3.2 EV) or washed out 55-70 % toward white
plus 120 rendered non-photos (10 of each of 12 kinds: chat and app screenshots in light and
dark mode, a chat with a photo in it, lab reports, letters, scans, clip-art, gradients, line
drawings, charts), half of them JPEG-compressed.

How a threshold is picked: for each rule, the images that must trigger it (positives) and the
images that must not (negatives: acceptable photos, and for exposure and "not a photo" also
the other kinds of bad photo, so that a blurred photo is not told it is too dark or a
screenshot). Every threshold between two observed values is tried; the cost is
2 × (share of negatives triggered) + (share of positives missed), weighting a rejected good
photo twice as much as a missed bad one. Among the cheapest, the widest gap between observed
values wins and the threshold goes in its middle (the largest margin on both sides). The
overexposed rule has three thresholds (clipped share OR dark end OR mean): a coarse grid first,
then one threshold at a time at full resolution (coordinate descent), each centred in its gap.
For "not a photo", colour count, colour entropy and flat blocks were measured too (AUCs in the
JSON) and a second rule "some steep edges AND 8 colours cover 90 %" was tried: it caught
nothing that steep edges alone missed without rejecting photos, so it was dropped. The
constants in actions/photo/quality.py are these values rounded; the accuracy reported is that
of the rounded constants, on the tuning images and on the held-out test cases in
tests/actions/photo/gate_cases.

Writes bench/results/photo_gate.json and bench/results/photo/gate_*.png.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from itertools import pairwise, product
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import make_gate_cases as cases

from actions.photo import quality

ROOT = Path(__file__).resolve().parents[2]
OUT_JSON = ROOT / "bench" / "results" / "photo_gate.json"
OUT_PLOTS = ROOT / "bench" / "results" / "photo"
GROUPS = ["good", "blurry", "too_dark", "overexposed", "not_a_photo"]
FALSE_REJECT_WEIGHT = 2.0

# Statistics considered for each problem (the first is what the gate uses unless noted).
CANDIDATES = {
    "too_dark": ["luma_p95", "luma_mean", "luma_p50", "dark_share"],
    "overexposed": ["clipped_share", "luma_p5", "luma_mean", "luma_p50"],
    "blurry": ["sharpness", "laplacian_var_log", "edge_share", "grad_p99"],
    "not_a_photo": ["steep_share", "top8_share", "colour_entropy", "flat_share"],
}


# ---------------------------------------------------------------------------------------------
# The tuning images


def tuning_rows(fuseg: Path, seed: int) -> list[dict]:
    tune, _ = cases.split(cases.fuseg_photos(fuseg))
    rng = random.Random(seed)
    rows: list[dict] = []

    def record(group: str, image: Image.Image, note: str, compress: bool = True) -> None:
        image = cases.jpeg(image, 85) if compress else image
        rows.append({"group": group, "note": note, **quality.measure(image, extended=True)})

    variants = [v for v in cases.GOOD_VARIANTS if v != "as_is"]
    for path in tune:
        photo = cases.load(path)
        record("good", photo, "as_is")
        for variant in rng.sample(variants, 2):
            image, note, extra = cases.good_photo(photo, variant, rng)
            if "upscale_to" in extra:
                image = upscale(image, extra["upscale_to"])
            record("good", image, f"{variant}: {note}")
        for code in ("blurry", "too_dark", "overexposed"):
            image, note = cases.bad_photo(photo, code, rng)
            record(code, image, note)
    for k in range(10):
        for kind in cases.NON_PHOTO_KINDS:
            image = cases.non_photo(rng, kind, cases.load(tune[k]))
            image.thumbnail((1024, 1024))
            record("not_a_photo", image, kind, compress=k % 2 == 1)
    return rows


def upscale(image: Image.Image, long_side: int) -> Image.Image:
    scale = long_side / max(image.size)
    size = (round(image.width * scale), round(image.height * scale))
    return image.resize(size, Image.Resampling.BICUBIC)


# ---------------------------------------------------------------------------------------------
# Choosing thresholds

Rule = Callable[[dict[str, np.ndarray], dict[str, float]], np.ndarray]


def cost(fires: np.ndarray, positive: np.ndarray) -> float:
    false_reject = fires[~positive].mean() if (~positive).any() else 0.0
    missed = (~fires[positive]).mean() if positive.any() else 0.0
    return float(FALSE_REJECT_WEIGHT * false_reject + missed)


def midpoints(values: np.ndarray, limit: int = 0) -> np.ndarray:
    """Thresholds between consecutive distinct values (and beyond both ends)."""
    v = np.unique(values)
    mids = np.concatenate([[v[0] - 1e-9], (v[:-1] + v[1:]) / 2, [v[-1] + 1e-9]])
    if limit and len(mids) > limit:
        mids = np.unique(np.quantile(mids, np.linspace(0, 1, limit)))
    return mids


def choose(
    stats: dict[str, np.ndarray], positive: np.ndarray, params: dict[str, str], rule: Rule
) -> tuple[dict[str, float], float]:
    """Thresholds for ``rule`` (params: name -> statistic) at minimum cost, widest margin."""
    limit = 0 if len(params) == 1 else 40  # every gap for one threshold; a grid for several
    grids = {
        name: midpoints(stats[stat][np.isfinite(stats[stat])], limit)
        for name, stat in params.items()
    }
    best, best_cost = {}, math.inf
    for combo in product(*grids.values()):
        t = dict(zip(grids, combo, strict=True))
        c = cost(rule(stats, t), positive)
        if c < best_cost - 1e-12:
            best, best_cost = t, c
    for _ in range(4):  # refine one threshold at a time at full resolution, then centre it
        for name, stat in params.items():
            values = np.unique(stats[stat][np.isfinite(stats[stat])])
            pad = 0.05 * (values[-1] - values[0] or 1.0)
            edges = np.concatenate([[values[0] - pad], values, [values[-1] + pad]])
            gaps = [
                (cost(rule(stats, {**best, name: (lo + hi) / 2}), positive), -(hi - lo), lo, hi)
                for lo, hi in pairwise(edges)
            ]
            best_cost, _, lo, hi = min(gaps)
            best = {**best, name: float((lo + hi) / 2)}
    return best, best_cost


def auc(neg: np.ndarray, pos: np.ndarray) -> float:
    """Probability that a positive scores higher than a negative (ties half)."""
    if not len(neg) or not len(pos):
        return float("nan")
    both = np.concatenate([neg, pos])
    ranks = np.argsort(np.argsort(both, kind="mergesort"), kind="mergesort") + 1.0
    # Average ranks for ties.
    _, inverse, counts = np.unique(both, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    ranks = (sums / counts)[inverse]
    u = ranks[len(neg) :].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(neg) * len(pos)))


def fit(rows: list[dict]) -> dict:
    groups = np.array([r["group"] for r in rows])
    keys = sorted({k for r in rows for k in r if k not in ("group", "note")})
    stats = {k: np.array([r.get(k, np.nan) for r in rows], dtype=float) for k in keys}
    photo = groups != "not_a_photo"
    chosen: dict[str, dict] = {}

    def one(code: str, mask: np.ndarray, params: dict[str, str], rule: Rule, how: str) -> None:
        sub = {k: v[mask] for k, v in stats.items()}
        positive = groups[mask] == code
        thresholds, c = choose(sub, positive, params, rule)
        separation = {
            stat: round(max(a := auc(sub[stat][~positive], sub[stat][positive]), 1 - a), 4)
            for stat in CANDIDATES[code]
        }
        chosen[code] = {
            "thresholds": {k: round(v, 5) for k, v in thresholds.items()},
            "cost": round(c, 4),
            "positives": int(positive.sum()),
            "negatives": int((~positive).sum()),
            "negatives_are": sorted(set(groups[mask][~positive])),
            "rule": how,
            "auc_of_candidates": separation,
        }

    one(
        "too_dark",
        photo,
        {"LUMA_P95_MIN": "luma_p95"},
        lambda s, t: s["luma_p95"] < t["LUMA_P95_MIN"],
        "luma_p95 < LUMA_P95_MIN",
    )
    one(
        "overexposed",
        photo,
        {
            "CLIPPED_SHARE_MAX": "clipped_share",
            "LUMA_P5_MAX": "luma_p5",
            "LUMA_MEAN_MAX": "luma_mean",
        },
        lambda s, t: (
            (s["clipped_share"] > t["CLIPPED_SHARE_MAX"])
            | (s["luma_p5"] > t["LUMA_P5_MAX"])
            | (s["luma_mean"] > t["LUMA_MEAN_MAX"])
        ),
        "clipped_share > CLIPPED_SHARE_MAX or luma_p5 > LUMA_P5_MAX or luma_mean > LUMA_MEAN_MAX",
    )
    one(
        "blurry",
        np.isin(groups, ["good", "blurry"]),
        {"SHARPNESS_MIN": "sharpness"},
        lambda s, t: s["sharpness"] < t["SHARPNESS_MIN"],
        "sharpness < SHARPNESS_MIN (dark and bright photos are stretched first; not counted "
        "as negatives because their exposure problem is named first)",
    )
    one(
        "not_a_photo",
        np.ones(len(rows), bool),
        {"STEEP_SHARE_MIN": "steep_share"},
        lambda s, t: s["steep_share"] >= t["STEEP_SHARE_MIN"],
        "steep_share >= STEEP_SHARE_MIN (negatives: every photo, good or bad)",
    )
    chosen["too_small"] = {
        "thresholds": {"MIN_SIDE": quality.MIN_SIDE},
        "rule": "short side < MIN_SIDE px (a set requirement, not measured)",
    }
    return chosen


# ---------------------------------------------------------------------------------------------
# Evaluating the constants in quality.py


def evaluate(rows: list[dict]) -> dict:
    confusion: dict[str, Counter] = {g: Counter() for g in GROUPS}
    right, primary = Counter(), Counter()
    for r in rows:
        codes = quality.decide(r)
        verdict = codes[0] if codes else "usable"
        confusion[r["group"]][verdict] += 1
        if r["group"] == "good":
            ok = not codes
            right[r["group"]] += ok
            primary[r["group"]] += ok
        else:
            right[r["group"]] += r["group"] in codes
            primary[r["group"]] += verdict == r["group"]
    total = Counter(r["group"] for r in rows)
    return {
        "by_group": {
            g: {
                "n": total[g],
                "right": right[g],
                "primary_right": primary[g],
                "first_problem": dict(confusion[g]),
            }
            for g in GROUPS
        },
        "accuracy": round(sum(right.values()) / len(rows), 4),
        "accuracy_first_problem": round(sum(primary.values()) / len(rows), 4),
        "usable_right": round(
            sum((not quality.decide(r)) == (r["group"] == "good") for r in rows) / len(rows), 4
        ),
    }


def held_out_cases() -> dict:
    manifest = json.loads((cases.CASES / "cases.json").read_text())
    right, first, wrong = 0, 0, []
    for case in manifest["cases"]:
        image = quality.decode((cases.CASES / case["file"]).read_bytes())
        if case.get("upscale_to"):
            image = upscale(image, case["upscale_to"])
        codes = quality.check_quality(image).codes
        ok = not codes if case["usable"] else case["expected"] in codes
        right += ok
        first += (not codes) if case["usable"] else bool(codes) and codes[0] == case["expected"]
        if not ok or (codes and codes[0] != case["expected"]):
            wrong.append({"file": case["file"], "got": codes, "counted_right": bool(ok)})
    n = len(manifest["cases"])
    return {"n": n, "right": right, "first_problem_right": first, "wrong": wrong}


def timings(fuseg: Path) -> dict:
    tune, _ = cases.split(cases.fuseg_photos(fuseg))
    photo = cases.load(tune[0])
    out = {}
    for label, image in [
        ("512px", photo),
        ("1600px", upscale(photo, 1600)),
        ("4000px", upscale(photo, 4000)),
        ("8000x6000", photo.resize((8000, 6000))),
    ]:
        times = []
        for _ in range(15):
            start = time.perf_counter()
            quality.check_quality(image)
            times.append(1000 * (time.perf_counter() - start))
        out[label] = {
            "median_ms": round(statistics.median(times), 1),
            "min_ms": round(min(times), 1),
        }
    data = io.BytesIO()
    upscale(photo, 4000).save(data, format="JPEG", quality=90)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        quality.decode(data.getvalue())
        times.append(1000 * (time.perf_counter() - start))
    out["decode_4000px_jpeg"] = {"median_ms": round(statistics.median(times), 1)}
    return out


# ---------------------------------------------------------------------------------------------
# Plots (Pillow only: no plotting library in the action server's environment)

COLOURS = {
    "good": (46, 139, 87),
    "blurry": (65, 105, 225),
    "too_dark": (90, 90, 90),
    "overexposed": (230, 160, 0),
    "not_a_photo": (200, 40, 40),
}


def histogram(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    title: str,
    series: dict[str, np.ndarray],
    threshold: float,
    log: bool = False,
) -> None:
    x0, y0, x1, y1 = box
    plot = (x0 + 40, y0 + 30, x1 - 10, y1 - 30)
    values = {g: v[np.isfinite(v)] for g, v in series.items()}
    if log:
        floor = 1e-4
        values = {g: np.log10(np.maximum(v, floor)) for g, v in values.items()}
        threshold = math.log10(max(threshold, floor))
    allv = np.concatenate([*values.values(), np.array([threshold])])
    lo, hi = float(allv.min()), float(allv.max())
    hi = hi if hi > lo else lo + 1
    bins = np.linspace(lo, hi, 41)
    hists = {g: np.histogram(v, bins)[0] / max(1, len(v)) for g, v in values.items()}
    top = max(float(h.max()) for h in hists.values()) or 1.0
    draw.rectangle(plot, outline=(0, 0, 0))
    draw.text((x0 + 40, y0 + 8), title, fill=(0, 0, 0))
    width = (plot[2] - plot[0]) / 40
    for k, (g, h) in enumerate(hists.items()):
        for i, share in enumerate(h):
            if share <= 0:
                continue
            left = plot[0] + i * width + k * width / len(hists)
            draw.rectangle(
                (
                    left,
                    plot[3] - share / top * (plot[3] - plot[1] - 5),
                    left + width / len(hists),
                    plot[3],
                ),
                fill=COLOURS[g],
            )
    tx = plot[0] + (threshold - lo) / (hi - lo) * (plot[2] - plot[0])
    draw.line((tx, plot[1], tx, plot[3]), fill=(0, 0, 0), width=2)
    for frac in (0, 0.25, 0.5, 0.75, 1):
        value = lo + frac * (hi - lo)
        label = f"{10**value:.3g}" if log else f"{value:.3g}"
        draw.text((plot[0] + frac * (plot[2] - plot[0]) - 12, plot[3] + 4), label, fill=(0, 0, 0))
    legend_x = plot[2] - 110
    for k, g in enumerate(values):
        draw.rectangle(
            (legend_x, plot[1] + 6 + 14 * k, legend_x + 10, plot[1] + 16 + 14 * k), fill=COLOURS[g]
        )
        draw.text((legend_x + 14, plot[1] + 5 + 14 * k), f"{g} ({len(values[g])})", fill=(0, 0, 0))


def plots(rows: list[dict], out: Path) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    stats = {
        k: np.array([r.get(k, np.nan) for r in rows], dtype=float)
        for k in rows[0]
        if k not in ("group", "note")
    }
    groups = np.array([r["group"] for r in rows])

    def by(stat: str, names: list[str]) -> dict[str, np.ndarray]:
        return {g: stats[stat][groups == g] for g in names}

    photos = ["good", "blurry", "too_dark", "overexposed"]
    both = [*photos, "not_a_photo"]
    panels = {
        "gate_too_dark.png": [
            ("luma_p95 (too dark below)", "luma_p95", photos, quality.LUMA_P95_MIN, False)
        ],
        "gate_overexposed.png": [
            ("clipped_share (overexposed above)", "clipped_share", photos,
             quality.CLIPPED_SHARE_MAX, False),
            ("luma_p5 (washed out above)", "luma_p5", photos, quality.LUMA_P5_MAX, False),
            ("luma_mean (overexposed above)", "luma_mean", photos, quality.LUMA_MEAN_MAX, False),
        ],
        "gate_blurry.png": [
            ("sharpness (blurry below)", "sharpness", photos, quality.SHARPNESS_MIN, False)
        ],
        "gate_not_a_photo.png": [
            ("steep_share, log scale, 0 drawn at 1e-4 (not a photo above)", "steep_share", both,
             quality.STEEP_SHARE_MIN, True),
            ("top8_share (measured, not used)", "top8_share", both, 0.9, False),
        ],
    }  # fmt: skip
    written = []
    for name, spec in panels.items():
        image = Image.new("RGB", (720, 280 * len(spec)), (255, 255, 255))
        draw = ImageDraw.Draw(image)
        for i, (title, stat, names, threshold, log) in enumerate(spec):
            histogram(
                draw, (0, 280 * i, 720, 280 * (i + 1)), title, by(stat, names), threshold, log
            )
        ImageOps.expand(image, 4, (255, 255, 255)).save(out / name, optimize=True)
        written.append(str((out / name).relative_to(ROOT)))
    return written


# ---------------------------------------------------------------------------------------------


def distributions(rows: list[dict]) -> dict:
    keys = [k for k in rows[0] if k not in ("group", "note", "width", "height")]
    out: dict[str, dict] = {}
    for k in keys:
        out[k] = {}
        for g in GROUPS:
            v = np.array([r[k] for r in rows if r["group"] == g and k in r], dtype=float)
            if len(v):
                qs = np.percentile(v, [0, 1, 5, 25, 50, 75, 95, 99, 100])
                out[k][g] = dict(
                    zip(
                        ["min", "p1", "p5", "p25", "p50", "p75", "p95", "p99", "max"],
                        [round(float(x), 5) for x in qs],
                        strict=True,
                    )
                )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fuseg", type=Path, default=cases.DEFAULT_FUSEG)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.time()
    rows = tuning_rows(args.fuseg, args.seed)
    print(f"measured {len(rows)} tuning images in {time.time() - started:.0f} s")
    chosen = fit(rows)
    in_code = {}
    for code, spec in chosen.items():
        for name, value in spec["thresholds"].items():
            constant = getattr(quality, name)
            in_code[name] = constant
            print(f"{code:12s} {name:18s} measured {value:<10.5g} in quality.py {constant}")
    result = {
        "about": __doc__.strip().split("\n\n", 2)[2],
        "data": {
            "tuning_images": dict(Counter(r["group"] for r in rows)),
            "tuning_notes": dict(
                Counter(
                    r["note"].split(":")[0] for r in rows if r["group"] in ("good", "not_a_photo")
                )
            ),
        },
        "false_reject_weight": FALSE_REJECT_WEIGHT,
        "chosen": chosen,
        "constants_in_quality_py": in_code,
        "tuning_accuracy_with_constants": evaluate(rows),
        "held_out_test_cases": held_out_cases(),
        "timings_ms": timings(args.fuseg),
        "plots": plots(rows, OUT_PLOTS),
        "distributions": distributions(rows),
    }
    OUT_JSON.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(
        json.dumps(
            {
                k: result[k]
                for k in ("tuning_accuracy_with_constants", "held_out_test_cases", "timings_ms")
            },
            indent=1,
        )
    )
    print(f"wrote {OUT_JSON.relative_to(ROOT)} in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
