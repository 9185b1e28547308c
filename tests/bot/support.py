"""What the edge's tests share: settings without ``.env``, a scripted Rasa, tiny real files.

``Settings`` nests its sections, so ``Settings(uploads_dir=...)`` would be silently ignored;
``edge_settings(uploads_dir=..., telegram_mode="webhook", TELEGRAM_BOT_TOKEN=...)`` is not.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from bot.rasa_client import RasaUnavailable
from healthbot.contract import ANALYZE_RECORD, CHECK_PHOTO
from healthbot.settings import (
    EhrSettings,
    RasaSettings,
    Settings,
    TelegramSettings,
    UploadSettings,
    WebSettings,
)

SECTIONS: dict[str, tuple[str, type[Any]]] = {
    "uploads_": ("uploads", UploadSettings),  # HEALTHBOT_UPLOADS_DIR
    "upload_": ("uploads", UploadSettings),
    "telegram_": ("telegram", TelegramSettings),
    "web_": ("web", WebSettings),
    "rasa_": ("rasa", RasaSettings),
    "ehr_": ("ehr", EhrSettings),
}


def edge_settings(**values: Any) -> Settings:
    """``Settings`` with ``values`` in their sections; an unknown name is an error, not a no-op."""
    top: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {name: {} for name, _ in SECTIONS.values()}
    for key, value in values.items():
        name = key.lower()
        prefix = next((p for p in SECTIONS if name.startswith(p)), None)
        if prefix is None:
            top[name] = value
        else:
            sections[SECTIONS[prefix][0]][name.removeprefix(prefix)] = value
    built = {}
    for name, cls in {section: cls for section, cls in SECTIONS.values()}.items():
        unknown = set(sections[name]) - set(cls.model_fields)
        assert not unknown, f"no such {name} setting: {unknown}"
        built[name] = cls(_env_file=None, **sections[name])
    unknown = set(top) - set(Settings.model_fields)
    assert not unknown, f"no such setting: {unknown}"
    return Settings(_env_file=None, **top, **built)


@dataclass
class FakeRasa:
    """Stands in for RasaClient: records turns, answers from ``answers`` or echoes."""

    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    turns: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    down: bool = False
    closed: bool = False

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        self.turns.append((sender, text, metadata))
        if self.down:
            raise RasaUnavailable("ConnectError")
        if text in self.answers:
            return self.answers[text]
        if text in (CHECK_PHOTO, ANALYZE_RECORD) and metadata:
            return [{"text": f"Received {metadata['kind']} ref {metadata['upload_id'][:8]}"}]
        return [{"text": f"echo: {text}"}]

    async def healthy(self) -> bool:
        return not self.down

    async def aclose(self) -> None:
        self.closed = True

    def texts(self) -> list[str]:
        return [text for _, text, _ in self.turns]


def jpeg(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 90)).save(buffer, format="JPEG")
    return buffer.getvalue()


def png(width: int = 64, height: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (1, 2, 3)).save(buffer, format="PNG")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
