"""The emergency reply: runs whenever a red flag or the emergency intent is seen."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.safety.red_flags import is_self_harm
from actions.settings import get_settings


class ActionEmergencyResponse(Action):
    """What to do now and the emergency number; a crisis line for self-harm."""

    def name(self) -> str:
        return "action_emergency_response"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = get_settings()
        flags = [f for f in tracker.latest_message.get("red_flags") or [] if isinstance(f, dict)]
        response = "utter_emergency_self_harm" if is_self_harm(flags) else "utter_emergency"
        dispatcher.utter_message(
            response=response,
            emergency_number=settings.emergency_number,
            crisis_line=settings.crisis_line,
        )
        return []
