"""action_analyze_record and its form over the real analyzer (NER model, ConText, labs)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from actions.action_forget import ActionForgetMe
from actions.action_record import ActionAnalyzeRecord, ValidateRecordForm
from actions.services import get_services
from tests.actions.ehr.pdfs import blank_pdf, text_pdf

from .conftest import make_tracker, reset_services, run_action

NOTE = (
    "HPI: 67-year-old man with type 2 diabetes and hypertension. He denies chest pain. "
    "History of appendicitis. Mother had breast cancer.\n"
    "Medications: metformin 500 mg twice daily, lisinopril 10 mg daily.\n"
    "Allergies: penicillin.\n"
    "Labs: potassium 6.8 mmol/L, HbA1c 8.4%, sodium 139."
)


@pytest.fixture
def env(services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("HEALTHBOT_EHR_LINK_KB", "false")
    reset_services()
    yield tmp_path


def with_upload(upload_id: str, sender: str = "p-1"):
    return make_tracker(
        "/analyze_record",
        "analyze_record",
        sender_id=sender,
        extra_parse={"metadata": {"upload_id": upload_id}},
    )


def texts(dispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def slots(events) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_pasted_note_is_explained_with_emergency_advice_first(env, domain, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    tracker = make_tracker(NOTE, "analyze_record", sender_id="p-1")
    dispatcher, events = run_action(ActionAnalyzeRecord(), tracker, domain)
    messages = [m["text"] for m in dispatcher.messages if m.get("text")]
    assert "danger range" in messages[0] and "Potassium 6.8 mmol/L" in messages[0]
    assert get_number() in messages[0]
    summary = messages[1].lower()
    for expected in ("diabetes", "hypertension", "metformin", "lisinopril", "penicillin"):
        assert expected in summary, expected
    assert "the notes say you don't have: chest pain" in summary
    assert "8.4 %: high (usual below 5.6 %)" in summary
    assert "conditions: type 2 diabetes; hypertension\n" in summary  # not the "allergies:" title
    assert "not a diagnosis" in messages[-1].lower() or "isn't a diagnosis" in messages[-1]
    assert slots(events) == {"record_requested": False, "record_source": None}
    # The clinic's JSON is stored; the reply carries only its id.
    [custom] = [m["custom"] for m in dispatcher.messages if m.get("custom")]
    assert set(custom) == {"event", "schema", "analysis_id"}
    stored = get_services().analyses.read("p-1", custom["analysis_id"])
    assert stored is not None and stored["critical"] == ["potassium"]
    finding = next(f for f in stored["findings"] if f["label"] == "chest pain")
    assert NOTE[finding["start"] : finding["end"]] == "chest pain"
    assert finding["context"] == ["negated"]
    # Nothing from the record reaches the log.
    logged = caplog.text.lower()
    for secret in ("metformin", "penicillin", "6.8", "chest pain", "diabetes"):
        assert secret not in logged


def get_number() -> str:
    return get_services().settings.emergency_number


def test_uploaded_pdf_is_read_by_id(env, domain) -> None:
    info = get_services().uploads.save(
        "p-1", text_pdf(["Assessment: asthma.", "Plan: salbutamol."])
    )
    dispatcher, _ = run_action(ActionAnalyzeRecord(), with_upload(info.id), domain)
    said = texts(dispatcher)
    assert f"ref {info.id[:8]}" in said
    assert "asthma" in said.lower() and "salbutamol" in said.lower()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (blank_pdf(), "no text layer"),
        (json.dumps({"hello": "world"}).encode(), "not a FHIR"),
        (("The patient denies chest pain. " * 4000).encode(), "characters at a time"),
    ],
)
def test_unreadable_records_get_a_clear_message(env, domain, data, message) -> None:
    info = get_services().uploads.save("p-1", data)
    dispatcher, events = run_action(ActionAnalyzeRecord(), with_upload(info.id), domain)
    assert message in texts(dispatcher)
    assert slots(events)["record_requested"] is False


def test_fhir_bundle_with_invalid_resources_is_still_explained(env, domain) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p", "gender": "female"}},
            {
                "resource": {
                    "resourceType": "Condition",
                    "id": "c1",
                    "clinicalStatus": {"coding": [{"code": "active"}]},
                    "code": {"text": "Asthma"},
                    "subject": {"reference": "Patient/p"},
                }
            },
            {"resource": {"resourceType": "Observation", "id": "bad", "status": 12}},
        ],
    }
    info = get_services().uploads.save("p-1", json.dumps(bundle).encode())
    dispatcher, _ = run_action(ActionAnalyzeRecord(), with_upload(info.id), domain)
    assert "Conditions: Asthma" in texts(dispatcher)


def test_without_a_record_the_form_asks_for_one(env, domain) -> None:
    tracker = make_tracker("can you explain my blood test results", "analyze_record")
    dispatcher, events = run_action(ActionAnalyzeRecord(), tracker, domain)
    assert dispatcher.messages == []
    assert slots(events)["record_requested"] is True
    assert "record_form" in domain["forms"]


def test_a_photo_is_not_a_record(env, domain) -> None:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(out, format="PNG")
    info = get_services().uploads.save("p-1", out.getvalue(), "x.png")
    dispatcher, _ = run_action(ActionAnalyzeRecord(), with_upload(info.id), domain)
    assert "That's a photo" in texts(dispatcher)


def validate(tracker, domain) -> tuple[list, dict]:
    import asyncio

    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    result = asyncio.run(
        ValidateRecordForm().validate_record_source(
            tracker.latest_message.get("text"), dispatcher, tracker, domain
        )
    )
    return dispatcher.messages, result


def test_form_accepts_a_paste_or_an_upload_and_refuses_a_fragment(env, domain) -> None:
    _, result = validate(make_tracker(NOTE, "inform"), domain)
    assert result == {"record_source": "pasted"}
    info = get_services().uploads.save("test-sender", b"Potassium 4.1 mmol/L\n", "k.txt")
    tracker = make_tracker(
        "/analyze_record", "analyze_record", extra_parse={"metadata": {"upload_id": info.id}}
    )
    assert validate(tracker, domain)[1] == {"record_source": "upload"}
    messages, result = validate(make_tracker("my results", "inform"), domain)
    assert result == {"record_source": None}
    assert "too short" in messages[0]["text"]


def test_forget_me_deletes_stored_analyses(env, domain) -> None:
    tracker = make_tracker(NOTE, "analyze_record", sender_id="p-9")
    dispatcher, _ = run_action(ActionAnalyzeRecord(), tracker, domain)
    [custom] = [m["custom"] for m in dispatcher.messages if m.get("custom")]
    assert get_services().analyses.read("p-9", custom["analysis_id"]) is not None
    run_action(ActionForgetMe(), make_tracker("yes", "affirm", sender_id="p-9"), domain)
    assert get_services().analyses.read("p-9", custom["analysis_id"]) is None


def test_waiting_for_a_record_a_red_flag_still_gets_the_emergency_reply(env, domain) -> None:
    from actions.action_record import ActionRecordOrEmergency

    flagged = make_tracker(
        "my dad collapsed and isn't breathing",
        "emergency",
        extra_parse={"red_flags": [{"id": "RF001", "category": "collapse"}]},
    )
    dispatcher, _ = run_action(ActionRecordOrEmergency(), flagged, domain)
    assert dispatcher.messages[0]["response"] == "utter_emergency"
    short = make_tracker("help it's bad", "emergency")
    dispatcher, _ = run_action(ActionRecordOrEmergency(), short, domain)
    assert dispatcher.messages[0]["response"] == "utter_emergency"


def test_waiting_for_a_record_a_pasted_note_the_classifier_called_an_emergency(env, domain) -> None:
    from actions.action_record import ActionRecordOrEmergency

    dispatcher, events = run_action(
        ActionRecordOrEmergency(), make_tracker(NOTE, "emergency", sender_id="p-3"), domain
    )
    assert "metformin" in texts(dispatcher).lower()
    assert slots(events)["record_requested"] is False
