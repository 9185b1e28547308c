"""Lab and vital values: text phrasings, units, ranges, criticals, FHIR, the table itself."""

from __future__ import annotations

import copy
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions.ehr import labs as L
from actions.ehr.labs import RangeTableError, classify, extract_from_text, from_observation

# --- text: every phrasing from the issue -------------------------------------------------

PHRASINGS = [
    # text, test, value in canonical unit, canonical unit, status
    ("K 6.8", "potassium", 6.8, "mmol/L", "critical_high"),
    ("K+ 6.8 mmol/L", "potassium", 6.8, "mmol/L", "critical_high"),
    ("potassium of 6.8", "potassium", 6.8, "mmol/L", "critical_high"),
    ("Potassium: 5.9 mEq/L", "potassium", 5.9, "mmol/L", "high"),
    ("Na 128", "sodium", 128, "mmol/L", "low"),
    ("HbA1c 8.2%", "hba1c", 8.2, "%", "high"),
    ("A1c of 9.1", "hba1c", 9.1, "%", "high"),
    ("hemoglobin A1c 64 mmol/mol", "hba1c", 8.0, "%", "high"),
    ("glucose 250 mg/dL", "glucose", 250, "mg/dL", "high"),
    ("blood sugar 14 mmol/L", "glucose", 252, "mg/dL", "high"),
    ("HR 48", "heart_rate", 48, "/min", "low"),
    ("pulse 112", "heart_rate", 112, "/min", "high"),
    ("heart rate 72 bpm", "heart_rate", 72, "/min", "normal"),
    ("temp 101.2 F", "temperature", 38.4, "Cel", "high"),
    ("temperature 38.9 °C", "temperature", 38.9, "Cel", "high"),
    ("T 37.1", "temperature", 37.1, "Cel", "normal"),
    ("SpO2 86%", "spo2", 86, "%", "critical_low"),
    ("eGFR 28", "egfr", 28, "mL/min/{1.73_m2}", "low"),
    ("GFR 45 mL/min/1.73m2", "egfr", 45, "mL/min/{1.73_m2}", "low"),
    ("LDL 162", "ldl", 162, "mg/dL", "high"),
    ("LDL-C 4.2 mmol/L", "ldl", 162, "mg/dL", "high"),
    ("Hgb 6.8", "haemoglobin", 6.8, "g/dL", "critical_low"),
    ("Hb 13.2 g/dL", "haemoglobin", 13.2, "g/dL", "normal"),
    ("haemoglobin 98 g/L", "haemoglobin", 9.8, "g/dL", "low"),
    ("BMI 31.4", "bmi", 31.4, "kg/m2", "high"),
    ("BMI of 31.4 kg/m2", "bmi", 31.4, "kg/m2", "high"),
    ("RR 24", "respiratory_rate", 24, "/min", "high"),
]


@pytest.mark.parametrize(("text", "test", "value", "unit", "status"), PHRASINGS)
def test_each_phrasing_is_read_with_value_unit_status_and_span(text, test, value, unit, status):
    [lab] = extract_from_text(text)
    assert (lab.test, lab.value, lab.unit, lab.status) == (test, value, unit, status)
    assert (lab.start, lab.end) == (0, len(text))
    assert lab.raw == text
    assert lab.source == "text"
    assert lab.reference is not None and lab.reference.unit == unit


@pytest.mark.parametrize(
    ("text", "span"),
    [("O2 sat 88% on room air", "O2 sat 88%"), ("sat 95% RA", "sat 95%")],
)
def test_oxygen_saturation_phrasings_stop_at_the_unit(text, span):
    [lab] = extract_from_text(text)
    assert lab.test == "spo2"
    assert text[lab.start : lab.end] == span
    assert lab.status == ("critical_low" if "88" in text else "normal")


@pytest.mark.parametrize(
    ("text", "systolic", "diastolic", "status"),
    [
        ("BP 182/124", 182, 124, "critical_high"),
        ("blood pressure 120/80 mmHg", 120, 80, "normal"),
    ],
)
def test_blood_pressure_gives_systolic_and_diastolic_with_one_span(
    text, systolic, diastolic, status
):
    top, bottom = extract_from_text(text)
    assert (top.test, top.value, top.unit) == ("systolic_bp", systolic, "mm[Hg]")
    assert (bottom.test, bottom.value, bottom.unit) == ("diastolic_bp", diastolic, "mm[Hg]")
    assert top.status == bottom.status == status
    assert (top.start, top.end) == (bottom.start, bottom.end) == (0, len(text))


def test_offsets_point_into_a_longer_note():
    note = (
        "72-year-old man on metoprolol 50 mg daily.\n"
        "Labs today: K+ 6.8 mmol/L (ref 3.5-5.0), Na 128. Vitals: BP 182/124, HR 48, T 37.1,\n"
        "SpO2 86% on room air. Plan: repeat in 2 times 48 hr."
    )
    labs = extract_from_text(note)
    spans = [note[lab.start : lab.end] for lab in labs]
    assert spans == [
        "K+ 6.8 mmol/L",
        "Na 128",
        "BP 182/124",
        "BP 182/124",
        "HR 48",
        "T 37.1",
        "SpO2 86%",
    ]
    assert [lab.test for lab in labs if lab.critical] == [
        "potassium",
        "systolic_bp",
        "diastolic_bp",
        "spo2",
    ]


def test_vitals_run_into_their_numbers_are_read():
    text = "EXAM: T36.0, BP121/85, HR69 RR16, temperature of 100.4 degrees Fahrenheit"
    labs = extract_from_text(text)
    assert [(lab.test, lab.value) for lab in labs] == [
        ("temperature", 36.0),
        ("systolic_bp", 121),
        ("diastolic_bp", 85),
        ("heart_rate", 69),
        ("respiratory_rate", 16),
        ("temperature", 38.0),
    ]
    assert text[labs[-1].start : labs[-1].end] == "temperature of 100.4 degrees Fahrenheit"


def test_serum_values_next_to_a_csf_result_are_still_read():
    text = "CSF 1/19/93: glucose 102 (serum glucose 90). Glucose 95"
    assert [(lab.test, lab.value) for lab in extract_from_text(text)] == [
        ("glucose", 90),
        ("glucose", 95),
    ]


def test_values_written_back_to_back_are_all_read():
    labs = extract_from_text("HR 72 BP 120/80 RR 16 HR 72 HR 80")
    assert [(lab.test, lab.value) for lab in labs] == [
        ("heart_rate", 72),
        ("systolic_bp", 120),
        ("diastolic_bp", 80),
        ("respiratory_rate", 16),
        ("heart_rate", 72),
        ("heart_rate", 80),
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("K 6.8 (normal 3.5-5.0)", 6.8),
        ("Potassium 5.9 mmol/L 3.5-5.1", 5.9),
        ("K 6.8 [3.5 - 5.0]", 6.8),
        ("potassium 4.1 (3.5 to 5.0)", 4.1),
    ],
)
def test_only_the_first_value_is_kept_when_a_reference_range_follows(text, value):
    assert [(lab.test, lab.value) for lab in extract_from_text(text)] == [("potassium", value)]


# --- text: what must not be read ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "metoprolol 50 mg daily",  # a dose
        "take 2 times a day",
        "72-year-old man",  # an age
        "HR 72-year-old",
        "seen on 12/03/2023",  # dates
        "glucose 2023-05-01",
        "BP 12/03/2023",
        "K 12/03",
        "2. Potassium 3. Sodium 4. Glucose",  # list numbering
        "1) K 2) Na",
        "OK 6.8",  # "K" inside other words
        "KCl 20 mEq",
        "K-Dur 20",
        "Vitamin K 5",
        "vitamin K 5 mg",
        "potassium chloride 20 mEq",
        "potassium 20 mEq PO daily",  # doses of potassium
        "K 8 mEq PO",
        "Potassium 3.5-5.0",  # a reference range, not a value
        "Potassium 3.5 to 5.0",
        "normal 3.5-5.0",
        "48 hr",  # hours, not heart rate
        "for 48 HR 5",
        "HR 72 hrs later",
        "sat 90 minutes",
        "K 68",  # implausible
        "SpO2 150%",
        "Hb 2",
        "BP 120",  # a pair name with one value, a single test with a pair
        "HR 120/80",
        "BP 80/120",  # diastolic above systolic
        "K 6.8 mg/dL",  # a unit of another kind
        "T 45 ng/L",
        "troponin T 45 ng/L",
        "Urine glucose 250 mg/dL",  # not a blood value
        "non-HDL 130",
        "target LDL 70",
        "BP goal 130/80",
        "glucose 30",  # plausible both as mg/dL and mmol/L: no unit can be inferred
        "weight 80",
        "EGFR mutation",
        "T2DM",
        "T 2 diabetes",
        "CSF analysis showed: Glucose 16, Protein 99",  # another body fluid
        "CSF: WBC 5.2, glucose 16",
        "OD: K1 35.875 K2 35.875",  # keratometry and bacterial antigens are labels
        "E. coli K1: negative",
        "Right atrial saturation is 76.3%",  # not a resting value
        "maximum heart rate of 142",
        "lowest oxygen saturation 89%",
        "fetal heart rate 140",
        "2020-12-01T20:43:11",  # a time stamp, vertebrae, MRI sequences, thyroid tests
        "T12 vertebra",
        "T1 images",
        "T4 12.5",
        "k 6.8",  # abbreviations are case-sensitive
        "hr 48",
        "",
    ],
)
def test_non_matches(text):
    assert extract_from_text(text) == []


# --- units --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("test", "value", "unit", "expected"),
    [
        ("glucose", 3.9, "mmol/L", 70),  # boundaries land as the source states them
        ("glucose", 5.5, "mmol/L", 99),
        ("glucose", 5.6, "mmol/L", 101),
        ("glucose", 7.0, "mmol/l", 126),
        ("total_cholesterol", 5.2, "mmol/L", 201),
        ("ldl", 2.6, "mmol/L", 101),
        ("hdl", 1.0, "mmol/L", 39),
        ("triglycerides", 1.7, "mmol/L", 151),
        ("haemoglobin", 135, "g/L", 13.5),
        ("hba1c", 48, "mmol/mol", 6.5),
        ("hba1c", 42, "mmol/mol", 6.0),
        ("creatinine", 88.4, "µmol/L", 1.0),
        ("creatinine", 88.4, "umol/L", 1.0),
        ("creatinine", 88.4, "μmol/L", 1.0),
        ("temperature", 98.6, "[degF]", 37.0),
        ("temperature", 104, "°F", 40.0),
        ("temperature", 37.5, "°C", 37.5),
        ("weight", 180, "lb", 81.6),
        ("height", 1.75, "m", 175.0),
        ("potassium", 5.9, "mEq/L", 5.9),
    ],
)
def test_unit_conversions(test, value, unit, expected):
    lab = classify(test, value, unit)
    assert lab is not None
    assert lab.value == pytest.approx(expected)
    assert lab.unit == L.load_ranges()[test].unit


@pytest.mark.parametrize(
    ("test", "value", "unit"),
    [
        ("glucose", 90, "mg/dL"),
        ("potassium", 4.1, "mmol/L"),
        ("systolic_bp", 120, "mm[Hg]"),
        ("heart_rate", 70, "/min"),
        ("spo2", 97, "%"),
        ("bmi", 22, "kg/m2"),
        ("temperature", 37, "Cel"),
        ("temperature", 98.6, "[degF]"),
        ("egfr", 90, "mL/min/{1.73_m2}"),
        ("haemoglobin", 14, "g/dL"),
    ],
)
def test_ucum_units_are_accepted(test, value, unit):
    lab = classify(test, value, unit)
    assert lab is not None and lab.status == "normal"


@pytest.mark.parametrize(
    ("test", "value", "unit"),
    [
        ("potassium", 5.0, "mg/dL"),  # incompatible
        ("glucose", 100, "mmHg"),
        ("haemoglobin", 13, "furlongs"),  # unknown
        ("spo2", 95, ""),  # classify never guesses a unit
        ("no_such_test", 1, "mg/dL"),
        ("potassium", 68, "mmol/L"),  # implausible
        ("potassium", float("nan"), "mmol/L"),
    ],
)
def test_unknown_incompatible_or_implausible_gives_none(test, value, unit):
    assert classify(test, value, unit) is None


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        ("glucose 250", "mg/dL", 250),
        ("glucose 14", "mg/dL", 252),  # only plausible as mmol/L
        ("temp 101.2", "Cel", 38.4),  # only plausible as °F
        ("temp 38.9", "Cel", 38.9),  # only plausible as °C
        ("T 98.6", "Cel", 37.0),
        ("Cr 1.2", "mg/dL", 1.2),
        ("creatinine 110", "mg/dL", 1.24),  # only plausible as µmol/L
        ("HDL 1.2", "mg/dL", 46),
        ("A1c 64", "%", 8.0),  # only plausible as mmol/mol
    ],
)
def test_a_missing_unit_is_inferred_only_when_one_unit_fits(text, unit, value):
    [lab] = extract_from_text(text)
    assert (lab.unit, lab.value) == (unit, pytest.approx(value))


# --- ranges and critical limits -----------------------------------------------------------


@pytest.mark.parametrize(
    ("test", "value", "unit", "status"),
    [
        ("potassium", 6.5, "mmol/L", "critical_high"),  # >= 6.5 is critical
        ("potassium", 6.4, "mmol/L", "high"),
        ("potassium", 2.5, "mmol/L", "critical_low"),  # RCPath: <= 2.5
        ("potassium", 2.6, "mmol/L", "low"),
        ("potassium", 4.2, "mmol/L", "normal"),
        ("spo2", 89, "%", "critical_low"),  # < 90 is critical
        ("spo2", 90, "%", "low"),
        ("spo2", 96, "%", "normal"),
        ("sodium", 120, "mmol/L", "critical_low"),
        ("sodium", 121, "mmol/L", "low"),
        ("sodium", 160, "mmol/L", "critical_high"),
        ("glucose", 50, "mg/dL", "critical_low"),
        ("glucose", 2.7, "mmol/L", "critical_low"),
        ("glucose", 400, "mg/dL", "high"),
        ("glucose", 401, "mg/dL", "critical_high"),
        ("haemoglobin", 7.0, "g/dL", "critical_low"),
        ("haemoglobin", 7.1, "g/dL", "low"),
        ("systolic_bp", 180, "mmHg", "critical_high"),
        ("systolic_bp", 179, "mmHg", "high"),
        ("systolic_bp", 90, "mmHg", "critical_low"),
        ("systolic_bp", 139, "mmHg", "normal"),
        ("diastolic_bp", 120, "mmHg", "critical_high"),
        ("diastolic_bp", 90, "mmHg", "high"),
        ("heart_rate", 40, "/min", "critical_low"),
        ("heart_rate", 130, "/min", "high"),
        ("heart_rate", 131, "/min", "critical_high"),
        ("respiratory_rate", 25, "/min", "critical_high"),
        ("respiratory_rate", 8, "/min", "critical_low"),
        ("temperature", 40.0, "Cel", "critical_high"),
        ("temperature", 39.9, "Cel", "high"),
        ("temperature", 34.9, "Cel", "critical_low"),
        ("temperature", 35.0, "Cel", "low"),
        ("temperature", 38.0, "Cel", "high"),
        ("egfr", 14, "mL/min/{1.73_m2}", "critical_low"),
        ("egfr", 15, "mL/min/{1.73_m2}", "low"),
        ("egfr", 95, "mL/min", "normal"),
        ("hba1c", 5.6, "%", "normal"),
        ("hba1c", 5.7, "%", "high"),
        ("bmi", 18.4, "kg/m2", "low"),
        ("bmi", 25.0, "kg/m2", "high"),
        ("weight", 70, "kg", "unknown"),
    ],
)
def test_status_against_range_and_critical_limits(test, value, unit, status):
    lab = classify(test, value, unit)
    assert lab is not None
    assert lab.status == status
    assert lab.critical == status.startswith("critical")


def test_critical_text_values_are_flagged_for_the_emergency_advice():
    labs = extract_from_text("K 6.5, K 6.4, SpO2 89%, SpO2 90%")
    assert [(lab.value, lab.status, lab.critical) for lab in labs] == [
        (6.5, "critical_high", True),
        (6.4, "high", False),
        (89, "critical_low", True),
        (90, "low", False),
    ]


@pytest.mark.parametrize(
    ("sex", "value", "status", "low", "high"),
    [
        (None, 13.2, "normal", 12.1, 17.2),  # unknown sex: the wider envelope
        ("male", 13.2, "low", 13.8, 17.2),
        ("female", 13.2, "normal", 12.1, 15.1),
        ("female", 16.0, "high", 12.1, 15.1),
        ("male", 16.0, "normal", 13.8, 17.2),
        ("unknown", 12.5, "normal", 12.1, 17.2),
        ("M", 12.5, "low", 13.8, 17.2),
    ],
)
def test_haemoglobin_range_depends_on_sex(sex, value, status, low, high):
    lab = classify("haemoglobin", value, "g/dL", sex=sex)
    assert lab is not None and lab.reference is not None
    assert lab.status == status
    assert (lab.reference.low, lab.reference.high) == (low, high)


def test_reference_carries_limits_and_citation():
    lab = classify("potassium", 6.8, "mmol/L")
    assert lab is not None and lab.reference is not None
    ref = lab.reference
    assert (ref.low, ref.high, ref.critical_low, ref.critical_high) == (3.7, 5.2, 2.5, 6.5)
    assert "https://" in ref.citation
    assert lab.to_json()["reference"]["unit"] == "mmol/L"


# --- FHIR ---------------------------------------------------------------------------------

# Real values copied from the Synthea R4 sample bundles (smart-on-fhir/generated-sample-data):
# code, display, value, unit, observation id, effective, patient gender, expected (test, value,
# status). 33914-3 appears there in both "mL/min/{1.73_m2}" and plain "mL/min"; blood pressure
# arrives as 55284-4 panels whose components (8480-6, 8462-4) are passed on one by one.
SYNTHEA = [
    ("6298-4", "Potassium", 4.698047564200978, "mmol/L",
     "74c5a609-ffad-4ced-aa87-a7e24e92934f", "2020-12-01T20:43:11+00:00", "female",
     ("potassium", 4.7, "normal")),
    ("2947-0", "Sodium", 142.31963747730805, "mmol/L",
     "551c53dc-a1b9-4966-a004-958a27ec58be", "2020-12-01T20:43:11+00:00", "female",
     ("sodium", 142, "normal")),
    ("2339-0", "Glucose", 86.42593971044111, "mg/dL",
     "9acfd329-ec16-438e-aa23-12c1f0c59420", "2020-12-01T20:43:11+00:00", "female",
     ("glucose", 86, "normal")),
    ("38483-4", "Creatinine", 0.9396542541203411, "mg/dL",
     "9d863ac9-95da-408e-b57a-c4834393af14", "2020-12-01T20:43:11+00:00", "female",
     ("creatinine", 0.94, "normal")),
    ("38483-4", "Creatinine", 3.458038719247194, "mg/dL",
     "06a27676-cbe9-483b-bac7-e8cd693219b5", "2004-08-11T04:59:42+00:00", "male",
     ("creatinine", 3.46, "high")),
    ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", 6.106429878032881, "%",
     "ae702536-0dc4-43c8-b043-9829c6b5f14d", "2018-11-27T20:43:11+00:00", "female",
     ("hba1c", 6.1, "high")),
    ("33914-3", "Estimated Glomerular Filtration Rate", 153.19584102575564, "mL/min/{1.73_m2}",
     "086bf4a6-213e-40d2-96df-e3963df43012", "2012-03-06T20:43:11+00:00", "female",
     ("egfr", 153, "normal")),
    ("33914-3", "Glomerular filtration rate/1.73 sq M.predicted", 4.949801182355081, "mL/min",
     "ed3c36e6-269a-431e-9018-a78abba37756", "2004-06-07T04:59:42+00:00", "male",
     ("egfr", 5, "critical_low")),
    ("718-7", "Hemoglobin [Mass/\u200bvolume] in Blood", 6.313905922565705, "g/dL",
     "7dcf8594-e241-46ad-a903-f8b617d4a06a", "2004-10-13T04:59:42+00:00", "male",
     ("haemoglobin", 6.3, "critical_low")),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", 16.15366508387917, "g/dL",
     "b8863e85-cbfe-4f94-9a99-5eacd38bbce5", "2012-10-19T23:37:54+00:00", "male",
     ("haemoglobin", 16.2, "normal")),
    ("8331-1", "Oral temperature", 39.12985947783664, "Cel",
     "35cec4fb-1508-4576-8d9f-69a70c580191", "2010-04-15T00:52:41+00:00", "male",
     ("temperature", 39.1, "high")),
    ("39156-5", "Body Mass Index", 28.08761129002481, "kg/m2",
     "ef4fdf3a-f2b5-42a5-bc24-5731a6191a78", "2011-10-14T23:37:54+00:00", "male",
     ("bmi", 28.1, "high")),
    ("8480-6", "Systolic Blood Pressure", 129.73979437732424, "mm[Hg]",
     "f13d3b8d-0097-4b35-8d6e-31c73ac2601c", "2011-10-14T23:37:54+00:00", "male",
     ("systolic_bp", 130, "normal")),
    ("8462-4", "Diastolic Blood Pressure", 75.4364412796852, "mm[Hg]",
     "f13d3b8d-0097-4b35-8d6e-31c73ac2601c", "2011-10-14T23:37:54+00:00", "male",
     ("diastolic_bp", 75, "normal")),
    ("18262-6", "Low Density Lipoprotein Cholesterol", 183.87048888285523, "mg/dL",
     "940e806d-bb64-40bc-9ad2-2fb145bb3d56", "1972-07-10T21:51:36+00:00", "female",
     ("ldl", 184, "high")),
    ("2093-3", "Total Cholesterol", 175.96112001234565, "mg/dL",
     "6bb49b35-dcf4-446d-9fed-05ad04607128", "2012-10-19T23:37:54+00:00", "male",
     ("total_cholesterol", 176, "normal")),
    ("2571-8", "Triglycerides", 142.9241294682752, "mg/dL",
     "044a8dad-b41d-4dd3-ad65-976cdd898a85", "2012-10-19T23:37:54+00:00", "male",
     ("triglycerides", 143, "normal")),
    ("2085-9", "High Density Lipoprotein Cholesterol", 79.78597096804877, "mg/dL",
     "2f696d6b-8992-40af-9347-9e39a5db45c3", "2012-10-19T23:37:54+00:00", "male",
     ("hdl", 80, "normal")),
    ("29463-7", "Body Weight", 87.35552017650116, "kg",
     "a0cc6509-87ff-467f-a895-4f9f0358e134", "2011-10-14T23:37:54+00:00", "male",
     ("weight", 87.4, "unknown")),
    ("8302-2", "Body Height", 176.35499866729558, "cm",
     "af5597a6-304d-4c8f-b596-60d17d445714", "2011-10-14T23:37:54+00:00", "male",
     ("height", 176.4, "unknown")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("code", "display", "value", "unit", "rid", "effective", "sex", "expected"), SYNTHEA
)
def test_synthea_observations_map_by_loinc(
    code, display, value, unit, rid, effective, sex, expected
):
    lab = from_observation(
        code,
        display,
        value,
        unit,
        resource_id=f"Observation/{rid}",
        effective=effective,
        sex=sex,
    )
    assert lab is not None
    assert (lab.test, lab.value, lab.status) == (
        expected[0],
        pytest.approx(expected[1]),
        expected[2],
    )
    assert lab.source == f"Observation/{rid}"
    assert lab.effective == effective
    assert lab.start is None and lab.end is None
    assert lab.raw.endswith(unit) and lab.raw.split()[0] == f"{value:.6g}"


def test_a_bare_resource_id_becomes_an_observation_reference():
    lab = from_observation(
        "6298-4", "Potassium", 7.1, "mmol/L", resource_id="abc", effective=None, sex=None
    )
    assert lab is not None
    assert (lab.source, lab.raw, lab.status) == ("Observation/abc", "7.1 mmol/L", "critical_high")


@pytest.mark.parametrize(
    ("code", "test"),
    [
        ("2823-3", "potassium"),
        ("2951-2", "sodium"),
        ("2345-7", "glucose"),
        ("13457-7", "ldl"),
        ("2089-1", "ldl"),
        ("62238-1", "egfr"),
        ("48642-3", "egfr"),
        ("48643-1", "egfr"),
        ("2160-0", "creatinine"),
        ("8867-4", "heart_rate"),
        ("9279-1", "respiratory_rate"),
        ("8310-5", "temperature"),
        ("2708-6", "spo2"),
        ("59408-5", "spo2"),
        ("http://loinc.org|2823-3", "potassium"),
    ],
)
def test_other_standard_loinc_codes_map(code, test):
    ranges = L.load_ranges()
    value = {"spo2": 95, "temperature": 37}.get(test, ranges[test].plausible[0] * 2)
    lab = from_observation(
        code, "", value, ranges[test].unit, resource_id="Observation/x", effective=None, sex=None
    )
    assert lab is not None and lab.test == test


@pytest.mark.parametrize(
    ("code", "display", "value", "unit", "test"),
    [
        (None, "Potassium [Moles/volume] in Serum or Plasma", 5.5, "mmol/L", "potassium"),
        ("local-123", "Glucose", 90, "mg/dL", "glucose"),
        (None, "Heart rate", 70, "/min", "heart_rate"),
        (None, "Oxygen saturation in Arterial blood", 97, "%", "spo2"),
        (None, "Hemoglobin A1c/Hemoglobin.total in Blood", 6.0, "%", "hba1c"),
        (None, "K", 4.0, "mmol/L", "potassium"),
    ],
)
def test_display_name_is_the_fallback(code, display, value, unit, test):
    lab = from_observation(
        code, display, value, unit, resource_id="Observation/y", effective=None, sex=None
    )
    assert lab is not None and lab.test == test


@pytest.mark.parametrize(
    ("code", "display", "value", "unit"),
    [
        ("57905-2", "Hemoglobin.gastrointestinal [Presence] in Stool", 11.05, "ng/mL"),
        (None, "Glucose [Mass/volume] in Urine", 250, "mg/dL"),
        ("2069-3", "Chloride", 108.1, "mmol/L"),
        ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported", 4, "{score}"),
        ("55284-4", "Blood Pressure", 120, "mm[Hg]"),  # a panel: one value cannot be placed
        ("6298-4", "Potassium", 4.9, "mg/dL"),  # incompatible unit
        (None, "", 1.0, "mmol/L"),
    ],
)
def test_observations_that_are_not_mapped(code, display, value, unit):
    lab = from_observation(
        code, display, value, unit, resource_id="Observation/z", effective=None, sex=None
    )
    assert lab is None


# --- the table ----------------------------------------------------------------------------

REQUIRED_TESTS = {
    "hba1c", "glucose", "ldl", "hdl", "total_cholesterol", "triglycerides", "systolic_bp",
    "diastolic_bp", "heart_rate", "respiratory_rate", "egfr", "creatinine", "potassium", "sodium",
    "haemoglobin", "temperature", "spo2", "bmi",
}  # fmt: skip


def test_the_table_has_every_required_test():
    assert set(L.load_ranges()) >= REQUIRED_TESTS


def test_every_entry_cites_a_public_source_with_an_http_url():
    raw = yaml.safe_load(L.TABLE_PATH.read_text(encoding="utf-8"))
    for key, row in raw["tests"].items():
        assert row["citation"], key
        for citation in row["citation"]:
            assert citation["source"].strip(), key
            assert re.match(r"https?://[^\s/]+\.[^\s]+$", citation["url"]), (key, citation)


def test_the_table_says_it_is_adult_and_informational():
    head = L.TABLE_PATH.read_text(encoding="utf-8")[:800].casefold()
    assert "adult" in head and "vary" in head and "not diagnosis" in head


def test_load_ranges_is_cached():
    assert L.load_ranges()["potassium"] is L.load_ranges()["potassium"]


def _valid_table() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(L.TABLE_PATH.read_text(encoding="utf-8")))


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "ranges.yml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def test_a_copy_of_the_shipped_table_loads(tmp_path):
    assert set(L.load_ranges(_write(tmp_path, _valid_table()))) == set(L.load_ranges())


def _break_citation(table):
    del table["tests"]["potassium"]["citation"]


def _break_url(table):
    table["tests"]["sodium"]["citation"][0]["url"] = "medlineplus sodium page"


def _break_threshold(table):
    table["tests"]["potassium"]["critical_low"] = "> 2.5"


def _break_sex(table):
    table["tests"]["haemoglobin"]["low"] = {"male": 13.8}


def _break_canonical(table):
    table["tests"]["glucose"]["units"] = [{"unit": "mmol/L", "factor": 18.016}]


def _break_loinc(table):
    table["tests"]["sodium"]["loinc"].append("2823-3")


def _break_alias(table):
    table["tests"]["sodium"]["names"].append("potassium")


def _break_key(table):
    table["tests"]["potassium"]["hihg"] = 5.2


def _break_order(table):
    table["tests"]["potassium"]["low"] = 6.0


def _break_number(table):
    table["tests"]["spo2"]["plausible"] = [40, "a hundred"]


def _break_pair(table):
    table["pairs"]["blood_pressure"]["tests"] = ["systolic_bp", "no_such_test"]


@pytest.mark.parametrize(
    ("breaker", "where"),
    [
        (_break_citation, "tests.potassium"),
        (_break_url, "tests.sodium.citation[0].url"),
        (_break_threshold, "tests.potassium.critical_low"),
        (_break_sex, "tests.haemoglobin.low"),
        (_break_canonical, "tests.glucose.units"),
        (_break_loinc, "tests.sodium.loinc"),
        (_break_alias, "tests.sodium"),
        (_break_key, "tests.potassium"),
        (_break_order, "tests.potassium"),
        (_break_number, "tests.spo2.plausible"),
        (_break_pair, "pairs.blood_pressure.tests"),
    ],
)
def test_a_broken_table_is_refused_naming_file_and_key(tmp_path, breaker, where):
    table = _valid_table()
    breaker(table)
    path = _write(tmp_path, table)
    with pytest.raises(RangeTableError) as error:
        L.load_ranges(path)
    assert str(path) in str(error.value)
    assert f"{where}:" in str(error.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("tests: {potassium: [unclosed", "not valid YAML"),
        ("just text", "non-empty 'tests:'"),
        ("tests: {}", "non-empty 'tests:'"),
        ("tests: {potassium: 5}", "tests.potassium: expected a mapping"),
    ],
)
def test_unreadable_tables_are_refused_with_the_file_name(tmp_path, content, message):
    path = _write(tmp_path, content)
    with pytest.raises(RangeTableError, match=re.escape(message)) as error:
        L.load_ranges(path)
    assert str(path) in str(error.value)


def test_a_missing_table_is_refused(tmp_path):
    with pytest.raises(RangeTableError, match="cannot read"):
        L.load_ranges(tmp_path / "absent.yml")


# --- linear time ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "K " * 500_000,
        "1" * 10**6,
        "potassium " * 100_000,
        "BP 120/ " * 125_000,
        "Hb A1c " * 140_000,
        "a" * 10**6,
    ],
    ids=["K-space", "digits", "names", "half-pairs", "multiword", "letters"],
)
def test_adversarial_megabyte_inputs_finish_quickly(text):
    started = time.perf_counter()
    assert extract_from_text(text) == []
    assert time.perf_counter() - started < 2.0
