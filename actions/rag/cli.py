"""`healthbot kb …`: the knowledge-base commands editors and operators run."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from healthbot.settings import get_settings


def _paths(args: argparse.Namespace) -> tuple[Path, Path]:
    settings = get_settings()
    return Path(args.kb or settings.kb.dir), Path(args.index or settings.kb.index_dir)


def _validate(args: argparse.Namespace) -> int:
    from actions.rag.documents import validate_tree

    kb, _ = _paths(args)
    if not kb.is_dir():
        print(f"{kb}: error: no such folder", file=sys.stderr)
        return 2
    documents, issues = validate_tree(kb)
    for issue in issues:
        print(issue, file=sys.stderr)
    errors = sum(1 for i in issues if i.severity == "error")
    sections = sum(len(d.sections) for d in documents)
    print(
        f"{len(documents)} files, {sections} sections, {errors} errors, "
        f"{len(issues) - errors} warnings"
    )
    return 1 if errors else 0


def _build(args: argparse.Namespace) -> int:
    from actions.rag.documents import KBFormatError
    from actions.rag.index import IndexConfig, build_index

    kb, index = _paths(args)
    config = IndexConfig(
        include_headings=not args.no_headings, kind=args.kind or get_settings().kb.index_kind
    )
    try:
        report = build_index(kb, index, config=config, progress=not args.quiet)
    except KBFormatError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        print("build stopped: fix the errors above (the old index keeps serving)", file=sys.stderr)
        return 1
    if report.unchanged:
        print(f"index {report.version} is up to date ({report.passages} passages)")
    else:
        print(
            f"index {report.version}: {report.files} files, {report.passages} passages "
            f"({report.kind}); re-embedded {report.embedded_files} files / "
            f"{report.embedded_passages} passages at {report.passages_per_s:.0f} passages/s; "
            f"{report.seconds:.1f} s"
        )
    return 0


def _load_index(args: argparse.Namespace) -> Any:
    """The live index, or None after saying why on stderr."""
    from actions.rag.index import IndexError_, KnowledgeIndex

    try:
        return KnowledgeIndex.load_current(_paths(args)[1])
    except IndexError_ as error:
        print(f"error: {error}", file=sys.stderr)
        return None


def _search(args: argparse.Namespace) -> int:
    from actions.rag.embedder import load_embedder
    from actions.rag.retriever import make_retriever

    index = _load_index(args)
    if index is None:
        return 2
    retriever = make_retriever(args.mode or get_settings().kb.retrieval, index, load_embedder())
    hits = retriever.retrieve(" ".join(args.question), k=args.k, entities=tuple(args.entity))
    rows = [
        {
            "qid": h.passage.qid,
            "doc_id": h.passage.doc_id,
            "score": round(h.score, 5),
            "title": h.passage.title,
            "url": h.passage.url,
            "text": h.passage.text,
            "heading": h.passage.heading,
            "cosine": None if h.dense_score is None else round(h.dense_score, 4),
        }
        for h in hits
    ]
    if args.json:
        print(
            json.dumps(
                [
                    {k: r[k] for k in ("qid", "doc_id", "score", "title", "url", "text")}
                    for r in rows
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    for rank, row in enumerate(rows, 1):
        cosine = "" if row["cosine"] is None else f"  cosine {row['cosine']:.3f}"
        print(
            f"{rank}. [{row['qid']}] {row['title']} — {row['heading']}"
            f"  (score {row['score']:.4f}{cosine})"
        )
        print(f"   {row['url']}")
        print(f"   {row['text'][:300]}{'…' if len(row['text']) > 300 else ''}\n")
    if not rows:
        print("no passages found")
    return 0


def _answer(args: argparse.Namespace) -> int:
    from actions.rag.service import AnswerService

    settings = get_settings()
    overrides = {"generator": args.backend} if args.backend else {}
    service = AnswerService(settings.kb, settings.answers.model_copy(update=overrides))
    result = service.answer(" ".join(args.question), entities=tuple(args.entity))
    print(json.dumps(result.to_json(), ensure_ascii=False, indent=2) if args.json else result.text)
    return 0 if result.status in ("answered", "unknown") else 1


def _stats(args: argparse.Namespace) -> int:
    index = _load_index(args)
    if index is None:
        return 2
    manifest = index.manifest
    by_folder: dict[str, int] = {}
    for rel in manifest["files"]:
        folder = rel.split("/", 1)[0] if "/" in rel else "."
        by_folder[folder] = by_folder.get(folder, 0) + 1
    stats = {
        "version": index.version,
        "created": manifest.get("created"),
        "documents": manifest.get("documents"),
        "sections": len({p.qid for p in index.passages}),
        "passages": len(index),
        "index_kind": manifest.get("kind"),
        "model": manifest.get("model"),
        "include_headings": manifest.get("include_headings"),
        "files_by_folder": by_folder,
        "size_mb": round(
            sum(f.stat().st_size for f in index.directory.rglob("*") if f.is_file()) / 1e6, 1
        ),
    }
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        for key, value in stats.items():
            print(f"{key:>16}: {value}")
    return 0


def _watch(args: argparse.Namespace) -> int:
    """Rebuilds whenever a knowledge file changes (debounced by watchfiles)."""
    from watchfiles import watch

    kb, _ = _paths(args)
    _build(args)
    print(f"watching {kb} for changes (Ctrl-C to stop)")
    try:
        for changes in watch(kb, watch_filter=lambda _c, path: path.endswith(".md"), debounce=800):
            print(f"{time.strftime('%H:%M:%S')}: {len(changes)} change(s); rebuilding")
            _build(args)
    except KeyboardInterrupt:
        return 0
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kb", help="knowledge folder (default: HEALTHBOT_KB_DIR or knowledge/)")
    parser.add_argument("--index", help="index folder (default: HEALTHBOT_KB_INDEX_DIR or var/kb)")


def _add(commands: Any, name: str, help_: str, handler: Any) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_, description=help_)
    _common(parser)
    parser.set_defaults(handler=handler)
    return parser


def add_kb_commands(commands: Any) -> None:
    """Registers `healthbot kb` and its subcommands."""
    kb = commands.add_parser(
        "kb",
        help="knowledge base: validate, build, search, answer, stats, watch",
        description="Knowledge-base tools for editors and operators.",
    )
    sub = kb.add_subparsers(dest="kb_command", required=True)
    _add(sub, "validate", "check every knowledge file (errors name file and line)", _validate)
    build = _add(
        sub,
        "build",
        "build or update the search index (only changed files are re-embedded)",
        _build,
    )
    build.add_argument("--kind", choices=["auto", "flat", "ivf", "hnsw"], help="FAISS index kind")
    build.add_argument(
        "--no-headings", action="store_true", help="index answer text only (evaluation)"
    )
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    search = _add(sub, "search", "show the passages retrieval ranks for a question", _search)
    search.add_argument("question", nargs="+")
    search.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    search.add_argument("--json", action="store_true", help="print a JSON list")
    search.add_argument(
        "--mode", choices=["dense", "hybrid", "bm25", "dense-plain"], help="retriever"
    )
    search.add_argument(
        "--entity", action="append", default=[], help="an NLU condition/medication to boost"
    )
    answer = _add(sub, "answer", "answer a question exactly as the assistant would", _answer)
    answer.add_argument("question", nargs="+")
    answer.add_argument(
        "--json",
        action="store_true",
        help="print {answer, citations, grounded, backend, latency_ms}",
    )
    answer.add_argument("--backend", choices=["extractive", "local", "openai"], help="generator")
    answer.add_argument(
        "--entity", action="append", default=[], help="an NLU condition/medication to boost"
    )
    stats = _add(sub, "stats", "summarise the live index", _stats)
    stats.add_argument("--json", action="store_true")
    watch = _add(sub, "watch", "rebuild the index whenever a knowledge file changes", _watch)
    watch.add_argument("--kind", choices=["auto", "flat", "ivf", "hnsw"])
    watch.add_argument("--no-headings", action="store_true")
    watch.add_argument("--quiet", action="store_true")
