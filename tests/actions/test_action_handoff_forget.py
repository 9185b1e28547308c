from actions.action_forget import ActionForgetMe
from actions.action_handoff import ActionRequestHuman, recent_messages

from .conftest import make_tracker, run_action


def test_recent_messages_keeps_order_and_limit():
    events = [
        {"event": "user", "text": "hi"},
        {"event": "bot", "text": "hello"},
        {"event": "slot", "name": "x"},
        {"event": "user", "text": "i need a nurse"},
    ]
    assert recent_messages(events, 2) == [
        {"from": "assistant", "text": "hello"},
        {"from": "patient", "text": "i need a nurse"},
    ]
    assert recent_messages(events, 0) == []


def test_handoff_records_who_when_and_last_messages(domain):
    events = [
        {"event": "user", "text": "my knee hurts", "input_channel": "rest"},
        {"event": "bot", "text": "Where on your body is it?"},
        {"event": "user", "text": "can a nurse call me", "input_channel": "rest"},
    ]
    tracker = make_tracker("can a nurse call me", "request_human", events=events, sender_id="p-42")
    dispatcher, result = run_action(ActionRequestHuman(), tracker, domain)
    [slot] = result
    assert slot["name"] == "handoff_request"
    request = slot["value"]
    assert request["sender_id"] == "p-42"
    assert request["channel"] == "rest"
    assert request["requested_at"].endswith("+00:00")
    assert request["last_messages"][-1] == {"from": "patient", "text": "can a nurse call me"}
    assert dispatcher.messages[0]["response"] == "utter_handoff"


def test_forget_me_marks_conversation_for_erasure(domain):
    dispatcher, events = run_action(ActionForgetMe(), make_tracker("yes", "affirm"), domain)
    assert events == [
        {"event": "slot", "timestamp": None, "name": "erase_conversation", "value": True}
    ]
    assert dispatcher.messages[0]["response"] == "utter_forgotten"
