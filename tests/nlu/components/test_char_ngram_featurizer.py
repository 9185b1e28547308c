"""The character n-gram featurizer: scikit-learn's TF-IDF exactly, persisted, and safe on odd input.

Run with::

    PYTHONPATH=. .venv-rasa/bin/python -m pytest tests/nlu/components/test_char_ngram_featurizer.py
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer

from nlu.components.char_ngram_featurizer import (
    CharNgramFeaturizer,
    NgramVectorizer,
    char_wb_ngrams,
)

CORPUS = [
    "hello there",
    "hello",
    "hi",
    "good morning",
    "goodbye",
    "bye bye",
    "thanks a lot",
    "thank you so much",
    "i have a headache",
    "My  HEAD   hurts",
    "a",
    "ok",
    "tummy ache since tuesday",
    "fièvre et toux",
    "\U0001f912 fever",
]
ODD = [
    "helo",
    "thnks",
    "  ",
    "x",
    "I",
    "zzzzqqqq",
    "a\tb\nc",
    "\x00\x01 ctrl",
    "\U0001f44b" * 5_000,
]


def _message(text: str) -> Message:
    message = Message(data={TEXT: text})
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    return message


def _config(**overrides: Any) -> dict[str, Any]:
    return {**CharNgramFeaturizer.get_default_config(), **overrides}


def _trained(
    default_model_storage: ModelStorage,
    default_execution_context: ExecutionContext,
    **overrides: Any,
) -> Any:
    featurizer = CharNgramFeaturizer.create(
        _config(**overrides), default_model_storage, Resource("c"), default_execution_context
    )
    featurizer.train(TrainingData([_message(t) for t in CORPUS]))
    return featurizer


@pytest.mark.parametrize("text", CORPUS + ODD)
@pytest.mark.parametrize("ngram_range", [(2, 5), (1, 3), (3, 3)])
def test_ngrams_are_scikit_learns_char_wb(text: str, ngram_range: tuple[int, int]) -> None:
    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range).build_analyzer()
    assert char_wb_ngrams(text, *ngram_range) == analyzer(text)


def test_vectors_are_scikit_learns_tfidf() -> None:
    config = _config(min_df=1)
    ours = NgramVectorizer.fit(CORPUS, config)
    reference = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, max_features=5000
    ).fit(CORPUS)
    expected = reference.transform(CORPUS + ODD).toarray()
    mine = np.stack([ours.transform(t) for t in CORPUS + ODD])
    assert mine.shape == expected.shape
    assert np.abs(mine - expected).max() < 1e-6


def test_a_misspelt_greeting_lands_near_the_greeting(
    default_model_storage: ModelStorage, default_execution_context: ExecutionContext
) -> None:
    """What the component is for: "helo" shares n-grams with "hello", none with "goodbye"."""
    vectorizer = NgramVectorizer.fit(CORPUS, _config(min_df=1))
    helo, hello, bye = (vectorizer.transform(t) for t in ("helo", "hello", "goodbye"))
    assert float(helo @ hello) > 0.3
    assert float(helo @ bye) < 0.05


def test_adds_a_sentence_vector_that_joins_other_dense_features(
    default_model_storage: ModelStorage, default_execution_context: ExecutionContext
) -> None:
    featurizer = _trained(default_model_storage, default_execution_context, weight=0.5)
    message = _message("thanks so much")
    other = np.ones((1, 3), dtype=np.float32)  # another featurizer's sentence vector
    message.add_features(Features(other, FEATURE_TYPE_SENTENCE, TEXT, "minilm"))
    featurizer.process([message])
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence is None  # sentence only: token features stay MiniLM's
    assert sentence is not None
    vector = sentence.features[0]
    assert np.array_equal(vector[:3], np.ones(3))
    assert vector.shape == (3 + len(featurizer._vectorizer.vocabulary),)
    assert np.linalg.norm(vector[3:]) == pytest.approx(0.5, abs=1e-6)


def test_persists_and_loads_the_same_vectors(
    default_model_storage: ModelStorage, default_execution_context: ExecutionContext
) -> None:
    trained = _trained(default_model_storage, default_execution_context)
    loaded = CharNgramFeaturizer.load(
        _config(), default_model_storage, Resource("c"), default_execution_context
    )
    for text in CORPUS + ODD:
        before, after = _message(text), _message(text)
        trained.process([before])
        loaded.process([after])
        a, b = before.get_dense_features(TEXT)[1], after.get_dense_features(TEXT)[1]
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert np.array_equal(a.features, b.features)


@pytest.mark.parametrize("text", [*ODD, "", "a" * 50_000, "\ufffd\ud7ff binary \x7f"])
def test_odd_messages_get_a_finite_vector_or_none(
    default_model_storage: ModelStorage, default_execution_context: ExecutionContext, text: str
) -> None:
    featurizer = _trained(default_model_storage, default_execution_context)
    message = _message(text)
    featurizer.process([message])
    sentence = message.get_dense_features(TEXT)[1]
    if not text:
        assert sentence is None
        return
    assert sentence is not None
    assert np.isfinite(sentence.features).all()
    assert np.linalg.norm(sentence.features) in (pytest.approx(0.0), pytest.approx(1.0))


def test_untrained_adds_nothing(
    default_model_storage: ModelStorage, default_execution_context: ExecutionContext
) -> None:
    """No training texts: nothing stored, and the loaded featurizer adds no features."""
    featurizer = CharNgramFeaturizer.create(
        _config(), default_model_storage, Resource("c"), default_execution_context
    )
    featurizer.train(TrainingData([Message(data={TEXT: ""})]))
    loaded = CharNgramFeaturizer.load(
        _config(), default_model_storage, Resource("c"), default_execution_context
    )
    message = _message("hello")
    loaded.process([message])
    assert message.get_dense_features(TEXT) == (None, None)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"min_n": 0}, "min_n"),
        ({"max_n": "5"}, "max_n"),
        ({"max_features": True}, "max_features"),
        ({"min_df": -1}, "min_df"),
        ({"min_n": 4, "max_n": 2}, "must not exceed"),
        ({"weight": 0}, "weight"),
        ({"weight": "heavy"}, "weight"),
    ],
)
def test_bad_settings_are_refused_naming_them(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidConfigException, match=f"CharNgramFeaturizer: .*{named}"):
        CharNgramFeaturizer.validate_config(_config(**overrides))
