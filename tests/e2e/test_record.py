"""A health record end to end: asked for, pasted or uploaded through the gateway, explained by
the real action server (BERT NER, ConText, labs, FHIR), forgotten on request."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from .conftest import Edge, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FHIR = Path(__file__).resolve().parents[1] / "actions" / "ehr" / "data" / "fhir"
NOTE = (
    "Discharge summary. HPI: admitted with community acquired pneumonia, treated with "
    "amoxicillin. She denies chest pain. Past medical history: asthma.\n"
    "Allergies: codeine.\nLabs: sodium 131 mmol/L, SpO2 95% on room air."
)


def user() -> str:
    return f"patient-{uuid.uuid4().hex[:10]}"


def say(edge: Edge, who: str, text: str) -> str:
    response = edge.api("/api/v1/messages", json={"user": who, "text": text})
    assert response.status_code == 200, response.text
    return " ".join(reply["text"] or "" for reply in response.json()["replies"])


def upload(edge: Edge, who: str, name: str, data: bytes, mime: str) -> str:
    files = {"file": (name, data, mime)}
    response = edge.api("/api/v1/uploads", data={"user": who}, files=files)
    assert response.status_code == 200, response.text
    return " ".join(reply["text"] or "" for reply in response.json()["replies"])


def test_asked_then_pasted_note_is_explained(edge: Edge) -> None:
    who = user()
    asked = say(edge, who, "can you explain my discharge letter")
    assert "paste the text" in asked
    said = say(edge, who, NOTE).lower()
    assert "pneumonia" in said and "amoxicillin" in said and "codeine" in said
    assert "sodium 131 mmol/l: low" in said
    assert "chest pain" in said  # listed as not present, never as a condition
    assert "conditions: community acquired pneumonia" in said or "pneumonia" in said
    assert "diagnosis" in said


def test_the_clinic_fetches_the_findings_as_json(edge: Edge) -> None:
    who = user()
    data = sorted(FHIR.glob("synthea_*.json"))[0].read_bytes()
    response = edge.api("/api/v1/uploads", data={"user": who}, files={"file": ("r.json", data)})
    assert response.status_code == 200, response.text
    [analysis_id] = response.json()["analyses"]
    path = f"/api/v1/analyses/{analysis_id}"
    found = edge.api(path, method="GET", params={"user": who})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["schema"] == "healthbot.ehr.analysis/v1" and body["source"] == "fhir"
    assert all(f["source"].split("/")[0] for f in body["findings"])
    assert edge.api(path, method="GET", params={"user": user()}).status_code == 404
    assert (
        edge.api("/api/v1/analyses/..%2F..%2Fx", method="GET", params={"user": who}).status_code
        == 404
    )
    # Forget me deletes it.
    edge.api("/api/v1/messages", json={"user": who, "text": "/forget_me"})
    edge.api("/api/v1/messages", json={"user": who, "text": "/affirm"})
    assert edge.api(path, method="GET", params={"user": who}).status_code == 404


def test_a_fhir_bundle_upload_lists_its_active_conditions(edge: Edge) -> None:
    fixture = sorted(FHIR.glob("synthea_*.json"))[0]
    data = fixture.read_bytes()
    bundle = json.loads(data)
    active = [
        e["resource"]["code"]["text"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Condition"
        and e["resource"]["clinicalStatus"]["coding"][0]["code"] == "active"
        and not any(k.startswith("abatement") for k in e["resource"])
    ]
    said = upload(edge, user(), "record.json", data, "application/json")
    assert "received your JSON document" in said
    for condition in active:
        assert condition.split(" (")[0] in said, condition


def test_waiting_for_a_record_can_be_stopped(edge: Edge) -> None:
    who = user()
    say(edge, who, "can you go through my lab results")
    assert "won't look at a record" in say(edge, who, "stop")


def test_a_bad_file_gets_a_clear_message_and_the_server_stays_up(edge: Edge, stack: Stack) -> None:
    who = user()
    said = upload(edge, who, "results.json", b'{"hello": "world"}', "application/json")
    assert "not a FHIR" in said
    assert "paste the text" in say(edge, who, "please explain my test results")


def test_a_5_mb_note_is_refused_with_the_reason_and_the_conversation_goes_on(edge: Edge) -> None:
    who = user()
    note = b"Seen in clinic today for a routine review of her blood pressure. " * 80_000
    assert len(note) > 5_000_000
    said = upload(edge, who, "huge-note.txt", note, "text/plain")
    assert "characters at a time" in said
    assert "paste the text" in say(edge, who, "can you explain my clinic letter")
