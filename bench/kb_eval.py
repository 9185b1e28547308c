"""Retrieval and generator evaluation on MedQuAD (`make eval-kb`).

1. Held-out retrieval: a fixed sample of answered pairs (`sample_pairs(…, 2000, 13)`) is indexed
   with the question headings left out (answer text only), and MedQuAD's own question is the
   query. Recall@1, recall@5 and MRR@10 of the question's own answer (by qid) for BM25, dense and
   the fused retriever.
2. Consumer rephrasings (bench/data/kb_consumer_questions.yml, written by hand) against the full
   index the assistant serves (`make kb`).
3. The "I don't know" threshold: top-passage cosine on the rephrasings (answerable) against
   bench/data/kb_out_of_kb.yml (not answerable).
4. Generator faithfulness on 200 sampled questions: share of answers passing the grounding check
   per backend, ROUGE-L against MedQuAD's reference answer, and latency.

Run from the repository root: `.venv/bin/python bench/kb_eval.py` (reads ../shared/data/medquad).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actions.rag.documents import load_tree  # noqa: E402
from actions.rag.embedder import load_embedder  # noqa: E402
from actions.rag.index import IndexConfig, KnowledgeIndex, build_from_documents  # noqa: E402
from actions.rag.retriever import make_retriever  # noqa: E402
from actions.rag.types import KBDocument  # noqa: E402
from bench.kb_metrics import mrr, recall_at_k, rouge_l  # noqa: E402
from bench.kb_sample import sample_pairs  # noqa: E402

MEDQUAD = ROOT.parent / "shared" / "data" / "medquad"
MODES = ("bm25", "dense-plain", "hybrid", "dense")


def ranked_qids(retriever: Any, question: str, k: int = 10) -> list[str]:
    """Distinct qids in rank order (a long answer's chunks count once)."""
    seen: list[str] = []
    for hit in retriever.retrieve(question, k=k * 2):
        if hit.passage.qid not in seen:
            seen.append(hit.passage.qid)
    return seen[:k]


def metrics(ranked: list[list[str]], gold: list[str]) -> dict[str, float]:
    return {
        "recall@1": recall_at_k(ranked, gold, 1),
        "recall@5": recall_at_k(ranked, gold, 5),
        "mrr@10": mrr(ranked, gold, 10),
        "n": len(gold),
    }


def eval_documents(docs: list[KBDocument], qids: set[str]) -> list[KBDocument]:
    """The committed documents cut down to the sampled sections."""
    kept = []
    for doc in docs:
        sections = tuple(s for s in doc.sections if s.qid in qids)
        if sections:
            kept.append(dataclasses.replace(doc, sections=sections))
    return kept


def evaluate_retrievers(index: KnowledgeIndex, questions: list[str], gold: list[str]) -> dict:
    embedder = load_embedder()
    results = {}
    for mode in MODES:
        retriever = make_retriever(mode, index, embedder)
        started = time.perf_counter()
        ranked = [ranked_qids(retriever, q) for q in tqdm(questions, desc=mode, leave=False)]
        results[mode] = metrics(ranked, gold)
        results[mode]["ms_per_query"] = (time.perf_counter() - started) * 1000 / len(questions)
    return results


def held_out(docs: list[KBDocument], n: int, seed: int, work: Path, reuse: bool) -> dict:
    pairs = sample_pairs(MEDQUAD, n, seed)
    qids = {p["qid"] for p in pairs}
    if not (reuse and (work / "eval-index" / "CURRENT").exists()):
        subset = eval_documents(docs, qids)
        build_from_documents(
            subset, work / "eval-index", config=IndexConfig(include_headings=False)
        )
    index = KnowledgeIndex.load_current(work / "eval-index")
    assert not index.include_headings, "the held-out index must leave headings out"
    found = {p.qid for p in index.passages}
    pairs = [p for p in pairs if p["qid"] in found]
    results = evaluate_retrievers(index, [p["question"] for p in pairs], [p["qid"] for p in pairs])
    results["index"] = {"sections": len(found), "passages": len(index)}
    return results


def consumer(full: KnowledgeIndex, path: Path) -> tuple[dict, list[dict]]:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = items["questions"] if isinstance(items, dict) else items
    return evaluate_retrievers(
        full, [i["question"] for i in items], [i["qid"] for i in items]
    ), items


def decisions(full: KnowledgeIndex, questions: list[str], answerable: bool) -> dict[str, Any]:
    """Top cosines, and how the shipped confidence rule decides (answer or "I don't know")."""
    from actions.rag.service import confidence
    from healthbot.settings import get_settings

    retriever = make_retriever("dense", full, load_embedder())
    cosines, answered = [], []
    for q in questions:
        hits = retriever.retrieve(q, k=5)
        cosines.append(max(h.dense_score or 0.0 for h in hits))
        answered.append(confidence(q, hits, get_settings().kb) is not None)
    share = sum(answered) / len(answered)
    return {
        "cosines": cosines,
        "share_answered" if answerable else "share_refused": share if answerable else 1 - share,
    }


def threshold(answerable: list[float], unanswerable: list[float]) -> dict[str, Any]:
    """The cosine cut with the best balanced accuracy (answer the answerable, refuse the rest)."""
    best = (0.0, 0.0)
    for step in range(20, 81):
        cut = step / 100
        tpr = sum(c >= cut for c in answerable) / len(answerable)
        tnr = sum(c < cut for c in unanswerable) / len(unanswerable)
        best = max(best, ((tpr + tnr) / 2, cut))
    cut = best[1]
    return {
        "best_cosine_cut": cut,
        "cut_answers_share_of_answerable": sum(c >= cut for c in answerable) / len(answerable),
        "cut_refuses_share_of_unanswerable": sum(c < cut for c in unanswerable) / len(unanswerable),
        "answerable_cosine_median": statistics.median(answerable),
        "unanswerable_cosine_median": statistics.median(unanswerable),
        "unanswerable_cosine_max": max(unanswerable),
    }


def faithfulness(full: KnowledgeIndex, pairs: list[dict], backends: list[str]) -> dict:
    from actions.rag.generators import GeneratorError, make_generator
    from actions.rag.grounding import GroundingChecker
    from healthbot.settings import get_settings

    embedder = load_embedder()
    retriever = make_retriever("dense", full, embedder)
    checker = GroundingChecker(embedder)
    results = {}
    for backend in backends:
        generator = make_generator(backend, get_settings().answers, embedder=embedder)
        grounded, rouge, latency, failed = 0, [], [], 0
        for pair in tqdm(pairs, desc=f"generate:{backend}", leave=False):
            passages = retriever.retrieve(pair["question"], k=3)
            started = time.perf_counter()
            try:
                answer = generator.generate(pair["question"], passages)
            except GeneratorError:
                failed += 1
                continue
            latency.append((time.perf_counter() - started) * 1000)
            grounded += checker.check(answer).grounded
            rouge.append(rouge_l(answer.text, pair["answer"]))
        n = len(pairs)
        results[backend] = {
            "n": n,
            "grounded_share": grounded / n,
            "errors": failed,
            "rouge_l_mean": statistics.fmean(rouge) if rouge else 0.0,
            "latency_ms_p50": statistics.median(latency) if latency else None,
            "latency_ms_p95": sorted(latency)[int(0.95 * (len(latency) - 1))] if latency else None,
        }
    return results


def table(title: str, results: dict) -> str:
    lines = [
        f"**{title}**",
        "",
        "| retriever | recall@1 | recall@5 | MRR@10 | ms/query |",
        "|---|---|---|---|---|",
    ]
    for mode in MODES:
        r = results[mode]
        lines.append(
            f"| {mode} | {r['recall@1']:.3f} | {r['recall@5']:.3f} | "
            f"{r['mrr@10']:.3f} | {r['ms_per_query']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--faithfulness", type=int, default=200)
    parser.add_argument("--backends", default="extractive,local")
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "kb")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "kb-eval")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "kb_eval.json")
    parser.add_argument("--reuse-eval-index", action="store_true", help="skip its rebuild")
    parser.add_argument(
        "--skip", default="", help="comma list: heldout,consumer,threshold,generate"
    )
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    results: dict[str, Any] = json.loads(args.out.read_text()) if args.out.exists() else {}
    docs = load_tree(ROOT / "knowledge")
    full = KnowledgeIndex.load_current(args.index)
    if "heldout" not in skip:
        results["held_out"] = held_out(
            docs, args.sample, args.seed, args.work, args.reuse_eval_index
        )
        print(
            table(
                f"Held-out MedQuAD questions, headings left out ({args.sample} pairs)",
                results["held_out"],
            )
        )
    if "consumer" not in skip:
        results["consumer"], items = consumer(full, ROOT / "bench/data/kb_consumer_questions.yml")
        print(table("Consumer rephrasings, full index", results["consumer"]))
    if "threshold" not in skip:
        items = yaml.safe_load((ROOT / "bench/data/kb_consumer_questions.yml").read_text())
        items = items["questions"] if isinstance(items, dict) else items
        outside = yaml.safe_load((ROOT / "bench/data/kb_out_of_kb.yml").read_text())["questions"]
        inside = decisions(full, [i["question"] for i in items], answerable=True)
        beyond = decisions(full, outside, answerable=False)
        results["threshold"] = {
            **threshold(inside.pop("cosines"), beyond.pop("cosines")),
            "shipped_rule": {**inside, **beyond},
        }
        print(json.dumps(results["threshold"], indent=2))
    if "generate" not in skip:
        pairs = sample_pairs(MEDQUAD, args.sample, args.seed)[: args.faithfulness]
        results.setdefault("faithfulness", {}).update(
            faithfulness(full, pairs, args.backends.split(","))
        )
        print(json.dumps(results["faithfulness"], indent=2))
    results["machine"] = {"cpus": __import__("os").cpu_count(), "date": time.strftime("%Y-%m-%d")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
