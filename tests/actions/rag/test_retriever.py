"""Dense, BM25 and fused retrieval on a small real index."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.rag.index import KnowledgeIndex
from actions.rag.retriever import BM25Retriever, HybridRetriever, make_retriever


@pytest.fixture(scope="module")
def index(built_kb: tuple[Path, Path]) -> KnowledgeIndex:
    return KnowledgeIndex.load_current(built_kb[1])


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid", "dense-plain"])
def test_each_retriever_finds_the_right_section(index: KnowledgeIndex, embedder, mode: str) -> None:
    retriever = make_retriever(mode, index, embedder)
    hits = retriever.retrieve("what medicine lowers uric acid for gout", k=3)
    assert hits[0].passage.qid == "gout#what-can-i-do-about-gout"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_hybrid_reports_cosine_for_every_hit(index: KnowledgeIndex, embedder) -> None:
    hits = HybridRetriever(index, embedder).retrieve("wheezing and coughing", k=6)
    assert hits[0].passage.doc_id == "asthma"
    assert all(h.dense_score is not None and -1 <= h.dense_score <= 1 for h in hits)


def test_entity_boost_lifts_the_named_condition(index: KnowledgeIndex, embedder) -> None:
    retriever = HybridRetriever(index, embedder)
    question = "how is it treated"
    plain = retriever.retrieve(question, k=6)
    boosted = retriever.retrieve(question, k=6, entities=("asthma",))
    assert boosted[0].passage.doc_id == "asthma"
    assert plain[0].passage.doc_id != "asthma" or plain[0].score < boosted[0].score


def test_question_type_prefers_the_matching_section(index: KnowledgeIndex, embedder) -> None:
    hits = HybridRetriever(index, embedder).retrieve("gout: what can i do, any treatment?", k=2)
    assert hits[0].passage.qid == "gout#what-can-i-do-about-gout"


def test_naming_a_title_or_alias_lifts_that_document(index: KnowledgeIndex, embedder) -> None:
    retriever = HybridRetriever(index, embedder, title_boost=1.0)
    assert retriever.retrieve("something about bronchial asthma", k=1)[0].passage.doc_id == "asthma"


def test_bm25_handles_queries_without_known_words(index: KnowledgeIndex) -> None:
    assert BM25Retriever(index).retrieve("zzqx", k=3) == []
    assert BM25Retriever(index).retrieve("", k=3) == []


def test_unknown_mode_is_refused(index: KnowledgeIndex, embedder) -> None:
    with pytest.raises(ValueError, match="unknown retrieval mode"):
        make_retriever("magic", index, embedder)
