"""The FHIR reader on trimmed Synthea bundles, hand-made edge cases and hostile input."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from actions.ehr.fhir import FhirRecord, Observation, looks_like_fhir, parse_bundle
from actions.ehr.types import Patient, RecordError

ROOT = Path(__file__).resolve().parents[3]
DATA = Path(__file__).parent / "data" / "fhir"
AS_OF = date(2025, 1, 1)


def read(name: str, as_of: date = AS_OF) -> FhirRecord:
    return parse_bundle((DATA / name).read_bytes(), as_of=as_of)


def bundle(*resources: Any) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


def coded(text: str) -> dict[str, Any]:
    return {"text": text}


def status(code: str) -> dict[str, Any]:
    return {"coding": [{"code": code}]}


def condition(ident: str, clinical: str = "active", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": ident,
        "clinicalStatus": status(clinical),
        "code": coded(f"condition {ident}"),
        "subject": {"reference": "Patient/p1"},
        **extra,
    }


def quantity(ident: str, value: Any, when: str = "2024-01-01", code: str = "2823-3") -> dict:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": "Potassium"}]},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": "mmol/L"},
    }


PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1980-06-15"}


# --- Synthea fixtures -------------------------------------------------------------------


def test_patient_age_and_sex_at_the_reference_date() -> None:
    # Karena Pfeffer, born 1994-12-21
    assert read("synthea_karena_pfeffer.json", date(2024, 12, 20)).patient == Patient(29, "female")
    assert read("synthea_karena_pfeffer.json", date(2024, 12, 21)).patient == Patient(30, "female")


def test_deceased_patient_age_is_at_death() -> None:
    # Dennis Durgan, born 1949-04-19, died 2008-11-12: 59 whatever the reference date
    assert read("synthea_dennis_durgan.json", date(2030, 1, 1)).patient == Patient(59, "male")


def test_synthea_findings() -> None:
    record = read("synthea_karena_pfeffer.json")
    assert [c.label for c in record.conditions] == [
        "Perennial allergic rhinitis with seasonal variation",
        "Hypertension",
    ]
    hypertension = record.conditions[1]
    assert hypertension.kind == "condition"
    assert hypertension.source == "Condition/f33d6e88-bba1-4fcd-86a1-b57c50d4fea4"
    assert hypertension.code == "http://snomed.info/sct|38341003"
    assert hypertension.detail is not None and len(hypertension.detail) == 10  # onset date
    assert {m.label for m in record.medications} == {
        "Loratadine 5 MG Chewable Tablet",
        "NDA020800 0.3 ML Epinephrine 1 MG/ML Auto-Injector",
        "Hydrochlorothiazide 25 MG",
        "Liletta 52 MG Intrauterine System",
    }
    assert "Allergy to soya" not in {a.label for a in record.allergies}  # inactive
    assert len(record.allergies) == 5
    assert record.warnings == []


def test_latest_immunization_per_vaccine() -> None:
    record = read("synthea_karena_pfeffer.json")
    flu = [i for i in record.immunizations if i.code == "http://hl7.org/fhir/sid/cvx|140"]
    assert len(flu) == 1  # five doses, one finding
    assert flu[0].detail == "2020-04-16"
    assert flu[0].source == "Immunization/5144ce6c-73c6-48a0-917c-94274bcf6afa"
    assert len(record.immunizations) == 4


def test_latest_observation_per_code_and_blood_pressure_components() -> None:
    record = read("synthea_karena_pfeffer.json")
    by_code = {o.code: o for o in record.observations}
    assert len(by_code) == len(record.observations)  # one per code
    weight = by_code["29463-7"]  # five weights, 2012..2020
    assert weight.resource_id == "Observation/adcb4997-3b49-4ca6-b96d-1c19fe222257"
    assert weight.value == pytest.approx(73.873100450)
    assert weight.unit == "kg"
    assert weight.effective == "2020-04-16T04:33:40+00:00"
    assert weight.category == "vital-signs"
    systolic, diastolic = by_code["8480-6"], by_code["8462-4"]
    assert (
        systolic.resource_id
        == diastolic.resource_id
        == "Observation/a05f8cfb-22de-495b-a913-5a3b015f385e"
    )
    assert systolic.value == pytest.approx(163.645937894)
    assert diastolic.value == pytest.approx(105.074895955)
    assert "55284-4" not in by_code  # the panel itself has no value


def test_labels_lose_zero_width_spaces() -> None:
    displays = {o.display for o in read("synthea_dennis_durgan.json").observations}
    assert "Protein [Mass/volume] in Serum or Plasma" in displays
    assert not any("\u200b" in d for d in displays)


# --- hand-made fixtures -----------------------------------------------------------------


def test_invalid_resources_are_skipped_with_a_warning_without_values() -> None:
    record = read("invalid_resources.json")
    assert [c.source for c in record.conditions] == ["Condition/cond-ok"]
    assert record.conditions[0].detail == "2015-06-02"
    assert record.warnings == [
        "2 resources could not be read: Observation/obs-bad (invalid value for "
        "valueQuantity.value); Condition/cond-bad (invalid value for onsetDateTime)."
    ]
    text = " ".join(record.warnings)
    for value in ("abc", "last Tuesday", "Zebra", "Sodium", "claim"):
        assert value not in text


def test_latest_goes_by_date_not_bundle_order_and_ignores_voided_values() -> None:
    record = read("invalid_resources.json")
    potassium = [o for o in record.observations if o.code == "2823-3"]
    assert potassium == [
        Observation(
            resource_id="Observation/k-new",
            code="2823-3",
            display="Potassium",
            value=5.9,
            unit="mmol/L",
            effective="2024-03-01T08:00:00+00:00",
            category="laboratory",
        )
    ]


def test_blood_pressure_panel_is_flattened() -> None:
    record = read("invalid_resources.json")
    pressure = {o.code: (o.value, o.display, o.resource_id) for o in record.observations}
    assert pressure["8480-6"] == (142.0, "Systolic blood pressure", "Observation/bp1")
    assert pressure["8462-4"] == (91.0, "Diastolic blood pressure", "Observation/bp1")
    assert "85354-9" not in pressure


def test_medications_from_contained_and_referenced_medication_resources() -> None:
    record = read("medication_references.json")
    found = {m.source: (m.label, m.detail) for m in record.medications}
    assert found == {
        "MedicationRequest/rx-fullurl": (
            "Metformin hydrochloride 500 MG Oral Tablet",
            "1 tablet twice a day with meals",
        ),
        "MedicationRequest/rx-contained": ("Lisinopril 10 mg tablet", "1 tablet in the morning"),
        "MedicationStatement/ms-ref": ("Atorvastatin 20 mg tablet", "20 mg at night"),
    }
    assert record.warnings == [
        "1 resource could not be read: MedicationRequest/rx-missing "
        "(medication not found in the bundle)."
    ]


def test_not_fhir_json() -> None:
    with pytest.raises(RecordError, match="not a FHIR record"):
        read("not_fhir.json")
    assert not looks_like_fhir(json.loads((DATA / "not_fhir.json").read_text()))


def test_a_patient_resource_alone_is_not_a_bundle() -> None:
    with pytest.raises(RecordError, match=r"not a FHIR Bundle \(resourceType is 'Patient'\)"):
        read("patient_only.json")
    assert looks_like_fhir(json.loads((DATA / "patient_only.json").read_text()))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"resourceType": "Bundle",\n "entry": [}', r"not valid JSON \(line 2, column 12"),
        (b"\xff\xfe\x00junk", "not UTF-8"),
        ("[1, 2]", "not a FHIR record"),
        ([1, 2], "not a FHIR record"),
        ('{"resourceType": ""}', "not a FHIR record"),
        ('{"resourceType": "<script>"}', r"not a FHIR Bundle \(resourceType is not 'Bundle'\)"),
        ('{"resourceType": "Bundle", "entry": {}}', "'entry' field is not a list"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_unreadable_files(data: str | bytes, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        parse_bundle(data)


# --- statuses ---------------------------------------------------------------------------


def test_only_current_conditions() -> None:
    record = parse_bundle(
        bundle(
            condition("active"),
            condition("relapse", "relapse"),
            condition("resolved", "resolved"),
            condition("abated", abatementDateTime="2020-01-01"),
            condition("refuted", verificationStatus=status("refuted")),
            condition("onset-period", onsetPeriod={"start": "2019-03-04T10:00:00Z"}),
        )
    )
    assert [c.source for c in record.conditions] == [
        "Condition/active",
        "Condition/relapse",
        "Condition/onset-period",
    ]
    assert record.conditions[2].detail == "2019-03-04"
    assert record.patient == Patient()  # a bundle without a Patient is fine


def test_allergy_statuses_and_reactions() -> None:
    def allergy(ident: str, **extra: Any) -> dict[str, Any]:
        base = {
            "resourceType": "AllergyIntolerance",
            "id": ident,
            "code": coded(f"allergy {ident}"),
        }
        return {**base, "patient": {"reference": "Patient/p1"}, **extra}

    record = parse_bundle(
        bundle(
            allergy("no-status"),
            allergy("active", clinicalStatus=status("active")),
            allergy("inactive", clinicalStatus=status("inactive")),
            allergy("error", verificationStatus=status("entered-in-error")),
            allergy(
                "reaction",
                reaction=[
                    {"manifestation": [coded("Hives"), coded("Wheezing")]},
                    {"manifestation": [coded("Hives")]},
                ],
            ),
        )
    )
    assert [(a.source, a.detail) for a in record.allergies] == [
        ("AllergyIntolerance/no-status", None),
        ("AllergyIntolerance/active", None),
        ("AllergyIntolerance/reaction", "Hives, Wheezing"),
    ]


def test_patient_edge_cases() -> None:
    dead = {**PATIENT, "deceasedBoolean": True}
    assert parse_bundle(bundle(dead)).patient == Patient(None, "male")
    ancient = {**PATIENT, "birthDate": "1700-01-01"}
    record = parse_bundle(bundle(ancient), as_of=AS_OF)
    assert record.patient.age is None
    assert record.warnings == ["Patient/p1: the birth date gives an impossible age; age left out."]
    partial = {**PATIENT, "birthDate": "1980"}
    assert parse_bundle(bundle(partial), as_of=AS_OF).patient.age == 45
    odd = {**PATIENT, "gender": "robot"}
    assert parse_bundle(bundle(odd)).patient.sex is None
    with pytest.raises(RecordError, match="2 patients"):
        parse_bundle(bundle(PATIENT, {**PATIENT, "id": "p2"}), as_of=AS_OF)


# --- hostile input ----------------------------------------------------------------------


def test_hostile_entries_are_skipped_not_fatal() -> None:
    data = bundle(PATIENT, quantity("ok", 4.2))
    data["entry"] += [
        "a string",
        None,
        7,
        {"resource": "not an object"},
        {"resource": {"id": "x"}},
        {"request": {"method": "DELETE", "url": "Observation/gone"}},
        {"resource": {"resourceType": "Observation", "id": "Jane Doe 555-1234"}},
        {"resource": {"resourceType": ["Observation"]}},
        {"resource": {"resourceType": "Claim", "id": "c", "status": {"weird": True}}},
        {"resource": quantity("nan", float("nan"))},
        {"resource": quantity("inf", float("inf"))},
        {"resource": quantity("text", "12.5 mmol")},
        {"resource": quantity("huge", "1e999")},
        {"resource": quantity("list", [1, 2])},
        {"resource": {**quantity("extra", 1), "secretField": "value"}},
    ]
    record = parse_bundle(data)
    assert [o.resource_id for o in record.observations] == ["Observation/ok"]
    assert len(record.warnings) == 1
    warning = record.warnings[0]
    assert warning.startswith(
        "13 resources could not be read: entry 3 (not an object); entry 4 (not an object); "
        "entry 5 (not an object); entry 6 (not a FHIR resource); entry 7 (not a FHIR resource); "
        "and 8 more."
    )
    assert "Jane" not in warning and "555" not in warning


SECRET = "Jane Doe 555-1234"


@pytest.mark.parametrize(
    ("resource", "reason"),
    [
        (quantity("nan", float("nan")), "Observation/nan (invalid value for valueQuantity.value)"),
        # a valid FHIR decimal, but too large for a float
        (quantity("huge", "1e999"), "Observation/huge (invalid value for valueQuantity.value)"),
        (quantity("text", SECRET), "Observation/text (invalid value for valueQuantity.value)"),
        (
            {**quantity("extra", 1), "secretField": SECRET},
            "Observation/extra (unknown field secretField)",
        ),
        ({**quantity("key", 1), SECRET: 1}, "Observation/key (unknown field)"),
        ({**quantity("id", 1), "id": SECRET}, "Observation in entry 3 (invalid value for id)"),
        (
            {**quantity("x", 1), "contained": [{"resourceType": SECRET, "id": "c"}]},
            "Observation/x (not a valid Observation)",  # fhir_core raises KeyError here
        ),
    ],
)
def test_warnings_name_paths_never_values(resource: dict, reason: str) -> None:
    record = parse_bundle(bundle(PATIENT, quantity("ok", 1.0), resource))
    assert [o.resource_id for o in record.observations] == ["Observation/ok"]
    assert record.warnings == [f"1 resource could not be read: {reason}."]


def test_huge_integers_in_the_file_skip_one_resource() -> None:
    text = json.dumps(bundle(PATIENT, quantity("ok", 1.0), quantity("big", 0)))
    text = text.replace('"value": 0', '"value": ' + "9" * 5000)
    record = parse_bundle(text)
    assert [o.resource_id for o in record.observations] == ["Observation/ok"]
    assert record.warnings == [
        "1 resource could not be read: Observation/big (invalid value for valueQuantity.value)."
    ]


def test_nan_literal_in_the_file_skips_one_resource() -> None:
    good = json.dumps(quantity("ok", 1.0))
    bad = json.dumps(quantity("nan", 0)).replace('"value": 0', '"value": NaN')
    text = f'{{"resourceType": "Bundle", "entry": [{{"resource": {good}}}, {{"resource": {bad}}}]}}'
    record = parse_bundle(text)
    assert [o.resource_id for o in record.observations] == ["Observation/ok"]
    assert "Observation/nan" in record.warnings[0]


def test_every_resource_invalid_is_an_error() -> None:
    with pytest.raises(RecordError, match="None of the 2 resources in this FHIR Bundle"):
        parse_bundle(bundle(quantity("a", "abc"), {"resourceType": "Patient", "gender": 5}))


def test_empty_and_unused_only_bundles_are_empty_records() -> None:
    for data in ({"resourceType": "Bundle"}, bundle({"resourceType": "Claim", "id": "c"})):
        record = parse_bundle(data)
        assert record.patient == Patient()
        assert record.conditions == record.observations == record.warnings == []


# --- all 40 Synthea bundles, checked against plain dict walking --------------------------


def shared_bundles() -> list[Path]:
    shared = Path(os.environ.get("HEALTHBOT_SHARED_DATA", ROOT.parent / "shared" / "data"))
    folder = shared / "synthea-fhir-r4"
    if not folder.is_dir():
        pytest.skip(f"Synthea bundles not found in {folder}")
    return sorted(folder.glob("*.json"))


def first_code(concept: dict[str, Any] | None) -> str | None:
    codings = (concept or {}).get("coding") or [{}]
    return codings[0].get("code")


def expected_ids(data: dict[str, Any]) -> dict[str, set[str]]:
    """Current conditions, medicines and allergies, computed without actions.ehr.fhir."""
    found: dict[str, set[str]] = {"conditions": set(), "medications": set(), "allergies": set()}
    for entry in data["entry"]:
        resource = entry["resource"]
        kind, ref = resource["resourceType"], f"{resource['resourceType']}/{resource['id']}"
        if kind == "Condition":
            abated = any(key.startswith("abatement") for key in resource)
            active = first_code(resource.get("clinicalStatus")) in {
                "active",
                "recurrence",
                "relapse",
            }
            if active and not abated:
                found["conditions"].add(ref)
        elif kind == "MedicationRequest":
            if resource["status"] == "active" and resource["intent"] in {"order", "plan"}:
                found["medications"].add(ref)
        elif kind == "MedicationStatement" and resource["status"] == "active":
            found["medications"].add(ref)
        elif kind == "AllergyIntolerance":
            clinical = first_code(resource.get("clinicalStatus"))
            verified = first_code(resource.get("verificationStatus"))
            if clinical in {None, "active"} and verified not in {"entered-in-error", "refuted"}:
                found["allergies"].add(ref)
    return found


def test_all_synthea_bundles_match_plain_json_walking() -> None:
    paths = shared_bundles()
    assert len(paths) == 40
    totals = {"conditions": 0, "medications": 0, "allergies": 0}
    for path in paths:
        raw = path.read_bytes()
        record = parse_bundle(raw, as_of=AS_OF)
        assert record.warnings == [], path.name
        assert record.patient.sex in {"male", "female"}
        assert record.patient.age is not None and 0 <= record.patient.age <= 110
        expected = expected_ids(json.loads(raw))
        for name, ids in expected.items():
            findings = getattr(record, name)
            assert {f.source for f in findings} == ids, (path.name, name)
            assert all(f.label for f in findings)
            totals[name] += len(ids)
        codes = [o.code for o in record.observations]
        assert len(codes) == len(set(codes)), path.name
    assert totals == {"conditions": 108, "medications": 72, "allergies": 36}


def test_medication_named_only_by_the_reference_display() -> None:
    order = {
        "resourceType": "MedicationRequest",
        "id": "rx",
        "status": "active",
        "intent": "plan",
        "subject": {"reference": "Patient/p1"},
        "medicationReference": {"display": " Aspirin  81 mg "},
    }
    assert [m.label for m in parse_bundle(bundle(order)).medications] == ["Aspirin 81 mg"]
