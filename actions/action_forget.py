"""Forget me: after the patient confirms, erase their conversation.

The tracker store (nlu/server/privacy_tracker_store.py) performs the erasure when it
sees the ``erase_conversation`` slot set in this turn, because only Rasa owns the store.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionForgetMe(Action):
    """Confirms and marks the conversation for erasure."""

    def name(self) -> str:
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_forgotten")
        return [SlotSet("erase_conversation", True)]
