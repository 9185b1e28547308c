"""The vignette scores are computed as the issue defines them, and the simulated patient answers
only what the hidden details say."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.triage.evaluation import Outcome, Vignette, load_vignettes, score, with_answers


def outcome(gold: str, level: str, questions: int = 0) -> Outcome:
    return Outcome(Vignette("V1", "t", "", gold), level, questions, [])


def test_scores() -> None:
    scores = score([
        outcome("emergency_ambulance", "emergency", 2),  # an emergency either way, but unsafe
        outcome("emergency", "urgent", 4),  # missed emergency
        outcome("self_care", "emergency", 0),  # over-triaged to emergency
        outcome("routine", "routine", 2),
    ])  # fmt: skip
    assert scores.n == 4 and scores.exact == 0.25
    assert scores.safe == 0.5  # routine and self care→emergency are at or above gold
    assert scores.over_triage == 0.25
    assert scores.emergency_recall == 0.5
    assert scores.self_care_to_emergency == 1.0
    assert scores.mean_questions == 2.0
    assert scores.confusion["emergency"]["urgent"] == 1
    assert {m["id"] for m in scores.misses} == {"V1"} and len(scores.misses) == 3


def test_the_simulated_patient_answers_from_the_details(engine) -> None:
    stiff = Vignette("V2", "I have a headache", "My neck is stiff and I have a fever.",
                     "emergency_ambulance")  # fmt: skip
    assert with_answers(engine, stiff).level == "emergency_ambulance"
    nothing = Vignette("V3", "I have a headache", "Nothing else.", "self_care")
    result = with_answers(engine, nothing)
    assert result.level == "self_care" and result.questions == 3


def test_a_bad_vignette_file_names_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "v.yml"
    path.write_text("- {id: A, text: hi, gold: soon}\n")
    with pytest.raises(ValueError, match="vignette 1"):
        load_vignettes(path)
