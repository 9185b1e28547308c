import json

import pytest

from actions.ehr.readers import decode_text, read_bytes, read_pasted, read_path
from actions.ehr.types import RecordError
from tests.actions.ehr.pdfs import blank_pdf, text_pdf

MAX = 100_000


def test_pdf_text_layer_is_read():
    record = read_bytes(text_pdf(["Potassium 6.8 mmol/L", "Denies chest pain."]), "a.pdf", MAX)
    assert record.kind == "text"
    assert "Potassium 6.8 mmol/L" in record.text
    assert "Denies chest pain." in record.text


def test_pdf_without_text_layer_says_so():
    with pytest.raises(RecordError, match="no text layer"):
        read_bytes(blank_pdf(), "scan.pdf", MAX)


def test_damaged_pdf_says_so():
    data = text_pdf(["x"])[:120]
    with pytest.raises(RecordError, match="damaged"):
        read_bytes(data, "cut.pdf", MAX)


@pytest.mark.parametrize("data", [b"", b"   \n\t ", b"\xef\xbb\xbf  "])
def test_empty_files(data):
    with pytest.raises(RecordError, match=r"empty|no text"):
        read_bytes(data, "empty.txt", MAX)


def test_non_utf8_text_is_refused_with_the_reason():
    data = "Patient: Zoë, café au lait spots, 38°C".encode("latin-1")
    with pytest.raises(RecordError, match="isn't UTF-8") as caught:
        read_bytes(data, "note.txt", MAX)
    assert "byte" in str(caught.value)


def test_utf16_with_bom_is_read():
    data = "BP 182/124, HR 48".encode("utf-16")
    assert decode_text(data) == "BP 182/124, HR 48"


def test_binary_is_refused():
    with pytest.raises(RecordError, match="doesn't look like"):
        read_bytes(b"\x00\x01\x02\xffELF" * 100, "x.bin", MAX)


def test_huge_note_is_refused_with_sizes(tmp_path):
    big = ("The patient denies chest pain. " * 170_000).encode()  # ~5 MB
    with pytest.raises(RecordError, match="characters") as caught:
        read_bytes(big, "long.txt", MAX)
    assert "100,000" in str(caught.value)
    path = tmp_path / "long.txt"
    path.write_bytes(big)
    with pytest.raises(RecordError, match="MB"):
        read_path(path, max_bytes=1_000_000, max_chars=MAX)


def test_json_that_is_not_fhir():
    with pytest.raises(RecordError, match="not a FHIR"):
        read_bytes(json.dumps({"name": "x", "values": [1, 2]}).encode(), "x.json", MAX)
    with pytest.raises(RecordError, match="not a FHIR"):
        read_bytes(b"[1, 2, 3]", "x.json", MAX)


def test_single_fhir_resource_asks_for_a_bundle():
    data = json.dumps({"resourceType": "Patient", "id": "p1"}).encode()
    with pytest.raises(RecordError, match="single Patient"):
        read_bytes(data, "p.json", MAX)


def test_invalid_json_names_line_and_column():
    with pytest.raises(RecordError, match=r"line 2, column \d+"):
        read_bytes(b'{"resourceType": "Bundle",\n "entry": [,]}', "b.json", MAX)


def test_deeply_nested_json_is_refused():
    with pytest.raises(RecordError):
        read_bytes(b"[" * 100_000 + b"]" * 100_000, "deep.json", MAX)


def test_bundle_is_passed_on():
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": []}
    record = read_bytes(json.dumps(bundle).encode(), "b.json", MAX)
    assert record.kind == "fhir"
    assert record.bundle == bundle


def test_pasted_text_keeps_offsets_usable():
    record = read_pasted("K 6.8\r\nDenies chest pain.", MAX)
    assert record.text == "K 6.8\nDenies chest pain."
    assert record.name == "pasted text"


def test_missing_file(tmp_path):
    with pytest.raises(RecordError, match="Can't open"):
        read_path(tmp_path / "nope.txt", 10_000, MAX)
