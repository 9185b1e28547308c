from actions.action_emergency import ActionEmergencyResponse

from .conftest import make_tracker, reset_services, run_action


def test_emergency_reply_uses_configured_number(domain, monkeypatch):
    monkeypatch.setenv("HEALTHBOT_EMERGENCY_NUMBER", "000")
    reset_services()
    try:
        tracker = make_tracker(
            "my dad collapsed",
            "emergency",
            extra_parse={"red_flags": [{"id": "RF007", "category": "neurological"}]},
        )
        dispatcher, events = run_action(ActionEmergencyResponse(), tracker, domain)
    finally:
        monkeypatch.delenv("HEALTHBOT_EMERGENCY_NUMBER")
        reset_services()
    assert events == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_emergency"
    assert message["emergency_number"] == "000"


def test_self_harm_adds_crisis_line(domain):
    tracker = make_tracker(
        "i want to end it all",
        "emergency",
        extra_parse={
            "red_flags": [{"id": "RF008", "category": "mental health", "self_harm": True}]
        },
    )
    dispatcher, _ = run_action(ActionEmergencyResponse(), tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_emergency_self_harm"
    assert "988" in message["crisis_line"]


def test_emergency_intent_without_red_flags_still_answers(domain):
    tracker = make_tracker("this is an emergency", "emergency")
    dispatcher, _ = run_action(ActionEmergencyResponse(), tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_emergency"]


def test_emergency_responses_exist_in_domain(domain):
    for name in ("utter_emergency", "utter_emergency_self_harm"):
        text = domain["responses"][name][0]["text"]
        assert "{emergency_number}" in text
