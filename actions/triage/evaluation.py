"""Scoring triage on written vignettes: on the text alone, and with a simulated patient.

A vignette has the presenting ``text``, hidden ``details`` (what the person would answer if a
nurse asked) and a ``gold`` level. "Text alone" triages the text with every question left open.
"With answers" asks the engine's questions one by one, as the assistant would, and answers each
from the details (the question's own detect phrases: un-negated → yes, negated → no, not
mentioned → no: a patient says no to what they do not have).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from actions.triage.engine import MAX_QUESTIONS, Result, TriageEngine
from actions.triage.findings import answer_from_text
from actions.triage.levels import EMERGENCY_LEVELS, LEVELS, rank


@dataclass(frozen=True)
class Vignette:
    id: str
    text: str
    details: str
    gold: str
    complaint: str = ""
    style: str = ""


@dataclass
class Outcome:
    vignette: Vignette
    level: str
    questions: int
    protocols: list[str]


@dataclass
class Scores:
    """The issue's measures over one set of outcomes."""

    n: int
    exact: float
    safe: float
    over_triage: float
    emergency_recall: float
    self_care_to_emergency: float
    mean_questions: float
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    misses: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.__dict__


def load_vignettes(path: Path) -> list[Vignette]:
    """The vignette file; names the entry that is malformed."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a list of vignettes")
    vignettes = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or item.get("gold") not in LEVELS or not item.get("text"):
            raise ValueError(f"{path}: vignette {number}: needs text and a gold level")
        vignettes.append(
            Vignette(
                str(item.get("id", number)), str(item["text"]), str(item.get("details") or ""),
                str(item["gold"]), str(item.get("complaint") or ""), str(item.get("style") or ""),
            )
        )  # fmt: skip
    return vignettes


def text_alone(engine: TriageEngine, vignette: Vignette) -> Outcome:
    result = engine.assess([vignette.text])
    return Outcome(vignette, result.level, 0, result.protocols)


def with_answers(
    engine: TriageEngine, vignette: Vignette, max_questions: int = MAX_QUESTIONS
) -> Outcome:
    """Ask as the assistant does; answer from the hidden details."""
    details = [engine.reader.context(vignette.details)] if vignette.details else []
    answers: dict[str, str] = {}
    asked: list[str] = []
    result: Result = engine.assess([vignette.text], answers, asked, max_questions)
    while result.next_question is not None:
        _, question = result.next_question
        value, _ = answer_from_text(question.detect, question.detect_no, details)
        answers[question.id] = value or "no"
        asked.append(question.id)
        result = engine.assess([vignette.text], answers, asked, max_questions)
    return Outcome(vignette, result.level, len(asked), result.protocols)


def score(outcomes: Sequence[Outcome]) -> Scores:
    n = len(outcomes) or 1
    gold_emergency = [o for o in outcomes if o.vignette.gold in EMERGENCY_LEVELS]
    self_care = [o for o in outcomes if o.vignette.gold == "self_care"]
    confusion = {g: dict.fromkeys(LEVELS, 0) for g in LEVELS}
    for o in outcomes:
        confusion[o.vignette.gold][o.level] += 1
    misses = [
        {"id": o.vignette.id, "gold": o.vignette.gold, "got": o.level, "protocols": o.protocols}
        for o in outcomes
        if o.level != o.vignette.gold
    ]
    return Scores(
        n=len(outcomes),
        exact=sum(o.level == o.vignette.gold for o in outcomes) / n,
        safe=sum(rank(o.level) >= rank(o.vignette.gold) for o in outcomes) / n,
        over_triage=sum(rank(o.level) > rank(o.vignette.gold) for o in outcomes) / n,
        emergency_recall=sum(o.level in EMERGENCY_LEVELS for o in gold_emergency)
        / (len(gold_emergency) or 1),
        self_care_to_emergency=sum(o.level in EMERGENCY_LEVELS for o in self_care)
        / (len(self_care) or 1),
        mean_questions=sum(o.questions for o in outcomes) / n,
        confusion=confusion,
        misses=misses,
    )


def evaluate(
    engine: TriageEngine,
    vignettes: Iterable[Vignette],
    held_out: Iterable[Vignette] = (),
) -> dict[str, Any]:
    """Both modes over the vignettes; the same over a held-out set, written apart from the
    protocols and never used to tune them, which says how the numbers generalise."""
    report = _modes(engine, list(vignettes))
    held = list(held_out)
    if held:
        report["held_out"] = _modes(engine, held)
    return report


def _modes(engine: TriageEngine, vignettes: list[Vignette]) -> dict[str, Any]:
    return {
        "vignettes": len(vignettes),
        "levels": dict(Counter(v.gold for v in vignettes)),
        "text_alone": score([text_alone(engine, v) for v in vignettes]).to_json(),
        "with_answers": score([with_answers(engine, v) for v in vignettes]).to_json(),
    }


def plot_confusion(confusion: dict[str, dict[str, int]], title: str, path: Path) -> None:
    """The per-level confusion matrix as an image (gold rows, predicted columns)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["self care", "routine", "urgent", "emergency", "ambulance"]
    grid = [[confusion[g][p] for p in LEVELS] for g in LEVELS]
    figure, axes = plt.subplots(figsize=(6, 5))
    axes.imshow(grid, cmap="Blues")
    for row, values in enumerate(grid):
        for column, value in enumerate(values):
            colour = "white" if value > max(map(max, grid)) / 2 else "black"
            axes.text(column, row, str(value), ha="center", va="center", color=colour)
    axes.set_xticks(range(5), names, rotation=30)
    axes.set_yticks(range(5), names)
    axes.set_xlabel("triage level given")
    axes.set_ylabel("gold level")
    axes.set_title(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
