"""Question-type matching between lay questions and section headings."""

from __future__ import annotations

import pytest

from actions.rag.query_types import heading_type, question_types


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("my mom has protein s deficiency could i have got it from her", "inheritance"),
        ("stuve wiedemann syndrome what gene is it", "genetic changes"),
        ("how common is factor 5 deficiency", "frequency"),
        ("emanuel syndrome what are the signs", "symptoms"),
        ("is there a cure for gout", "treatment"),
        ("how do they check for a dvt clot", "exams and tests"),
    ],
)
def test_lay_questions_map_to_medquad_types(question: str, kind: str) -> None:
    assert kind in question_types(question)


def test_plain_questions_have_no_type() -> None:
    assert question_types("tell me about glaucoma") == frozenset()


@pytest.mark.parametrize(
    ("heading", "kind"),
    [
        ("What are the genetic changes related to Stve-Wiedemann syndrome ?", "genetic changes"),
        ("Is protein S deficiency inherited ?", "inheritance"),
        ("How many people are affected by factor V deficiency ?", "frequency"),
        ("What are the treatments for Glaucoma ?", "treatment"),
        ("Opening hours", None),
    ],
)
def test_headings_have_types(heading: str, kind: str | None) -> None:
    assert heading_type(heading) == kind
