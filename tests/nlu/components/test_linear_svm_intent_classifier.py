"""The linear SVM intent classifier gives libsvm's probabilities without libsvm's kernel loop.

Run with::

    PYTHONPATH=. .venv-rasa/bin/python -m pytest \
        tests/nlu/components/test_linear_svm_intent_classifier.py
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.svm import SVC

from nlu.components.linear_svm_intent_classifier import (
    LinearProbabilities,
    LinearSVMIntentClassifier,
)

RNG = np.random.default_rng(7)


def _blobs(classes: int, dims: int, n: int, spread: float = 2.0) -> tuple[Any, Any, Any]:
    centers = RNG.normal(size=(classes, dims))
    y = RNG.integers(0, classes, n)
    x = centers[y] + RNG.normal(scale=spread, size=(n, dims))
    test = centers[RNG.integers(0, classes, 100)] + RNG.normal(scale=spread * 1.3, size=(100, dims))
    return x, np.array([f"intent_{i:02d}" for i in y]), test


@pytest.mark.parametrize(("classes", "dims"), [(3, 4), (18, 64), (40, 32)])
def test_probabilities_are_libsvms(classes: int, dims: int) -> None:
    x, y, test = _blobs(classes, dims, 30 * classes)
    svc = SVC(C=10, kernel="linear", probability=True, class_weight="balanced").fit(x, y)
    assert LinearProbabilities.supports(svc)
    ours = LinearProbabilities(svc).predict_proba(test)
    assert np.abs(ours - svc.predict_proba(test)).max() < 1e-9
    assert np.allclose(ours.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("kernel", "classes", "probability"), [("rbf", 5, True), ("linear", 2, True)]
)
def test_what_the_matmul_path_does_not_cover(kernel: str, classes: int, probability: bool) -> None:
    """Other kernels and binary SVMs (libsvm flips signs there) stay with scikit-learn."""
    x, y, _ = _blobs(classes, 4, 40 * classes)
    svc = SVC(kernel=kernel, probability=probability).fit(x, y)
    assert not LinearProbabilities.supports(svc)
    assert not LinearProbabilities.supports(SVC(kernel="linear"))  # not fitted


def _messages(x: np.ndarray, y: Any = None) -> list[Message]:
    out = []
    for i, row in enumerate(x):
        data = {TEXT: f"message {i}"}
        if y is not None:
            data[INTENT] = str(y[i])
        message = Message(data=data)
        message.add_features(Features(row[None], FEATURE_TYPE_SENTENCE, TEXT, "test"))
        out.append(message)
    return out


def _config(**overrides: Any) -> dict[str, Any]:
    return {**LinearSVMIntentClassifier.get_default_config(), "C": [10], **overrides}


def _trained(
    storage: ModelStorage, context: ExecutionContext, x: Any, y: Any, **overrides: Any
) -> LinearSVMIntentClassifier:
    """Created and trained as Rasa's graph does it."""
    classifier = LinearSVMIntentClassifier.create(
        _config(**overrides), storage, Resource("svm"), context
    )
    classifier.train(TrainingData(_messages(x, y)))
    return classifier


def test_in_rasa_the_ranking_is_the_fitted_svms(
    default_model_storage: ModelStorage, default_execution_context: ExecutionContext
) -> None:
    """Trained as Rasa trains it; every intent's confidence equals libsvm's, and so after load."""
    x, y, test = _blobs(6, 16, 180)
    classifier = _trained(default_model_storage, default_execution_context, x, y)
    loaded = LinearSVMIntentClassifier.load(
        _config(), default_model_storage, Resource("svm"), default_execution_context
    )
    for component in (classifier, loaded):
        messages = component.process(_messages(test))
        assert component._fast is not None  # the matmul path answered
        libsvm = component.clf.predict_proba(test)
        labels = component.le.inverse_transform(np.arange(libsvm.shape[1]))
        for message, expected in zip(messages, libsvm, strict=True):
            ranking = {r["name"]: r["confidence"] for r in message.get("intent_ranking")}
            assert ranking.keys() <= set(labels)
            for label, confidence in ranking.items():
                assert confidence == pytest.approx(expected[list(labels).index(label)], abs=1e-9)
            assert message.get(INTENT)["name"] == labels[int(expected.argmax())]


def test_rbf_kernel_falls_back_to_scikit_learn(
    default_model_storage: ModelStorage, default_execution_context: ExecutionContext
) -> None:
    x, y, test = _blobs(4, 8, 120)
    classifier = _trained(default_model_storage, default_execution_context, x, y, kernels=["rbf"])
    assert np.array_equal(classifier.predict_prob(test), classifier.clf.predict_proba(test))
    assert classifier._fast is None


def test_a_message_without_features_gets_no_intent(
    default_model_storage: ModelStorage, default_execution_context: ExecutionContext
) -> None:
    x, y, _ = _blobs(3, 4, 60)
    classifier = _trained(default_model_storage, default_execution_context, x, y)
    [message] = classifier.process([Message(data={TEXT: ""})])
    assert message.get(INTENT) is None
    assert message.get("intent_ranking") == []
