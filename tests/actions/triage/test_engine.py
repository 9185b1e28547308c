"""The engine on a small protocol written here: levels, the red-flag floor, open questions, and
the question planner (most dangerous first, never re-asks, stops when nothing can change)."""

from __future__ import annotations

import pytest

from actions.triage.engine import TriageEngine, evaluate
from actions.triage.findings import Findings
from actions.triage.protocols import parse_condition


def test_the_most_dangerous_question_comes_first(engine: TriageEngine) -> None:
    result = engine.assess(["I've had a headache since this morning"])
    assert result.protocols == ["headache"]
    assert result.next_question[1].id == "stiff_neck"
    assert result.level == "urgent" and result.unresolved  # danger not ruled out yet


def test_answers_in_the_description_are_not_asked_again(engine: TriageEngine) -> None:
    result = engine.assess(["bad headache, no stiff neck, not the worst ever, no fever"])
    assert {q: a["value"] for q, a in result.answers.items()} == {
        "stiff_neck": "no", "worst_ever": "no", "fever_q": "no"
    }  # fmt: skip
    assert result.next_question[1].id == "vomiting"
    assert result.answers["stiff_neck"]["from"] == "text" and result.answers["stiff_neck"]["span"]


def test_it_stops_when_no_answer_can_change_the_level(engine: TriageEngine) -> None:
    result = engine.assess(["headache with a stiff neck and a fever"])
    assert result.level == "emergency_ambulance" and result.done
    assert [f.rule for f in result.fired] == ["HT01"]
    assert result.reasons() == ["a headache with a stiff neck and a fever"]


def test_all_no_gives_the_base_level_and_never_repeats_a_question(engine: TriageEngine) -> None:
    messages, answers, asked = ["my head hurts"], {}, []
    result = engine.assess(messages)
    while not result.done:
        qid = result.next_question[1].id
        assert qid not in asked
        answers[qid], asked = "no", [*asked, qid]
        result = engine.assess(messages, answers, asked)
    assert result.level == "self_care" and not result.unresolved
    assert asked == ["stiff_neck", "worst_ever", "vomiting"]  # fever_q: moot once neck is no


def test_not_sure_keeps_danger_open(engine: TriageEngine) -> None:
    result = engine.assess(["my head hurts"], {"stiff_neck": "unsure"}, ["stiff_neck"])
    assert result.next_question[1].id == "fever_q"  # with the neck unsure, both still matter
    done = engine.assess(["my head hurts"], {"stiff_neck": "unsure", "worst_ever": "no",
                                             "vomiting": "no", "fever_q": "yes"},
                         ["stiff_neck", "worst_ever", "vomiting", "fever_q"])  # fmt: skip
    assert done.done and done.level == "urgent" and done.unresolved


def test_the_question_budget_ends_the_questions(engine: TriageEngine) -> None:
    result = engine.assess(["my head hurts"], {}, ["x", "y"], max_questions=2)
    assert result.done and result.level == "urgent"


def test_a_red_flag_is_the_floor(engine: TriageEngine) -> None:
    result = engine.assess(["headache, no stiff neck", "and now my face is drooping on one side"])
    assert result.red_flags and result.level == "emergency_ambulance"
    result = engine.assess(["headache and I had a sudden severe headache with no known cause"])
    assert result.level in ("emergency", "emergency_ambulance")


def test_vitals_age_and_duration_from_the_text(engine: TriageEngine) -> None:
    result = engine.assess(["headache for 2 days, temp 39.4, I'm 63"])
    assert "HT04" in {f.rule for f in result.fired} and "HT05" in {f.rule for f in result.fired}


def test_nothing_matching_uses_the_fallback(engine: TriageEngine) -> None:
    result = engine.assess(["I feel a bit off"])
    assert result.protocols == ["general"] and result.next_question[1].id == "worse_fast"
    assert engine.assess(["I feel off and it's getting worse quickly"]).level == "urgent"


def test_the_record_has_no_message_text(engine: TriageEngine) -> None:
    record = engine.assess(["headache, my secret words"]).to_json()
    assert "secret" not in str(record)
    assert record["protocol_versions"] == {"headache": 3} and record["schema"]


@pytest.mark.parametrize(
    ("raw", "answers", "expected"),
    [({"yes_to": "a"}, {}, None), ({"yes_to": "a"}, {"a": "unsure"}, None),
     ({"yes_to": "a"}, {"a": "yes"}, True), ({"no_to": "a"}, {"a": "no"}, True),
     ({"all": [{"yes_to": "a"}, {"yes_to": "b"}]}, {"a": "no"}, False),
     ({"all": [{"yes_to": "a"}, {"yes_to": "b"}]}, {"a": "yes"}, None),
     ({"any": [{"yes_to": "a"}, {"yes_to": "b"}]}, {"b": "yes"}, True),
     ({"any": [{"yes_to": "a"}, {"age_gte": 65}]}, {}, None),
     ({"not": {"yes_to": "a"}}, {"a": "no"}, True), ({"age_gte": 65}, {}, False)],
)  # fmt: skip
def test_three_valued_conditions(raw, answers, expected) -> None:
    assert evaluate(parse_condition(raw, "test"), answers, Findings()) is expected
