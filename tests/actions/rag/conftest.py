"""Shared fixtures: the real MiniLM encoder (loaded once) and a small real knowledge base."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from actions.rag.embedder import MiniLMEmbedder, load_embedder
from actions.rag.types import Passage, ScoredPassage

FRONT = """---
id: {id}
title: {title}
aliases: [{aliases}]
source:
  name: Example Health Service
  url: https://example.org/{id}
license: CC BY 4.0
language: en
audience: patients
last_reviewed: 2026-01-15
reviewed_by: Test Editor
tags: [test]
---

# {title}

"""

DOCS: dict[str, dict[str, Any]] = {
    "glaucoma": {
        "title": "Glaucoma",
        "aliases": "open-angle glaucoma",
        "sections": {
            "What is glaucoma?": "Glaucoma is a group of eye diseases that damage the optic "
            "nerve. It is a leading cause of blindness in people over 60. Damage from "
            "glaucoma cannot be reversed, but treatment can slow it.",
            "How is glaucoma treated?": "Glaucoma is usually treated with prescription eye "
            "drops that lower the pressure in the eye. Laser treatment and surgery are other "
            "options. Use the drops every day, even when your eyes feel fine.",
        },
    },
    "gout": {
        "title": "Gout",
        "aliases": "gouty arthritis",
        "sections": {
            "What is gout?": "Gout is a form of arthritis caused by too much uric acid in the "
            "blood. Crystals form in a joint, often the big toe, and cause sudden severe pain "
            "and swelling.",
            "What can I do about gout?": "Drinking plenty of water and limiting alcohol and "
            "red meat can help prevent attacks. Medicines such as allopurinol lower uric acid "
            "over time.",
        },
    },
    "asthma": {
        "title": "Asthma",
        "aliases": "bronchial asthma",
        "sections": {
            "What is asthma?": "Asthma is a long-term disease of the airways in the lungs. "
            "The airways narrow and swell, which makes breathing hard and causes wheezing "
            "and coughing.",
            "How is asthma treated?": "Most people use an inhaled corticosteroid every day to "
            "prevent symptoms and a quick-relief inhaler such as albuterol during an attack.",
        },
    },
}


def write_doc(root: Path, doc_id: str, title: str, aliases: str, sections: dict[str, str]) -> Path:
    """One knowledge file in the editors' format."""
    body = FRONT.format(id=doc_id, title=title, aliases=aliases)
    body += "".join(f"## {heading}\n\n{text}\n\n" for heading, text in sections.items())
    path = root / f"{doc_id}.md"
    path.write_text(body, encoding="utf-8")
    return path


def write_kb(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for doc_id, doc in DOCS.items():
        write_doc(root, doc_id, doc["title"], doc["aliases"], doc["sections"])
    return root


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """The bundled all-MiniLM-L6-v2, loaded once for the whole test session."""
    return load_embedder()


@pytest.fixture(scope="session")
def built_kb(
    tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedder
) -> tuple[Path, Path]:
    """A small knowledge base and its built index, shared read-only by many tests."""
    from actions.rag.index import build_index

    root = tmp_path_factory.mktemp("kb")
    kb = write_kb(root / "knowledge")
    build_index(kb, root / "index", embedder=embedder, progress=False)
    return kb, root / "index"


def make_passage(doc_id: str, text: str) -> Passage:
    """A passage of a one-section test document."""
    return Passage(
        qid=f"{doc_id}#s",
        doc_id=doc_id,
        title=doc_id.title(),
        heading="About",
        text=text,
        url=f"https://example.org/{doc_id}",
        source="Example",
        license="CC BY 4.0",
    )


def scored(doc_id: str, text: str, score: float = 1.0) -> ScoredPassage:
    """The same passage as a retrieval hit."""
    return ScoredPassage(make_passage(doc_id, text), score)
