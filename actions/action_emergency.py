"""The emergency reply: runs whenever a red flag or the emergency intent is seen."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.settings import get_settings

# RF008 in actions/safety/data/red_flags.csv: "Feeling of committing suicide or murder".
SELF_HARM_CATEGORY = "mental health"


def is_self_harm(red_flags: list[dict[str, Any]]) -> bool:
    """The message mentions suicide or self-harm, so the reply adds a crisis line."""
    return any(
        isinstance(flag, dict) and flag.get("category") == SELF_HARM_CATEGORY for flag in red_flags
    )


class ActionEmergencyResponse(Action):
    """What to do now and the emergency number; a crisis line for self-harm."""

    def name(self) -> str:
        return "action_emergency_response"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = get_settings()
        red_flags = tracker.latest_message.get("red_flags") or []
        response = "utter_emergency_self_harm" if is_self_harm(red_flags) else "utter_emergency"
        dispatcher.utter_message(
            response=response,
            emergency_number=settings.emergency_number,
            crisis_line=settings.crisis_line,
        )
        return []
