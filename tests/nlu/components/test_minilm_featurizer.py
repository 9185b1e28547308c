"""Tests for the all-MiniLM-L6-v2 encoder (ONNX Runtime and numpy backends) and its featurizer.

The reference (`fixtures/minilm_reference.json`) was computed once with sentence-transformers 6.2 +
torch in the tooling environment (.venv, Python 3.11): word-piece ids from the model's own tokenizer
and
normalised sentence embeddings. Run with::

    cd <repo> && PYTHONPATH=. .venv-rasa/bin/python -m pytest
    tests/nlu/components/test_minilm_featurizer.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components.minilm_encoder import MiniLMEncoder
from nlu.components.minilm_featurizer import MiniLMFeaturizer

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "minilm_reference.json").read_text())


@pytest.fixture(scope="module", params=["onnx", "numpy"])
def encoder(request: pytest.FixtureRequest) -> Iterator[MiniLMEncoder]:
    """Load the weights once per backend for the module (about 0.5 s each)."""
    yield MiniLMEncoder(backend=request.param)


@pytest.fixture
def featurizer(
    default_model_storage: ModelStorage, default_execution_context: ExecutionContext
) -> MiniLMFeaturizer:
    """The component as Rasa builds it."""
    config: dict[str, Any] = MiniLMFeaturizer.get_default_config()
    return MiniLMFeaturizer.create(
        config, default_model_storage, Resource("minilm"), default_execution_context
    )


def _tokenized(text: str) -> Message:
    message = Message(data={TEXT: text})
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    return message


@pytest.mark.parametrize("index", range(len(REFERENCE["texts"])))
def test_word_pieces_match_reference_tokenizer(encoder: MiniLMEncoder, index: int) -> None:
    tok = encoder.tokenizer
    ids = [tok.cls_id, *(p.id for p in tok.tokenize(REFERENCE["texts"][index])), tok.sep_id]
    assert ids == REFERENCE["input_ids"][index]


def test_sentence_embeddings_match_sentence_transformers(encoder: MiniLMEncoder) -> None:
    mine = encoder.encode(REFERENCE["texts"])
    reference = np.asarray(REFERENCE["embeddings"], dtype=np.float64)
    cosine = (mine * reference).sum(axis=1) / np.linalg.norm(reference, axis=1)
    assert cosine.min() >= 0.999


def test_batching_does_not_change_results(encoder: MiniLMEncoder) -> None:
    texts = REFERENCE["texts"]
    together = encoder.encode(texts, batch_size=8)
    alone = np.concatenate([encoder.encode([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-4)


def test_featurizer_adds_one_vector_per_token_and_a_sentence_vector(
    featurizer: MiniLMFeaturizer, encoder: MiniLMEncoder
) -> None:
    text = REFERENCE["texts"][0]
    message = _tokenized(text)
    featurizer.process([message])
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence is not None and sentence is not None
    assert sequence.features.shape == (len(message.get(TOKENS_NAMES[TEXT])), 384)
    assert np.abs(sequence.features).sum(axis=1).min() > 0  # every token got a vector
    assert np.allclose(sentence.features[0], encoder.encode([text])[0], atol=1e-5)


def test_training_data_and_empty_messages(featurizer: MiniLMFeaturizer) -> None:
    messages = [_tokenized("book a doctor"), Message(data={TEXT: ""})]
    featurizer.process_training_data(TrainingData(training_examples=messages))
    assert messages[0].get_dense_features(TEXT)[1] is not None
    assert messages[1].get_dense_features(TEXT) == (None, None)


def test_fast_erf_matches_scipy_within_float32_noise() -> None:
    """The encoder's own erf (for GELU) against scipy's, over the range activations take."""
    from scipy.special import erf

    from nlu.components.minilm_encoder import _erf

    x = np.linspace(-12.0, 12.0, 200_001, dtype=np.float32)
    assert np.abs(_erf(x) - erf(x.astype(np.float64))).max() < 1e-6
    assert _erf(np.zeros(3, dtype=np.float32)).tolist() == [0.0, 0.0, 0.0]
