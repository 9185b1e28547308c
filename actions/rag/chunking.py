"""Cuts sections into passages the encoder can read whole.

all-MiniLM-L6-v2 truncates at 256 word pieces (about 180 English words), so a section is packed
sentence by sentence into passages of at most `max_words`, carrying one sentence of overlap so
an answer that straddles a cut is still found. Every passage keeps its section's qid.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from actions.rag.types import KBDocument, Passage, Section

MAX_WORDS = 150
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")


def _sentences(text: str) -> list[str]:
    """Paragraph- and sentence-level units; a list item stays one unit."""
    units: list[str] = []
    for paragraph in re.split(r"\n\s*\n|\n(?=\s*[-*•] )", text):
        flat = " ".join(paragraph.split())
        if flat:
            units.extend(s for s in _SENTENCE_END.split(flat) if s)
    return units


def _drop_injections(sentences: list[str]) -> list[str]:
    """Instructions aimed at a model are not health content; they never reach an index."""
    from actions.rag.sanitize import looks_like_injection

    return [s for s in sentences if not looks_like_injection(s)]


def _pack(sentences: list[str], max_words: int) -> Iterator[str]:
    """Greedy packing with one sentence of overlap between consecutive passages."""
    current: list[str] = []
    words = 0
    for sentence in sentences:
        n = len(sentence.split())
        if current and words + n > max_words:
            yield " ".join(current)
            current = current[-1:] if len(current) > 1 else []
            words = sum(len(s.split()) for s in current)
        current.append(sentence)
        words += n
    if current:
        yield " ".join(current)


def chunk_section(doc: KBDocument, section: Section, max_words: int = MAX_WORDS) -> list[Passage]:
    """Passages of one section, numbered by `chunk`."""
    sentences = _drop_injections(_sentences(section.text))
    return [
        Passage(
            qid=section.qid,
            doc_id=doc.doc_id,
            title=doc.title,
            heading=section.heading,
            text=text,
            url=doc.source_url,
            source=doc.source_name,
            license=doc.license,
            aliases=doc.aliases,
            chunk=i,
        )
        for i, text in enumerate(_pack(sentences, max_words))
    ]


def chunk_document(doc: KBDocument, max_words: int = MAX_WORDS) -> list[Passage]:
    """All passages of a document, in file order."""
    return [p for section in doc.sections for p in chunk_section(doc, section, max_words)]


def embed_text(passage: Passage, include_headings: bool = True) -> str:
    """What the encoder and BM25 see: title and heading help, unless an evaluation forbids them."""
    if not include_headings:
        return passage.text
    return f"{passage.title}. {passage.heading}\n{passage.text}"
