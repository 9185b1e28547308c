"""One typed settings object for the action server, read from the environment.

Every variable is prefixed ``HEALTHBOT_`` (for example ``HEALTHBOT_EMERGENCY_NUMBER``).
A clinic localises the assistant here without touching code.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Action-server configuration with safe, embedded defaults."""

    model_config = SettingsConfigDict(env_prefix="HEALTHBOT_", env_file=".env", extra="ignore")

    emergency_number: str = Field(
        default="112 (or 911 in the US and Canada, 999 in the UK)",
        description="How the emergency number is spoken in emergency replies.",
    )
    crisis_line: str = Field(
        default=(
            "in the US call or text 988; in the UK or Ireland call Samaritans on 116 123; "
            "elsewhere your local emergency number can connect you to a crisis line"
        ),
        description="Crisis line wording added to self-harm emergency replies.",
    )
    clinic_contact: str = Field(
        default="Someone from the clinic will reply in this chat within one working day.",
        description="How and when the clinic answers a hand-off request.",
    )
    handoff_history: int = Field(
        default=6, ge=0, le=50, description="Recent messages attached to a hand-off request."
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once; tests call ``get_settings.cache_clear()``)."""
    return Settings()
