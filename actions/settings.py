"""One typed settings object for the action server, read from the environment.

Every variable is prefixed ``HEALTHBOT_`` (for example ``HEALTHBOT_EMERGENCY_NUMBER``).
A clinic localises the assistant here without touching code.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
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

    warm_up: bool = Field(
        default=False, description="Load models when the action server starts (run script sets it)."
    )

    # Knowledge base and grounded answers (actions/rag).
    kb_dir: Path = Field(default=Path("knowledge"), description="Editors' Markdown files.")
    kb_index_dir: Path = Field(default=Path("var/kb"), description="Built index versions.")
    kb_retrieval: Literal["dense", "hybrid", "bm25", "dense-plain"] = Field(
        default="dense",
        description="Retriever: dense + boosts won against fusion with BM25 (bench/RESULTS.md).",
    )
    kb_index_kind: Literal["auto", "flat", "ivf", "hnsw"] = Field(
        default="auto", description="FAISS index: exact up to 200k passages, then approximate."
    )
    kb_top_k: int = Field(default=3, ge=1, le=10, description="Passages handed to the generator.")
    kb_min_similarity: float = Field(
        default=0.56,
        ge=0.0,
        le=1.0,
        description="Below this top-passage cosine the assistant says it does not know "
        "(set by measurement: bench/kb_eval.py).",
    )
    kb_min_similarity_named: float = Field(
        default=0.45,
        ge=0.0,
        le=1.0,
        description="The same, when the question names the top document's title or an alias.",
    )
    kb_reload_interval_s: float = Field(
        default=1.0, ge=0.0, description="How often the action server looks for a new index."
    )
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

    # Photo checker (actions/photo).
    photo_model_dir: Path = Field(default=Path("models/photo-cnn"), description="Shipped CNN.")
    photo_device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="CUDA when present, else the CPU."
    )
    photo_history_db: Path = Field(
        default=Path("var/photo/history.db"), description="Wound size per sender, for trends."
    )
    photo_history_retention_days: float = Field(default=365.0, gt=0)

    # Health record analyzer (actions/ehr).
    ehr_model_dir: Path = Field(default=Path("models/ehr-ner"), description="Shipped BERT NER.")
    ehr_device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="CUDA (fp16) when present, else the CPU."
    )
    ehr_backend: Literal["auto", "torch", "onnx"] = Field(
        default="auto",
        description="torch on CUDA; int8 ONNX Runtime on a CPU (2.7x faster, bench/RESULTS.md).",
    )
    ehr_cache_dir: Path = Field(
        default=Path("var/cache/ehr-ner"), description="The int8 ONNX file derived from the model."
    )
    ehr_batch_size: int = Field(default=8, ge=1, le=512, description="NER windows per batch.")
    ehr_max_chars: int = Field(
        default=100_000,
        ge=1_000,
        le=5_000_000,
        description="Longest record explained in chat (characters of text).",
    )
    ehr_store_dir: Path = Field(
        default=Path("var/ehr"), description="Clinic JSON of each analysis, per conversation."
    )
    ehr_retention_days: float = Field(default=30.0, gt=0)
    ehr_link_kb: bool = Field(
        default=True, description="Link each condition to its knowledge-base page."
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once; tests call ``get_settings.cache_clear()``)."""
    return Settings()
