"""Answer writers behind the `Generator` protocol: extractive (default), local SmolLM2, OpenAI API.

Every backend starts from the same extractive selection of passage sentences, so a language
model only rephrases what was selected; the grounding check then decides whether its answer is
shown, and the caller falls back to extractive when it is not or when `GeneratorError` is raised.

`make_generator(name, settings, embedder=None)` reads these attributes of `settings`:

- `max_answer_words` (all backends; default 120): hard cap on the answer body's words;
- `openai_base_url` (e.g. "http://127.0.0.1:8000/v1"; "/chat/completions" is appended),
  `openai_model`, `openai_api_key` (str or pydantic `SecretStr`; empty sends no
  Authorization header) and `openai_timeout_s`: the `openai` backend only.
"""

from __future__ import annotations

from typing import Any

from actions.rag.types import Embedder, Generator

NAMES = ("extractive", "local", "openai")


class GeneratorError(RuntimeError):
    """A backend could not answer (unreachable, timeout, bad reply); use extractive instead."""


def make_generator(name: str, settings: Any, embedder: Embedder | None = None) -> Generator:
    """The generator called ``name``; the encoder is loaded once when not given."""
    if name not in NAMES:
        raise ValueError(f"unknown generator {name!r}: choose one of {', '.join(NAMES)}")
    if embedder is None:
        from actions.rag.embedder import load_embedder

        embedder = load_embedder()
    max_words = int(getattr(settings, "max_answer_words", 120))
    if name == "extractive":
        from actions.rag.generators.extractive import ExtractiveGenerator

        scoring = str(getattr(settings, "extractive_scoring", "lexical"))
        return ExtractiveGenerator(embedder, max_answer_words=max_words, scoring=scoring)
    if name == "local":
        from actions.rag.generators.local import LocalGenerator

        return LocalGenerator(embedder, max_answer_words=max_words)
    from actions.rag.generators.openai import OpenAIGenerator

    return OpenAIGenerator(
        embedder,
        base_url=settings.openai_base_url,
        model=settings.openai_model,
        api_key=_secret(getattr(settings, "openai_api_key", "")),
        timeout_s=float(getattr(settings, "openai_timeout_s", 20.0)),
        max_answer_words=max_words,
    )


def _secret(value: Any) -> str:
    """Plain text of a str or pydantic `SecretStr`."""
    reveal = getattr(value, "get_secret_value", None)
    return str(reveal() if callable(reveal) else value or "")
