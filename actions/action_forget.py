"""Forget me: after the patient confirms, erase their conversation, uploads and record analyses.

The tracker store (nlu/server/privacy_tracker_store.py) performs the erasure of the
conversation when it sees the ``erase_conversation`` slot set in this turn, because only Rasa
owns the store; every other store is reached through ``Services.forget``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.services import get_services
from healthbot.contract import EVENT_FORGOTTEN


class ActionForgetMe(Action):
    """Erases the sender's data in every store and marks the conversation for erasure."""

    def name(self) -> str:
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        await asyncio.to_thread(get_services().forget, tracker.sender_id)
        dispatcher.utter_message(response="utter_forgotten")
        # A machine-readable marker for the channels (Telegram also revokes consent on it).
        dispatcher.utter_message(json_message={"event": EVENT_FORGOTTEN})
        return [SlotSet("erase_conversation", True)]
