"""One settings object: each section reads its own variables, the old names still work."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from healthbot.settings import PYDANTIC_V2, Settings, UploadSettings


def test_defaults_are_zero_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HEALTHBOT_UPLOADS_DIR", "HEALTHBOT_KB_INDEX_DIR", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert PYDANTIC_V2
    assert settings.uploads.dir == Path("var/uploads")
    assert settings.kb.index_dir == Path("var/kb")
    assert settings.web.host == "127.0.0.1" and settings.rasa.url.startswith("http://127.0.0.1")
    assert settings.max_message_chars == 5000
    assert settings.telegram.bot_token.get_secret_value() == ""


@pytest.mark.parametrize(
    ("variable", "value", "read"),
    [
        ("HEALTHBOT_KB_INDEX_DIR", "/srv/kb", lambda s: s.kb.index_dir == Path("/srv/kb")),
        ("HEALTHBOT_GENERATOR", "openai", lambda s: s.answers.generator == "openai"),
        ("HEALTHBOT_PHOTO_HISTORY_DB", "/x/h.db", lambda s: s.photo.history_db == Path("/x/h.db")),
        ("HEALTHBOT_EHR_LINK_KB", "false", lambda s: s.ehr.link_kb is False),
        ("HEALTHBOT_UPLOADS_DIR", "/up", lambda s: s.uploads.dir == Path("/up")),
        ("HEALTHBOT_UPLOAD_MAX_BYTES", "4096", lambda s: s.uploads.max_bytes == 4096),
        ("HEALTHBOT_PUBLIC_URL", "https://a.b", lambda s: s.web.public_url == "https://a.b"),
        ("HEALTHBOT_CLINICS_FILE", "c.yml", lambda s: s.web.clinics_file == Path("c.yml")),
        ("HEALTHBOT_WEB_PORT", "9000", lambda s: s.web.port == 9000),
        ("HEALTHBOT_RASA_URL", "http://r:1", lambda s: s.rasa.url == "http://r:1"),
        ("TELEGRAM_BOT_TOKEN", "1:A", lambda s: s.telegram.bot_token.get_secret_value() == "1:A"),
        ("HEALTHBOT_TELEGRAM_MODE", "webhook", lambda s: s.telegram.mode == "webhook"),
        ("HEALTHBOT_EMERGENCY_NUMBER", "000", lambda s: s.emergency_number == "000"),
        ("HEALTHBOT_MAX_MESSAGE_CHARS", "800", lambda s: s.max_message_chars == 800),
        ("OMP_NUM_THREADS", "1", lambda s: s.compute.threads == 1),
    ],
)
def test_every_documented_variable_reaches_its_section(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, read
) -> None:
    monkeypatch.setenv(variable, value)
    assert read(Settings(_env_file=None))


def test_a_bad_value_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTHBOT_WEB_PORT", "not-a-port")
    with pytest.raises(ValidationError, match="port"):
        Settings(_env_file=None)


def test_sections_are_built_by_field_name_in_code() -> None:
    assert UploadSettings(dir=Path("/tmp/u"), max_bytes=2048).dir == Path("/tmp/u")


def test_every_variable_in_the_readme_is_a_setting() -> None:
    """The README's Configure table and the settings stay one list."""
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configure", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`(HEALTHBOT_[A-Z0-9_]+)`", table))
    known = set(_variables(Settings))
    assert documented - known == set()


def _variables(model: type, prefix: str = "") -> list[str]:
    """Every environment variable a settings class reads."""
    from pydantic_settings import BaseSettings

    names = []
    prefix = model.model_config.get("env_prefix", prefix)
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseSettings):
            names += _variables(kind)
        elif field.validation_alias is not None:
            names += list(field.validation_alias.choices)
        else:
            names.append(f"{prefix}{name}".upper())
    return names
