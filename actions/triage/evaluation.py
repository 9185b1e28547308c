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
    """The per-level confusion matrix as a PNG (gold rows, given columns; PIL only)."""
    from PIL import Image, ImageDraw, ImageFont

    names = ["self care", "routine", "urgent", "emergency", "ambulance"]
    cell, left, top = 84, 150, 90
    image = Image.new("RGB", (left + 5 * cell + 30, top + 5 * cell + 70), "white")
    draw = ImageDraw.Draw(image)
    font, small = ImageFont.load_default(size=16), ImageFont.load_default(size=13)
    draw.text((20, 14), title, font=font, fill="black")
    draw.text((left, top - 42), "level given (columns)", font=small, fill="black")
    draw.text((20, top - 42), "gold (rows)", font=small, fill="black")
    most = max(1, *(v for row in confusion.values() for v in row.values()))
    for row, gold in enumerate(LEVELS):
        draw.text((20, top + row * cell + cell // 2 - 8), names[row], font=small, fill="black")
        for column, given in enumerate(LEVELS):
            value = confusion[gold][given]
            shade = 255 - round(200 * value / most)
            colour = (shade, shade, 255) if row == column else (255, shade, shade)
            box = (left + column * cell, top + row * cell,
                   left + (column + 1) * cell, top + (row + 1) * cell)  # fmt: skip
            draw.rectangle(box, fill=colour if value else "white", outline="grey")
            draw.text((box[0] + cell // 2 - 8, box[1] + cell // 2 - 8), str(value), font=font,
                      fill="black")  # fmt: skip
    for column, name in enumerate(names):
        draw.text((left + column * cell + 6, top - 22), name, font=small, fill="black")
    draw.text((20, top + 5 * cell + 20), "blue: right level; red: below the diagonal is "
              "under-triage, above it over-triage", font=small, fill="black")  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
