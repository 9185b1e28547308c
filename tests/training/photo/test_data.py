"""WoundNet's training data helpers: the ``--data`` argument and the fixed, stratified split."""

import argparse

import numpy as np
import pytest

from training.photo import data as D


@pytest.fixture(autouse=True)
def _no_fuseg_variable(tmp_path, monkeypatch):
    """The settings read ``.env`` in the working directory too: run where there is none."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HEALTHBOT_FUSEG_DIR", raising=False)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    D.add_data_argument(parser)
    return parser.parse_args(argv)


def samples(count: int = 200) -> list[D.Sample]:
    """Tiny photos with wounds of many sizes (the split only looks at names and mask areas)."""
    rng = np.random.default_rng(0)
    image = np.zeros((8, 8, 3), np.uint8)
    return [D.Sample(f"{i:04d}", image, rng.random((8, 8)) < rng.random()) for i in range(count)]


@pytest.mark.parametrize("value", [None, ""])
def test_data_is_required_unless_the_variable_names_a_folder(monkeypatch, value):
    if value is not None:
        monkeypatch.setenv("HEALTHBOT_FUSEG_DIR", value)
    with pytest.raises(SystemExit):
        parse([])
    assert parse(["--data", "given"]).data == "given"


def test_the_variable_is_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("HEALTHBOT_FUSEG_DIR", str(tmp_path))
    assert parse([]).data == tmp_path
    assert parse(["--data", "given"]).data == "given"


def test_split_is_disjoint_sized_and_seeded():
    photos = samples()
    split = D.make_split(photos)
    holdout, val, train = (set(split[key]) for key in ("holdout", "val", "train"))
    assert (len(holdout), len(val), len(train)) == (D.HOLDOUT_SIZE, D.VAL_SIZE, 128)
    assert not holdout & val and not (holdout | val) & train
    assert D.make_split(photos) == split


def test_split_is_written_once_and_refuses_other_photos(tmp_path):
    photos = samples()
    split = D.ensure_split(tmp_path, photos)
    assert D.ensure_split(tmp_path, photos) == split
    with pytest.raises(SystemExit, match="does not match"):
        D.ensure_split(tmp_path, photos[:-1])
