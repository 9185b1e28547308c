"""ConText flags of the EHR analyzer on the hand-annotated sentence set, and time per note.

- accuracy per category and overall on ``actions/ehr/data/context_sentences.yml``: a sentence is
  right when the full flag set of its target equals the expected set;
- per-flag precision and recall over all sentences;
- the same for medspaCy's default ConText rules only (``extra_rules=False``), to show what our
  rules add;
- the misses, sentence by sentence;
- time per MTSamples note (every word of 6+ letters taken as a mention: denser than the NER),
  when ``../shared/data/mtsamples/mtsamples.csv`` (or ``$MTSAMPLES_CSV``) is there.

Writes ``bench/results/ehr_context_eval.json``. Run::

    .venv/bin/python bench/ehr_context_eval.py
"""

from __future__ import annotations

import csv
import json
import os
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actions.ehr.context import ContextAnnotator  # noqa: E402

CASES = ROOT / "actions" / "ehr" / "data" / "context_sentences.yml"
RESULTS = ROOT / "bench" / "results" / "ehr_context_eval.json"
MTSAMPLES = Path(
    os.environ.get("MTSAMPLES_CSV", ROOT.parent / "shared" / "data" / "mtsamples" / "mtsamples.csv")
)
CATEGORIES = ("negated", "historical", "family", "hypothetical", "uncertain", "plain")
FLAGS = ("negated", "historical", "hypothetical", "family", "uncertain")
CASE_FIELDS = ("id", "category", "text", "target", "flags")
SPLITS = ("dev", "heldout")  # heldout: written after the rule work, never tuned on
LABEL = "CONDITION"
MENTION = re.compile(r"[A-Za-z]{6,}")


class CaseError(ValueError):
    """A malformed entry of the sentence file; the message names the file and entry index."""


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    text: str
    target: str
    flags: frozenset[str]
    split: str = "dev"

    @property
    def span(self) -> tuple[int, int, str]:
        start = self.text.index(self.target)
        return start, start + len(self.target), LABEL


def load_cases(path: Path = CASES) -> list[Case]:
    """Read and check the sentence file; a bad entry raises CaseError naming file and index."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries = data.get("sentences") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise CaseError(f"{path}: expected a non-empty 'sentences' list")
    cases = [_case(path, index, entry) for index, entry in enumerate(entries)]
    duplicates = [name for name, n in Counter(c.id for c in cases).items() if n > 1]
    if duplicates:
        raise CaseError(f"{path}: duplicate ids {duplicates}")
    return cases


def _case(path: Path, index: int, entry: Any) -> Case:
    def fail(problem: str) -> CaseError:
        name = entry.get("id") if isinstance(entry, dict) else None
        return CaseError(f"{path}: entry {index} ({name or 'no id'}): {problem}")

    if not isinstance(entry, dict):
        raise fail("not a mapping")
    missing = [name for name in CASE_FIELDS if name not in entry]
    if missing:
        raise fail(f"missing {missing}")
    for name in ("id", "category", "text", "target"):
        if not isinstance(entry[name], str) or not entry[name].strip():
            raise fail(f"{name} must be a non-empty string")
    if entry["category"] not in CATEGORIES:
        raise fail(f"category {entry['category']!r} not in {CATEGORIES}")
    if entry["target"] not in entry["text"]:
        raise fail(f"target {entry['target']!r} does not occur in the text")
    flags = entry["flags"]
    if not isinstance(flags, list) or any(flag not in FLAGS for flag in flags):
        raise fail(f"flags must be a list of {FLAGS}, got {flags!r}")
    split = entry.get("split", "dev")
    if split not in SPLITS:
        raise fail(f"split {split!r} not in {SPLITS}")
    return Case(
        entry["id"], entry["category"], entry["text"], entry["target"], frozenset(flags), split
    )


def predict(annotator: ContextAnnotator, case: Case) -> frozenset[str]:
    flags, _section = annotator.annotate(case.text, [case.span])[0]
    return frozenset(flags.names())


def evaluate(annotator: ContextAnnotator, cases: list[Case]) -> dict[str, Any]:
    """Accuracy per category and overall, per-flag precision/recall, and the misses."""
    predicted = [predict(annotator, case) for case in cases]
    right = [got == case.flags for case, got in zip(cases, predicted, strict=True)]
    by_category: dict[str, dict[str, float]] = {}
    for category in CATEGORIES:
        marks = [ok for case, ok in zip(cases, right, strict=True) if case.category == category]
        by_category[category] = {"n": len(marks), "accuracy": _ratio(sum(marks), len(marks))}
    splits = {
        split: {
            "n": len(marks),
            "accuracy": _ratio(sum(marks), len(marks)),
        }
        for split in SPLITS
        if (marks := [ok for c, ok in zip(cases, right, strict=True) if c.split == split])
    }
    return {
        "n": len(cases),
        "accuracy": _ratio(sum(right), len(cases)),
        "splits": splits,
        "categories": by_category,
        "flags": _flag_scores(cases, predicted),
        "misses": [
            {
                "id": case.id,
                "split": case.split,
                "text": case.text,
                "target": case.target,
                "expected": sorted(case.flags),
                "got": sorted(got),
            }
            for case, got, ok in zip(cases, predicted, right, strict=True)
            if not ok
        ],
    }


def _flag_scores(cases: list[Case], predicted: list[frozenset[str]]) -> dict[str, Any]:
    scores: dict[str, Any] = {}
    for flag in FLAGS:
        tp = sum(flag in got and flag in c.flags for c, got in zip(cases, predicted, strict=True))
        fp = sum(
            flag in got and flag not in c.flags for c, got in zip(cases, predicted, strict=True)
        )
        fn = sum(
            flag not in got and flag in c.flags for c, got in zip(cases, predicted, strict=True)
        )
        scores[flag] = {
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, tp + fn),
            "support": tp + fn,
        }
    return scores


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def time_notes(annotator: ContextAnnotator, limit: int = 200) -> dict[str, Any] | None:
    """Seconds per MTSamples note of 2-4 KB, every 6+ letter word taken as a mention."""
    if not MTSAMPLES.exists():
        return None
    csv.field_size_limit(10**8)
    with MTSAMPLES.open(encoding="utf-8", newline="") as handle:
        notes = [r["transcription"] for r in csv.DictReader(handle)]
    notes = [n for n in notes if 2000 <= len(n) <= 4000][:limit]
    times, mentions = [], 0
    for note in notes:
        spans = [(m.start(), m.end(), LABEL) for m in MENTION.finditer(note)]
        started = time.perf_counter()
        annotator.annotate(note, spans)
        times.append(time.perf_counter() - started)
        mentions += len(spans)
    return {
        "notes": len(notes),
        "mean_chars": round(statistics.mean(len(n) for n in notes)),
        "mean_mentions": round(mentions / len(notes)),
        "mean_ms": round(1000 * statistics.mean(times), 1),
        "p95_ms": round(1000 * sorted(times)[int(0.95 * (len(times) - 1))], 1),
    }


def print_report(name: str, result: dict[str, Any]) -> None:
    print(f"\n## {name}: overall {result['accuracy']:.3f} on {result['n']} sentences\n")
    print("| category | n | accuracy |\n|---|---:|---:|")
    for category, score in result["categories"].items():
        print(f"| {category} | {score['n']} | {score['accuracy']:.3f} |")
    print(f"| **overall** | {result['n']} | **{result['accuracy']:.3f}** |")
    for split, score in result["splits"].items():
        print(f"| ({split} sentences) | {score['n']} | {score['accuracy']:.3f} |")
    print("\n| flag | support | precision | recall |\n|---|---:|---:|---:|")
    for flag, score in result["flags"].items():
        print(f"| {flag} | {score['support']} | {score['precision']:.3f} | {score['recall']:.3f} |")


def print_misses(result: dict[str, Any]) -> None:
    print(f"\nMisses ({len(result['misses'])}):")
    for miss in result["misses"]:
        print(f"- {miss['id']}: [{miss['target']}] expected {miss['expected']} got {miss['got']}")
        print(f"    {miss['text']}")


def main() -> None:
    cases = load_cases()
    results: dict[str, Any] = {"cases": str(CASES.relative_to(ROOT))}
    for name, extra in (("default_rules", False), ("final", True)):
        started = time.perf_counter()
        annotator = ContextAnnotator(extra_rules=extra)
        load_s = time.perf_counter() - started
        results[name] = evaluate(annotator, cases)
        results[name]["load_s"] = round(load_s, 2)
        print_report(f"{name} (medspaCy defaults{' + ours' if extra else ' only'})", results[name])
    print_misses(results["final"])
    timing = time_notes(annotator)
    results["timing"] = timing
    if timing:
        print(
            f"\nMTSamples notes: {timing['notes']} of ~{timing['mean_chars']} chars, "
            f"~{timing['mean_mentions']} mentions each: mean {timing['mean_ms']} ms, "
            f"p95 {timing['p95_ms']} ms per note"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
