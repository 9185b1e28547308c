"""Hand-checked cases for the knowledge-base evaluation metrics."""

from __future__ import annotations

import pytest

from bench.kb_metrics import lcs_length, mrr, recall_at_k, rouge_l, tokens

RANKED = [["a", "b", "c"], ["d", "e", "f"], ["g", "h", "i"], []]
GOLD = ["a", "f", "x", "a"]  # rank 1, rank 3, missing, empty ranking


def test_recall_at_k_counts_gold_in_top_k():
    assert recall_at_k(RANKED, GOLD, k=1) == 0.25
    assert recall_at_k(RANKED, GOLD, k=2) == 0.25
    assert recall_at_k(RANKED, GOLD, k=3) == 0.5
    assert recall_at_k(RANKED, GOLD, k=10) == 0.5


def test_mrr_averages_reciprocal_ranks():
    assert mrr(RANKED, GOLD) == pytest.approx((1 + 1 / 3 + 0 + 0) / 4)


def test_mrr_cutoff_counts_later_ranks_as_zero():
    assert mrr(RANKED, GOLD, cutoff=2) == 0.25
    assert mrr([["b", "a"]], ["a"], cutoff=2) == 0.5


def test_metrics_reject_mismatched_or_empty_inputs():
    with pytest.raises(ValueError, match="rankings"):
        recall_at_k(RANKED, GOLD[:2], k=1)
    with pytest.raises(ValueError, match="no questions"):
        mrr([], [])
    with pytest.raises(ValueError, match="k must be"):
        recall_at_k(RANKED, GOLD, k=0)


def test_tokens_lowercase_words_without_punctuation():
    assert tokens("Is it BAD, if... x-ray?") == ["is", "it", "bad", "if", "x", "ray"]


def test_lcs_length_small_cases():
    assert lcs_length("abcbdab", "bdcaba") == 4  # the textbook example (CLRS): "bcba"
    assert lcs_length([], ["a"]) == 0
    assert lcs_length(["a", "b"], ["b", "a"]) == 1


def test_rouge_l_identical_strings_score_one():
    assert rouge_l("The cat sat.", "the CAT sat") == 1.0


def test_rouge_l_empty_strings_score_zero():
    assert rouge_l("", "") == 0.0
    assert rouge_l("", "the cat") == 0.0
    assert rouge_l("the cat", "") == 0.0
    assert rouge_l("!!!", "the cat") == 0.0  # punctuation only: no tokens


def test_rouge_l_no_overlap_scores_zero():
    assert rouge_l("dogs bark", "the cat sat") == 0.0


def test_rouge_l_hand_checked_f1():
    # Lin (2004): reference "police killed the gunman"; candidate "police kill the gunman":
    # LCS = "police the gunman" = 3, P = 3/4, R = 3/4, F1 = 0.75.
    assert rouge_l("police kill the gunman", "police killed the gunman") == pytest.approx(0.75)
    # Candidate "the gunman kill police": LCS = "the gunman" = 2, F1 = 0.5.
    assert rouge_l("the gunman kill police", "police killed the gunman") == pytest.approx(0.5)


def test_rouge_l_uneven_lengths():
    # LCS("a b", "a x b y") = 2: P = 2/2, R = 2/4, F1 = 2 * 1 * 0.5 / 1.5 = 2/3.
    assert rouge_l("a b", "a x b y") == pytest.approx(2 / 3)
    assert rouge_l("a x b y", "a b") == pytest.approx(2 / 3)  # F1 is symmetric
