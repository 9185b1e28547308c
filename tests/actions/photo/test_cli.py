"""`healthbot photo check`: one line or one JSON object per photo; bad files reported, skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from healthbot.cli import main

HERE = Path(__file__).parent
WOUND = next(p for p in sorted((HERE / "data").glob("*_photo.jpg")))
DARK = next((HERE / "gate_cases" / "bad").glob("too_dark_*"))


def test_json_per_photo(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image at all")
    code = main(["photo", "check", str(WOUND), str(DARK), str(junk), "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [set(row) >= {"file", "usable", "problems", "wound_probability",
                         "wound_area_fraction"} for row in rows] == [True] * 3  # fmt: skip
    wound, dark, bad = rows
    assert wound["usable"] and wound["wound_probability"] > 0.5
    assert 0 < wound["wound_area_fraction"] < 1
    assert not dark["usable"] and "too_dark" in dark["problems"]
    assert not bad["usable"] and bad["problems"] and bad["wound_probability"] is None


def test_overlays_and_missing_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["photo", "check", str(WOUND), str(tmp_path / "missing.jpg"),
                 "--overlay-dir", str(tmp_path / "out")])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1 and "missing.jpg: error: cannot read" in captured.err
    assert "wound (p=" in captured.out
    [overlay] = (tmp_path / "out").glob("*.overlay.jpg")
    assert overlay.read_bytes()[:3] == b"\xff\xd8\xff"
