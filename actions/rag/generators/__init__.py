"""Answer writers behind the `Generator` protocol: extractive (default), local SmolLM2, OpenAI API.

Every backend starts from the same extractive selection of passage sentences, so a language
model only rephrases what was selected; the grounding check then decides whether its answer is
shown, and the caller falls back to extractive when it is not or when `GeneratorError` is raised.

`make_generator(name, answers, embedder=None)` reads the `AnswerSettings` section:

- `max_answer_words` (all backends): hard cap on the answer body's words;
- `extractive_scoring`: how the extractive backend picks sentences;
- `openai_base_url` (e.g. "http://127.0.0.1:8000/v1"; "/chat/completions" is appended),
  `openai_model`, `openai_api_key` (empty sends no Authorization header) and
  `openai_timeout_s`: the `openai` backend only.
"""

from __future__ import annotations

from actions.rag.types import Embedder, Generator
from healthbot.settings import AnswerSettings

NAMES = ("extractive", "local", "openai")


class GeneratorError(RuntimeError):
    """A backend could not answer (unreachable, timeout, bad reply); use extractive instead."""


def make_generator(
    name: str, answers: AnswerSettings, embedder: Embedder | None = None
) -> Generator:
    """The generator called ``name``; the encoder is loaded once when not given."""
    if name not in NAMES:
        raise ValueError(f"unknown generator {name!r}: choose one of {', '.join(NAMES)}")
    if embedder is None:
        from actions.rag.embedder import load_embedder

        embedder = load_embedder()
    max_words = answers.max_answer_words
    if name == "extractive":
        from actions.rag.generators.extractive import ExtractiveGenerator

        scoring = answers.extractive_scoring
        return ExtractiveGenerator(embedder, max_answer_words=max_words, scoring=scoring)
    if name == "local":
        from actions.rag.generators.local import LocalGenerator

        return LocalGenerator(embedder, max_answer_words=max_words)
    from actions.rag.generators.openai import OpenAIGenerator

    return OpenAIGenerator(
        embedder,
        base_url=answers.openai_base_url,
        model=answers.openai_model,
        api_key=answers.openai_api_key.get_secret_value(),
        timeout_s=answers.openai_timeout_s,
        max_answer_words=max_words,
    )
