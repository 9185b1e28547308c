"""Triage in the conversation: assess what the patient said, ask only what can still change the
advice (most dangerous first, yes / no / not sure), then give one of five care levels.

Thin: ``actions/triage`` decides (protocols, findings, the next question); this module reads the
conversation from the tracker, keeps the questions asked and the answers in the ``triage_state``
slot, and writes the replies. The clinic's triage record is stored per conversation and named in
a ``triage`` event; nothing the patient wrote is logged.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.services import Services, get_services
from actions.triage.engine import Result
from actions.triage.levels import EMERGENCY_LEVELS, level_texts
from healthbot.contract import EVENT_TRIAGE, TRIAGE_ID

logger = logging.getLogger(__name__)

UNSURE = re.compile(
    r"^\W*(?:not sure|unsure|i'?m not sure|i'?m unsure|(?:i )?don'?t know|(?:i )?do not know|"
    r"no idea|dunno|idk|maybe|"
    r"not certain|can'?t tell|hard to say)\b"
)
# A reply that starts with a plain yes or no answers the question asked; anything else is read
# by the engine with every question's phrases ("it is worse when I breathe" is not a "yes").
YES = re.compile(r"^\W*(?:yes|yeah|yep|yup|y|ya|aye|correct|definitely|absolutely|i do|it does|"
                 r"he does|she does|they do)\b")  # fmt: skip
NO = re.compile(r"^\W*(?:no|nope|nah|n|not really|not at all|never|none|i don'?t|it doesn'?t|"
                r"he doesn'?t|she doesn'?t|they don'?t)\b")  # fmt: skip
BUTTONS = [
    {"title": "Yes", "payload": "/affirm"},
    {"title": "No", "payload": "/deny"},
    {"title": "Not sure", "payload": '/inform{"triage_answer": "unsure"}'},
]
INTRO = "To work out how soon you should be seen, I'll ask a few quick questions."
DISCLAIMER = (
    "This is not a diagnosis. If you feel worse, or anything new or worrying appears, get help "
    "sooner; in an emergency call {emergency_number}."
)
FAILED = (
    "Sorry, I couldn't finish working out the advice. If you are worried, contact your GP "
    "practice or an urgent care service today; in an emergency call {emergency_number}."
)
TRIAGE_SLOTS = ("triage_answer", "triage_state")  # triage_done stays: the rules end on it


def patient_messages(tracker: Tracker) -> list[str]:
    """What the patient typed since the session started or the last triage ended (button
    payloads, which start with "/", are answers, not descriptions)."""
    since = int(tracker.get_slot("triage_since") or 0)
    texts: list[str] = []
    for event in tracker.events:
        if event.get("event") == "session_started":
            texts = []
        elif event.get("event") == "user":
            text = str(event.get("text") or "")
            texts.append("" if text.startswith("/") else text)
    return [t for t in texts[since:] if t]


def _user_count(tracker: Tracker) -> int:
    count = 0
    for event in tracker.events:
        if event.get("event") == "session_started":
            count = 0
        elif event.get("event") == "user":
            count += 1
    return count


def _state(tracker: Tracker) -> dict[str, Any]:
    state = tracker.get_slot("triage_state")
    if not isinstance(state, dict):
        return {"answers": {}, "asked": [], "current": None}
    return {"answers": dict(state.get("answers") or {}), "asked": list(state.get("asked") or []),
            "current": state.get("current")}  # fmt: skip


def _assess(services: Services, messages: list[str], state: dict[str, Any]) -> Result:
    return services.triage.assess(
        messages, state["answers"], state["asked"], services.settings.triage.max_questions
    )


class ActionTriageAssess(Action):
    """Reads the description; either the advice is clear already or the questions start."""

    def name(self) -> str:
        return "action_triage_assess"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        services = get_services()
        state = {"answers": {}, "asked": [], "current": None}
        try:
            result = await asyncio.to_thread(_assess, services, patient_messages(tracker), state)
        except Exception as error:  # the patient still gets advice, never a silent 500
            logger.error("triage failed: %s", type(error).__name__)
            return [SlotSet("triage_done", True), SlotSet("triage_state", state)]
        logger.info("triage assessed in %.1f ms", result.latency_ms)
        if result.next_question is None:
            return [SlotSet("triage_done", True), SlotSet("triage_state", state)]
        state["current"] = result.next_question[1].id
        return [SlotSet("triage_done", False), SlotSet("triage_state", state)]


class ActionAskTriageAnswer(Action):
    """Asks the current question with yes / no / not sure buttons."""

    def name(self) -> str:
        return "action_ask_triage_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        state = _state(tracker)
        question = get_services().triage.question(state.get("current"))
        if question is None:  # state lost (e.g. protocols changed): ask the generic question
            dispatcher.utter_message(text="Is it getting worse quickly?", buttons=BUTTONS)
            return []
        text = question.ask if state["asked"] else f"{INTRO}\n{question.ask}"
        dispatcher.utter_message(text=text, buttons=BUTTONS)
        return []


class ValidateTriageForm(FormValidationAction):
    """Takes the answer (a button, "yes"/"no"/"not sure", or free text that may answer several
    questions at once) and moves to the next question, or ends the questions."""

    def name(self) -> str:
        return "validate_triage_form"

    async def validate_triage_answer(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        services = get_services()
        state = _state(tracker)
        current = state.get("current")
        messages = patient_messages(tracker)
        answer = interpret(slot_value, tracker)
        if current:
            if answer is not None:
                state["answers"][current] = answer
            state["asked"].append(current)
        try:
            result = await asyncio.to_thread(_assess, services, messages, state)
        except Exception as error:
            logger.error("triage failed: %s", type(error).__name__)
            return {"triage_answer": "done", "triage_state": state}
        if current and current not in result.answers:
            state["answers"][current] = "unsure"  # said something else: don't ask it again
        if result.next_question is None:
            return {"triage_answer": "done", "triage_state": state}
        state["current"] = result.next_question[1].id
        return {"triage_answer": None, "triage_state": state}


def interpret(slot_value: Any, tracker: Tracker) -> str | None:
    """yes / no / unsure from a button or a short reply; None for free text (the engine reads
    it with every question's phrases)."""
    text = str(tracker.latest_message.get("text") or "").strip().lower()
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if slot_value == "unsure" or UNSURE.search(text):
        return "unsure"
    if text == "/affirm" or (intent == "affirm" and len(text.split()) <= 4) or YES.search(text):
        return "yes"
    if text == "/deny" or (intent == "deny" and len(text.split()) <= 4) or NO.search(text):
        return "no"
    return None


class ActionTriageResult(Action):
    """The level in plain words, why, what to do now, when to get help sooner; the record."""

    def name(self) -> str:
        return "action_triage_result"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        services = get_services()
        number = services.settings.emergency_number
        state = _state(tracker)
        reset = [*(SlotSet(s, None) for s in TRIAGE_SLOTS),
                 SlotSet("triage_since", float(_user_count(tracker)))]  # fmt: skip
        try:
            result = await asyncio.to_thread(
                services.triage.assess, patient_messages(tracker), state["answers"],
                state["asked"], 0,
            )  # fmt: skip
        except Exception as error:
            logger.error("triage failed: %s", type(error).__name__)
            dispatcher.utter_message(text=FAILED.format(emergency_number=number))
            return reset
        for message in advice(result, number):
            dispatcher.utter_message(text=message)
        link = await asyncio.to_thread(_read_more, services, result)
        if link:
            dispatcher.utter_message(text=link)
        record = {**result.to_json(), "questions_asked": state["asked"]}
        record_id = await asyncio.to_thread(services.triage_records.save, tracker.sender_id, record)
        await asyncio.to_thread(services.triage_records.purge_expired)
        dispatcher.utter_message(
            json_message={"event": EVENT_TRIAGE, TRIAGE_ID: record_id, "level": result.level}
        )
        logger.info("triage done after %d questions", len(state["asked"]))  # no level: health data
        return reset


def advice(result: Result, emergency_number: str) -> list[str]:
    """The patient's messages: level and reason, what to do now, safety-netting, disclaimer."""
    text = level_texts()[result.level]
    reasons = result.reasons()
    because = f", because you mentioned {_join(reasons)}" if reasons else ""
    headline = f"My advice: {text.name.lower()}{because}."
    if result.level in EMERGENCY_LEVELS:
        headline = f"⚠️ {headline}"
    fill = {"emergency_number": emergency_number}
    return [
        headline,
        text.do_now.format(**fill),
        f"Get help sooner: {text.safety_net.format(**fill)}",
        DISCLAIMER.format(**fill),
    ]


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _read_more(services: Services, result: Result) -> str | None:
    """A knowledge-base page about the complaint, when there is one (never fails the advice)."""
    try:
        linker = services.condition_linker
        for protocol_id in result.protocols:
            protocol = services.triage.protocol(protocol_id)
            if linker is None or protocol is None or not protocol.kb_query:
                continue
            link = linker.link(protocol.kb_query)
            if link is not None:
                return f"Read more: {link.title} ({link.url})"
    except Exception as error:  # the index may not be built yet
        logger.info("no read-more link: %s", type(error).__name__)
    return None
