"""One typed settings object for the edge (Telegram, web gateway, uploads), from the environment.

Variables are prefixed ``HEALTHBOT_`` (``HEALTHBOT_WEB_PORT``); the Telegram token keeps the name
people expect, ``TELEGRAM_BOT_TOKEN``, and is never read from a file in the repository.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1024 * 1024


class EdgeSettings(BaseSettings):
    """Edge configuration with safe, embedded defaults (loopback, local folders)."""

    model_config = SettingsConfigDict(env_prefix="HEALTHBOT_", env_file=".env", extra="ignore")

    emergency_number: str = Field(
        default="112 (or 911 in the US and Canada, 999 in the UK)",
        description="Same variable as the action server's: the channels' own texts use it.",
    )
    rasa_url: str = Field(default="http://127.0.0.1:5005", description="Rasa server (loopback).")
    rasa_timeout_s: float = Field(default=60.0, gt=0, description="One turn, NLU + actions.")

    # Where the edge keeps its own state: the sender-id secret, consent records.
    state_dir: Path = Field(default=Path("var/edge"))
    sender_secret: SecretStr = Field(
        default=SecretStr(""),
        description="Key for the non-reversible sender ids; generated in state_dir when empty.",
    )

    # Upload store (shared with the action server, which reads uploads by id).
    uploads_dir: Path = Field(default=Path("var/uploads"), description="Outside any web root.")
    upload_max_bytes: int = Field(default=20 * MB, ge=1024, description="Telegram's own cap.")
    upload_max_pixels: int = Field(
        default=50_000_000, ge=10_000, description="Bomb guard (48 MP phone photos pass)."
    )
    upload_retention_days: float = Field(default=30.0, gt=0)
    ehr_store_dir: Path = Field(
        default=Path("var/ehr"), description="Record analyses (written by the action server)."
    )
    ehr_retention_days: float = Field(default=30.0, gt=0)

    # Web gateway and widget.
    web_host: str = Field(default="127.0.0.1")
    web_port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = Field(default="", description="How browsers reach the gateway (widget tag).")
    clinics_file: Path = Field(
        default=Path("bot/web/clinics.example.yml"), description="Clinic keys and origins."
    )
    web_rate_per_minute: int = Field(default=30, ge=1, description="Messages per conversation.")

    # Telegram.
    telegram_bot_token: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "HEALTHBOT_TELEGRAM_BOT_TOKEN"),
    )
    telegram_mode: Literal["polling", "webhook"] = Field(default="polling")
    telegram_webhook_url: str = Field(default="", description="Public HTTPS URL (webhook mode).")
    telegram_webhook_secret: SecretStr = Field(default=SecretStr(""))
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    telegram_base_url: str = Field(
        default="https://api.telegram.org/bot", description="Bot API (tests: a local fake)."
    )
    telegram_base_file_url: str = Field(default="https://api.telegram.org/file/bot")
    telegram_rate_per_minute: int = Field(default=20, ge=1, description="Messages per chat.")


@lru_cache(maxsize=1)
def get_settings() -> EdgeSettings:
    """The process-wide settings (tests call ``get_settings.cache_clear()``)."""
    return EdgeSettings()
