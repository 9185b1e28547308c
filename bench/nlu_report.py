"""Summarise `rasa test nlu --cross-validation` output for bench/RESULTS.md.

Reads the reports Rasa writes into the output folder and prints intent macro-F1, entity
micro-F1 per extractor, and where the confusion-matrix image is.

    .venv/bin/python bench/nlu_report.py bench/results/nlu-cv
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

INTENT_TARGET = 0.93
ENTITY_TARGET = 0.85


def load(path: Path) -> dict:
    """A Rasa report file, or an empty dict with a note when it is missing."""
    if not path.exists():
        print(f"(missing: {path})")
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def entity_micro_f1(report: dict) -> float | None:
    """Micro-averaged F1 over entity types (Rasa names it 'micro avg' when types differ)."""
    for key in ("micro avg", "accuracy"):
        if key in report:
            value = report[key]
            return value["f1-score"] if isinstance(value, dict) else float(value)
    return None


def main(folder: str) -> int:
    out = Path(folder)
    intents = load(out / "intent_report.json")
    rows = ["| metric | value | target |", "|---|---|---|"]
    macro = intents.get("macro avg", {}).get("f1-score")
    if macro is not None:
        rows.append(f"| intent macro-F1 | {macro:.4f} | ≥ {INTENT_TARGET} |")
        rows.append(f"| intent accuracy | {intents.get('accuracy', float('nan')):.4f} | |")
    for report in sorted(out.glob("*Extractor_report.json")) + sorted(
        out.glob("DIETClassifier_report.json")
    ):
        f1 = entity_micro_f1(load(report))
        if f1 is not None:
            name = report.stem.replace("_report", "")
            rows.append(f"| entity micro-F1 ({name}) | {f1:.4f} | ≥ {ENTITY_TARGET} |")
    print("\n".join(rows))
    for image in ("intent_confusion_matrix.png", "intent_histogram.png"):
        if (out / image).exists():
            print(f"\n![{image}]({(out / image).as_posix()})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "bench/results/nlu-cv"))
