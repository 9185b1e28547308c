"""EHR NER throughput over MTSamples notes on this machine: the analyzer's batched path against a
plain transformers ``pipeline("token-classification")`` on the same weights, in the same run.

Ours (`NerModel.mentions`, the analyzer's path): notes split into words, tokenised once, cut
into windows of whole sentences up to 128 pieces, all windows of a chunk of notes sorted by
length and run in batches; on a CPU the int8 ONNX Runtime backend (fused BERT kernels), on CUDA
torch fp16;
arg-max decoding with BIO-constrained Viterbi where needed. Also timed: the same batched path on
torch fp32 (what batching alone gives), and the whole analyzer (NER + ConText + sections + labs).
Baseline: ``pipeline("token-classification")`` on the same weights (torch fp32), called on the
notes one by one with its defaults (batch size 1, the tokenizer's 512-piece maximum) plus
``stride=32``, the one setting long notes need, and ``aggregation_strategy="simple"``; it is also
timed with our 128-piece windows. Tokens = word pieces of the note text.

Ours runs over every note; the baseline, the torch path and the analyzer run over a fixed random
sample (``--baseline-notes``) and ours is timed again on that sample for the ratio.

    .venv/bin/python bench/ehr_bench.py [--data ../shared/data/mtsamples/mtsamples.csv]
        [--notes N] [--baseline-notes N] [--device auto|cpu|cuda]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_OUT = ROOT / "bench" / "results" / "ehr_bench.json"
CHUNK = 256


def load_notes(path: Path) -> list[str]:
    csv.field_size_limit(10_000_000)
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            row["transcription"]
            for row in csv.DictReader(handle)
            if (row.get("transcription") or "").strip()
        ]


def count_tokens(tokenizer: Any, notes: list[str]) -> int:
    return sum(len(ids) for ids in tokenizer(notes, add_special_tokens=False)["input_ids"])


def run_ours(model: Any, notes: list[str], batch_size: int) -> tuple[float, int]:
    from tqdm import tqdm

    started, found = time.perf_counter(), 0
    for start in tqdm(range(0, len(notes), CHUNK), desc="batched", unit="chunk"):
        found += sum(len(m) for m in model.mentions(notes[start : start + CHUNK], batch_size))
    return time.perf_counter() - started, found


def run_pipeline(model: Any, notes: list[str], window: int | None) -> tuple[float, int]:
    """The plain pipeline, note by note. ``window=None`` keeps the tokenizer's own maximum
    (512 pieces, what a plain user gets); ``stride`` is the one setting long notes need."""
    from tqdm import tqdm
    from transformers import pipeline

    tagger = pipeline(
        "token-classification",
        model=model.model,
        tokenizer=model.tokenizer,
        aggregation_strategy="simple",
        stride=32,
        device=model.device,
    )
    if window is not None:
        tagger.tokenizer.model_max_length = window
    started, found = time.perf_counter(), 0
    for note in tqdm(notes, desc=f"pipeline {window or 'default'}", unit="note"):
        found += len(tagger(note))
    return time.perf_counter() - started, found


def run_analyzer(model_dir: Path, notes: list[str], device: str, batch_size: int) -> float:
    """The whole analyzer (NER + ConText + sections + labs), default backend."""
    from tqdm import tqdm

    from actions.ehr.analyzer import EhrAnalyzer
    from actions.ehr.readers import RecordInput

    analyzer = EhrAnalyzer(model_dir, device, batch_size)
    analyzer.warm_up()
    records = [RecordInput("text", f"note {i}", text=n) for i, n in enumerate(notes)]
    started = time.perf_counter()
    for start in tqdm(range(0, len(records), CHUNK), desc="analyzer", unit="chunk"):
        analyzer.analyze_many(records[start : start + CHUNK])
    return time.perf_counter() - started


def rates(seconds: float, notes: int, tokens: int) -> dict[str, float]:
    return {
        "seconds": round(seconds, 1),
        "notes_per_s": round(notes / seconds, 2),
        "tokens_per_s": round(tokens / seconds, 1),
    }


def main(argv: list[str] | None = None) -> None:
    import torch

    from actions.ehr.ner import NerModel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=ROOT.parent / "shared/data/mtsamples/mtsamples.csv"
    )
    parser.add_argument("--model", type=Path, default=ROOT / "models/ehr-ner")
    parser.add_argument("--notes", type=int, default=0, help="0 = all")
    parser.add_argument("--baseline-notes", type=int, default=1000, help="0 = the same notes")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    notes = load_notes(args.data)
    if args.notes:
        notes = notes[: args.notes]
    ours = NerModel(args.model, device=args.device)
    plain = NerModel(args.model, device=args.device, backend="torch")
    for model in (ours, plain):
        model.mentions(["Warm-up: aspirin for chest pain."])
    tokens = count_tokens(ours.tokenizer, notes)
    ours_s, ours_found = run_ours(ours, notes, args.batch_size)
    sample = notes
    if args.baseline_notes and args.baseline_notes < len(notes):
        sample = random.Random(7).sample(notes, args.baseline_notes)
    sample_tokens = count_tokens(ours.tokenizer, sample)
    ours_sample_s, _ = run_ours(ours, sample, args.batch_size)
    torch_s, _ = run_ours(plain, sample, args.batch_size)
    base_s, base_found = run_pipeline(plain, sample, None)
    same_s, _ = run_pipeline(plain, sample, ours.max_pieces)
    analyzer_s = run_analyzer(args.model, sample, args.device, args.batch_size)
    result: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
        "device": ours.device,
        "backend": ours.backend,
        "notes": len(notes),
        "tokens": tokens,
        "ours_all_notes": {**rates(ours_s, len(notes), tokens), "mentions": ours_found},
        "sample": {"notes": len(sample), "tokens": sample_tokens, "seed": 7},
        "ours": rates(ours_sample_s, len(sample), sample_tokens),
        "batched_torch_fp32": rates(torch_s, len(sample), sample_tokens),
        "baseline_pipeline": {**rates(base_s, len(sample), sample_tokens), "entities": base_found},
        "pipeline_same_windows": rates(same_s, len(sample), sample_tokens),
        "full_analyzer": rates(analyzer_s, len(sample), sample_tokens),
        "speedup_vs_pipeline": round(base_s / ours_sample_s, 2),
        "speedup_vs_pipeline_same_windows": round(same_s / ours_sample_s, 2),
        "speedup_batched_torch_vs_pipeline": round(base_s / torch_s, 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
