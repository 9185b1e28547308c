"""The ONNX Runtime graph computes what the numpy encoder computes, and backends are chosen safely.

Run with::

    PYTHONPATH=. .venv-rasa/bin/python -m pytest tests/nlu/components/test_minilm_onnx.py
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rasa.shared.exceptions import InvalidConfigException

from nlu.components import minilm_onnx
from nlu.components.minilm_encoder import MiniLMEncoder, check_backend
from nlu.components.minilm_entity_extractor import MiniLMEntityExtractor
from nlu.components.minilm_featurizer import MiniLMFeaturizer

TEXTS = [
    "hi",
    "i've had a sore throat and a temperature of 38.5 since tuesday, no cough",
    "my tummy hurts",
    "ibuprofen " * 150,  # cut to 256 pieces
    "",
    "\U0001f912\U0001f912 headache \u00e9t\u00e9",
]


@pytest.fixture(scope="module")
def numpy_encoder() -> MiniLMEncoder:
    return MiniLMEncoder(backend="numpy")


@pytest.fixture(scope="module")
def onnx_encoder() -> MiniLMEncoder:
    return MiniLMEncoder(backend="onnx")


def test_every_layer_matches_numpy_in_a_padded_batch(
    numpy_encoder: MiniLMEncoder, onnx_encoder: MiniLMEncoder
) -> None:
    """Mixed lengths in one batch: padding must not leak into the real pieces' states."""
    ours = onnx_encoder.encode_layers(TEXTS, batch_size=len(TEXTS))
    reference = numpy_encoder.encode_layers(TEXTS, batch_size=len(TEXTS))
    for (pieces, layers), (ref_pieces, ref_layers) in zip(ours, reference, strict=True):
        assert pieces == ref_pieces
        assert layers.shape == ref_layers.shape == (7, len(pieces) + 2, 384)
        assert np.abs(layers - ref_layers).max() < 1e-4


def test_sentence_vectors_match_numpy(
    numpy_encoder: MiniLMEncoder, onnx_encoder: MiniLMEncoder
) -> None:
    cosine = (onnx_encoder.encode(TEXTS) * numpy_encoder.encode(TEXTS)).sum(axis=1)
    assert cosine.min() > 0.99999


def test_partial_stacks_chain_to_the_full_stack(onnx_encoder: MiniLMEncoder) -> None:
    """The entity tagger runs the bottom and top blocks separately; that must equal one pass."""
    _, ids, mask = next(onnx_encoder.padded_batches([onnx_encoder.pieces(TEXTS[1])], 1))
    x = onnx_encoder.embed(ids)
    full = onnx_encoder.run_blocks(x, mask)
    bottom = onnx_encoder.run_blocks(x, mask, onnx_encoder.blocks[:3])
    top = onnx_encoder.run_blocks(bottom, mask, onnx_encoder.blocks[3:])
    assert np.abs(full - top).max() < 1e-5


def test_collect_returns_every_block_input_and_the_output(
    numpy_encoder: MiniLMEncoder, onnx_encoder: MiniLMEncoder
) -> None:
    _, ids, mask = next(onnx_encoder.padded_batches([onnx_encoder.pieces(TEXTS[2])], 1))
    ours: list[np.ndarray] = []
    reference: list[np.ndarray] = []
    out = onnx_encoder.run_blocks(onnx_encoder.embed(ids), mask, collect=ours)
    numpy_encoder.run_blocks(numpy_encoder.embed(ids), mask, collect=reference)
    assert len(ours) == len(reference) == 7
    assert np.array_equal(ours[-1], out)
    for mine, ref in zip(ours, reference, strict=True):
        assert mine.shape == ref.shape
        assert np.abs(mine - ref).max() < 1e-4


def test_one_session_per_block_list_and_none_for_no_blocks(onnx_encoder: MiniLMEncoder) -> None:
    """Sessions are keyed by the blocks themselves: a new list of the same blocks reuses one."""
    _, ids, mask = next(onnx_encoder.padded_batches([onnx_encoder.pieces("hello")], 1))
    x = onnx_encoder.embed(ids)
    onnx_encoder.run_blocks(x, mask, onnx_encoder.blocks[:2])
    before = len(onnx_encoder._runners)
    onnx_encoder.run_blocks(x, mask, onnx_encoder.blocks[:2])
    assert len(onnx_encoder._runners) == before
    # No blocks (a tagger with nothing frozen asks for the bottom 0): the input comes back.
    assert np.array_equal(onnx_encoder.run_blocks(x, mask, []), x)
    assert len(onnx_encoder._runners) == before


def test_session_threads_follow_omp_num_threads(
    onnx_encoder: MiniLMEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server pins one thread per request (scripts/run_rasa.sh); training uses every core."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    runner = onnx_encoder._runner(onnx_encoder.blocks[4:5])
    assert runner.session.get_session_options().intra_op_num_threads == 1


def test_a_graph_needs_blocks(numpy_encoder: MiniLMEncoder) -> None:
    with pytest.raises(ValueError, match="at least one block"):
        minilm_onnx.build_model([], numpy_encoder.heads, numpy_encoder.eps)


def test_auto_falls_back_to_numpy_without_onnx_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minilm_onnx, "available", lambda: False)
    assert MiniLMEncoder(backend="auto").backend == "numpy"
    with pytest.raises(ModuleNotFoundError, match="onnxruntime"):
        MiniLMEncoder(backend="onnx")


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown MiniLM backend 'torch'"):
        MiniLMEncoder(backend="torch")  # type: ignore[arg-type]


@pytest.mark.parametrize("component", [MiniLMFeaturizer, MiniLMEntityExtractor])
@pytest.mark.parametrize("backend", ["gpu", None, 1])
def test_components_refuse_a_bad_backend_naming_it(component: Any, backend: object) -> None:
    config = {**component.get_default_config(), "backend": backend}
    with pytest.raises(InvalidConfigException, match=f"{component.__name__}: backend must be"):
        component.validate_config(config)


def test_onnx_backend_without_onnx_runtime_is_refused_at_config_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(minilm_onnx, "available", lambda: False)
    with pytest.raises(InvalidConfigException, match="needs onnxruntime"):
        check_backend("MiniLMFeaturizer", {"backend": "onnx"})
    check_backend("MiniLMFeaturizer", {"backend": "auto"})  # falls back quietly


def test_sessions_are_built_when_components_load_not_on_the_first_message(
    onnx_encoder: MiniLMEncoder,
) -> None:
    """prepare() builds the session a parse will use; a parse after it builds nothing new."""
    blocks = onnx_encoder.blocks[1:4]
    before = len(onnx_encoder._runners)
    onnx_encoder.prepare(blocks)
    assert len(onnx_encoder._runners) == before + 1
    _, ids, mask = next(onnx_encoder.padded_batches([onnx_encoder.pieces("my knee hurts")], 1))
    onnx_encoder.run_blocks(onnx_encoder.embed(ids), mask, list(blocks))
    assert len(onnx_encoder._runners) == before + 1
    MiniLMEncoder(backend="numpy").prepare()  # numpy: nothing to build, no error
