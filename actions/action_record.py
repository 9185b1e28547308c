"""Health records: explain an uploaded or pasted record in plain words, never diagnose.

Thin: ``actions/ehr`` reads the record (text, PDF, FHIR), finds conditions, medicines,
allergies and results (BERT NER + ConText + labs) and writes the summary. The record and the
findings never reach the log; the clinic's JSON is kept per conversation until "forget me".
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.attachments import describe, latest_upload
from actions.ehr.analyzer import SCHEMA, Analysis
from actions.ehr.readers import RecordInput, read_bytes, read_pasted
from actions.ehr.summary import render, summarise
from actions.ehr.types import RecordError
from actions.emergency import emergency_reply
from actions.services import get_services
from healthbot.contract import ANALYSIS_ID, EVENT_EHR_ANALYSIS

logger = logging.getLogger(__name__)

MIN_PASTED_WORDS = 12
A_PHOTO = (
    "That's a photo. To explain a record I need the document itself (PDF, TXT or FHIR JSON) "
    'or its text. If it\'s a photo of a wound, say "check my wound photo".'
)
TOO_SHORT = "That's too short to be a record. Please paste the whole text, or send the file."
FAILED = (
    "Sorry, I couldn't read the record just now. Please try again in a few minutes, or ask "
    "the clinic team."
)


def looks_pasted(text: str) -> bool:
    """A message long enough to be a record rather than a request for help with one."""
    return not text.startswith("/") and len(text.split()) >= MIN_PASTED_WORDS


def _analyse(record: RecordInput) -> Analysis:
    services = get_services()
    with services.ehr_lock:  # one analysis at a time: it uses every core already
        return services.ehr_analyzer.analyze(record)


class ActionAnalyzeRecord(Action):
    """Explains the record in the message (upload or pasted), or asks for one."""

    def name(self) -> str:
        return "action_analyze_record"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        done = [SlotSet("record_requested", False), SlotSet("record_source", None)]
        services = get_services()
        upload = latest_upload(tracker, services.uploads)
        text = str(tracker.latest_message.get("text") or "")
        if upload is None and not looks_pasted(text):
            return [SlotSet("record_requested", True), SlotSet("record_source", None)]
        if upload is not None and upload.kind == "image":
            dispatcher.utter_message(text=A_PHOTO)
            return done
        settings = services.settings
        started = time.perf_counter()
        try:
            if upload is not None:
                dispatcher.utter_message(text=f"I've received your {describe(upload)}. Reading it…")
                data = await asyncio.to_thread(services.uploads.read, upload.id)
                record = read_bytes(data, "the file you sent", settings.ehr.max_chars)
            else:
                record = read_pasted(text, settings.ehr.max_chars)
            analysis = await asyncio.to_thread(_analyse, record)
            linker = await asyncio.to_thread(lambda: services.condition_linker)
            summary = await asyncio.to_thread(summarise, analysis, linker)
        except RecordError as error:
            dispatcher.utter_message(text=str(error))
            return done
        except Exception as error:  # the patient gets an answer, never a silent 500
            logger.error("record analysis failed: %s", type(error).__name__)
            dispatcher.utter_message(text=FAILED)
            return done
        for message in render(summary, record.name, settings.emergency_number):
            dispatcher.utter_message(text=message)
        store = services.analyses
        analysis_id = await asyncio.to_thread(store.save, tracker.sender_id, analysis.to_json())
        await asyncio.to_thread(store.purge_expired)  # retention: everyone's old ones go
        dispatcher.utter_message(
            json_message={"event": EVENT_EHR_ANALYSIS, "schema": SCHEMA, ANALYSIS_ID: analysis_id}
        )
        # Timings only: what the record says is health data and stays out of the log.
        logger.info("record analysed in %.0f ms", (time.perf_counter() - started) * 1000)
        return done


class ActionRecordOrEmergency(Action):
    """While waiting for a record, a message classified as an emergency: a red flag (or a short
    message) gets the emergency reply; a long pasted record without one is the record, which the
    classifier can mistake for an emergency because of its clinical words."""

    def name(self) -> str:
        return "action_record_or_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = str(tracker.latest_message.get("text") or "")
        if tracker.latest_message.get("red_flags") or not looks_pasted(text):
            emergency_reply(dispatcher, tracker, get_services().settings)
            return []
        return await ActionAnalyzeRecord().run(dispatcher, tracker, domain)


class ValidateRecordForm(FormValidationAction):
    """Accepts the next message as the record when it is an upload or a pasted note."""

    def name(self) -> str:
        return "validate_record_form"

    async def validate_record_source(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        upload = latest_upload(tracker, get_services().uploads)
        if upload is not None:
            if upload.kind == "image":
                dispatcher.utter_message(text=A_PHOTO)
                return {"record_source": None}
            return {"record_source": "upload"}
        if looks_pasted(str(tracker.latest_message.get("text") or "")):
            return {"record_source": "pasted"}
        dispatcher.utter_message(text=TOO_SHORT)
        return {"record_source": None}
