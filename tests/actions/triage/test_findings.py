"""Findings from free text: the written cases in data/findings_cases.yml (vitals with units,
negation, ages, pregnancy, risks, third person) plus the cases the engine most relies on."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actions.triage.findings import Findings, Reader

CASES = yaml.safe_load((Path(__file__).parent / "data" / "findings_cases.yml").read_text())
SCALARS = ("age_years", "sex", "pregnant", "duration_days", "severity", "third_person")
VITALS = ("temperature_c", "heart_rate", "respiratory_rate", "systolic_bp", "diastolic_bp",
          "spo2", "glucose_mmol")  # fmt: skip


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


def _value(found: Findings, key: str) -> object:
    if key in VITALS:
        return found.vitals.get(key)
    if key == "risks":
        return sorted(found.risks)
    return getattr(found, key)


def _close(got: object, expected: object) -> bool:
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        tolerance = 0.02 if abs(expected) < 1 else 0.06
        return isinstance(got, int | float) and abs(got - expected) <= tolerance * max(1, expected)
    if isinstance(expected, list):
        return sorted(expected) == got
    return got == expected


def test_there_are_at_least_100_written_cases() -> None:
    assert len(CASES) >= 100


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:40] for c in CASES])
def test_written_case(reader: Reader, case: dict) -> None:
    found = reader.read([case["text"]])
    wrong = {key: (_value(found, key), expected) for key, expected in case["expect"].items()
             if not _close(_value(found, key), expected)}  # fmt: skip
    assert not wrong, f"{case['text']!r}: got/expected {wrong}"


@pytest.mark.parametrize(
    ("messages", "key", "expected"),
    [
        (["my 4 month old has a temperature of 38.5"], "age_years", 0.333),
        (["I'm 72"], "age_years", 72),
        (["she is 20 weeks pregnant"], "pregnant", True),
        (["I'm not pregnant"], "pregnant", False),
        (["temp 102F"], "temperature_c", 38.9),
        (["blood sugar 270 mg/dl"], "glucose_mmol", 15.0),
        (["BP 90/60, pulse 128"], "systolic_bp", 90),
        (["BP 90/60, pulse 128"], "heart_rate", 128),
        (["on warfarin"], "risks", ["anticoagulant"]),
        (["not diabetic"], "risks", []),
        (["pain 8/10 for 3 days"], "severity", 8),
        (["pain 8/10 for 3 days"], "duration_days", 3),
        (["my dad has chest pain"], "third_person", True),
        (["I'm 40", "my son is 6 years old"], "age_years", 6),  # the later statement wins
        (["it was 40 degrees outside and I feel dizzy"], "temperature_c", None),  # the weather
        (["working in 35 degree heat"], "temperature_c", None),
        (["fever of 39.5", "thermometer says 37.2 now"], "temperature_c", 37.2),
        (["I'm on warfarin", "I stopped warfarin last year"], "risks", []),
        (["I have type 2 diabetes", "not on insulin"], "risks", ["diabetes"]),
        (["on warfarin, had a stroke last year"], "risks", ["anticoagulant"]),
        (["my last chemo was 8 days ago"], "risks", ["immunosuppressed"]),
        (["no recent surgery, no fever"], "risks", []),
        (["I'm 45 and my son has a fever"], "age_years", None),  # the writer is not the patient
        (["baby hasn't been moving as much, I'm 32 weeks"], "third_person", False),
    ],
)  # fmt: skip
def test_core_cases(reader: Reader, messages: list[str], key: str, expected: object) -> None:
    assert _close(_value(reader.read(messages), key), expected)


def test_spans_point_into_the_messages_as_written(reader: Reader) -> None:
    messages = ["I’m 72 and diabetic — on warfarin.  Temp 38,5 degrees!!",
                "pain is 7/10 for 3 days, BP 182 over 98"]  # fmt: skip
    found = reader.read(messages)
    said = {key: messages[n][start:end] for key, (n, start, end) in found.spans.items()}
    assert said["age"] == "72" and said["risk:anticoagulant"] == "warfarin"
    assert said["temperature_c"] == "Temp 38,5 degrees" and said["severity"] == "7/10"
    assert said["systolic_bp"] == "BP 182 over 98" and said["duration"] == "for 3 days"


@pytest.mark.parametrize(
    "text",
    ["", " ", "\x00\x01", "😷" * 3000, "9" * 20000, "a " * 10000,
     # many mentions, each judged in context: bounded per message
     "no BP 120/80 " * 400, "stopped warfarin last year, " * 200, "could I be pregnant? " * 300,
     "my son is 4 and had surgery 2 weeks ago, temp 39, hr 120, pain 7/10. " * 70],
)  # fmt: skip
def test_odd_input_never_raises(reader: Reader, text: str) -> None:
    assert isinstance(reader.read([text]), Findings)
