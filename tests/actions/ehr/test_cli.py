"""`healthbot ehr analyze`: folders, formats, bad files reported and skipped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from healthbot.cli import main
from tests.actions.ehr.pdfs import blank_pdf, text_pdf

DATA = Path(__file__).parent / "data" / "fhir"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "note.txt").write_text("Denies chest pain. Potassium 6.9 mmol/L.\n")
    (tmp_path / "letter.pdf").write_bytes(text_pdf(["Assessment: asthma, on salbutamol."]))
    shutil.copy(DATA / "synthea_karena_pfeffer.json", tmp_path / "bundle.json")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "scan.pdf").write_bytes(blank_pdf())
    (tmp_path / "latin1.txt").write_bytes("Zoë: 38°C".encode("latin-1"))
    (tmp_path / "other.json").write_text('{"not": "fhir"}')
    (tmp_path / ".hidden.txt").write_text("ignored")
    return tmp_path


def test_folder_json_skips_bad_files_and_processes_the_rest(folder, capsys) -> None:
    code = main(["ehr", "analyze", str(folder), "--format", "json", "--device", "cpu"])
    out, err = capsys.readouterr()
    assert code == 1
    rows = {Path(row["file"]).name: row for row in json.loads(out)}
    assert set(rows) == {"note.txt", "letter.pdf", "bundle.json"}
    assert rows["note.txt"]["critical"] == ["potassium"]
    assert rows["bundle.json"]["source"] == "fhir"
    assert any(f["label"].lower() == "asthma" for f in rows["letter.pdf"]["findings"])
    for name, reason in [
        ("empty.txt", "empty"),
        ("scan.pdf", "no text layer"),
        ("latin1.txt", "UTF-8"),
        ("other.json", "not a FHIR"),
    ]:
        assert f"{name}: skipped: " in err and reason in err
    assert ".hidden" not in out + err


def test_text_format_and_missing_path(tmp_path, capsys) -> None:
    note = tmp_path / "n.txt"
    note.write_text("History of asthma. Denies chest pain.")
    code = main(["ehr", "analyze", str(note), str(tmp_path / "missing.txt"), "--device", "cpu"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "== " in out and "Past conditions: asthma" in out
    assert "missing.txt: skipped: Can't open" in err


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_batch_size_must_be_a_positive_number(value, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["ehr", "analyze", "x.txt", "--batch-size", value])
    assert "--batch-size" in capsys.readouterr().err
