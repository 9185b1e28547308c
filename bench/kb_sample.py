"""Deterministic samples of answered MedQuAD question-answer pairs for the knowledge-base eval.

Why this exists: the retrieval evaluation indexes a sample of MedQuAD (seed 13, ~2,000 pairs)
and asks it hand-written consumer rephrasings of another sample (seed 7, 100 pairs, questions
that no other answered pair shares, so each has one right answer:
`bench/data/kb_consumer_questions.yml`). Both must be reproducible from the raw XML alone.

From the repository root::

    .venv/bin/python bench/kb_sample.py --n 100 --seed 7 --distinct   # one line per pair

An id is ``f"{source}_{document id}_{pid}"``, e.g. ``GHR_0000804_2``, as in `actions/rag/types.py`.
"""

from __future__ import annotations

import argparse
import json
import random
import xml.etree.ElementTree as ET
from collections import Counter
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDQUAD_DIR = ROOT.parent / "shared/data/medquad"


@lru_cache(maxsize=2)
def load_pairs(medquad_dir: Path) -> tuple[dict[str, str], ...]:
    """Every QA pair with a non-empty answer, sorted by qid (ADAM's answers were removed)."""
    pairs = []
    for path in sorted(medquad_dir.glob("*/*.xml")):
        pairs.extend(_document_pairs(ET.parse(path).getroot()))
    return tuple(sorted(pairs, key=lambda pair: pair["qid"]))


def _document_pairs(doc: ET.Element) -> list[dict[str, str]]:
    """The answered pairs of one `<Document id source url>`."""
    source, url = doc.get("source", ""), doc.get("url", "")
    focus = (doc.findtext("Focus") or "").strip()
    pairs = []
    for qa in doc.iter("QAPair"):
        question, answer = qa.find("Question"), (qa.findtext("Answer") or "").strip()
        if question is None or not answer:
            continue
        pairs.append(
            {
                "qid": f"{source}_{doc.get('id')}_{qa.get('pid')}",
                "question": " ".join((question.text or "").split()),
                "answer": answer,
                "focus": focus,
                "source": source,
                "url": url,
                "qtype": question.get("qtype", ""),
            }
        )
    return pairs


def _question_key(question: str) -> str:
    """Questions that differ only in case or spacing count as the same question."""
    return " ".join(question.casefold().split())


def sample_pairs(
    medquad_dir: Path, n: int, seed: int, distinct: bool = False
) -> list[dict[str, str]]:
    """n answered pairs drawn with `random.Random(seed)` from the qid-sorted pool.

    With `distinct`, pairs whose question text another answered pair also asks are left out of
    the pool first: a rephrasing of such a question has more than one right answer.
    """
    pool = list(load_pairs(medquad_dir.resolve()))
    if distinct:
        counts = Counter(_question_key(pair["question"]) for pair in pool)
        pool = [pair for pair in pool if counts[_question_key(pair["question"])] == 1]
    return [dict(pair) for pair in random.Random(seed).sample(pool, min(n, len(pool)))]


def main(argv: list[str] | None = None) -> int:
    """Prints the sample as JSON lines (qid, qtype, focus, question)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=MEDQUAD_DIR)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--distinct", action="store_true", help="only unshared questions")
    args = parser.parse_args(argv)
    for pair in sample_pairs(args.dir, args.n, args.seed, args.distinct):
        keys = ("qid", "qtype", "focus", "question")
        print(json.dumps({key: pair[key] for key in keys}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
