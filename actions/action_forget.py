"""Forget me: after the patient confirms, erase their conversation, uploads and record analyses.

The tracker store (nlu/server/privacy_tracker_store.py) performs the erasure when it
sees the ``erase_conversation`` slot set in this turn, because only Rasa owns the store.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.action_record import forget_analyses
from actions.attachments import forget_photo_history, forget_uploads


class ActionForgetMe(Action):
    """Confirms and marks the conversation for erasure."""

    def name(self) -> str:
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        forget_uploads(tracker.sender_id)
        forget_photo_history(tracker.sender_id)
        forget_analyses(tracker.sender_id)
        dispatcher.utter_message(response="utter_forgotten")
        # A machine-readable marker for the channels (Telegram also revokes consent on it).
        dispatcher.utter_message(json_message={"event": "forgotten"})
        return [SlotSet("erase_conversation", True)]
