"""Reads IOB/CoNLL NER corpora (BC5CDR, NCBI-disease): one ``token<TAB>tag`` per line.

Errors name the file and line, because a corpus edited by hand breaks on one bad row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

LABELS: tuple[str, ...] = ("O", "B-Chemical", "I-Chemical", "B-Disease", "I-Disease")


class CorpusError(ValueError):
    """A corpus line that is not ``token<TAB>tag`` with a known tag."""


@dataclass(frozen=True)
class Sentence:
    tokens: tuple[str, ...]
    tags: tuple[str, ...]


def read_iob(path: Path, labels: tuple[str, ...] = LABELS) -> list[Sentence]:
    """Sentences of ``path``; blank lines separate them. Unknown tags raise with file:line."""
    sentences: list[Sentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\n").rstrip("\r")
            if not line.strip():
                if tokens:
                    sentences.append(Sentence(tuple(tokens), tuple(tags)))
                    tokens, tags = [], []
                continue
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0]:
                raise CorpusError(f"{path}:{number}: expected 'token<TAB>tag', got {line[:60]!r}")
            token, tag = parts
            if tag not in labels:
                raise CorpusError(f"{path}:{number}: unknown tag {tag!r} (known: {labels})")
            tokens.append(token)
            tags.append(tag)
    if tokens:
        sentences.append(Sentence(tuple(tokens), tuple(tags)))
    return sentences


def entity_counts(sentences: list[Sentence]) -> dict[str, int]:
    """Mentions per type, for the model card's data table."""
    counts: dict[str, int] = {}
    for sentence in sentences:
        for tag in sentence.tags:
            if tag.startswith("B-"):
                counts[tag[2:]] = counts.get(tag[2:], 0) + 1
    return counts
