"""`healthbot kb …` as editors and operators use it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from healthbot.cli import main

from .conftest import write_kb

BROKEN = Path(__file__).parent / "data" / "broken"


@pytest.fixture
def kb_paths(tmp_path: Path) -> list[str]:
    kb = write_kb(tmp_path / "knowledge")
    return ["--kb", str(kb), "--index", str(tmp_path / "index")]


def test_help_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    for sub in ("validate", "build", "search", "answer", "stats", "watch"):
        with pytest.raises(SystemExit) as done:
            main(["kb", sub, "--help"])
        assert done.value.code == 0
    with pytest.raises(SystemExit):
        main(["kb", "--help"])
    assert "rebuild the index whenever" in capsys.readouterr().out


def test_validate_names_file_and_line_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "validate", "--kb", str(BROKEN)]) == 1
    err = capsys.readouterr().err
    assert f"{BROKEN / 'missing_license.md'}:" in err
    assert err.count(": error: ") >= 10


def test_validate_a_missing_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["kb", "validate", "--kb", str(tmp_path / "nope")]) == 2


def test_build_search_answer_stats(
    kb_paths: list[str], capsys: pytest.CaptureFixture[str], embedder
) -> None:
    assert main(["kb", "build", "--quiet", *kb_paths]) == 0
    assert "6 passages" in capsys.readouterr().out
    assert main(["kb", "build", "--quiet", *kb_paths]) == 0
    assert "up to date" in capsys.readouterr().out

    assert main(["kb", "search", "--json", "-k", "2", *kb_paths, "uric", "acid"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 2
    assert set(hits[0]) == {"qid", "doc_id", "score", "title", "url", "text"}
    assert hits[0]["doc_id"] == "gout"

    assert main(["kb", "search", *kb_paths, "wheezing"]) == 0
    assert "asthma#what-is-asthma" in capsys.readouterr().out

    assert main(["kb", "stats", "--json", *kb_paths]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["passages"] == 6 and stats["documents"] == 3


def test_answer_json_shape(
    kb_paths: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    kb, index = kb_paths[1], kb_paths[3]
    assert main(["kb", "build", "--quiet", *kb_paths]) == 0
    capsys.readouterr()
    monkeypatch.setenv("HEALTHBOT_KB_INDEX_DIR", index)
    monkeypatch.setenv("HEALTHBOT_KB_DIR", kb)
    from healthbot.settings import get_settings

    get_settings.cache_clear()
    try:
        assert main(["kb", "answer", "--json", "what", "is", "gout"]) == 0
    finally:
        get_settings.cache_clear()
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {"answer", "citations", "grounded", "backend", "latency_ms"}
    assert result["grounded"] and result["backend"] == "extractive"
    assert result["citations"][0] == "gout#what-is-gout"


def test_search_without_an_index_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "search", "--index", str(tmp_path), "gout"]) == 2
    assert "healthbot kb build" in capsys.readouterr().err
