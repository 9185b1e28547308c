"""One typed settings object for every process: Rasa, the action server, the edge and the CLI.

Every variable starts with ``HEALTHBOT_``; each part reads its own section, and a section's
fields are its prefix plus the field name (``settings.kb.index_dir`` is
``HEALTHBOT_KB_INDEX_DIR``, ``settings.photo.model_dir`` is ``HEALTHBOT_PHOTO_MODEL_DIR``). The
few variables whose names predate the sections are read by their exact names (``env(...)``).

The action server and the edge run pydantic 2 with pydantic-settings; Rasa's environment pins
pydantic 1.10, whose ``BaseSettings`` reads the same variables, so the Rasa components and
plugins read this module too (``_section`` hides the difference).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr

from healthbot.contract import MAX_MESSAGE_CHARS

try:
    from pydantic import AliasChoices
    from pydantic_settings import BaseSettings, SettingsConfigDict

    PYDANTIC_V2 = True
except ImportError:  # Rasa's Python 3.10 environment: pydantic 1.10
    from pydantic import BaseSettings  # type: ignore[no-redef]

    PYDANTIC_V2 = False

MB = 1024 * 1024
PREFIX = "HEALTHBOT_"
EMERGENCY_NUMBER = "112 (or 911 in the US and Canada, 999 in the UK)"


def _section(prefix: str) -> Any:
    """A settings base class reading ``prefix + field`` from the environment (and ``.env``)."""
    if PYDANTIC_V2:

        class Section(BaseSettings):
            model_config = SettingsConfigDict(
                env_prefix=prefix, env_file=".env", extra="ignore", populate_by_name=True
            )

        return Section

    class Section1(BaseSettings):  # type: ignore[misc,valid-type]
        class Config:
            env_prefix = prefix
            env_file = ".env"
            extra = "ignore"
            allow_population_by_field_name = True

    return Section1


def env(*names: str, **field: Any) -> Any:
    """A field read from exactly these variables (the first one set wins), not prefix + name."""
    if PYDANTIC_V2:
        return Field(validation_alias=AliasChoices(*names), **field)
    return Field(env=list(names), **field)  # type: ignore[call-overload]


class KbSettings(_section(PREFIX + "KB_")):  # type: ignore[misc]
    """The knowledge base and its index (``HEALTHBOT_KB_*``)."""

    dir: Path = Field(default=Path("knowledge"), description="Editors' Markdown files.")
    index_dir: Path = Field(default=Path("var/kb"), description="Built index versions.")
    retrieval: Literal["dense", "hybrid", "bm25", "dense-plain"] = Field(
        default="dense",
        description="Retriever: dense + boosts won against fusion with BM25 (bench/RESULTS.md).",
    )
    index_kind: Literal["auto", "flat", "ivf", "hnsw"] = Field(
        default="auto", description="FAISS index: exact up to 200k passages, then approximate."
    )
    top_k: int = Field(default=3, ge=1, le=10, description="Passages handed to the generator.")
    min_similarity: float = Field(
        default=0.56,
        ge=0.0,
        le=1.0,
        description="Below this top-passage cosine the assistant says it does not know "
        "(set by measurement: bench/kb_eval.py).",
    )
    min_similarity_named: float = Field(
        default=0.45,
        ge=0.0,
        le=1.0,
        description="The same, when the question names the top document's title or an alias.",
    )
    reload_interval_s: float = Field(
        default=1.0, ge=0.0, description="How often the action server looks for a new index."
    )


class AnswerSettings(_section(PREFIX)):  # type: ignore[misc]
    """How grounded answers are written (``HEALTHBOT_GENERATOR``, ``HEALTHBOT_OPENAI_*``, …)."""

    generator: Literal["extractive", "local", "openai"] = Field(
        default="extractive", description="Answer writer; every answer is grounding-checked."
    )
    max_answer_words: int = Field(default=120, ge=20, le=400)
    extractive_scoring: Literal["lexical", "embedding"] = Field(
        default="lexical",
        description="How extractive picks sentences; embedding is ~10x slower (bench/RESULTS.md).",
    )
    max_question_chars: int = Field(default=2000, ge=100, le=20000)
    openai_base_url: str = Field(
        default="http://127.0.0.1:8000/v1", description="An OpenAI-compatible endpoint."
    )
    openai_model: str = Field(default="local-model")
    openai_api_key: SecretStr = Field(default=SecretStr(""))
    openai_timeout_s: float = Field(default=20.0, gt=0)


class PhotoSettings(_section(PREFIX + "PHOTO_")):  # type: ignore[misc]
    """The wound photo checker (``HEALTHBOT_PHOTO_*``)."""

    model_dir: Path = Field(default=Path("models/photo-cnn"), description="Shipped CNN.")
    device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="CUDA when present, else the CPU."
    )
    history_db: Path = Field(
        default=Path("var/photo/history.db"), description="Wound size per sender, for trends."
    )
    history_retention_days: float = Field(default=365.0, gt=0)


class EhrSettings(_section(PREFIX + "EHR_")):  # type: ignore[misc]
    """The health record analyzer and its analysis store (``HEALTHBOT_EHR_*``)."""

    model_dir: Path = Field(default=Path("models/ehr-ner"), description="Shipped BERT NER.")
    device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="CUDA (fp16) when present, else the CPU."
    )
    backend: Literal["auto", "torch", "onnx"] = Field(
        default="auto",
        description="torch on CUDA; int8 ONNX Runtime on a CPU (2.7x faster, bench/RESULTS.md).",
    )
    cache_dir: Path = Field(
        default=Path("var/cache/ehr-ner"), description="The int8 ONNX file derived from the model."
    )
    batch_size: int = Field(default=8, ge=1, le=512, description="NER windows per batch.")
    max_chars: int = Field(
        default=100_000,
        ge=1_000,
        le=5_000_000,
        description="Longest record explained in chat (characters of text).",
    )
    store_dir: Path = Field(
        default=Path("var/ehr"), description="Clinic JSON of each analysis, per conversation."
    )
    retention_days: float = Field(default=30.0, gt=0)
    link_kb: bool = Field(default=True, description="Link each condition to its knowledge page.")


class TriageSettings(_section(PREFIX + "TRIAGE_")):  # type: ignore[misc]
    """Triage protocols and the clinic's triage records (``HEALTHBOT_TRIAGE_*``)."""

    protocols_dir: Path = Field(
        default=Path("actions/triage/protocols"), description="Reviewable YAML protocols."
    )
    store_dir: Path = Field(
        default=Path("var/triage"), description="The clinic's triage record per conversation."
    )
    retention_days: float = Field(default=30.0, gt=0)
    max_questions: int = Field(default=8, ge=0, le=20, description="Questions per triage.")


class UploadSettings(_section(PREFIX + "UPLOAD_")):  # type: ignore[misc]
    """The upload store, shared by the edge (writes) and the action server (reads by id)."""

    dir: Path = env(
        "HEALTHBOT_UPLOADS_DIR", default=Path("var/uploads"), description="Outside any web root."
    )
    max_bytes: int = Field(default=20 * MB, ge=1024, description="Telegram's own cap.")
    max_pixels: int = Field(
        default=50_000_000, ge=10_000, description="Bomb guard (48 MP phone photos pass)."
    )
    retention_days: float = Field(default=30.0, gt=0)


class RasaSettings(_section(PREFIX + "RASA_")):  # type: ignore[misc]
    """Where the edge finds Rasa (``HEALTHBOT_RASA_*``)."""

    url: str = Field(default="http://127.0.0.1:5005", description="Rasa server (loopback).")
    timeout_s: float = Field(default=60.0, gt=0, description="One turn, NLU + actions.")


class WebSettings(_section(PREFIX + "WEB_")):  # type: ignore[misc]
    """The edge's web gateway and widget (``HEALTHBOT_WEB_*``)."""

    host: str = Field(default="127.0.0.1")
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = env(
        "HEALTHBOT_PUBLIC_URL", default="", description="How browsers reach the gateway."
    )
    clinics_file: Path = env(
        "HEALTHBOT_CLINICS_FILE",
        default=Path("bot/web/clinics.example.yml"),
        description="Clinic keys and origins.",
    )
    rate_per_minute: int = Field(default=30, ge=1, description="Messages per conversation.")


class TelegramSettings(_section(PREFIX + "TELEGRAM_")):  # type: ignore[misc]
    """The Telegram channel; the token keeps the name people expect, ``TELEGRAM_BOT_TOKEN``."""

    bot_token: SecretStr = env(
        "TELEGRAM_BOT_TOKEN", "HEALTHBOT_TELEGRAM_BOT_TOKEN", default=SecretStr("")
    )
    mode: Literal["polling", "webhook"] = Field(default="polling")
    webhook_url: str = Field(default="", description="Public HTTPS URL (webhook mode).")
    webhook_secret: SecretStr = Field(default=SecretStr(""))
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    base_url: str = Field(
        default="https://api.telegram.org/bot", description="Bot API (tests: a local fake)."
    )
    base_file_url: str = Field(default="https://api.telegram.org/file/bot")
    rate_per_minute: int = Field(default=20, ge=1, description="Messages per chat.")


class ComputeSettings(_section(PREFIX)):  # type: ignore[misc]
    """Compute threads per request: the run scripts pin ``OMP_NUM_THREADS=1`` (many small
    requests share the cores); unset or 0 (training) lets a runtime use every core."""

    threads: int = env("OMP_NUM_THREADS", default=0, ge=0)


class TrainingSettings(_section(PREFIX)):  # type: ignore[misc]
    """Where the training and evaluation commands find their data (never read at run time)."""

    fuseg_dir: Path | None = Field(
        default=None, description="The FUSeg wound photos (``make train-photo``)."
    )


class Settings(_section(PREFIX)):  # type: ignore[misc]
    """Everything, with safe embedded defaults (loopback, local folders, SQLite)."""

    emergency_number: str = Field(
        default=EMERGENCY_NUMBER,
        description="How the emergency number is written in emergency replies.",
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
    max_message_chars: int = Field(
        default=MAX_MESSAGE_CHARS, ge=100, le=100_000, description="Longest message accepted."
    )
    tracker_db: Path = Field(
        default=Path("var/tracker.db"),
        description="SQLite file of Rasa's tracker store (endpoints.yml; run_rasa.sh exports it).",
    )
    warm_up: bool = Field(
        default=False, description="Load models when the action server starts (run script sets it)."
    )
    state_dir: Path = Field(
        default=Path("var/edge"), description="The edge's state: sender-id secret, consent."
    )
    sender_secret: SecretStr = Field(
        default=SecretStr(""),
        description="Key for the non-reversible sender ids; generated in state_dir when empty.",
    )

    kb: KbSettings = Field(default_factory=KbSettings)
    answers: AnswerSettings = Field(default_factory=AnswerSettings)
    photo: PhotoSettings = Field(default_factory=PhotoSettings)
    ehr: EhrSettings = Field(default_factory=EhrSettings)
    triage: TriageSettings = Field(default_factory=TriageSettings)
    uploads: UploadSettings = Field(default_factory=UploadSettings)
    rasa: RasaSettings = Field(default_factory=RasaSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    compute: ComputeSettings = Field(default_factory=ComputeSettings)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once; tests call ``get_settings.cache_clear()``)."""
    return Settings()
