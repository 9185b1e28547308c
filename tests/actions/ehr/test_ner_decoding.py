"""The model-free parts of the NER path: word splitting, BIO-constrained decoding, spans."""

import math

from actions.ehr.ner import spans, split_words, viterbi_bio

# The shipped model's label order (config.json's id2label; training.ehr.conll.LABELS).
LABELS = ("O", "B-Chemical", "I-Chemical", "B-Disease", "I-Disease")


def test_words_keep_offsets_and_split_punctuation_like_bc5cdr():
    text = "Parkinson's disease; K+ 6.8"
    words = split_words(text)
    assert [w.text for w in words] == [
        "Parkinson",
        "'",
        "s",
        "disease",
        ";",
        "K",
        "+",
        "6",
        ".",
        "8",
    ]
    assert all(text[w.start : w.end] == w.text for w in words)


def test_viterbi_never_starts_an_entity_with_inside():
    log = [
        [math.log(p) for p in row]
        for row in (
            # O, B-Chem, I-Chem, B-Dis, I-Dis: the argmax would be I-Dis, I-Dis
            [0.2, 0.05, 0.05, 0.3, 0.4],
            [0.1, 0.05, 0.05, 0.1, 0.7],
        )
    ]
    path = [LABELS[i] for i in viterbi_bio(log, LABELS)]
    assert path == ["B-Disease", "I-Disease"]


def test_viterbi_does_not_continue_another_type():
    log = [
        [math.log(p) for p in row]
        for row in (
            [0.1, 0.8, 0.05, 0.03, 0.02],
            [0.3, 0.05, 0.05, 0.05, 0.55],  # I-Disease after B-Chemical is not allowed
        )
    ]
    path = [LABELS[i] for i in viterbi_bio(log, LABELS)]
    assert path[0] == "B-Chemical" and path[1] != "I-Disease"


def test_spans():
    tags = ["O", "B-Disease", "I-Disease", "B-Chemical", "O", "B-Disease"]
    assert list(spans(tags)) == [("Disease", 1, 3), ("Chemical", 3, 4), ("Disease", 5, 6)]
