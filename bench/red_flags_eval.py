"""Red-flag detector: recall, false alarms and speed, as a Markdown table for bench/RESULTS.md.

- recall: positive cases of ``tests/healthbot/safety/red_flag_cases.json`` giving at least their
  expected ids (exact id sets are asserted by the tests);
- the non-emergency case groups (negated, historical, hypothetical, everyday) that raise any flag;
- false alarms on the everyday intents of the NLU training data (``nlu/data/nlu``);
- recall (any flag) on the ``emergency`` intent examples, for information: many of those are
  generic ("call an ambulance") and are the intent classifier's job, not the detector's;
- mean detection time per message.

Run::

    .venv/bin/python bench/red_flags_eval.py
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from healthbot.safety.red_flags import RedFlagDetector, default_detector  # noqa: E402

CASES = ROOT / "tests" / "actions" / "safety" / "red_flag_cases.json"
NLU_DIR = ROOT / "nlu" / "data" / "nlu"
EVERYDAY_INTENTS = (
    "report_symptom",
    "inform",
    "ask_health_info",
    "ask_medication_info",
    "check_photo",
    "analyze_record",
)
NEGATIVE_GROUPS = ("negated", "historical", "hypothetical", "everyday")
_MARKUP_RE = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
_INTENT_RE = re.compile(r"^- intent: (\S+)\s*$")


def nlu_examples(intents: tuple[str, ...]) -> list[str]:
    """Plain-text examples of ``intents`` (a line reader: no YAML package needed here)."""
    examples: list[str] = []
    for path in sorted(NLU_DIR.glob("*.yml")):
        intent = None
        for line in path.read_text(encoding="utf-8").splitlines():
            found = _INTENT_RE.match(line)
            if found:
                intent = found.group(1)
            elif intent in intents and line.strip().startswith("- "):
                examples.append(_MARKUP_RE.sub(r"\1", line.strip()[2:]).strip())
    return examples


def flagged(detector: RedFlagDetector, texts: list[str]) -> list[str]:
    return [text for text in texts if detector.detect(text)]


def row(name: str, hits: int, total: int, note: str = "") -> str:
    rate = f"{hits / total:.1%}" if total else "n/a"
    return f"| {name} | {hits}/{total} | {rate} | {note} |"


def mean_ms(detector: RedFlagDetector, texts: list[str], rounds: int = 5) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            detector.detect(text)
    return 1000 * (time.perf_counter() - started) / (rounds * len(texts))


def main() -> int:
    detector = default_detector()
    cases = json.loads(CASES.read_text(encoding="utf-8"))
    positives = cases["positive"]
    recalled = [t for t, ids in positives if set(ids) <= {f.id for f in detector.detect(t)}]
    lines = [
        "| red-flag detector | count | rate | note |",
        "|---|---|---|---|",
        row("recall, positive test cases", len(recalled), len(positives), "target 100%"),
    ]
    for group in NEGATIVE_GROUPS:
        hits = flagged(detector, cases[group])
        lines.append(row(f"flagged, {group} test cases", len(hits), len(cases[group]), "target 0"))
    everyday = nlu_examples(EVERYDAY_INTENTS)
    false_alarms = flagged(detector, everyday)
    lines.append(
        row("false alarms, everyday NLU intents", len(false_alarms), len(everyday), "target ≤ 3%")
    )
    emergency = nlu_examples(("emergency",))
    caught = flagged(detector, emergency)
    lines.append(row("flagged, `emergency` NLU examples", len(caught), len(emergency), "info"))
    speed = mean_ms(detector, [t for t, _ in positives] + everyday)
    lines.append(f"| mean time per message | | {speed:.2f} ms | target < 1 ms |")
    print("\n".join(lines))
    if false_alarms:
        print("\nFalse alarms:")
        print("\n".join(f"- {text!r}" for text in false_alarms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
