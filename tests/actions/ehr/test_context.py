"""Tests for the EHR ConText flags and section detection (``actions/ehr/context.py``).

The annotator (spaCy + medspaCy, a few seconds to load) is built once per test session. The
accuracy check scores the hand-annotated set ``actions/ehr/data/context_sentences.yml`` with
the same code ``bench/ehr_context_eval.py`` reports. Run with::

    .venv/bin/python -m pytest tests/actions/ehr/test_context.py
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from actions.ehr.context import ContextAnnotator
from actions.ehr.types import ContextFlags, Section
from bench.ehr_context_eval import CATEGORIES, CaseError, evaluate, load_cases

ROOT = Path(__file__).resolve().parents[3]
MIN_ACCURACY = 0.90


@pytest.fixture(scope="session")
def annotator() -> ContextAnnotator:
    return ContextAnnotator()


def flags_of(annotator: ContextAnnotator, text: str, target: str) -> set[str]:
    start = text.index(target)
    flags, _section = annotator.annotate(text, [(start, start + len(target), "CONDITION")])[0]
    return set(flags.names())


# ------------------------------------------------------------------- annotated set
def test_annotated_set_is_large_and_balanced() -> None:
    cases = load_cases()
    assert len(cases) >= 100
    for category in CATEGORIES:
        assert sum(c.category == category for c in cases) >= 18, category


def test_accuracy_on_annotated_set(annotator: ContextAnnotator) -> None:
    result = evaluate(annotator, load_cases())
    misses = "\n".join(
        f"{m['id']}: expected {m['expected']} got {m['got']}" for m in result["misses"]
    )
    assert result["accuracy"] >= MIN_ACCURACY, misses


def test_loader_names_file_and_entry_of_a_bad_case(tmp_path: Path) -> None:
    bad = tmp_path / "cases.yml"
    bad.write_text(
        "sentences:\n"
        "  - {id: a, category: plain, text: 'Has a cough.', target: cough, flags: []}\n"
        "  - {id: b, category: plain, text: 'Has a cough.', target: fever, flags: []}\n",
        encoding="utf-8",
    )
    with pytest.raises(CaseError, match=r"cases\.yml: entry 1 \(b\): target 'fever'"):
        load_cases(bad)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("{id: a, category: odd, text: 'x y', target: x, flags: []}", "category 'odd'"),
        ("{id: a, category: plain, text: 'x y', target: x, flags: [sad]}", "flags must be"),
        ("{id: a, category: plain, text: 'x y', target: x}", "missing \\['flags'\\]"),
        ("just text", "not a mapping"),
    ],
)
def test_loader_rejects_malformed_entries(tmp_path: Path, entry: str, problem: str) -> None:
    bad = tmp_path / "cases.yml"
    bad.write_text(f"sentences:\n  - {entry}\n", encoding="utf-8")
    with pytest.raises(CaseError, match=f"entry 0 .*{problem}"):
        load_cases(bad)


# ------------------------------------------------------------------ per category
@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        # negated
        ("The patient denies dizziness and syncope.", "syncope", {"negated"}),
        ("No hematemesis or melena.", "melena", {"negated"}),
        ("Stool guaiac is negative for occult blood.", "occult blood", {"negated"}),
        ("Healing well without signs of wound dehiscence.", "wound dehiscence", {"negated"}),
        ("Appendicitis was ruled out on CT.", "Appendicitis", {"negated"}),
        ("I don't have diabetes.", "diabetes", {"negated"}),
        ("Extremities: no cyanosis or edema.", "edema", {"negated"}),
        # historical
        ("He has a history of gout.", "gout", {"historical"}),
        ("Status post left nephrectomy.", "left nephrectomy", {"historical"}),
        ("68-year-old with h/o nephrolithiasis.", "nephrolithiasis", {"historical"}),
        ("She had measles as a child.", "measles", {"historical"}),
        # family
        ("My mother had lung cancer.", "lung cancer", {"family"}),
        ("Family history of glaucoma.", "glaucoma", {"family"}),
        ("Hemochromatosis in his father.", "Hemochromatosis", {"family"}),
        ("No family history of colon cancer.", "colon cancer", {"family", "negated"}),
        # hypothetical
        ("If you develop a rash, stop the medication.", "rash", {"hypothetical"}),
        ("Return if the swelling gets worse.", "swelling", {"hypothetical"}),
        ("Should chest pain occur, take nitroglycerin.", "chest pain", {"hypothetical"}),
        # uncertain
        ("Possible early cataract in the left eye.", "cataract", {"uncertain"}),
        ("Rule out deep vein thrombosis.", "deep vein thrombosis", {"uncertain"}),
        ("Questionable fracture of the fifth metacarpal.", "fracture", {"uncertain"}),
        ("Suspected viral meningitis.", "viral meningitis", {"uncertain"}),
        ("There is concern for compartment syndrome.", "compartment syndrome", {"uncertain"}),
        # plain, with cues that must not leak onto the target
        ("He reports a sore throat and has no fever.", "sore throat", set()),
        ("Her husband is here; she reports a migraine.", "migraine", set()),
        ("History of asthma, now with a new productive cough.", "productive cough", set()),
        ("Compared with the prior exam, there is new consolidation.", "consolidation", set()),
    ],
)
def test_flags_per_category(
    annotator: ContextAnnotator, text: str, target: str, expected: set[str]
) -> None:
    assert flags_of(annotator, text, target) == expected


def test_flags_follow_the_sentence_they_sit_in(annotator: ContextAnnotator) -> None:
    text = "Denies fever.\nReports cough for a week."
    assert flags_of(annotator, text, "fever") == {"negated"}
    assert flags_of(annotator, text, "cough") == set()


def test_wrapped_lines_do_not_end_a_sentence(annotator: ContextAnnotator) -> None:
    text = "The patient denies recent fevers, chills, night sweats, weight loss or\nnausea."
    assert flags_of(annotator, text, "nausea") == {"negated"}


def test_line_breaks_end_list_items(annotator: ContextAnnotator) -> None:
    """List lines have no full stops; a negated item must not negate the next one."""
    text = "ROS:\n- no fever\n- productive cough\n- no rash"
    assert flags_of(annotator, text, "fever") == {"negated"}
    assert flags_of(annotator, text, "productive cough") == set()


# ---------------------------------------------------------------------- sections
NOTE = """CHIEF COMPLAINT: Cough.

HPI: 54-year-old man with three days of cough and fever. He denies chest pain.

PAST MEDICAL HISTORY:
Hypertension.
Type 2 diabetes.

Medications: lisinopril 10 mg daily, metformin 500 mg twice daily.

ALLERGIES: Penicillin (hives).

Family History: Mother with breast cancer.

Assessment and Plan:
1. Community-acquired pneumonia. Start amoxicillin.
2. Return if shortness of breath develops.
"""


def test_sections_of_a_small_note(annotator: ContextAnnotator) -> None:
    sections = annotator.sections(NOTE)
    assert [s.name for s in sections] == [
        "chief_complaint",
        "history_of_present_illness",
        "past_medical_history",
        "medications",
        "allergies",
        "family_history",
        "assessment_and_plan",
    ]
    assert all(isinstance(s, Section) for s in sections)
    assert sections[2].title == "PAST MEDICAL HISTORY"
    assert NOTE[sections[2].start : sections[2].end].startswith("PAST MEDICAL HISTORY:")
    assert "Type 2 diabetes" in NOTE[sections[2].start : sections[2].end]
    assert sections[-1].end == len(NOTE)
    assert all(a.end == b.start for a, b in itertools.pairwise(sections))


def test_mentions_get_section_and_section_flags(annotator: ContextAnnotator) -> None:
    targets = ["fever", "chest pain", "Hypertension", "metformin", "Penicillin"]
    targets += ["breast cancer", "Community-acquired pneumonia", "shortness of breath"]
    spans = [(NOTE.index(t), NOTE.index(t) + len(t), "CONDITION") for t in targets]
    got = dict(zip(targets, annotator.annotate(NOTE, spans), strict=True))
    assert got["fever"] == (ContextFlags(), "history_of_present_illness")
    assert got["chest pain"] == (ContextFlags(negated=True), "history_of_present_illness")
    assert got["Hypertension"] == (ContextFlags(historical=True), "past_medical_history")
    assert got["metformin"] == (ContextFlags(), "medications")
    assert got["Penicillin"] == (ContextFlags(), "allergies")
    assert got["breast cancer"] == (ContextFlags(family=True), "family_history")
    assert got["Community-acquired pneumonia"] == (ContextFlags(), "assessment_and_plan")
    assert got["shortness of breath"] == (ContextFlags(hypothetical=True), "assessment_and_plan")


def test_more_section_names(annotator: ContextAnnotator) -> None:
    note = (
        "Review of Systems: negative.\nSocial History: no tobacco.\nPhysical Exam: normal.\n"
        "Past Surgical History: appendectomy.\nA/P: viral URI.\nImpression/Plan: rest.\n"
    )
    assert [s.name for s in annotator.sections(note)] == [
        "review_of_systems",
        "social_history",
        "physical_exam",
        "past_surgical_history",
        "assessment_and_plan",
        "assessment_and_plan",
    ]
    start = note.index("appendectomy")
    flags, section = annotator.annotate(note, [(start, start + 12, "PROCEDURE")])[0]
    assert (flags, section) == (ContextFlags(historical=True), "past_surgical_history")


def test_header_words_in_running_text_open_no_section(annotator: ContextAnnotator) -> None:
    assert annotator.sections("He has no known allergies and takes no medications today.") == []


def test_sections_of_flattened_mtsamples_text(annotator: ContextAnnotator) -> None:
    """MTSamples wrote line breaks as ", ": headers still start sections."""
    note = "HISTORY OF PRESENT ILLNESS:, Cough.,PAST MEDICAL HISTORY:, Asthma.,ALLERGIES:, None."
    names = [s.name for s in annotator.sections(note)]
    assert names == ["history_of_present_illness", "past_medical_history", "allergies"]


# ---------------------------------------------------------------------- edge cases
def test_empty_text_and_no_spans(annotator: ContextAnnotator) -> None:
    assert annotator.annotate("", []) == []
    assert annotator.annotate("Denies fever.", []) == []
    assert annotator.sections("") == []
    assert annotator.sections("   \n ") == []


@pytest.mark.parametrize("span", [(0, 40, "X"), (-1, 3, "X"), (5, 5, "X"), (6, 2, "X")])
def test_spans_outside_the_text_are_rejected(annotator: ContextAnnotator, span: tuple) -> None:
    with pytest.raises(ValueError, match="span 1"):
        annotator.annotate("No fever today.", [(3, 8, "X"), span])
    with pytest.raises(ValueError):
        annotator.annotate("", [span])


def test_overlapping_and_duplicate_spans_share_the_longest_span_flags(
    annotator: ContextAnnotator,
) -> None:
    text = "She denies chest pain radiating to the jaw."
    long_start = text.index("chest pain radiating")
    spans = [
        (text.index("pain"), text.index("pain") + 4, "SYMPTOM"),
        (long_start, long_start + len("chest pain radiating"), "SYMPTOM"),
        (text.index("chest"), text.index("chest") + 10, "SYMPTOM"),
        (text.index("chest"), text.index("chest") + 10, "SYMPTOM"),
    ]
    results = annotator.annotate(text, spans)
    assert len(results) == 4
    assert all(flags == ContextFlags(negated=True) for flags, _ in results)


def test_whitespace_span_and_mid_word_span(annotator: ContextAnnotator) -> None:
    text = "No fever.   Cough."
    results = annotator.annotate(text, [(9, 11, "X"), (4, 6, "X")])
    assert results[0] == (ContextFlags(), None)  # only spaces: no token, default flags
    assert results[1] == (ContextFlags(negated=True), None)  # expanded to "fever"


def test_large_note_is_processed(annotator: ContextAnnotator) -> None:
    """A ~200 KB note: no crash, one result per span (the time is printed, not asserted)."""
    note = (NOTE + "\n") * (200_000 // len(NOTE) + 1)
    spans = []
    for target in ("cough", "fever", "chest pain", "Hypertension", "breast cancer"):
        start = note.find(target)
        while start >= 0:
            spans.append((start, start + len(target), "CONDITION"))
            start = note.find(target, start + 1)
    started = time.perf_counter()
    results = annotator.annotate(note, spans)
    elapsed = time.perf_counter() - started
    print(f"\n{len(note) / 1000:.0f} KB note, {len(spans)} spans: {elapsed:.2f} s")
    assert len(results) == len(spans)
    by_target = {note[s:e]: r for (s, e, _), r in zip(spans, results, strict=True)}
    assert by_target["chest pain"][0] == ContextFlags(negated=True)
    assert by_target["Hypertension"] == (ContextFlags(historical=True), "past_medical_history")


def test_typical_note_time(annotator: ContextAnnotator) -> None:
    """About 3 KB with 60 mentions; printed for information (the CI machine may be busy)."""
    note = NOTE * 5
    words = [(i, i + 5, "X") for i in range(0, len(note) - 5, 50) if not note[i].isspace()]
    annotator.annotate(note, words)
    started = time.perf_counter()
    annotator.annotate(note, words)
    print(
        f"\n{len(note)} chars, {len(words)} spans: {1000 * (time.perf_counter() - started):.0f} ms"
    )


# ---------------------------------------------------------------------- loading
def test_module_import_is_light() -> None:
    code = (
        "import sys, actions.ehr.context; print('spacy' in sys.modules, 'medspacy' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False"]


def test_model_version_warning_is_silenced() -> None:
    from actions.ehr.context import _load_spacy

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nlp = _load_spacy()
    assert not [w for w in caught if "W095" in str(w.message)]
    assert nlp.pipe_names == ["senter"]


def test_annotating_raises_no_warnings(annotator: ContextAnnotator) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        annotator.annotate(NOTE, [(NOTE.index("fever"), NOTE.index("fever") + 5, "X")])
        annotator.sections(NOTE)
