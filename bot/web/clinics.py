"""Clinic keys, origin allow-lists and themes, from one YAML file (see clinics.example.yml)."""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ORIGIN_PATTERN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
COLOUR_PATTERN = re.compile(r"^#[0-9A-Fa-f]{6}$")


class ClinicsFileError(ValueError):
    """The clinics file cannot be used; the message names the file and what is wrong."""


class Theme(BaseModel):
    """What the clinic can change about the widget (data attributes override it per page)."""

    color: str = "#0a6b5d"
    title: str = Field(default="Health assistant", max_length=80)
    avatar: str | None = Field(default=None, max_length=500)
    greeting: str = Field(
        default="Hello! I'm an automated health assistant. How can I help?", max_length=600
    )

    @field_validator("color")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not COLOUR_PATTERN.match(value):
            raise ValueError("must be a #rrggbb colour")
        return value


class Clinic(BaseModel):
    """One clinic: its public key (the YAML key), origins, optional API key hash, theme."""

    key: str
    name: str = Field(max_length=120)
    origins: list[str] = Field(default_factory=list)
    api_key_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    theme: Theme = Field(default_factory=Theme)

    @field_validator("origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        origins = [value.rstrip("/") for value in values]
        for value in origins:
            if not ORIGIN_PATTERN.match(value):
                raise ValueError(f"{value!r} is not an origin like https://clinic.example.org")
        return origins


class Clinics:
    """Lookup by public key, by API key, and origin checks."""

    def __init__(self, clinics: list[Clinic]) -> None:
        self._by_key = {clinic.key: clinic for clinic in clinics}

    def __len__(self) -> int:
        return len(self._by_key)

    def get(self, key: object) -> Clinic | None:
        return self._by_key.get(key) if isinstance(key, str) else None

    def by_api_key(self, presented: str) -> Clinic | None:
        """The clinic whose API key hashes to the same digest (constant-time comparisons)."""
        digest = hashlib.sha256(presented.encode()).hexdigest()
        found = None
        for clinic in self._by_key.values():
            if clinic.api_key_sha256 and hmac.compare_digest(digest, clinic.api_key_sha256):
                found = clinic
        return found

    def origin_known(self, origin: str) -> bool:
        """Whether any clinic lists ``origin`` (used for CORS preflight, which has no body)."""
        return any(origin in clinic.origins for clinic in self._by_key.values())

    @property
    def keys(self) -> list[str]:
        return sorted(self._by_key)


def load_clinics(path: Path) -> Clinics:
    """Parse and validate the clinics file; ClinicsFileError names the file and the problem."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ClinicsFileError(f"{path}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ClinicsFileError(f"{path}{where}: not valid YAML") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("clinics"), dict):
        raise ClinicsFileError(f"{path}: expected a top-level 'clinics:' mapping")
    clinics = []
    for key, body in raw["clinics"].items():
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            raise ClinicsFileError(f"{path}: clinic key {key!r} must be 1-64 of A-Z a-z 0-9 _ -")
        try:
            clinics.append(Clinic(key=key, **(body or {})))
        except (ValidationError, TypeError) as error:
            raise ClinicsFileError(f"{path}: clinic {key!r}: {_short(error)}") from None
    return Clinics(clinics)


def _short(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
        )
    return str(error)
