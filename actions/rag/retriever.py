"""Dense, lexical and fused retrieval over one loaded `KnowledgeIndex`.

Fusion is reciprocal-rank fusion (RRF): it needs no score calibration between cosine and BM25,
and it is what `make eval-kb` measures against dense and BM25 alone. NLU entities
(`condition`, `medication`) boost passages whose title or aliases name them, because a patient
who names their condition wants that condition's page first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from actions.rag.types import Embedder, ScoredPassage

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from actions.rag.index import KnowledgeIndex

DEPTH = 50  # candidates taken from each list before fusion
RRF_K = 60


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


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
    """RRF of dense and BM25 rankings, plus entity boosts."""

    def __init__(
        self,
        index: KnowledgeIndex,
        embedder: Embedder,
        *,
        dense_weight: float = 1.0,
        bm25_weight: float = 1.0,
        entity_boost: float = 1.0,
    ) -> None:
        self.index = index
        self.dense = DenseRetriever(index, embedder)
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self.entity_boost = entity_boost / RRF_K  # in units of a first-place RRF vote

    def _candidates(self, query: str, vector: NDArray[np.float32]) -> _Candidates:
        return _Candidates(
            self.index.dense_search(vector, DEPTH), self.index.bm25_search(query, DEPTH)
        )

    def _entity_rows(self, entities: Sequence[str], rows: set[int]) -> set[int]:
        names = {_norm(e) for e in entities if _norm(e)}
        if not names:
            return set()
        matched = set()
        for row in rows:
            p = self.index.passages[row]
            labels = {_norm(p.title), *(_norm(a) for a in p.aliases)}
            if names & labels or any(n in _norm(p.title) for n in names):
                matched.add(row)
        return matched

    def retrieve(self, query: str, k: int = 5, entities: Sequence[str] = ()) -> list[ScoredPassage]:
        vector = self.dense.embed(query)
        found = self._candidates(query, vector)
        fused: dict[int, float] = {}
        for weight, ranking in (
            (self.dense_weight, found.dense),
            (self.bm25_weight, found.lexical),
        ):
            for rank, (row, _) in enumerate(ranking):
                fused[row] = fused.get(row, 0.0) + weight / (RRF_K + rank + 1)
        for row in self._entity_rows(entities, set(fused)):
            fused[row] += self.entity_boost
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


def make_retriever(
    mode: str, index: KnowledgeIndex, embedder: Embedder
) -> DenseRetriever | BM25Retriever | HybridRetriever:
    """`hybrid` (default), `dense` or `bm25`."""
    if mode == "dense":
        return DenseRetriever(index, embedder)
    if mode == "bm25":
        return BM25Retriever(index)
    if mode == "hybrid":
        return HybridRetriever(index, embedder)
    raise ValueError(f"unknown retrieval mode {mode!r} (use hybrid, dense or bm25)")
