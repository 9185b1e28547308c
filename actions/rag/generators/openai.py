"""Rephrasing through any OpenAI-compatible `/v1/chat/completions` endpoint (vLLM, llama.cpp, …).

A clinic can point the assistant at its own model server. The request carries the same strict
prompt as the local model (only the extractive selection, the question as quoted data), with
temperature 0. Anything other than a well-formed reply within the timeout raises
`GeneratorError`, so the caller answers extractively instead of failing the patient.
"""

from __future__ import annotations

import httpx

from actions.rag.generators import GeneratorError
from actions.rag.generators.prompt import Rephraser
from actions.rag.types import Embedder


class OpenAIGenerator(Rephraser):
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
        super().__init__(embedder, max_answer_words)
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout_s = timeout_s

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
