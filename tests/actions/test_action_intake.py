import pytest

from actions.action_intake import ActionIntakeSummary, ValidateSymptomForm, clean_answer

from .conftest import make_tracker, run_action


def _validate(slot: str, value, text: str = "answer"):
    tracker = make_tracker(
        text,
        "inform",
        slots={slot: value, "requested_slot": slot},
        active_loop={"name": "symptom_form"},
        events=[{"event": "slot", "name": slot, "value": value}],
    )
    return tracker


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  sore   throat ", "sore throat"),
        (["headache", "nausea"], "headache, nausea"),
        ("???", None),
        ("", None),
        (None, None),
        ("x" * 500, "x" * 120),
    ],
)
def test_clean_answer(value, expected):
    assert clean_answer(value) == expected


def test_form_validation_normalises_duration_and_severity(domain):
    action = ValidateSymptomForm()
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    tracker = _validate("duration", "about 3 days")
    assert action.validate_duration("about 3 days", dispatcher, tracker, domain) == {
        "duration": "about 3 days",
        "duration_days": 3.0,
    }
    assert action.validate_severity("7/10", dispatcher, tracker, domain) == {"severity": "severe"}
    assert dispatcher.messages == []


def test_form_validation_reasks_with_an_example(domain):
    action = ValidateSymptomForm()
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    tracker = _validate("duration", "dunno")
    result = action.validate_duration("dunno", dispatcher, tracker, domain)
    assert result == {"duration": None, "duration_days": None}
    assert "3 days" in dispatcher.messages[0]["text"]
    assert action.validate_severity("purple", dispatcher, tracker, domain) == {"severity": None}
    assert action.validate_symptom("!!!", dispatcher, tracker, domain) == {"symptom": None}


def test_form_validation_runs_through_the_sdk(domain):
    """The whole FormValidationAction.run path, as the action server calls it."""
    tracker = make_tracker(
        "pretty bad",
        "inform",
        slots={"severity": "pretty bad", "requested_slot": "severity"},
        active_loop={"name": "symptom_form"},
        events=[
            {"event": "active_loop", "name": "symptom_form"},
            {"event": "user", "text": "pretty bad", "parse_data": {}},
            {"event": "slot", "name": "severity", "value": "pretty bad"},
        ],
    )
    _, events = run_action(ValidateSymptomForm(), tracker, domain)
    assert {"event": "slot", "timestamp": None, "name": "severity", "value": "moderate"} in events


@pytest.mark.parametrize(
    ("severity", "days", "level"),
    [("severe", 0.5, "urgent care"), ("mild", 2, "self-care"), ("moderate", 5, "see a GP")],
)
def test_summary_repeats_answers_and_gives_next_step(domain, severity, days, level):
    slots = {
        "symptom": "sore throat",
        "body_part": "throat",
        "duration": "a few days",
        "severity": severity,
        "duration_days": days,
    }
    dispatcher, events = run_action(
        ActionIntakeSummary(), make_tracker("x", "inform", slots=slots), domain
    )
    summary = dispatcher.messages[0]["text"]
    assert "sore throat" in summary and "a few days" in summary
    assert f"Suggested next step ({level})" in summary
    assert dispatcher.messages[1]["response"] == "utter_intake_disclaimer"
    assert all(event["value"] is None for event in events)
    assert {event["name"] for event in events} >= {"symptom", "severity", "duration_days"}
