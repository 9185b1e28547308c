"""Builds and loads the knowledge index: FAISS (dense) + BM25 (lexical) + passage metadata.

Layout under the index root (default `var/kb`):

    CURRENT              name of the live version (replaced atomically with os.replace)
    <version>/           manifest.json, passages.jsonl, embeddings.npy, dense.faiss, bm25/

A build writes a fresh version folder next to the live one and only then points CURRENT at it,
so a crash mid-build leaves the old index serving. Builds are incremental: a file whose content
hash and chunking settings match the live manifest reuses its passages and embeddings.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actions.rag.chunking import MAX_WORDS, VERSION, chunk_document, embed_text
from actions.rag.types import Embedder, KBDocument, Passage

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

FORMAT = 1
MODEL_NAME = "all-MiniLM-L6-v2"
EXACT_LIMIT = 200_000  # passages; above this an approximate FAISS index is used
KEEP_VERSIONS = 2


class IndexError_(RuntimeError):
    """The index is missing or unreadable (message says which file)."""


@dataclass(frozen=True)
class IndexConfig:
    """Settings that change what gets embedded; a change forces a full re-embed."""

    include_headings: bool = True
    max_words: int = MAX_WORDS
    kind: str = "auto"  # auto | flat | ivf | hnsw

    def embedding_key(self) -> str:
        return f"{MODEL_NAME}|{self.include_headings}|{self.max_words}|chunker-v{VERSION}"


@dataclass
class BuildReport:
    """What a build did, for the CLI and the benchmarks."""

    version: str
    files: int
    passages: int
    embedded_files: int
    embedded_passages: int
    seconds: float
    embed_seconds: float
    kind: str
    unchanged: bool = False

    @property
    def passages_per_s(self) -> float:
        return self.embedded_passages / self.embed_seconds if self.embed_seconds > 0 else 0.0


@dataclass
class _FileEntry:
    sha256: str
    doc_id: str
    count: int = 0
    rows: tuple[int, int] = (0, 0)


@dataclass
class _Plan:
    files: dict[str, _FileEntry] = field(default_factory=dict)
    passages: list[Passage] = field(default_factory=list)
    vectors: list[Any] = field(default_factory=list)  # per-file arrays or None (to embed)
    order: list[str] = field(default_factory=list)  # files in the order passages were appended


def current_version(root: Path) -> str | None:
    """The live version's folder name, or None before the first build."""
    try:
        name = (root / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


@contextlib.contextmanager
def _build_lock(root: Path) -> Iterator[None]:
    """One build at a time per index root (kb watch and a manual build may race)."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".build.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _passage_to_json(p: Passage) -> dict[str, Any]:
    data = asdict(p)
    data["aliases"] = list(p.aliases)
    return data


def _passage_from_json(data: dict[str, Any]) -> Passage:
    return Passage(**{**data, "aliases": tuple(data.get("aliases", ()))})


class _Previous:
    """The live version, read only as far as an incremental build needs it."""

    def __init__(self, root: Path, config: IndexConfig) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.passages: list[Passage] = []
        self.vectors: Any = None
        version = current_version(root)
        if version is None:
            return
        try:
            manifest = json.loads((root / version / "manifest.json").read_text(encoding="utf-8"))
            if manifest.get("embedding_key") != config.embedding_key():
                return
            import numpy as np

            self.vectors = np.load(root / version / "embeddings.npy", mmap_mode="r")
            self.passages = _read_passages(root / version / "passages.jsonl")
            self.files = manifest["files"]
        except (OSError, ValueError, KeyError):  # a broken previous build: embed everything
            self.files, self.passages, self.vectors = {}, [], None

    def reuse(self, rel: str, sha: str) -> tuple[list[Passage], Any] | None:
        entry = self.files.get(rel)
        if entry is None or entry["sha256"] != sha or self.vectors is None:
            return None
        start, end = entry["rows"]
        return self.passages[start:end], self.vectors[start:end]


def _read_passages(path: Path) -> list[Passage]:
    with path.open(encoding="utf-8") as handle:
        return [_passage_from_json(json.loads(line)) for line in handle if line.strip()]


def _plan(
    root: Path, files: Sequence[Path], previous: _Previous, config: IndexConfig
) -> tuple[_Plan, list[Path]]:
    """Reuses unchanged files; returns the changed ones still to parse."""
    plan = _Plan()
    changed: list[Path] = []
    for path in files:
        rel = _relative(path, root)
        sha = _sha256(path.read_bytes())
        reused = previous.reuse(rel, sha)
        if reused is None:
            changed.append(path)
            plan.files[rel] = _FileEntry(sha, "")
            continue
        passages, vectors = reused
        plan.files[rel] = _FileEntry(sha, previous.files[rel]["doc_id"], len(passages))
        plan.order.append(rel)
        plan.passages.extend(passages)
        plan.vectors.append(vectors)
    return plan, changed


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _parse_changed(
    changed: Sequence[Path], kb_root: Path, documents: dict[str, KBDocument] | None
) -> list[KBDocument]:
    from actions.rag.documents import KBFormatError, parse_document

    docs: list[KBDocument] = []
    issues: list[Any] = []
    for path in changed:
        rel = _relative(path, kb_root)
        if documents is not None and rel in documents:
            docs.append(documents[rel])
            continue
        try:
            docs.append(parse_document(path))
        except KBFormatError as error:
            issues.extend(error.issues)
    if issues:
        raise KBFormatError(issues)
    return docs


def _check_duplicate_ids(plan: _Plan) -> None:
    from actions.rag.documents import KBFormatError, KBIssue

    seen: dict[str, str] = {}
    issues = []
    for rel, entry in plan.files.items():
        if entry.doc_id in seen:
            message = f"duplicate id {entry.doc_id!r} (also in {seen[entry.doc_id]})"
            issues.append(KBIssue(path=Path(rel), line=1, message=message))
        seen[entry.doc_id] = rel
    if issues:
        raise KBFormatError(issues)


def _embed(
    plan: _Plan,
    docs: Sequence[KBDocument],
    rels: Sequence[str],
    embedder: Embedder,
    config: IndexConfig,
    progress: bool,
) -> tuple[int, float]:
    """Chunks and embeds the changed documents, longest first (less padding per batch)."""
    import numpy as np

    new: list[tuple[str, list[Passage]]] = []
    for rel, doc in zip(rels, docs, strict=True):
        plan.files[rel].doc_id = doc.doc_id
        new.append((rel, chunk_document(doc, config.max_words)))
    flat = [p for _, passages in new for p in passages]
    texts = [embed_text(p, config.include_headings) for p in flat]
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    start = time.perf_counter()
    vectors = embedder.encode([texts[i] for i in order], batch_size=64, progress=progress)
    seconds = time.perf_counter() - start
    unsorted = np.empty_like(vectors)
    unsorted[order] = vectors
    offset = 0
    for rel, passages in new:
        plan.files[rel].count = len(passages)
        plan.order.append(rel)
        plan.passages.extend(passages)
        plan.vectors.append(unsorted[offset : offset + len(passages)])
        offset += len(passages)
    return len(flat), seconds


def _assign_rows(plan: _Plan) -> None:
    """Rows follow the order in which `plan.passages` was filled (reused files first)."""
    row = 0
    for rel in plan.order:
        entry = plan.files[rel]
        entry.rows = (row, row + entry.count)
        row += entry.count


def _dense_index(vectors: NDArray[np.float32], kind: str) -> tuple[Any, str]:
    import faiss

    n, dim = vectors.shape
    if kind == "auto":
        kind = "flat" if n <= EXACT_LIMIT else "ivf"
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    else:
        from actions.rag.ann import make_ann_index

        index = make_ann_index(kind, dim, n)
        if not index.is_trained:
            index.train(vectors)
    index.add(vectors)
    return index, kind


def _bm25(texts: Sequence[str], out: Path) -> None:
    import bm25s
    import Stemmer
    from bm25s.tokenization import Tokenizer

    tokenizer = Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english").stemWord)
    tokens = tokenizer.tokenize(list(texts), return_as="tuple", show_progress=False)
    model = bm25s.BM25()
    model.index(tokens, show_progress=False)
    model.save(str(out), show_progress=False)
    tokenizer.save_vocab(str(out))


def _write_version(root: Path, plan: _Plan, config: IndexConfig) -> tuple[str, str]:
    """Writes every artefact into a temporary folder, then renames it into place."""
    import faiss
    import numpy as np

    _assign_rows(plan)
    dim = 384
    vectors = (
        np.concatenate([np.asarray(v, dtype=np.float32) for v in plan.vectors])
        if plan.vectors
        else np.zeros((0, dim), dtype=np.float32)
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    version = f"v{stamp}-{uuid.uuid4().hex[:6]}"
    tmp = root / f".tmp-{version}"
    tmp.mkdir(parents=True)
    index, kind = _dense_index(vectors, config.kind)
    faiss.write_index(index, str(tmp / "dense.faiss"))
    np.save(tmp / "embeddings.npy", vectors)
    with (tmp / "passages.jsonl").open("w", encoding="utf-8") as handle:
        for p in plan.passages:
            handle.write(json.dumps(_passage_to_json(p), ensure_ascii=False) + "\n")
    _bm25([embed_text(p, config.include_headings) for p in plan.passages], tmp / "bm25")
    manifest = {
        "format": FORMAT,
        "version": version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": MODEL_NAME,
        "dim": dim,
        "embedding_key": config.embedding_key(),
        "include_headings": config.include_headings,
        "max_words": config.max_words,
        "kind": kind,
        "passages": len(plan.passages),
        "documents": len(plan.files),
        "files": {
            rel: {"sha256": e.sha256, "doc_id": e.doc_id, "rows": list(e.rows)}
            for rel, e in plan.files.items()
        },
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(tmp, root / version)
    return version, kind


def _point_current(root: Path, version: str) -> None:
    pointer = root / f".CURRENT.{uuid.uuid4().hex}"
    pointer.write_text(version + "\n", encoding="utf-8")
    os.replace(pointer, root / "CURRENT")


def _prune(root: Path, keep: str) -> None:
    """Keeps the live version and the one before it (a running server may still be on it)."""
    versions = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("v"))
    for old in [v for v in versions if v.name != keep][: -(KEEP_VERSIONS - 1) or None]:
        shutil.rmtree(old, ignore_errors=True)
    for tmp in root.glob(".tmp-*"):
        if time.time() - tmp.stat().st_mtime > 3600:
            shutil.rmtree(tmp, ignore_errors=True)


def _publish(root: Path, plan: _Plan, config: IndexConfig) -> tuple[str, str]:
    """Writes the new version, makes it live, and prunes old ones."""
    version, kind = _write_version(root, plan, config)
    _point_current(root, version)
    _prune(root, version)
    return version, kind


def build_index(
    kb_root: Path,
    index_root: Path,
    *,
    config: IndexConfig | None = None,
    embedder: Embedder | None = None,
    progress: bool = True,
    files: Sequence[Path] | None = None,
    documents: dict[str, KBDocument] | None = None,
) -> BuildReport:
    """Builds a new version from `kb_root` (or the given `files`/pre-parsed `documents`)."""
    from actions.rag.documents import iter_kb_files

    config = config or IndexConfig()
    started = time.perf_counter()
    with _build_lock(index_root):
        paths = list(files) if files is not None else iter_kb_files(kb_root)
        previous = _Previous(index_root, config)
        plan, changed = _plan(kb_root, paths, previous, config)
        if not changed and set(previous.files) == set(plan.files):
            version = current_version(index_root) or ""
            return BuildReport(
                version,
                len(paths),
                len(plan.passages),
                0,
                0,
                time.perf_counter() - started,
                0.0,
                config.kind,
                unchanged=True,
            )
        docs = _parse_changed(changed, kb_root, documents)
        rels = [_relative(p, kb_root) for p in changed]
        if docs and embedder is None:
            from actions.rag.embedder import load_embedder

            embedder = load_embedder()
        embedded, embed_seconds = (
            _embed(plan, docs, rels, embedder, config, progress) if docs else (0, 0.0)
        )
        _check_duplicate_ids(plan)
        version, kind = _publish(index_root, plan, config)
    return BuildReport(
        version,
        len(paths),
        len(plan.passages),
        len(changed),
        embedded,
        time.perf_counter() - started,
        embed_seconds,
        kind,
    )


class KnowledgeIndex:
    """One loaded, immutable version: dense and BM25 search over the same passage rows."""

    def __init__(self, directory: Path) -> None:
        import bm25s
        import faiss
        import numpy as np
        import Stemmer
        from bm25s.tokenization import Tokenizer

        self.directory = directory
        try:
            self.manifest: dict[str, Any] = json.loads(
                (directory / "manifest.json").read_text(encoding="utf-8")
            )
            self.passages = _read_passages(directory / "passages.jsonl")
            self._dense = faiss.read_index(str(directory / "dense.faiss"))
            self._vectors = np.load(directory / "embeddings.npy", mmap_mode="r")
            self._bm25 = bm25s.BM25.load(str(directory / "bm25"), show_progress=False)
            self._tokenizer = Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english").stemWord)
            self._tokenizer.load_vocab(str(directory / "bm25"))
        except (OSError, ValueError, KeyError, RuntimeError) as error:
            raise IndexError_(f"{directory}: cannot load the knowledge index ({error})") from error
        if self._dense.ntotal != len(self.passages):
            raise IndexError_(f"{directory}: dense.faiss and passages.jsonl disagree")

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", self.directory.name))

    @property
    def include_headings(self) -> bool:
        return bool(self.manifest.get("include_headings", True))

    def __len__(self) -> int:
        return len(self.passages)

    @classmethod
    def load_current(cls, root: Path) -> KnowledgeIndex:
        """The version CURRENT points at."""
        version = current_version(root)
        if version is None:
            raise IndexError_(f"{root}: no knowledge index yet; run `healthbot kb build`")
        return cls(root / version)

    def dense_search(self, vector: NDArray[np.float32], k: int) -> list[tuple[int, float]]:
        """Rows and cosine similarities, best first."""
        if not self.passages:
            return []
        scores, rows = self._dense.search(vector.reshape(1, -1), min(k, len(self.passages)))
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    def cosine(self, row: int, vector: NDArray[np.float32]) -> float:
        """Cosine of one stored passage and a query vector (both normalised)."""
        return float(self._vectors[row] @ vector)

    def bm25_search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Rows and BM25 scores, best first; empty when no query word is in the vocabulary."""
        if not self.passages:
            return []
        ids = self._tokenizer.tokenize(
            [query], update_vocab=False, return_as="ids", show_progress=False
        )
        if not ids or not ids[0]:
            return []
        tokens = self._tokenizer.decode(ids)
        rows, scores = self._bm25.retrieve(
            tokens, k=min(k, len(self.passages)), show_progress=False, n_threads=1
        )
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]


def build_from_documents(
    documents: Sequence[KBDocument],
    index_root: Path,
    *,
    config: IndexConfig | None = None,
    embedder: Embedder | None = None,
    progress: bool = True,
) -> BuildReport:
    """A full build from documents held in memory (evaluation indexes, tests); not incremental."""
    config = config or IndexConfig()
    started = time.perf_counter()
    if embedder is None:
        from actions.rag.embedder import load_embedder

        embedder = load_embedder()
    plan = _Plan()
    rels = [f"{doc.doc_id}.md" for doc in documents]
    for rel in rels:
        plan.files[rel] = _FileEntry("", "")
    with _build_lock(index_root):
        embedded, embed_seconds = _embed(plan, documents, rels, embedder, config, progress)
        version, kind = _publish(index_root, plan, config)
    return BuildReport(
        version,
        len(documents),
        len(plan.passages),
        len(documents),
        embedded,
        time.perf_counter() - started,
        embed_seconds,
        kind,
    )
