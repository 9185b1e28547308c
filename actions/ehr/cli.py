"""`healthbot ehr analyze PATH… [--format json|text] [--device …] [--batch-size N]`.

For clinics: a folder of notes (TXT, PDF) or FHIR bundles (JSON) is analysed in one batched
pass with a progress bar. A bad file is reported on stderr and skipped; the rest are still
processed. Exit code 1 if any file was skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHUNK = 64  # records per batched NER pass: bounded memory, steady progress bar


def expand(paths: list[Path]) -> Iterator[Path]:
    """Files as given; folders contribute their visible files, sorted, recursively."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.parts)
            )
        else:
            yield path


def _analyze(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from actions.ehr.analyzer import EhrAnalyzer
    from actions.ehr.readers import RecordInput, read_path
    from actions.ehr.types import RecordError
    from healthbot.settings import get_settings

    files = list(expand(args.paths))
    analyzer = EhrAnalyzer(
        args.model_dir, args.device, args.batch_size, args.backend, get_settings().ehr.cache_dir
    )
    skipped = 0
    results: list[dict[str, Any]] = []
    bar = tqdm(total=len(files), desc="records", unit="record", disable=len(files) < 3)
    for start in range(0, len(files), CHUNK):
        readable: list[tuple[Path, RecordInput]] = []
        for path in files[start : start + CHUNK]:
            try:
                readable.append((path, read_path(path, args.max_bytes, args.max_chars)))
            except RecordError as error:
                print(f"{path}: skipped: {error}", file=sys.stderr)
                skipped += 1
                bar.update(1)
        records = [record for _, record in readable]
        analyses = _batch(analyzer, records, readable, sys.stderr)
        for (path, _), analysis in zip(readable, analyses, strict=True):
            bar.update(1)
            if analysis is None:
                skipped += 1
                continue
            results.append(_row(path, analysis, args.format))
    bar.close()
    _print(results, args.format)
    return 1 if skipped else 0


def _batch(analyzer: Any, records: list[Any], readable: list[Any], err: Any) -> list[Any]:
    """One batched pass; if a record breaks it, fall back to one by one to name the file."""
    from actions.ehr.types import RecordError

    if not records:
        return []
    try:
        return list(analyzer.analyze_many(records))
    except RecordError:
        results = []
        for (path, _), record in zip(readable, records, strict=True):
            try:
                results.append(analyzer.analyze(record))
            except RecordError as error:
                print(f"{path}: skipped: {error}", file=err)
                results.append(None)
        return results


def _row(path: Path, analysis: Any, fmt: str) -> dict[str, Any]:
    if fmt == "json":
        return {"file": str(path), **analysis.to_json()}
    from actions.ehr.summary import render, summarise
    from healthbot.settings import get_settings

    messages = render(summarise(analysis), path.name, get_settings().emergency_number)
    return {"file": str(path), "text": "\n\n".join(messages)}


def _print(results: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return
    for row in results:
        print(f"== {row['file']}\n{row['text']}\n")


def positive(value: str) -> int:
    """argparse type: a whole number above zero, with a plain error otherwise."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} must be at least 1")
    return number


def add_ehr_commands(commands: Any) -> None:
    from healthbot.settings import get_settings

    settings = get_settings()
    ehr = commands.add_parser("ehr", help="health record analysis")
    sub = ehr.add_subparsers(dest="ehr_command", required=True)
    analyze = sub.add_parser(
        "analyze",
        help="explain notes (TXT/PDF) and FHIR bundles (JSON)",
        description=__doc__.splitlines()[0],
    )
    analyze.add_argument("paths", nargs="+", type=Path, help="files or folders")
    analyze.add_argument("--format", choices=["json", "text"], default="text")
    analyze.add_argument("--device", choices=["auto", "cpu", "cuda"], default=settings.ehr.device)
    analyze.add_argument(
        "--backend", choices=["auto", "torch", "onnx"], default=settings.ehr.backend
    )
    analyze.add_argument("--batch-size", type=positive, default=settings.ehr.batch_size)
    analyze.add_argument("--model-dir", type=Path, default=settings.ehr.model_dir)
    analyze.add_argument(
        "--max-chars", type=positive, default=1_000_000, help="longest note accepted (characters)"
    )
    analyze.add_argument(
        "--max-bytes", type=positive, default=20_000_000, help="largest file accepted (bytes)"
    )
    analyze.set_defaults(handler=_analyze)
