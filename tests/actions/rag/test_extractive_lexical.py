"""The shipped extractive backend scores sentences lexically: no encoder call per answer."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from actions.rag.generators import make_generator
from actions.rag.types import Passage, ScoredPassage
from healthbot.settings import AnswerSettings


class NoEncoder:
    dim = 384

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False):
        raise AssertionError("the lexical extractive backend must not embed")


def passage(qid: str, title: str, heading: str, text: str) -> ScoredPassage:
    return ScoredPassage(Passage(qid, qid, title, heading, text, "https://x.org", "X", "CC"), 1.0)


def test_default_extractive_is_lexical_and_uses_the_heading_as_context() -> None:
    generator = make_generator("extractive", AnswerSettings(), embedder=NoEncoder())
    passages = [
        passage(
            "a",
            "Asthma",
            "How is asthma treated?",
            "Most people use an inhaled corticosteroid every day. It has a long history.",
        ),
        passage("g", "Glaucoma", "What is glaucoma?", "Glaucoma is usually treated with drops."),
    ]
    answer = generator.generate("how is asthma treated", passages)
    assert answer.text.startswith("Most people use an inhaled corticosteroid every day [1].")
    assert answer.citations[0].qid == "a"


def test_lexical_vectors_are_unit_length() -> None:
    from actions.rag.generators.extractive import lexical_vectors

    vectors, query = lexical_vectors(["Gout hurts.", "Drink water."], "gout", ["Gout", "Gout"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert float(vectors[0] @ query[0]) > float(vectors[1] @ query[0])
