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
VERSION = 2  # bump when passage text changes: it forces a full re-embed
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")


def _units(text: str) -> list[tuple[str, str]]:
    """Sentences with the separator that preceded them, so passages keep paragraph and list
    breaks ("\n\n" between paragraphs, "\n" before a list item, " " within a paragraph)."""
    units: list[tuple[str, str]] = []
    for paragraph in re.split(r"\n\s*\n", text):
        for line_no, block in enumerate(re.split(r"\n(?=\s*(?:[-*•]|\d{1,2}\.) )", paragraph)):
            flat = " ".join(block.split())
            for i, sentence in enumerate(s for s in _SENTENCE_END.split(flat) if s):
                units.append((sentence, " " if i else ("\n" if line_no else "\n\n")))
    return units


def _drop_injections(units: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Instructions aimed at a model are not health content; they never reach an index."""
    from actions.rag.sanitize import looks_like_injection

    return [u for u in units if not looks_like_injection(u[0])]


def _join(units: list[tuple[str, str]]) -> str:
    return "".join(sep + text if i else text for i, (text, sep) in enumerate(units))


def _pack(units: list[tuple[str, str]], max_words: int) -> Iterator[str]:
    """Greedy packing with one sentence of overlap between consecutive passages."""
    current: list[tuple[str, str]] = []
    words = 0
    for unit in units:
        n = len(unit[0].split())
        if current and words + n > max_words:
            yield _join(current)
            current = current[-1:] if len(current) > 1 else []
            words = sum(len(u[0].split()) for u in current)
        current.append(unit)
        words += n
    if current:
        yield _join(current)


def chunk_section(doc: KBDocument, section: Section, max_words: int = MAX_WORDS) -> list[Passage]:
    """Passages of one section, numbered by `chunk`."""
    units = _drop_injections(_units(section.text))
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
        for i, text in enumerate(_pack(units, max_words))
    ]


def chunk_document(doc: KBDocument, max_words: int = MAX_WORDS) -> list[Passage]:
    """All passages of a document, in file order."""
    return [p for section in doc.sections for p in chunk_section(doc, section, max_words)]


def embed_text(passage: Passage, include_headings: bool = True) -> str:
    """What the encoder and BM25 see: title and heading help, unless an evaluation forbids them."""
    if not include_headings:
        return passage.text
    return f"{passage.title}. {passage.heading}\n{passage.text}"
