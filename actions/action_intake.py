"""Symptom intake: validate the form's answers, then summarise with safe next steps."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.intake.answers import parse_duration, parse_severity
from actions.intake.next_steps import next_step
from actions.services import get_services

MAX_ANSWER_CHARS = 120
INTAKE_SLOTS = ("symptom", "body_part", "duration", "severity", "duration_days")


def clean_answer(value: Any) -> str | None:
    """A short, single-line answer, or None when nothing usable was said."""
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value if item)
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    if not any(ch.isalpha() for ch in text):
        return None
    return text[:MAX_ANSWER_CHARS]


class ValidateSymptomForm(FormValidationAction):
    """Accepts free-text answers patients actually give; re-asks with an example otherwise."""

    def name(self) -> str:
        return "validate_symptom_form"

    def validate_symptom(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = clean_answer(value)
        if text is None:
            dispatcher.utter_message(text="Please tell me the main symptom in a few words.")
        return {"symptom": text}

    def validate_body_part(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = clean_answer(value)
        if text is None:
            dispatcher.utter_message(
                text="Where is it? For example: head, chest, tummy, left knee."
            )
        return {"body_part": text}

    def validate_duration(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = clean_answer(value)
        days = parse_duration(text) if text else None
        if days is None:
            dispatcher.utter_message(
                text='Sorry, I didn\'t catch how long. For example: "since yesterday" or "3 days".'
            )
            return {"duration": None, "duration_days": None}
        return {"duration": text, "duration_days": days}

    def validate_severity(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # Scores such as "7/10" have no letters, so clean_answer would refuse them.
        level = parse_severity(" ".join(str(value).split())) if value is not None else None
        if level is None:
            dispatcher.utter_message(
                text="Please answer mild, moderate or severe, or a number from 0 to 10."
            )
        return {"severity": level}


class ActionIntakeSummary(Action):
    """Repeats what the patient said and gives the matching row of the next-steps table."""

    def name(self) -> str:
        return "action_intake_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        slots = {name: tracker.get_slot(name) for name in INTAKE_SLOTS}
        step = next_step(slots["severity"], slots["duration_days"])
        dispatcher.utter_message(
            text=(
                "Thanks. Here is what you told me:\n"
                f"- symptom: {slots['symptom']}\n"
                f"- where: {slots['body_part']}\n"
                f"- for how long: {slots['duration']}\n"
                f"- how bad: {slots['severity']}\n"
                f"Suggested next step ({step.level}): {step.advice}"
            )
        )
        dispatcher.utter_message(
            response="utter_intake_disclaimer",
            emergency_number=get_services().settings.emergency_number,
        )
        # Clear the answers so the next intake starts fresh.
        return [SlotSet(name, None) for name in INTAKE_SLOTS]
