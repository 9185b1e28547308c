"""`healthbot triage`: validate, triage a text (with or without answers), score vignettes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from healthbot.cli import main

from .samples import GENERAL, PROTOCOL


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    protocols = tmp_path / "protocols"
    protocols.mkdir()
    for name, text in (("headache", PROTOCOL), ("general", GENERAL)):
        (protocols / f"{name}.yml").write_text(textwrap.dedent(text), encoding="utf-8")
    return protocols


def test_validate_counts_and_reports(folder: Path, capsys) -> None:
    assert main(["triage", "validate", "--dir", str(folder)]) == 0
    assert "2 protocols, 5 questions, 6 rules, 0 errors" in capsys.readouterr().out
    (folder / "general.yml").write_text("id: general\n")
    assert main(["triage", "validate", "--dir", str(folder)]) == 1
    assert "general.yml:1: error:" in capsys.readouterr().err


def test_text_alone_and_with_answers(folder: Path, capsys) -> None:
    assert main(["triage", "my head hurts", "--dir", str(folder), "--json"]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert alone["level"] == "urgent" and alone["unresolved"] and alone["next_question"]
    args = ["triage", "my head hurts", "--dir", str(folder), "--answers", "yes,yes", "--json"]
    assert main(args) == 0
    answered = json.loads(capsys.readouterr().out)
    assert answered["level"] == "emergency_ambulance"  # stiff neck, then fever
    assert main(["triage", "headache", "--dir", str(folder), "--answers", "maybe"]) == 2


def test_eval_scores_a_vignette_file(folder: Path, tmp_path: Path, capsys) -> None:
    vignettes = tmp_path / "v.yml"
    vignettes.write_text(textwrap.dedent("""\
        - {id: V1, text: "headache", details: "My neck is stiff and I have a fever.",
           gold: emergency_ambulance}
        - {id: V2, text: "headache", details: "Nothing else.", gold: self_care}
    """))  # fmt: skip
    args = ["triage", "eval", str(vignettes), "--dir", str(folder), "--plot", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "with_answers (n=2): exact 1.000, safe 1.000" in out
    assert (tmp_path / "triage_with_answers.png").stat().st_size > 1000
    assert main(["triage", "eval", str(tmp_path / "missing.yml"), "--dir", str(folder)]) == 2
