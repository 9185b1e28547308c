"""Rephrasing through any OpenAI-compatible `/v1/chat/completions` endpoint (vLLM, llama.cpp, …).

A clinic can point the assistant at its own model server. The request carries the same strict
prompt as the local model (only the extractive selection, the question as quoted data), with
temperature 0. Anything other than a well-formed reply within the timeout raises
`GeneratorError`, so the caller answers extractively instead of failing the patient.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from actions.rag.generators import GeneratorError
from actions.rag.generators.extractive import ExtractiveGenerator
from actions.rag.generators.prompt import build_messages, finish
from actions.rag.types import Embedder, GeneratedAnswer, ScoredPassage


class OpenAIGenerator:
    """`Generator` over an OpenAI-compatible chat completions API."""

    name = "openai"

    def __init__(
        self,
        embedder: Embedder,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout_s: float = 20.0,
        max_answer_words: int = 120,
    ) -> None:
        self.embedder = embedder
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout_s = timeout_s
        self.max_words = max_answer_words
        self.extractive = ExtractiveGenerator(embedder, max_answer_words=max_answer_words)

    def generate(self, question: str, passages: Sequence[ScoredPassage]) -> GeneratedAnswer:
        """A plain-words version of the extractive answer; `GeneratorError` when the API fails."""
        selection = self.extractive.select(question, passages)
        if not selection.sentences:
            return GeneratedAnswer("", (), self.name)
        raw = self.complete(build_messages(question, selection, self.max_words))
        text = finish(raw, selection, self.embedder, self.max_words)
        return GeneratedAnswer(text, selection.citations, self.name)

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The assistant message of one chat completion (the error never quotes the prompt)."""
        payload = {
            "model": self.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": max(64, self.max_words * 3),
            "stream": False,
        }
        try:
            response = httpx.post(
                self.url, json=payload, headers=self.headers, timeout=self.timeout_s
            )
            response.raise_for_status()
            content = response.json()["choices"][0]["message"]["content"]
        except httpx.TimeoutException as error:
            raise GeneratorError(f"{self.url}: no reply within {self.timeout_s:g} s") from error
        except httpx.HTTPStatusError as error:
            status = error.response.status_code
            raise GeneratorError(f"{self.url}: HTTP {status}") from error
        except httpx.HTTPError as error:
            raise GeneratorError(f"{self.url}: {type(error).__name__}") from error
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise GeneratorError(f"{self.url}: reply is not a chat completion") from error
        if not isinstance(content, str) or not content.strip():
            raise GeneratorError(f"{self.url}: empty completion")
        return content
