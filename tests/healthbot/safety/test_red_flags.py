"""Tests for the emergency red-flag detector (standard library only; runs on Python 3.10 and 3.11).

The cases live in ``red_flag_cases.json`` (shared with ``bench/red_flags_eval.py``): positives with
the exact ids they must give, and negated, historical, hypothetical and everyday messages that must
give none. A second check reads the project's NLU training data and bounds the false-alarm rate on
everyday health messages. Run with::

    cd <repo> && .venv/bin/python -m pytest tests/healthbot/safety
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.red_flags_eval import EVERYDAY_INTENTS, NLU_DIR, nlu_examples
from healthbot.safety.red_flags import (
    DEFAULT_CSV,
    MAX_CHARS,
    RedFlag,
    RedFlagDetector,
    RedFlagPatternError,
    default_detector,
    is_self_harm,
)

ROOT = Path(__file__).resolve().parents[3]
CASES = json.loads((Path(__file__).parent / "red_flag_cases.json").read_text(encoding="utf-8"))
MAX_FALSE_ALARM_RATE = 0.03


@pytest.fixture(scope="module")
def detector() -> RedFlagDetector:
    return default_detector()


def _ids(detector: RedFlagDetector, text: str) -> set[str]:
    return {flag.id for flag in detector.detect(text)}


# -- the case tables ------------------------------------------------------------------------------


def test_case_tables_are_big_enough() -> None:
    groups = ("positive", "negated", "historical", "hypothetical", "everyday")
    total = sum(len(CASES[group]) for group in groups)
    assert total >= 80
    assert len(CASES["positive"]) >= 80
    covered = {flag_id for _, ids in CASES["positive"] for flag_id in ids}
    assert covered == set(default_detector().ids), "every red flag needs a positive case"


@pytest.mark.parametrize(("text", "expected"), CASES["positive"], ids=lambda v: str(v)[:40])
def test_positive(detector: RedFlagDetector, text: str, expected: list[str]) -> None:
    assert _ids(detector, text) == set(expected)


@pytest.mark.parametrize("text", CASES["negated"])
def test_negated_is_not_flagged(detector: RedFlagDetector, text: str) -> None:
    assert detector.detect(text) == [], detector.explain(text)


@pytest.mark.parametrize("text", CASES["historical"])
def test_historical_is_not_flagged(detector: RedFlagDetector, text: str) -> None:
    assert detector.detect(text) == [], detector.explain(text)


@pytest.mark.parametrize("text", CASES["hypothetical"])
def test_hypothetical_is_not_flagged(detector: RedFlagDetector, text: str) -> None:
    assert detector.detect(text) == [], detector.explain(text)


@pytest.mark.parametrize("text", CASES["everyday"])
def test_everyday_is_not_flagged(detector: RedFlagDetector, text: str) -> None:
    assert detector.detect(text) == [], detector.explain(text)


# -- the result objects ---------------------------------------------------------------------------


def test_flag_points_at_the_original_text(detector: RedFlagDetector) -> None:
    text = "Hi. My DAD’s face is drooping & he can’t speak properly!!"
    flags = detector.detect(text)
    assert [flag.id for flag in flags] == ["RF029", "RF017"]
    for flag in flags:
        assert text[flag.start : flag.end] == flag.text
    assert flags[0].text == "face is drooping"
    assert flags[1].text == "can’t speak"


def test_flag_fields_come_from_the_csv(detector: RedFlagDetector) -> None:
    [flag] = detector.detect("my dad collapsed")
    assert flag.to_dict() == {
        "id": "RF007",
        "category": "neurological",
        "text": "collapsed",
        "start": 7,
        "end": 16,
        "label": "Fainting or loss of consciousness",
        "self_harm": False,
    }
    json.dumps(flag.to_dict())  # JSON-ready: Rasa sends it over HTTP


def test_ids_match_the_csv() -> None:
    with DEFAULT_CSV.open(encoding="utf-8", newline="") as handle:
        csv_ids = [row["id"] for row in csv.DictReader(handle)]
    assert csv_ids == [f"RF{n:03d}" for n in range(1, 34)]
    assert default_detector().ids == csv_ids


@pytest.mark.parametrize(
    ("text", "self_harm"),
    [
        ("i want to kill myself", True),
        ("i've been cutting myself again", True),
        ("i keep thinking i want to kill my neighbour", False),
        ("my dad collapsed", False),
    ],
)
def test_self_harm_is_exposed(detector: RedFlagDetector, text: str, self_harm: bool) -> None:
    flags = detector.detect(text)
    assert flags
    assert is_self_harm(flags) is self_harm
    assert is_self_harm([flag.to_dict() for flag in flags]) is self_harm
    if self_harm:
        assert {(f.id, f.category) for f in flags} == {("RF008", "mental health")}


def test_one_flag_per_id_in_message_order(detector: RedFlagDetector) -> None:
    flags = detector.detect("my chest hurts. chest pain again. now i passed out")
    assert [flag.id for flag in flags] == ["RF004", "RF007"]


def test_default_detector_is_cached() -> None:
    assert default_detector() is default_detector()


def test_redflag_is_frozen() -> None:
    flag = RedFlag("RF004", "cardiac", "chest pain", 0, 10, "Chest pain")
    with pytest.raises(AttributeError):
        flag.id = "RF001"  # type: ignore[misc]


def test_broken_pattern_file_names_the_id(tmp_path: Path) -> None:
    patterns = json.loads((DEFAULT_CSV.parent / "red_flag_patterns.json").read_text())
    patterns["flags"]["RF004"].append("chest (pain")
    broken = tmp_path / "patterns.json"
    broken.write_text(json.dumps(patterns))
    with pytest.raises(RedFlagPatternError, match=r"RF004\["):
        RedFlagDetector.from_files(patterns_path=broken)


def test_pattern_ids_must_match_the_csv(tmp_path: Path) -> None:
    patterns = json.loads((DEFAULT_CSV.parent / "red_flag_patterns.json").read_text())
    patterns["flags"]["RF099"] = ["anything"]
    broken = tmp_path / "patterns.json"
    broken.write_text(json.dumps(patterns))
    with pytest.raises(RedFlagPatternError, match="RF099"):
        RedFlagDetector.from_files(patterns_path=broken)


# -- hostile input and speed ----------------------------------------------------------------------

HOSTILE = {
    "empty": "",
    "whitespace": " \n\t " * 100,
    "50k letters": "a" * 50_000,
    "50k words": "chest pain no " * 4_000,
    "50k commas": ", " * 25_000,
    "binary junk": os.urandom(50_000).decode("utf-8", errors="replace"),
    "emoji flood": "😩🔥💔🚑" * 12_500,
    "nul bytes": "\x00" * 50_000,
    "growing lowercase": "İ" * 30_000,
    "filler runs": ("chest " + "x " * 3) * 5_000,
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_is_safe_and_bounded(detector: RedFlagDetector, text: str) -> None:
    started = time.perf_counter()
    flags = detector.detect(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0  # ~0.1 s typical: catches catastrophic regex backtracking, not speed
    assert all(0 <= f.start < f.end <= MAX_CHARS for f in flags)


@pytest.mark.parametrize("value", [None, 42, b"chest pain", ["chest pain"]])
def test_non_text_gives_no_flags(detector: RedFlagDetector, value: object) -> None:
    assert detector.detect(value) == []  # type: ignore[arg-type]


def test_only_the_first_max_chars_are_read(detector: RedFlagDetector) -> None:
    assert detector.detect("x " * MAX_CHARS + "i can't breathe") == []
    assert [f.id for f in detector.detect("i can't breathe " + "x " * MAX_CHARS)] == ["RF002"]


def test_imports_without_rasa_or_third_party_packages() -> None:
    """The Rasa process (py3.10, Rasa only) imports this module: stdlib only, no rasa_sdk."""
    code = (
        "import sys; import healthbot.safety.red_flags as m; m.default_detector(); "
        "bad = [n for n in sys.modules if n.split('.')[0] in "
        "{'rasa', 'rasa_sdk', 'yaml', 'numpy', 'pydantic', 'regex'}]; "
        "assert not bad, bad"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)


# -- false alarms on the project's everyday NLU messages -----------------------------------------


def test_false_alarm_rate_on_everyday_nlu_messages(detector: RedFlagDetector) -> None:
    if not NLU_DIR.is_dir():
        pytest.skip(f"{NLU_DIR} does not exist yet (NLU training data not written)")
    examples = nlu_examples(EVERYDAY_INTENTS)  # the same loader bench/red_flags_eval.py reports
    assert len(examples) >= 150, f"only {len(examples)} everyday examples in {NLU_DIR}"
    flagged = [(text, sorted(_ids(detector, text))) for text in examples]
    flagged = [row for row in flagged if row[1]]
    rate = len(flagged) / len(examples)
    print(f"\nfalse alarms: {len(flagged)}/{len(examples)} = {rate:.2%}")
    for text, ids in flagged:
        print(f"  {text!r} -> {ids}")
    assert rate <= MAX_FALSE_ALARM_RATE
