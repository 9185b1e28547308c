"""The knowledge base's data model and the two swappable seams: `Retriever` and `Generator`.

Everything else in `actions/rag/` speaks these types, so a backend can be swapped (a clinic's
vLLM server, an approximate index) without touching the callers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


@dataclass(frozen=True)
class Section:
    """One `##` section of a knowledge file: the unit editors write and retrieval returns."""

    qid: str  # MedQuAD: "<source>_<document id>_<pid>"; other files: "<doc id>#<heading slug>"
    heading: str
    text: str
    line: int  # 1-based line of the `##` heading in the file


@dataclass(frozen=True)
class KBDocument:
    """A parsed knowledge file (front matter + sections)."""

    path: Path
    doc_id: str
    title: str
    source_name: str
    source_url: str
    license: str
    language: str = "en"
    audience: str = "patients"
    last_reviewed: str = ""
    reviewed_by: str = ""
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()


@dataclass(frozen=True)
class Passage:
    """A retrievable chunk of one section; it keeps the section's qid and attribution."""

    qid: str
    doc_id: str
    title: str
    heading: str
    text: str
    url: str
    source: str
    license: str
    aliases: tuple[str, ...] = ()
    chunk: int = 0  # position of this chunk within its section


@dataclass(frozen=True)
class ScoredPassage:
    """A passage with the retriever's score (higher is better; scale depends on retriever)."""

    passage: Passage
    score: float
    dense_score: float | None = None  # cosine similarity of query and passage, when known
    components: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class Retriever(Protocol):
    """Ranks passages for a question; `entities` are NLU `condition`/`medication` values."""

    def retrieve(
        self, query: str, k: int = 5, entities: Sequence[str] = ()
    ) -> list[ScoredPassage]: ...


@dataclass(frozen=True)
class GeneratedAnswer:
    """What a generator wrote: sentences carry `[n]` markers into `citations` (1-based)."""

    text: str
    citations: tuple[Passage, ...]
    backend: str


@runtime_checkable
class Generator(Protocol):
    """Writes an answer only from the given passages (never from its own memory)."""

    name: str

    def generate(self, question: str, passages: Sequence[ScoredPassage]) -> GeneratedAnswer: ...


@runtime_checkable
class Embedder(Protocol):
    """Sentence embeddings: float32 rows, L2-normalised, so inner product = cosine."""

    dim: int

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> NDArray[np.float32]: ...
