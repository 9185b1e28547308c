"""Hand-off to a person: record who asked, when, and the last messages, for the clinic."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.services import get_services


def recent_messages(events: list[dict[str, Any]], limit: int) -> list[dict[str, str]]:
    """The last ``limit`` patient and assistant messages, oldest first."""
    turns = [
        {"from": "patient" if event["event"] == "user" else "assistant", "text": event["text"]}
        for event in events
        if event.get("event") in {"user", "bot"} and event.get("text")
    ]
    return turns[-limit:] if limit else []


class ActionRequestHuman(Action):
    """Stores the request in the tracker store (slot ``handoff_request``) and tells the patient."""

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = get_services().settings
        request = {
            "sender_id": tracker.sender_id,
            "channel": tracker.get_latest_input_channel(),
            "requested_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "last_messages": recent_messages(tracker.events, settings.handoff_history),
        }
        dispatcher.utter_message(
            response="utter_handoff",
            clinic_contact=settings.clinic_contact,
            emergency_number=settings.emergency_number,
        )
        return [SlotSet("handoff_request", request)]
