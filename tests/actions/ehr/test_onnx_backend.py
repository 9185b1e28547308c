"""The CPU path (int8 ONNX Runtime) agrees with torch and is derived, cached, never stale."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from actions.ehr import onnx_backend
from actions.ehr.ner import NerModel

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "models" / "ehr-ner"
TEXT = [
    "Aspirin induced asthma in a patient with hypertension.",
    "She was started on metformin for type 2 diabetes and denies chest pain.",
]


def test_cache_key_follows_the_weights(tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(MODEL, copy)
    before = onnx_backend.cache_key(copy)
    assert before == onnx_backend.cache_key(MODEL)
    (copy / "config.json").write_text((copy / "config.json").read_text() + "\n")
    assert onnx_backend.cache_key(copy) != before


@pytest.mark.slow
def test_int8_onnx_and_torch_find_the_same_mentions(tmp_path: Path) -> None:
    onnx = NerModel(MODEL, device="cpu", backend="onnx", cache_dir=tmp_path)
    plain = NerModel(MODEL, device="cpu", backend="torch")
    assert onnx.backend == "onnx" and plain.backend == "torch"
    assert len(list(tmp_path.glob("*.int8.onnx"))) == 1
    found = [[(m.label, m.text) for m in doc] for doc in onnx.mentions(TEXT)]
    assert found == [[(m.label, m.text) for m in doc] for doc in plain.mentions(TEXT)]
    assert ("Chemical", "Aspirin") in found[0] and ("Disease", "asthma") in found[0]
    # A second load reuses the cached file.
    again = NerModel(MODEL, device="cpu", backend="onnx", cache_dir=tmp_path)
    assert again.mentions(TEXT[:1])[0] == onnx.mentions(TEXT[:1])[0]


def test_asking_for_cuda_without_one_is_a_clear_error() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        NerModel(MODEL, device="cuda")


def test_missing_model_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make train-ehr"):
        NerModel(tmp_path / "nothing")
