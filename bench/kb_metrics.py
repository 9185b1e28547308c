"""Retrieval and answer-overlap metrics for the knowledge-base evaluation.

Each question has exactly one right passage (its MedQuAD qid), so retrieval is scored by
recall@k (share of questions whose gold qid is in the top k) and MRR (mean reciprocal rank of
the gold qid, 0 past the cutoff). Generated answers are compared with MedQuAD's answer by
ROUGE-L F1.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_TOKEN = re.compile(r"[a-z0-9]+")


def _check(ranked_qids: Sequence[Sequence[str]], gold: Sequence[str], k: int) -> None:
    """Mismatched or empty inputs would silently give a wrong score."""
    if len(ranked_qids) != len(gold):
        raise ValueError(f"{len(ranked_qids)} rankings for {len(gold)} gold qids")
    if not gold:
        raise ValueError("no questions to score")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def recall_at_k(ranked_qids: list[list[str]], gold: list[str], k: int) -> float:
    """Share of questions whose gold qid is among the first k retrieved (one gold per question)."""
    _check(ranked_qids, gold, k)
    hits = sum(answer in ranked[:k] for ranked, answer in zip(ranked_qids, gold, strict=True))
    return hits / len(gold)


def mrr(ranked_qids: list[list[str]], gold: list[str], cutoff: int = 10) -> float:
    """Mean of 1/rank of the gold qid (rank from 1), counting 0 when it is not in the top cutoff."""
    _check(ranked_qids, gold, cutoff)
    total = 0.0
    for ranked, answer in zip(ranked_qids, gold, strict=True):
        top = list(ranked[:cutoff])
        total += 1.0 / (top.index(answer) + 1) if answer in top else 0.0
    return total / len(gold)


def tokens(text: str) -> list[str]:
    """Lowercased runs of ASCII letters and digits: the tokeniser of Google's `rouge-score`."""
    return _TOKEN.findall(text.lower())


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (dynamic programming, one row of memory)."""
    if len(b) > len(a):
        a, b = b, a
    row = [0] * (len(b) + 1)
    for x in a:
        diagonal = 0  # row[j - 1] of the previous row
        for j, y in enumerate(b, start=1):
            diagonal, row[j] = row[j], (diagonal + 1 if x == y else max(row[j], row[j - 1]))
    return row[-1]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 (Lin, 2004) on word tokens: LCS-based precision and recall, beta = 1.

    With L = LCS length, P = L / len(candidate tokens) and R = L / len(reference tokens);
    F1 = 2PR / (P + R). Defined as 0.0 when either side has no tokens (nothing can overlap),
    so an empty answer never scores. Same numbers as `rouge-score`'s rougeL without stemming.
    """
    cand, ref = tokens(candidate), tokens(reference)
    if not cand or not ref:
        return 0.0
    common = lcs_length(cand, ref)
    if common == 0:
        return 0.0
    precision, recall = common / len(cand), common / len(ref)
    return 2 * precision * recall / (precision + recall)
