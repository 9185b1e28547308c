"""FAISS indexes for the knowledge base: exact up to 200k passages, approximate beyond.

Why: an exact inner-product scan costs ~63 ms of CPU per question at 1M passages; the settings
below answer in ~3 ms or less with recall@10 >= 0.95 against exact. They come from
`bench/kb_scale.py` (1M synthetic MiniLM-like vectors on the 2-core machine; results in
`bench/results/kb_scale.json`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import faiss

EXACT_UP_TO = 200_000  # exact scan here: ~13 ms of CPU per question, no training, recall 1.0
# IVF at 1M (nlist 4000): nprobe 32 -> recall@10 0.954 (p95 0.9 ms), 64 -> 0.971, 128 -> 0.985
# (p95 3.1 ms, 23x faster than exact). 128 because recall at a given nprobe falls with smaller
# N: at 100k, 64 gave only 0.940 and 128 gave 0.970.
IVF_NPROBE = 128
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128  # at 900k: recall@10 0.966, p95 1.1 ms (64 gave 0.939)
KINDS = ("auto", "flat", "ivf", "hnsw")


def make_ann_index(kind: str, dim: int, n_expected: int) -> faiss.Index:
    """An empty inner-product index for L2-normalised vectors, search parameters already set.

    kind: "flat" (exact `IndexFlatIP`), "ivf" (`IndexIVFFlat`, nlist = 4*sqrt(n_expected);
    call `index.train(sample)` with >= 39*nlist vectors before `add`), "hnsw" (`IndexHNSWFlat`,
    no training, but ~5x IVF's build time), or "auto" (flat up to 200k passages, then IVF: it
    met the target with a 140 s build at 1M where HNSW took 659 s for 900k).
    """
    import faiss

    if kind == "auto":
        kind = "flat" if n_expected <= EXACT_UP_TO else "ivf"
    if kind == "flat":
        return faiss.IndexFlatIP(dim)
    if kind == "ivf":
        return _ivf(dim, n_expected)
    if kind == "hnsw":
        return _hnsw(dim)
    raise ValueError(f"unknown index kind {kind!r}; expected one of {', '.join(KINDS)}")


def _ivf(dim: int, n_expected: int) -> faiss.Index:
    """Inverted lists over k-means cells; each question scans IVF_NPROBE of them."""
    import faiss

    nlist = max(1, int(4 * math.sqrt(n_expected)))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.nprobe = min(IVF_NPROBE, nlist)
    return index


def _hnsw(dim: int) -> faiss.Index:
    """A navigable small-world graph; efSearch trades latency for recall at query time."""
    import faiss

    index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = HNSW_EF_SEARCH
    return index
