"""The emergency reply: runs whenever a red flag or the emergency intent is seen."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.emergency import emergency_reply
from actions.services import get_services


class ActionEmergencyResponse(Action):
    """What to do now and the emergency number; a crisis line for self-harm."""

    def name(self) -> str:
        return "action_emergency_response"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        emergency_reply(dispatcher, tracker, get_services().settings)
        return []
