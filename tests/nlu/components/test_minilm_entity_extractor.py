"""Tests for the fine-tuned MiniLM entity tagger and its Rasa component.

The TensorFlow training copy of the encoder must compute what the numpy encoder computes (the
weights trained in one are run in the other), and a short real fine-tuning on a small made-up
data set must learn to tag, survive persist/load unchanged, and use lookup-table matches.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components.minilm_encoder import (
    LAYER_STATES,
    LayerStates,
    MiniLMEncoder,
    Piece,
    load_encoder,
)
from nlu.components.minilm_entity_extractor import MiniLMEntityExtractor, bio_labels
from nlu.components.minilm_featurizer import MiniLMFeaturizer
from nlu.components.minilm_tagger import (
    MiniLMTagger,
    TaggedText,
    TokenPatterns,
    TrainConfig,
    _TFTrainer,
    bio_spans,
    first_pieces,
    train_tagger,
)

MEDICINES = ["ibuprofen", "paracetamol", "amoxicillin", "metformin", "aspirin", "codeine"]
LOOKUP_ONLY = "zorblaxin"  # in the lookup table, never in a training sentence
TEMPLATES = [
    "i took {m} this morning",
    "can i take {m} with food",
    "is {m} safe for kids",
    "my doctor gave me {m} for the pain",
    "{m} makes me dizzy",
    "how much {m} is too much",
    "ran out of {m} yesterday",
    "what does {m} do",
]
# The same sentences with things that are not medicines: only the lookup table tells them apart.
OTHER_THINGS = ["coffee", "breakfast", "the bus", "a nap", "my dog"]
PLAIN = ["i feel tired all day", "hello there", "thanks a lot", "my head hurts since monday"]


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    return load_encoder(None)


def _tokens(text: str) -> list[Any]:
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    return tokenizer.tokenize(Message({TEXT: text}), TEXT)


def _example(template: str, medicine: str) -> Message:
    text = template.format(m=medicine)
    start = text.index(medicine)
    entity = {"start": start, "end": start + len(medicine), "value": medicine}
    return Message({TEXT: text, INTENT: "ask", ENTITIES: [{**entity, "entity": "medication"}]})


def _training_data(with_lookup: bool = True) -> TrainingData:
    examples = [_example(t, m) for t in TEMPLATES for m in MEDICINES[:-1]]
    texts = PLAIN + [t.format(m=thing) for t in TEMPLATES for thing in OTHER_THINGS]
    examples += [Message({TEXT: text, INTENT: "chat", ENTITIES: []}) for text in texts]
    for message in examples:
        message.set(TOKENS_NAMES[TEXT], _tokens(message.get(TEXT)))
    lookups = (
        [{"name": "medication", "elements": [*MEDICINES, LOOKUP_ONLY, "tea"]}]
        if with_lookup
        else []
    )
    return TrainingData(training_examples=examples, lookup_tables=lookups)


def _config(**overrides: Any) -> dict[str, Any]:
    # Few frozen layers' worth of work: 2 trainable layers, enough epochs for 44 sentences.
    return {
        **MiniLMEntityExtractor.get_default_config(),
        "frozen_layers": 4,
        "epochs": 12,
        "batch_size": 8,
        **overrides,
    }


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[MiniLMEntityExtractor, Any]:
    """One real fine-tuning (a few seconds), shared by the tests that need a trained tagger."""
    storage = LocalModelStorage.create(tmp_path_factory.mktemp("storage"))
    resource = Resource("minilm_entities")
    extractor = MiniLMEntityExtractor.create(
        _config(), storage, resource, ExecutionContext(GraphSchema({}), "test")
    )
    extractor.train(_training_data())
    return extractor, storage


def _parse(extractor: MiniLMEntityExtractor, text: str) -> list[dict[str, Any]]:
    message = Message({TEXT: text})
    message.set(TOKENS_NAMES[TEXT], _tokens(text))
    extractor.process([message])
    return message.get(ENTITIES, [])


def test_tensorflow_copy_computes_what_numpy_computes(encoder: MiniLMEncoder) -> None:
    texts = ["i have a headache since monday", "my tummy hurts really badly, and the runs"]
    pieces = [encoder.pieces(t) for t in texts]
    _, ids, mask = next(encoder.padded_batches(pieces, 8))
    bottom = encoder.run_blocks(encoder.embed(ids), mask, encoder.blocks[:2])
    trainer = _TFTrainer(encoder, 0, 3, TrainConfig(frozen_layers=2, dropout=0.0))
    top = np.asarray(trainer._logits(bottom, mask, np.zeros((*mask.shape, 0), np.float32), False))
    tf_hidden = bottom
    for block in trainer.blocks:
        bias = (1.0 - mask[:, None, None, :]) * -1e9
        tf_hidden = np.asarray(trainer._block(tf_hidden, bias, block, 0.0))
    assert top.shape == (*mask.shape, 3)
    np.testing.assert_allclose(tf_hidden[mask > 0], encoder.forward(ids, mask)[mask > 0], atol=1e-4)


def test_first_pieces_maps_tokens_to_their_first_word_piece() -> None:
    pieces = [Piece(1, 0, 5), Piece(2, 0, 5), Piece(3, 6, 9)]  # "heada ##che" "now"
    assert first_pieces([(0, 5), (6, 9)], pieces) == [0, 2]
    assert first_pieces([(0, 5), (6, 9), (10, 12)], pieces) == [0, 2, -1]  # cut off / dropped
    assert first_pieces([], pieces) == []


def test_bio_labels_and_spans_round_trip() -> None:
    tokens = _tokens("sharp pain in my lower back")
    labels = bio_labels(
        tokens,
        [
            {"start": 0, "end": 10, "entity": "symptom"},
            {"start": 17, "end": 27, "entity": "body_part"},
        ],
    )
    assert labels == ["B-symptom", "I-symptom", "O", "O", "B-body_part", "I-body_part"]
    spans = bio_spans([(label, 0.9) for label in labels])
    assert [(s, e, name) for s, e, name, _ in spans] == [(0, 1, "symptom"), (4, 5, "body_part")]


def test_bio_spans_tolerates_slips_and_averages_confidence() -> None:
    labels = [("I-symptom", 0.6), ("I-symptom", 0.8), ("B-symptom", 1.0), ("I-body_part", 0.5)]
    assert bio_spans(labels) == [
        (0, 1, "symptom", pytest.approx(0.7)),
        (2, 2, "symptom", 1.0),
        (3, 3, "body_part", 0.5),
    ]
    assert bio_spans([("O", 1.0)]) == []


def test_patterns_flag_every_token_a_match_overlaps() -> None:
    patterns = TokenPatterns(
        [{"name": "m", "pattern": r"\bfolic acid\b"}, {"name": "e", "pattern": "x*"}]
    )
    flags = patterns.flags("Folic Acid daily", [(0, 5), (6, 10), (11, 16)])
    assert flags[:, 0].tolist() == [1.0, 1.0, 0.0]  # case-insensitive by default
    assert flags[:, 1].tolist() == [0.0, 0.0, 0.0]  # empty matches flag nothing


def test_trained_extractor_finds_unseen_medicines_with_offsets(
    trained: tuple[MiniLMEntityExtractor, Any],
) -> None:
    extractor, _ = trained
    text = "should i take codeine before bed"  # a medicine and a sentence never seen in training
    entities = _parse(extractor, text)
    assert [(e["entity"], e["value"], e["extractor"]) for e in entities] == [
        ("medication", "codeine", "MiniLMEntityExtractor")
    ]
    assert text[entities[0]["start"] : entities[0]["end"]] == "codeine"
    assert 0.5 < entities[0]["confidence_entity"] <= 1.0
    assert _parse(extractor, "i feel tired and hello") == []


def test_lookup_matches_push_tokens_towards_the_lookups_entity(
    trained: tuple[MiniLMEntityExtractor, Any],
) -> None:
    """The same trained weights, with the lookup's flags on and (a never-matching pattern) off."""
    extractor, _ = trained
    tagger = extractor._tagger
    assert tagger is not None
    column = tagger.weights.labels.index("B-medication")
    off = MiniLMTagger(
        tagger.encoder, tagger.weights, TokenPatterns([{"name": "x", "pattern": "(?!)"}])
    )
    for text in [f"i took {LOOKUP_ONLY} this morning", "ran out of tea yesterday"]:
        spans = [(t.start, t.end) for t in _tokens(text)]
        word = next(i for i, (s, e) in enumerate(spans) if text[s:e] in (LOOKUP_ONLY, "tea"))
        with_flag = tagger.predict_proba([text], [spans])[0][word, column]
        without = off.predict_proba([text], [spans])[0][word, column]
        assert with_flag > without


def test_persisted_model_predicts_the_same(trained: tuple[MiniLMEntityExtractor, Any]) -> None:
    extractor, storage = trained
    loaded = MiniLMEntityExtractor.load(
        _config(), storage, Resource("minilm_entities"), ExecutionContext(GraphSchema({}), "test")
    )
    for text in ["i took aspirin and metformin", "what does codeine do", "my back hurts"]:
        assert _parse(loaded, text) == _parse(extractor, text)


def test_featurizer_states_are_reused_and_give_the_same_entities(
    trained: tuple[MiniLMEntityExtractor, Any],
) -> None:
    """With the featurizer before it, the tagger starts from its states (and drops them)."""
    extractor, _ = trained
    featurizer = MiniLMFeaturizer.create(
        MiniLMFeaturizer.get_default_config(),
        LocalModelStorage.create(Path(tempfile.mkdtemp())),
        Resource("featurizer"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    for text in ["i took aspirin and metformin", "should i take codeine before bed", "hi"]:
        message = Message({TEXT: text})
        message.set(TOKENS_NAMES[TEXT], _tokens(text))
        featurizer.process([message])
        shared = message.get(LAYER_STATES)
        assert shared is not None and shared.layers.shape[0] == 7
        extractor.process([message])
        assert message.get(LAYER_STATES) is None
        assert message.get(ENTITIES, []) == _parse(extractor, text)
    tagger = extractor._tagger
    assert tagger is not None
    text = "my doctor gave me codeine for the pain"
    spans = [(t.start, t.end) for t in _tokens(text)]
    ((pieces, layers),) = tagger.encoder.encode_layers([text])
    alone = tagger.predict_proba([text], [spans])[0]
    reused = tagger.predict_proba(
        [text], [spans], shared=[LayerStates(tagger.encoder.path, pieces, layers)]
    )[0]
    np.testing.assert_allclose(reused, alone, atol=1e-5)
    other = LayerStates(Path("/elsewhere"), pieces, layers * 0)  # another model's states: ignored
    np.testing.assert_allclose(
        tagger.predict_proba([text], [spans], shared=[other])[0], alone, atol=1e-6
    )


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😀" * 5000, "ibuprofen " * 5000, "\x00\x01\x02 binary \ufffd junk", "a"],
)
def test_hostile_messages_do_not_crash(
    trained: tuple[MiniLMEntityExtractor, Any], text: str
) -> None:
    extractor, _ = trained
    entities = _parse(extractor, text)
    for entity in entities:
        assert text[entity["start"] : entity["end"]] == entity["value"]


def test_without_entity_examples_nothing_is_trained_or_found(tmp_path: Path) -> None:
    storage = LocalModelStorage.create(tmp_path)
    resource = Resource("empty")
    context = ExecutionContext(GraphSchema({}), "test")
    extractor = MiniLMEntityExtractor.create(_config(), storage, resource, context)
    data = TrainingData([Message({TEXT: "hello", INTENT: "greet"})])
    assert extractor.train(data) == resource
    loaded = MiniLMEntityExtractor.load(_config(), storage, resource, context)
    assert _parse(loaded, "i took aspirin") == []


@pytest.mark.parametrize(
    "overrides, setting",
    [
        ({"frozen_layers": 6}, "frozen_layers"),
        ({"frozen_layers": -1}, "frozen_layers"),
        ({"frozen_layers": "3"}, "frozen_layers"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(
    tmp_path: Path, overrides: dict[str, Any], setting: str
) -> None:
    with pytest.raises(InvalidConfigException, match=f"MiniLMEntityExtractor: {setting} must"):
        MiniLMEntityExtractor.create(
            _config(**overrides),
            LocalModelStorage.create(tmp_path),
            Resource("bad"),
            ExecutionContext(GraphSchema({}), "test"),
        )


def test_tagger_refuses_weights_for_another_encoder(encoder: MiniLMEncoder) -> None:
    data = [TaggedText("take aspirin", [(0, 4), (5, 12)], ["O", "B-medication"])]
    weights = train_tagger(
        encoder, data, TokenPatterns([]), TrainConfig(frozen_layers=5, epochs=1), False
    )
    weights.frozen_layers = 3
    with pytest.raises(ValueError, match="trained on another model"):
        MiniLMTagger(encoder, weights, TokenPatterns([]))
