"""The analyzer on free text (real NER model) and on FHIR, and the clinic's JSON."""

from __future__ import annotations

import json
from pathlib import Path

from actions.ehr.analyzer import SCHEMA, EhrAnalyzer
from actions.ehr.readers import RecordInput

DATA = Path(__file__).parent / "data" / "fhir"
NOTE = (
    "HISTORY OF PRESENT ILLNESS: 67-year-old man with type 2 diabetes and hypertension, "
    "here with cough. He denies chest pain. History of appendicitis. His mother had breast "
    "cancer. If he develops fever he will return.\n"
    "MEDICATIONS: Metformin 500 mg twice daily, lisinopril 10 mg daily.\n"
    "ALLERGIES: Penicillin.\n"
    "LABS: Potassium 6.8 mmol/L, HbA1c 8.4%, sodium 139, SpO2 97% on room air.\n"
    "ASSESSMENT AND PLAN: Hyperkalemia; stop lisinopril, repeat potassium today."
)


def text(record: str, name: str = "note") -> RecordInput:
    return RecordInput("text", name, text=record)


def by_label(analysis) -> dict[str, object]:
    return {f.label.lower(): f for f in analysis.findings}


def test_free_text_findings_carry_offsets_context_and_sections(analyzer: EhrAnalyzer) -> None:
    analysis = analyzer.analyze(text(NOTE))
    found = by_label(analysis)
    for finding in analysis.findings:
        assert NOTE[finding.start : finding.end] == finding.label
        assert 0 < finding.confidence <= 1
    assert found["type 2 diabetes"].kind == "disease"
    assert found["type 2 diabetes"].context.asserted
    assert found["chest pain"].context.negated
    assert found["appendicitis"].context.historical
    assert found["breast cancer"].context.family
    assert found["fever"].context.hypothetical
    assert found["metformin"].kind == "chemical"
    assert found["metformin"].section == "medications"
    assert found["penicillin"].kind == "allergy"
    # Analytes with values are results, not medicines.
    assert "potassium" not in found
    assert {lab.test: lab.status for lab in analysis.labs} == {
        "potassium": "critical_high",
        "hba1c": "high",
        "sodium": "normal",
        "spo2": "normal",
    }
    names = [s.name for s in analysis.sections]
    assert "medications" in names and "allergies" in names


def test_clinic_json_is_complete_and_serialisable(analyzer: EhrAnalyzer) -> None:
    data = json.loads(json.dumps(analyzer.analyze(text(NOTE)).to_json()))
    assert data["schema"] == SCHEMA and data["source"] == "text"
    assert data["critical"] == ["potassium"]
    finding = data["findings"][0]
    assert set(finding) >= {"kind", "label", "start", "end", "context", "confidence", "source"}
    lab = next(x for x in data["labs"] if x["test"] == "potassium")
    assert lab["reference"]["citation"] and lab["raw"] in NOTE


def test_batched_equals_one_by_one(analyzer: EhrAnalyzer) -> None:
    notes = [NOTE, "Denies shortness of breath.", "Aspirin induced asthma.", NOTE[:200]]
    together = analyzer.analyze_many([text(n) for n in notes])
    alone = [analyzer.analyze(text(n)) for n in notes]
    for a, b in zip(together, alone, strict=True):
        assert [(f.label, f.start, f.kind) for f in a.findings] == [
            (f.label, f.start, f.kind) for f in b.findings
        ]


def test_long_note_windows_merge_back_by_offset(analyzer: EhrAnalyzer) -> None:
    filler = "The patient walked in the garden and talked about the weather. " * 120
    note = f"{filler}He has asthma and takes salbutamol. {filler}He denies chest pain."
    analysis = analyzer.analyze(text(note))
    labels = [(f.label.lower(), f.start) for f in analysis.findings]
    assert ("asthma", note.index("asthma")) in labels
    assert ("salbutamol", note.index("salbutamol")) in labels
    assert ("chest pain", note.index("chest pain")) in labels


def test_fhir_bundle(analyzer: EhrAnalyzer) -> None:
    bundle = json.loads((DATA / "synthea_karena_pfeffer.json").read_bytes())
    analysis = analyzer.analyze(RecordInput("fhir", "b.json", bundle=bundle))
    assert analysis.patient is not None and analysis.patient.sex == "female"
    assert all(
        f.source.split("/")[0]
        in {
            "Condition",
            "MedicationRequest",
            "MedicationStatement",
            "AllergyIntolerance",
            "Immunization",
        }
        for f in analysis.findings
    )
    assert analysis.labs and all(lab.source.startswith("Observation/") for lab in analysis.labs)


def test_child_results_get_no_adult_judgement(analyzer: EhrAnalyzer) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "c", "birthDate": "2020-01-01"}},
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": "hr",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                    "effectiveDateTime": "2024-05-01",
                    "valueQuantity": {"value": 120, "unit": "/min"},
                }
            },
        ],
    }
    analysis = analyzer.analyze(RecordInput("fhir", "child.json", bundle=bundle))
    assert [lab.status for lab in analysis.labs] == ["unknown"]
    assert any("under 18" in w for w in analysis.warnings)


def test_empty_of_findings(analyzer: EhrAnalyzer) -> None:
    analysis = analyzer.analyze(text("Seen today. Follow up in two weeks."))
    assert analysis.findings == [] and analysis.labs == []


def test_a_childs_note_gets_no_adult_ranges_but_keeps_dangerous_values(analyzer) -> None:
    note = (
        "The patient is an 11-year-old male admitted after a CT scan suggested that the child had "
        "mastoiditis. Vitals: heart rate 118, blood pressure 105/57. Potassium 7.1 mmol/L."
    )
    analysis = analyzer.analyze(text(note))
    assert analysis.patient is not None and analysis.patient.age == 11
    statuses = {lab.test: lab.status for lab in analysis.labs}
    assert statuses["heart_rate"] == "unknown" and statuses["diastolic_bp"] == "unknown"
    assert statuses["potassium"] == "critical_high"
    mastoiditis = next(f for f in analysis.findings if f.label == "mastoiditis")
    assert not mastoiditis.context.family  # "the child" is the patient here


def test_names_letters_and_titles_are_not_findings(analyzer) -> None:
    note = "Seen by Dr. Y and Dr. Parkinson.\nALLERGIES: none.\nHe has asthma."
    labels = [f.label for f in analyzer.analyze(text(note)).findings]
    assert labels == ["asthma"]
