"""The triage actions with real rasa-sdk Trackers, a protocol written here and real stores."""

from __future__ import annotations

import pytest

from actions.action_forget import ActionForgetMe
from actions.action_triage import (
    ActionAskTriageAnswer,
    ActionTriageAssess,
    ActionTriageResult,
    ValidateTriageForm,
    patient_messages,
)
from actions.services import Services
from actions.triage.engine import TriageEngine

from ..conftest import make_tracker, run_action


@pytest.fixture
def triage(services: Services, engine: TriageEngine) -> Services:
    """The action server's services with the sample protocols and no knowledge-base links."""
    return services.override(triage=engine, condition_linker=None)


def user(text: str) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": "inform"}}}


def tracker(texts: list[str], intent: str = "report_symptom", slots: dict | None = None, **kw):
    events = [user(t) for t in texts]
    return make_tracker(texts[-1], intent, events=events, slots=slots or {}, **kw)


def slots(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_a_clear_description_needs_no_questions(triage, domain) -> None:
    _, events = run_action(ActionTriageAssess(), tracker(["headache, stiff neck and a fever"]),
                           domain)  # fmt: skip
    assert slots(events)["triage_done"] is True


def test_otherwise_the_most_dangerous_question_is_asked_with_buttons(triage, domain) -> None:
    _, events = run_action(ActionTriageAssess(), tracker(["I've got a headache"]), domain)
    state = slots(events)["triage_state"]
    assert slots(events)["triage_done"] is False and state["current"] == "stiff_neck"
    dispatcher, _ = run_action(
        ActionAskTriageAnswer(), tracker(["I've got a headache"], slots={"triage_state": state}),
        domain,
    )  # fmt: skip
    [message] = dispatcher.messages
    assert "Is your neck stiff?" in message["text"] and "few quick questions" in message["text"]
    assert [b["title"] for b in message["buttons"]] == ["Yes", "No", "Not sure"]


def validate(texts: list[str], state: dict, intent: str, domain, value: object = None):
    t = tracker(texts, intent, slots={"triage_state": state, "requested_slot": "triage_answer"})
    _, events = run_action_validate(t, domain, value)
    return slots(events)


def run_action_validate(t, domain, value):
    import asyncio

    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    form = ValidateTriageForm()
    result = asyncio.run(
        form.validate_triage_answer(value if value is not None else t.latest_message["text"],
                                    dispatcher, t, domain)
    )  # fmt: skip
    return dispatcher, [{"event": "slot", "name": k, "value": v} for k, v in result.items()]


def test_a_button_answer_moves_to_the_next_question(triage, domain) -> None:
    state = {"answers": {}, "asked": [], "current": "stiff_neck"}
    out = validate(["I've got a headache", "/deny"], state, "deny", domain)
    assert out["triage_answer"] is None
    assert out["triage_state"]["answers"] == {"stiff_neck": "no"}
    assert out["triage_state"]["current"] == "worst_ever"


def test_free_text_answers_several_questions_at_once(triage, domain) -> None:
    state = {"answers": {}, "asked": [], "current": "stiff_neck"}
    out = validate(["I've got a headache", "no stiff neck, but I've been sick twice, no fever"],
                   state, "inform", domain)  # fmt: skip
    assert out["triage_state"]["current"] == "worst_ever"  # vomiting and fever known already


def test_not_sure_is_kept_and_not_asked_again(triage, domain) -> None:
    state = {"answers": {}, "asked": [], "current": "stiff_neck"}
    out = validate(["headache", '/inform{"triage_answer": "unsure"}'], state, "inform", domain,
                   value="unsure")  # fmt: skip
    assert out["triage_state"]["answers"]["stiff_neck"] == "unsure"
    assert out["triage_state"]["current"] != "stiff_neck"


def test_the_last_answer_ends_the_questions(triage, domain) -> None:
    state = {"answers": {"stiff_neck": "no", "worst_ever": "no"},
             "asked": ["stiff_neck", "worst_ever"], "current": "vomiting"}  # fmt: skip
    out = validate(["headache", "/deny"], state, "deny", domain)
    assert out["triage_answer"] == "done"


def test_the_result_says_level_reason_what_to_do_and_stores_the_record(triage, domain) -> None:
    state = {"answers": {"stiff_neck": "yes", "fever_q": "yes"},
             "asked": ["stiff_neck", "fever_q"], "current": None}  # fmt: skip
    t = tracker(["headache, secret words"], slots={"triage_state": state}, sender_id="p-7")
    dispatcher, events = run_action(ActionTriageResult(), t, domain)
    texts = [m["text"] for m in dispatcher.messages if m.get("text")]
    assert texts[0].startswith("⚠️ My advice: call an ambulance now, because you mentioned a "
                               "headache with a stiff neck and a fever")  # fmt: skip
    assert "112" in texts[1] and "not a diagnosis" in texts[-1]
    [custom] = [m["custom"] for m in dispatcher.messages if m.get("custom")]
    assert custom["event"] == "triage" and custom["level"] == "emergency_ambulance"
    record = triage.triage_records.read("p-7", custom["triage_id"])
    assert record["level"] == "emergency_ambulance" and record["questions_asked"] == [
        "stiff_neck", "fever_q"]  # fmt: skip
    assert [r["rule"] for r in record["rules_fired"]] == ["HT01"]
    assert "secret" not in str(record)
    assert slots(events)["triage_state"] is None and slots(events)["triage_since"] == 1.0


def test_forget_me_deletes_the_triage_records(triage, domain) -> None:
    record_id = triage.triage_records.save("p-8", {"level": "routine"})
    run_action(ActionForgetMe(), make_tracker("yes", "affirm", sender_id="p-8"), domain)
    assert triage.triage_records.read("p-8", record_id) is None


def test_a_new_triage_reads_only_what_came_after_the_last_one() -> None:
    events = [user("what is glaucoma"), user("headache"), user("/deny"), user("my knee hurts")]
    t = make_tracker("my knee hurts", "report_symptom", events=events, slots={"triage_since": 3})
    assert patient_messages(t) == ["my knee hurts"]
    t = make_tracker("my knee hurts", "report_symptom", events=events)
    assert patient_messages(t) == ["what is glaucoma", "headache", "my knee hurts"]


def test_the_actions_are_in_the_domain(domain) -> None:
    for name in ("action_triage_assess", "action_ask_triage_answer", "validate_triage_form",
                 "action_triage_result"):  # fmt: skip
        assert name in domain["actions"]
    assert domain["forms"]["triage_form"]["required_slots"] == ["triage_answer"]


class Linker:
    """Answers like the knowledge-base linker: a page for the complaint's search words."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def link(self, query: str):
        from actions.ehr.summary import KbLink

        self.asked.append(query)
        return KbLink("Headaches", "https://www.nhs.uk/conditions/headaches/")


def test_the_result_links_the_knowledge_base_page_of_the_complaint(triage, domain) -> None:
    linker = Linker()
    triage.override(condition_linker=linker)
    state = {"answers": {"stiff_neck": "no", "worst_ever": "no", "vomiting": "no"},
             "asked": ["stiff_neck", "worst_ever", "vomiting"], "current": None}  # fmt: skip
    dispatcher, _ = run_action(ActionTriageResult(), tracker(["headache"], slots={
        "triage_state": state}), domain)  # fmt: skip
    texts = [m["text"] for m in dispatcher.messages if m.get("text")]
    assert texts[0].startswith("My advice: look after it at home")
    assert "Read more: Headaches (https://www.nhs.uk/conditions/headaches/)" in texts
    assert linker.asked == ["headache"]


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [("/affirm", "affirm", "yes"), ("/deny", "deny", "no"), ("yes", "affirm", "yes"),
     ("nope, not at all", "deny", "no"), ("not sure", "deny", "unsure"),
     ("I don't know", "out_of_scope", "unsure"), ("it is worse when I breathe", "inform", None),
     ("no rash, but my neck is stiff", "deny", "no"),
     ("my neck is stiff and I've been sick", "inform", None)],
)  # fmt: skip
def test_short_replies_answer_the_question_asked_and_free_text_goes_to_the_engine(
    text: str, intent: str, expected: str | None
) -> None:
    from actions.action_triage import interpret

    assert interpret(None, make_tracker(text, intent)) == expected
