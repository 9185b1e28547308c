"""The patient summary: complete lists for FHIR records, critical results first, plain words."""

from __future__ import annotations

import json
import re
from typing import Any

from actions.ehr.analyzer import Analysis, EhrAnalyzer
from actions.ehr.readers import RecordInput
from actions.ehr.summary import KbLink, clean_label, render, summarise
from actions.ehr.types import Finding, LabValue, Range
from tests.actions.ehr.test_fhir import expected_ids, shared_bundles

# The FHIR path never loads the NER model, so this analyzer costs nothing to build.
FHIR_ONLY = EhrAnalyzer(model_dir=__import__("pathlib").Path("/nonexistent"))


def label_of(resource: dict[str, Any], key: str) -> str:
    concept = resource.get(key) or {}
    text = concept.get("text") or (concept.get("coding") or [{}])[0].get("display") or ""
    return re.sub(r"\s+", " ", text.replace("\u200b", "")).strip()


def expected_labels(data: dict[str, Any]) -> dict[str, set[str]]:
    """Labels of the active resources, computed from the JSON without actions.ehr."""
    ids = expected_ids(data)
    by_ref = {
        f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"]
        for e in data["entry"]
    }
    keys = {"conditions": "code", "medications": "medicationCodeableConcept", "allergies": "code"}
    return {
        name: {clean_label(label_of(by_ref[ref], keys[name])).lower() for ref in refs}
        for name, refs in ids.items()
    }


def test_all_synthea_summaries_list_exactly_the_active_resources() -> None:
    for path in shared_bundles():
        data = json.loads(path.read_bytes())
        analysis = FHIR_ONLY.analyze(RecordInput("fhir", path.name, bundle=data))
        summary = summarise(analysis)
        expected = expected_labels(data)
        for name in ("conditions", "medications", "allergies"):
            got = {label.lower() for label in getattr(summary, name)}
            assert got == expected[name], (path.name, name)
        text = "\n".join(render(summary, path.name, "112")).lower()
        for labels in expected.values():
            for label in labels:
                assert label in text, (path.name, label)


def lab(test: str, value: float, status: str, unit: str = "mmol/L") -> LabValue:
    return LabValue(
        test=test,
        name=test.capitalize(),
        value=value,
        unit=unit,
        raw=f"{test} {value}",
        status=status,  # type: ignore[arg-type]
        source="text",
        reference=Range(3.5, 5.1, 2.5, 6.5, unit, "https://example.org/ranges"),
    )


def test_critical_results_come_first_as_emergency_advice() -> None:
    analysis = Analysis("note", "text", labs=[lab("potassium", 6.9, "critical_high")])
    messages = render(summarise(analysis), "note", "112")
    assert messages[0].startswith("⚠️")
    assert "Potassium 6.9 mmol/L: dangerously high (usual 3.5–5.1 mmol/L)" in messages[0]
    assert "call 112" in messages[0]


def test_out_of_range_results_and_questions() -> None:
    analysis = Analysis(
        "note",
        "text",
        findings=[Finding("disease", "asthma", "text", 0, 6)],
        labs=[lab("potassium", 5.4, "high"), lab("sodium", 139, "normal")],
    )
    summary = summarise(analysis)
    assert [x.test for x in summary.out_of_range] == ["potassium"]
    messages = render(summary, "note", "112")
    assert not messages[0].startswith("⚠️")
    assert "Potassium 5.4 mmol/L: high" in messages[0] and "Sodium" not in messages[0]
    assert "What does my potassium result mean for me" in messages[1]
    assert "watch for with asthma" in messages[1]


def test_nothing_found_says_so() -> None:
    messages = render(summarise(Analysis("scan", "text")), "scan", "112")
    assert "couldn't find conditions" in messages[0]


class FakeLinker:
    def link(self, condition: str) -> KbLink | None:
        return (
            KbLink("Asthma", "https://medlineplus.gov/asthma.html")
            if "asthma" in condition.lower()
            else None
        )


def test_conditions_link_to_the_knowledge_base() -> None:
    analysis = Analysis("note", "text", findings=[Finding("disease", "Asthma", "text", 0, 6)])
    summary = summarise(analysis, FakeLinker())
    assert summary.links == {"Asthma": KbLink("Asthma", "https://medlineplus.gov/asthma.html")}
    assert "https://medlineplus.gov/asthma.html" in render(summary, "note", "112")[-1]


def test_semantic_tags_are_dropped() -> None:
    assert clean_label("Hypertension  (disorder)") == "Hypertension"
    assert clean_label("Stress (finding)") == "Stress"
    assert clean_label("Fracture (of) wrist") == "Fracture (of) wrist"


def test_a_condition_in_the_history_and_current_is_listed_once() -> None:
    from actions.ehr.types import ContextFlags

    findings = [
        Finding(
            "disease", "Atrial fibrillation", "text", 0, 19, context=ContextFlags(historical=True)
        ),
        Finding("disease", "atrial fibrillation", "text", 40, 59),
        Finding("disease", "appendicitis", "text", 70, 82, context=ContextFlags(historical=True)),
    ]
    summary = summarise(Analysis("note", "text", findings=findings))
    assert summary.conditions == ["atrial fibrillation"]
    assert summary.past_conditions == ["appendicitis"]
