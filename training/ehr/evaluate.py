"""Entity-level strict F1 (seqeval, IOB2) of the shipped NER model on BC5CDR's test set.

``python -m training.ehr.evaluate --data DIR --model models/ehr-ner`` (``make eval-ehr``).
The model sees the test sentences through the same word-level path as a note at run time
(first word piece, windows, BIO-constrained decoding). Writes ``metrics.json`` beside the model
and a per-type bar chart next to it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from actions.ehr.ner import NerModel
from training.ehr.conll import Sentence, read_iob

PUBLISHED = {"BioBERT v1.1 (Lee et al. 2020)": {"Chemical": 0.935, "Disease": 0.872}}


def predict(model: NerModel, sentences: list[Sentence], batch_size: int) -> list[list[str]]:
    """Tags for each sentence, in chunks so the progress bar moves."""
    tags: list[list[str]] = []
    chunk = batch_size * 8
    for start in tqdm(range(0, len(sentences), chunk), desc="eval-ehr", unit="chunk"):
        part = sentences[start : start + chunk]
        predicted = model.predict_words([list(s.tokens) for s in part], batch_size)
        tags.extend([tag for tag, _ in row] for row in predicted)
    return tags


def score(gold: list[list[str]], predicted: list[list[str]]) -> dict[str, Any]:
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    report = classification_report(
        gold, predicted, mode="strict", scheme=IOB2, output_dict=True, digits=4
    )
    result: dict[str, Any] = {}
    for key, values in report.items():
        name = "overall" if key == "micro avg" else key
        if name in ("Chemical", "Disease", "overall"):
            result[name] = {
                "precision": round(float(values["precision"]), 4),
                "recall": round(float(values["recall"]), 4),
                "f1": round(float(values["f1-score"]), 4),
                "support": int(values["support"]),
            }
    return result


def plot(metrics: dict[str, Any], path: Path) -> None:
    """Bars of precision/recall/F1 per type beside BioBERT's published F1 (PIL only)."""
    from PIL import Image, ImageDraw

    rows = [("Chemical", "Chemical"), ("Disease", "Disease"), ("overall", None)]
    published = PUBLISHED["BioBERT v1.1 (Lee et al. 2020)"]
    image = Image.new("RGB", (620, 60 + 90 * len(rows)), "white")
    draw = ImageDraw.Draw(image)
    title = f"BC5CDR test, strict entity scores ({metrics['device']}, {metrics['backend']})"
    draw.text((10, 10), title, fill="black")
    left, width = 170, 400
    for index, (name, key) in enumerate(rows):
        top = 40 + index * 90
        draw.text((10, top + 25), name, fill="black")
        values = metrics["test"][name]
        bars = [("P", values["precision"], "#9ecae1"), ("R", values["recall"], "#6baed6")]
        bars.append(("F1", values["f1"], "#2171b5"))
        if key:
            bars.append(("BioBERT F1", published[key], "#bbbbbb"))
        for row, (label, value, colour) in enumerate(bars):
            y = top + row * 18
            draw.rectangle([left, y, left + int(width * value), y + 14], fill=colour)
            draw.text((left - 75, y + 2), label, fill="black")
            draw.text((left + int(width * value) + 4, y + 2), f"{value:.3f}", fill="black")
    image.save(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="biomed-ner folder")
    parser.add_argument("--model", type=Path, default=Path("models/ehr-ner"))
    parser.add_argument("--split", default="test", choices=["test", "devel"])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--backend", default="auto", choices=["auto", "torch", "onnx"])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    source = args.data / "BC5CDR-IOB" / f"{args.split}.tsv"
    if not source.is_file():
        raise SystemExit(f"{source}: not found (is --data the biomed-ner folder?)")
    sentences = read_iob(source)
    model = NerModel(args.model, device=args.device, backend=args.backend)
    started = time.perf_counter()
    predicted = predict(model, sentences, args.batch_size)
    seconds = time.perf_counter() - started
    metrics = {
        "dataset": f"BC5CDR-IOB/{args.split}.tsv ({len(sentences)} sentences)",
        "scheme": "seqeval strict, IOB2, entity level",
        args.split: score([list(s.tags) for s in sentences], predicted),
        "published": PUBLISHED,
        "seconds": round(seconds, 1),
        "device": model.device,
        "backend": model.backend,
    }
    print(json.dumps(metrics, indent=2))
    if not args.no_write:
        suffix = "" if model.backend == "torch" else f"_{model.backend}"
        (args.model / f"metrics{suffix}.json").write_text(json.dumps(metrics, indent=2) + "\n")
        if args.split == "test":
            plot(metrics, args.model / f"f1_by_type{suffix}.png")


if __name__ == "__main__":
    main()
