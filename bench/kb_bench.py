"""Knowledge-base benchmarks: full and incremental builds, query latency per path.

Full build: a copy of knowledge/ is indexed from scratch (progress bar), reporting passages/s;
the baseline in the same run is the bare encoder on the same texts, so the ratio is our overhead.
Incremental: one file of the copy is edited and the index rebuilt.
Latency: p50/p95 over the hand-written consumer questions, for dense retrieval alone (the
baseline), BM25, hybrid, and the full answer path with each generator backend.

Run: `.venv/bin/python bench/kb_bench.py` (after `make kb`); results in bench/results/kb_bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actions.rag.chunking import chunk_document, embed_text  # noqa: E402
from actions.rag.documents import load_tree  # noqa: E402
from actions.rag.embedder import load_embedder  # noqa: E402
from actions.rag.index import KnowledgeIndex, build_index, current_version  # noqa: E402
from actions.rag.retriever import make_retriever  # noqa: E402
from actions.rag.service import AnswerService  # noqa: E402
from healthbot.settings import AnswerSettings, KbSettings  # noqa: E402


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered),
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "n": len(ordered),
    }


def timed(fn: Callable[[str], Any], questions: list[str]) -> dict[str, float]:
    fn(questions[0])  # warm caches once
    samples = []
    for q in questions:
        started = time.perf_counter()
        fn(q)
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def builds(work: Path, index_dir: Path, full: bool) -> dict[str, Any]:
    """Full build of a copy of knowledge/ (or a copy of the live index), then one edit."""
    kb = work / "knowledge"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(ROOT / "knowledge", kb)
    results: dict[str, Any] = {}
    if full:
        report = build_index(kb, work / "index", progress=True)
        docs = load_tree(kb)
        texts = [embed_text(p) for d in docs for p in chunk_document(d)]
        started = time.perf_counter()
        load_embedder().encode(sorted(texts, key=len, reverse=True), batch_size=64)
        bare = len(texts) / (time.perf_counter() - started)
        results.update(
            full_build_s=report.seconds,
            passages=report.passages,
            files=report.files,
            passages_per_s=report.passages_per_s,
            bare_encoder_passages_per_s=bare,
            build_vs_bare_encoder_ratio=(report.passages / report.seconds) / bare,
        )
    else:  # start from the live index, as an editor's rebuild does
        live = current_version(index_dir)
        shutil.copytree(index_dir / live, work / "index" / live)
        (work / "index" / "CURRENT").write_text(live + "\n")
    target = next(iter(sorted(kb.rglob("GHR_*.md"))))
    target.write_text(target.read_text() + "\n## An editor's note\n\nReviewed again today.\n")
    started = time.perf_counter()
    incremental = build_index(kb, work / "index", progress=False)
    results.update(
        incremental_s=time.perf_counter() - started,
        incremental_embedded_passages=incremental.embedded_passages,
        incremental_total_passages=incremental.passages,
    )
    return results


def latency(index_dir: Path, questions: list[str], local_n: int) -> dict[str, Any]:
    embedder = load_embedder()
    index = KnowledgeIndex.load_current(index_dir)
    out: dict[str, Any] = {}
    for mode in ("dense", "bm25", "hybrid"):
        retriever = make_retriever(mode, index, embedder)
        out[f"retrieve_{mode}"] = timed(lambda q, r=retriever: r.retrieve(q, k=5), questions)
    kb = KbSettings(index_dir=index_dir)
    service = AnswerService(kb, AnswerSettings(), embedder=embedder)
    out["answer_extractive"] = timed(service.answer, questions)
    if local_n:
        local = AnswerService(kb, AnswerSettings(generator="local"), embedder=embedder)
        out["answer_local"] = timed(local.answer, questions[:local_n])
    base = out["retrieve_dense"]["p95_ms"]
    out["p95_ratio_vs_dense_retrieval"] = {k: v["p95_ms"] / base for k, v in out.items()}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "kb")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "kb-bench")
    parser.add_argument("--skip-build", action="store_true", help="latency only")
    parser.add_argument("--full-build", action="store_true", help="also time a build from scratch")
    parser.add_argument("--local", type=int, default=20, help="questions for the local backend")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "kb_bench.json")
    args = parser.parse_args()
    items = yaml.safe_load((ROOT / "bench/data/kb_consumer_questions.yml").read_text())
    items = items["questions"] if isinstance(items, dict) else items
    questions = [i["question"] for i in items]
    results: dict[str, Any] = json.loads(args.out.read_text()) if args.out.exists() else {}
    results["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "load": os.getloadavg(),
    }
    results["latency"] = latency(args.index, questions, args.local)
    print(json.dumps(results["latency"], indent=2))
    if not args.skip_build:
        results["build"] = builds(args.work, args.index, args.full_build)
        print(json.dumps(results["build"], indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
