"""The clinics file: keys, origins and API keys, with errors that name the file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bot.web.clinics import ClinicsFileError, load_clinics

ROOT = Path(__file__).resolve().parents[3]


def test_the_shipped_example_loads() -> None:
    clinics = load_clinics(ROOT / "bot/web/clinics.example.yml")
    demo = clinics.get("demo")
    assert demo is not None and "http://127.0.0.1:8080" in demo.origins
    assert clinics.by_api_key("demo-api-key") is demo
    assert clinics.by_api_key("demo-api-key ") is None
    assert clinics.by_api_key("") is None


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "clinics.yml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("clinics: [a, b]", "top-level 'clinics:' mapping"),
        ("clinics:\n  'bad key!':\n    name: X\n", "clinic key"),
        ("clinics:\n  a:\n    name: X\n    origins: ['*']\n", "is not an origin"),
        ("clinics:\n  a:\n    name: X\n    origins: [ftp://x.org]\n", "is not an origin"),
        ("clinics:\n  a:\n    name: X\n    api_key_sha256: plaintext-key\n", "api_key_sha256"),
        ("clinics:\n  a:\n    name: X\n    theme: {color: red}\n", "#rrggbb"),
        ("clinics:\n  a:\n    origins: []\n", "name"),
        ("clinics:\n  a: {name: X\n", "not valid YAML"),
    ],
)
def test_mistakes_are_reported_with_the_file(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ClinicsFileError) as error:
        load_clinics(path)
    assert str(path) in str(error.value) and fragment in str(error.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ClinicsFileError, match="cannot read"):
        load_clinics(tmp_path / "nope.yml")


def test_yaml_errors_carry_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "clinics:\n  a:\n    name: X\n    origins: [\n")
    with pytest.raises(ClinicsFileError, match=r"clinics\.yml:\d+"):
        load_clinics(path)


def test_origin_lookup(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"k").hexdigest()
    path = write(
        tmp_path,
        "clinics:\n  a:\n    name: A\n    origins: [https://a.org/]\n"
        f"    api_key_sha256: {digest}\n",
    )
    clinics = load_clinics(path)
    assert clinics.origin_known("https://a.org") and not clinics.origin_known("https://b.org")
    assert clinics.by_api_key("k").key == "a"
