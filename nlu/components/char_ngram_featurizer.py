"""A character n-gram sentence vector (TF-IDF) for the intent classifier, beside MiniLM's.

Why: patients greet, thank and leave in two or three characters, with their own spellings ("helo",
"thnks", "cya", "tysm"). MiniLM's sentence vector of such a message carries little, and a word the
training data never had carries nothing; its character n-grams still overlap the known spellings.
Rasa's `SklearnIntentClassifier` reads dense sentence features only (Rasa's CountVectorsFeaturizer
output is sparse, so it would be ignored); Rasa concatenates every dense featurizer's sentence
vector, so this one joins MiniLM's. In a 5-fold CV of our data (3 fold seeds; linear SVM, C 10;
`bench/intent_features_cv.py`): intent macro-F1 0.925 with MiniLM alone, 0.938 with these n-grams.

The vocabulary and IDF weights are fitted at training time with scikit-learn (installed with Rasa)
and stored as JSON; messages are vectorised here, exactly as scikit-learn's `TfidfVectorizer`
(`analyzer="char_wb"`, `sublinear_tf=True`, L2 norm) would, which the tests check.

Usage in config.yml, after a tokenizer::

    - name: nlu.components.char_ngram_featurizer.CharNgramFeaturizer
      # min_n: 2, max_n: 5, max_features: 5000, min_df: 2, weight: 1.0
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

FILE = "char_ngrams.json"
_SPACES = re.compile(r"\s\s+")


def char_wb_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    """scikit-learn's `char_wb` analyzer: n-grams inside each word padded with one space."""
    grams: list[str] = []
    for word in _SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        for n in range(min_n, max_n + 1):
            if len(padded) <= n:
                grams.append(padded)  # a short word counts once, whole
                break
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


class NgramVectorizer:
    """TF-IDF over a fixed vocabulary: sublinear tf (1 + log count), times idf, L2-normalised."""

    def __init__(
        self, vocabulary: dict[str, int], idf: list[float], min_n: int, max_n: int
    ) -> None:
        self.vocabulary = vocabulary
        self.idf = np.asarray(idf, dtype=np.float32)
        self.min_n, self.max_n = min_n, max_n

    @classmethod
    def fit(cls, texts: list[str], config: dict[str, Any]) -> NgramVectorizer:
        """Vocabulary (the `max_features` most frequent n-grams seen in `min_df` texts) and idf."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        fitted = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(config["min_n"], config["max_n"]),
            min_df=min(config["min_df"], len(texts)),
            max_features=config["max_features"],
            sublinear_tf=True,
            dtype=np.float32,
        ).fit(texts)
        vocabulary = {gram: int(i) for gram, i in fitted.vocabulary_.items()}
        return cls(vocabulary, fitted.idf_.tolist(), config["min_n"], config["max_n"])

    def transform(self, text: str) -> np.ndarray:
        """The message's vector [len(vocabulary)] (all zeros when no n-gram is known)."""
        vector = np.zeros(len(self.vocabulary), dtype=np.float32)
        counts = Counter(char_wb_ngrams(text, self.min_n, self.max_n))
        for gram, count in counts.items():
            index = self.vocabulary.get(gram)
            if index is not None:
                vector[index] = (1.0 + math.log(count)) * self.idf[index]
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector

    def save(self, folder: Path) -> None:
        data = {
            "min_n": self.min_n,
            "max_n": self.max_n,
            "vocabulary": self.vocabulary,
            "idf": [float(v) for v in self.idf],
        }
        (folder / FILE).write_text(json.dumps(data, ensure_ascii=False))

    @classmethod
    def load(cls, folder: Path) -> NgramVectorizer:
        data = json.loads((folder / FILE).read_text())
        return cls(data["vocabulary"], data["idf"], data["min_n"], data["max_n"])


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class CharNgramFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a character n-gram TF-IDF sentence vector to the `text` of each message."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Runs after the tokenizer, like every featurizer (it reads only the text)."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """n-gram lengths, vocabulary size and the vector's weight beside MiniLM's (norm 1)."""
        return {
            **DenseFeaturizer.get_default_config(),
            "min_n": 2,
            "max_n": 5,
            "max_features": 5000,
            "min_df": 2,
            "weight": 1.0,
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Refuse settings that cannot work, naming the component and the setting."""
        for key in ("min_n", "max_n", "max_features", "min_df"):
            if not isinstance(config[key], int) or isinstance(config[key], bool) or config[key] < 1:
                raise InvalidConfigException(
                    f"{cls.__name__}: {key} must be a whole number of at least 1, "
                    f"not {config[key]!r}."
                )
        if config["min_n"] > config["max_n"]:
            raise InvalidConfigException(
                f"{cls.__name__}: min_n ({config['min_n']}) must not exceed max_n "
                f"({config['max_n']})."
            )
        weight = config["weight"]
        if not isinstance(weight, int | float) or isinstance(weight, bool) or not weight > 0:
            raise InvalidConfigException(
                f"{cls.__name__}: weight must be a number above 0, not {weight!r}."
            )

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        name: str,
        vectorizer: NgramVectorizer | None = None,
    ) -> None:
        """Keep the configuration; `vectorizer` is None until trained."""
        super().__init__(name, config)
        self._model_storage = model_storage
        self._resource = resource
        self._vectorizer = vectorizer

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CharNgramFeaturizer:
        """An untrained featurizer (after checking its configuration)."""
        cls.validate_config(config)
        return cls(config, model_storage, resource, execution_context.node_name)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CharNgramFeaturizer:
        """The trained vocabulary, or an untrained featurizer if training saw no text."""
        try:
            with model_storage.read_from(resource) as folder:
                vectorizer = NgramVectorizer.load(folder)
        except (ValueError, FileNotFoundError):
            logger.debug("CharNgramFeaturizer was not trained; it adds no features.")
            vectorizer = None
        return cls(config, model_storage, resource, execution_context.node_name, vectorizer)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the vocabulary and idf on the training texts and persist them."""
        texts = [m.get(TEXT) for m in training_data.training_examples if m.get(TEXT)]
        if not texts:
            return self._resource
        try:
            self._vectorizer = NgramVectorizer.fit(texts, self._config)
        except ValueError:  # no n-gram survives min_df (a tiny or odd data set)
            logger.debug("CharNgramFeaturizer found no n-grams to keep; it adds no features.")
            return self._resource
        with self._model_storage.write_to(self._resource) as folder:
            self._vectorizer.save(folder)
        return self._resource

    def _featurize(self, messages: list[Message]) -> None:
        if self._vectorizer is None:
            return
        weight = np.float32(self._config["weight"])
        for message in messages:
            text = message.get(TEXT)
            if text:
                sentence = self._vectorizer.transform(text)[None] * weight
                self.add_features_to_message(None, sentence, TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize the training examples (after `train`)."""
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurize incoming messages."""
        self._featurize(messages)
        return messages
