"""Dense, lexical and fused retrieval over one loaded `KnowledgeIndex`.

Fusion is reciprocal-rank fusion (RRF): it needs no score calibration between cosine and BM25.
`make eval-kb` measured it against dense alone, both with the same boosts; dense with boosts won
(bench/RESULTS.md), so `dense` is the default and `hybrid` stays one setting away.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from actions.rag.query_types import heading_type, question_types
from actions.rag.types import Embedder, Passage, ScoredPassage

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from actions.rag.index import KnowledgeIndex

DEPTH = 50  # candidates taken from each list before fusion
RRF_K = 60


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def names_document(query: str, passage: Passage) -> bool:
    """Whether the question names the passage's document (its title or one of its aliases)."""
    padded = f" {_norm(query)} "
    return any(
        f" {n} " in padded for n in (_norm(passage.title), *map(_norm, passage.aliases)) if n
    )


@dataclass
class _Candidates:
    dense: list[tuple[int, float]]
    lexical: list[tuple[int, float]]


class DenseRetriever:
    """FAISS inner product on normalised MiniLM vectors (cosine)."""

    def __init__(self, index: KnowledgeIndex, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder

    def embed(self, query: str) -> NDArray[np.float32]:
        return self.embedder.encode([query])[0]

    def retrieve(self, query: str, k: int = 5, entities: Sequence[str] = ()) -> list[ScoredPassage]:
        hits = self.index.dense_search(self.embed(query), k)
        return [
            ScoredPassage(self.index.passages[r], s, dense_score=s, components={"dense": s})
            for r, s in hits
        ]


class BM25Retriever:
    """bm25s over the same texts the encoder saw (stemmed, English stop words removed)."""

    def __init__(self, index: KnowledgeIndex) -> None:
        self.index = index

    def retrieve(self, query: str, k: int = 5, entities: Sequence[str] = ()) -> list[ScoredPassage]:
        return [
            ScoredPassage(self.index.passages[r], s, components={"bm25": s})
            for r, s in self.index.bm25_search(query, k)
        ]


class HybridRetriever:
    """Rank fusion of dense and (optionally) BM25 rankings, plus three boosts.

    Scores are reciprocal-rank votes, `weight / (RRF_K + rank)`, so cosine and BM25 need no
    calibration. Boosts are in the same units (measured in bench/kb_eval.py):
    - the question names a document's title or alias (`title_boost`);
    - an NLU `condition`/`medication` entity names it (`entity_boost`);
    - the question asks for the kind of section the heading is (symptoms, inheritance…),
      only where the index kept headings (`type_boost`).
    With `bm25_weight=0` this is dense retrieval with the boosts (the shipped default).
    """

    def __init__(
        self,
        index: KnowledgeIndex,
        embedder: Embedder,
        *,
        bm25_weight: float = 0.3,
        title_boost: float = 0.005,
        type_boost: float = 0.01,
        entity_boost: float = 1.0 / RRF_K,
    ) -> None:
        self.index = index
        self.dense = DenseRetriever(index, embedder)
        self.bm25_weight = bm25_weight
        self.title_boost = title_boost
        self.type_boost = type_boost if index.include_headings else 0.0
        self.entity_boost = entity_boost
        self._names: dict[str, frozenset[str]] = {}

    def _candidates(self, query: str, vector: NDArray[np.float32]) -> _Candidates:
        lexical = self.index.bm25_search(query, DEPTH) if self.bm25_weight > 0 else []
        return _Candidates(self.index.dense_search(vector, DEPTH), lexical)

    def _doc_names(self, row: int) -> frozenset[str]:
        p = self.index.passages[row]
        names = self._names.get(p.doc_id)
        if names is None:
            names = frozenset(n for n in (_norm(p.title), *map(_norm, p.aliases)) if n)
            self._names[p.doc_id] = names
        return names

    def _boost(
        self, fused: dict[int, float], query: str, entities: Sequence[str]
    ) -> dict[int, float]:
        padded = f" {_norm(query)} "
        wanted = {_norm(e) for e in entities if _norm(e)}
        types = question_types(query) if self.type_boost else frozenset()
        for row in fused:
            names = self._doc_names(row)
            if any(f" {n} " in padded for n in names):
                fused[row] += self.title_boost
            if wanted and (wanted & names or any(w in n for w in wanted for n in names)):
                fused[row] += self.entity_boost
            if types and heading_type(self.index.passages[row].heading) in types:
                fused[row] += self.type_boost
        return fused

    def retrieve(self, query: str, k: int = 5, entities: Sequence[str] = ()) -> list[ScoredPassage]:
        vector = self.dense.embed(query)
        found = self._candidates(query, vector)
        fused: dict[int, float] = {}
        for weight, ranking in ((1.0, found.dense), (self.bm25_weight, found.lexical)):
            for rank, (row, _) in enumerate(ranking):
                fused[row] = fused.get(row, 0.0) + weight / (RRF_K + rank + 1)
        fused = self._boost(fused, query, entities)
        dense = dict(found.dense)
        lexical = dict(found.lexical)
        best = sorted(fused, key=lambda r: -fused[r])[:k]
        return [self._scored(row, fused[row], vector, dense, lexical) for row in best]

    def _scored(
        self,
        row: int,
        score: float,
        vector: NDArray[np.float32],
        dense: dict[int, float],
        lexical: dict[int, float],
    ) -> ScoredPassage:
        cosine = dense.get(row)
        if cosine is None:
            cosine = self.index.cosine(row, vector)
        components = {"dense": cosine, "bm25": lexical.get(row, 0.0)}
        return ScoredPassage(
            self.index.passages[row], score, dense_score=cosine, components=components
        )


MODES = ("dense", "hybrid", "bm25", "dense-plain")


def make_retriever(
    mode: str, index: KnowledgeIndex, embedder: Embedder
) -> DenseRetriever | BM25Retriever | HybridRetriever:
    """`dense` (dense + boosts, the default), `hybrid` (+ BM25 fusion), `bm25`, `dense-plain`."""
    if mode == "dense":
        return HybridRetriever(index, embedder, bm25_weight=0.0)
    if mode == "hybrid":
        return HybridRetriever(index, embedder)
    if mode == "bm25":
        return BM25Retriever(index)
    if mode == "dense-plain":
        return DenseRetriever(index, embedder)
    raise ValueError(f"unknown retrieval mode {mode!r} (use {', '.join(MODES)})")
