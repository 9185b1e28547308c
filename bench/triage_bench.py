"""What triage adds to a turn: the engine's time per triage turn, on the written vignettes.

Every triage turn (the description, then each answer) runs one ``TriageEngine.assess`` over the
conversation so far in the action server. This replays the vignettes as the assistant would ask
them (answers from each vignette's hidden details) and times every call, beside the red-flag
detector on the same messages (which every turn already runs, in Rasa), in the same run.

    .venv/bin/python bench/triage_bench.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actions.triage.engine import TriageEngine  # noqa: E402
from actions.triage.evaluation import load_vignettes  # noqa: E402
from actions.triage.findings import answer_from_text  # noqa: E402

VIGNETTES = ROOT / "bench" / "data" / "triage_vignettes.yml"
OUT = ROOT / "bench" / "results" / "triage_bench.json"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def replay(engine: TriageEngine, rounds: int) -> tuple[list[float], list[float], int]:
    """(assess ms per triage turn, red-flag ms per message, turns)."""
    vignettes = load_vignettes(VIGNETTES)
    assess_ms, flags_ms = [], []
    for _ in range(rounds):
        for vignette in vignettes:
            details = [engine.reader.context(vignette.details)]
            answers: dict[str, str] = {}
            asked: list[str] = []
            while True:
                started = time.perf_counter()
                result = engine.assess([vignette.text], answers, asked)
                assess_ms.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                engine.reader.detector.detect(vignette.text)
                flags_ms.append((time.perf_counter() - started) * 1000)
                if result.next_question is None:
                    break
                question = result.next_question[1]
                value, _ = answer_from_text(question.detect, question.detect_no, details)
                answers[question.id], asked = value or "no", [*asked, question.id]
    return assess_ms, flags_ms, len(assess_ms)


def summary(values: list[float]) -> dict[str, float]:
    return {"p50_ms": statistics.median(values), "p95_ms": percentile(values, 0.95),
            "max_ms": max(values)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    engine = TriageEngine.load()
    engine.assess(["warm up: chest pain"])
    assess_ms, flags_ms, turns = replay(engine, args.rounds)
    result = {
        "command": f"bench/triage_bench.py --rounds {args.rounds}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "triage_turns": turns,
        "assess": summary(assess_ms),
        "red_flags_same_messages": summary(flags_ms),
        "budget_p95_ms": 20.0,
    }
    result["ratio_assess_vs_red_flags_p95"] = (
        result["assess"]["p95_ms"] / result["red_flags_same_messages"]["p95_ms"]
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0 if result["assess"]["p95_ms"] <= result["budget_p95_ms"] else 1


if __name__ == "__main__":
    sys.exit(main())
