"""Convert MedQuAD's XML into knowledge files: one Markdown file per MedQuAD document.

    make import-medquad     # or: .venv/bin/python scripts/kb/import_medquad.py [--src D --out D]

Every question with an answer becomes a `##` section whose qid, `<source>_<document>_<pid>`
(e.g. GHR_0000804_2), names the MedQuAD pair it came from. The document part is the XML file's
name, which equals its `<Document id>` except in a few CancerGov files that share an id.
Subsets 10-12 (A.D.A.M., MedlinePlus drugs, herbs) ship without answers and produce nothing.
Output is deterministic; unchanged files are not rewritten, stale ones are removed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SRC = REPO.parent / "shared" / "data" / "medquad"
DEFAULT_OUT = REPO / "knowledge" / "medquad"
SNAPSHOT_DATE = dt.date(2017, 1, 1)  # MedQuAD's content dates from about 2017
REVIEWED_BY = "MedQuAD (Ben Abacha & Demner-Fushman, 2019)"
CITATION = "Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019"
MAX_ALIASES = 20
SOURCE_NAMES = {
    "CancerGov": "National Cancer Institute (cancer.gov)",
    "GARD": "Genetic and Rare Diseases Information Center (NIH)",
    "GHR": "Genetics Home Reference (NIH)",
    "MPlusHealthTopics": "MedlinePlus Health Topics (NIH)",
    "NIDDK": "National Institute of Diabetes and Digestive and Kidney Diseases (NIH)",
    "NINDS": "National Institute of Neurological Disorders and Stroke (NIH)",
    "NIHSeniorHealth": "NIHSeniorHealth (NIH)",
    "NHLBI": "National Heart, Lung, and Blood Institute (NIH)",
    "CDC": "Centers for Disease Control and Prevention",
}
README = """\
# knowledge/medquad/

Generated from MedQuAD by `make import-medquad` (scripts/kb/import_medquad.py).
Do not edit these files by hand: the next import overwrites them. Put your own content in
another folder of knowledge/.

- {files} files, {sections} sections: one per MedQuAD question that has an answer.
- Licence: CC BY 4.0 (https://github.com/abachaa/MedQuAD). Cite: {citation}.
- `last_reviewed: {date}` is the date of the dataset snapshot, not a clinical review.
"""

_BULLET = re.compile(r"(?:^|\s{2,})-\s+")  # MedQuAD marks list items with "  - "
_PARAGRAPH = re.compile(r"(?<=[.!?:])\s{2,}(?=\S)")  # and paragraphs with runs of spaces
_NEEDS_ESCAPE = re.compile(r"#|<!--|[-=_*]{3,}\s*$|(?:[-*_]\s*){3,}$")


@dataclass(frozen=True)
class QAPair:
    pid: str
    question: str
    qtype: str
    answer: str


@dataclass(frozen=True)
class MedQuADDocument:
    source: str
    doc_id: str
    url: str
    focus: str
    synonyms: tuple[str, ...]
    pairs: tuple[QAPair, ...]

    @property
    def kb_id(self) -> str:
        return f"medquad-{self.source.lower()}-{self.doc_id}"

    @property
    def relative_path(self) -> Path:
        return Path(self.source.lower()) / f"{self.source}_{self.doc_id}.md"


@dataclass(frozen=True)
class ImportStats:
    files: int
    sections: int
    unanswered: int  # XML files whose QAPairs all lack an answer (subsets 10-12)
    other_layout: tuple[str, ...]  # XML files without any <QAPair> (4 NINDS files use <pair>)


# --- reading --------------------------------------------------------------------------------


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _text_of(element: ET.Element | None) -> str:
    return "".join(element.itertext()) if element is not None else ""


def _pairs(root: ET.Element) -> tuple[QAPair, ...]:
    pairs = []
    for pair in root.iter("QAPair"):
        question = pair.find("Question")
        answer = _text_of(pair.find("Answer"))
        if not answer.strip():
            continue
        qtype = question.get("qtype", "") if question is not None else ""
        pairs.append(QAPair(pair.get("pid", ""), _clean(_text_of(question)), qtype, answer))
    return tuple(pairs)


def _unique(names: Iterable[str], exclude: str) -> tuple[str, ...]:
    """Names in order, without repeats (ignoring case) or the title itself."""
    seen = {exclude.casefold()}
    kept = []
    for name in names:
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            kept.append(name)
    return tuple(kept[:MAX_ALIASES])


def read_document(path: Path) -> MedQuADDocument | None:
    """One MedQuAD XML file, or None when it has no answered QAPair."""
    root = ET.parse(path).getroot()
    pairs = _pairs(root)
    if not pairs:
        return None
    source = root.get("source") or path.parent.name.split("_", 1)[1].removesuffix("_QA")
    focus = _clean(root.findtext("Focus")) or pairs[0].question
    synonyms = (_clean(s.text) for s in root.iter("Synonym"))
    return MedQuADDocument(
        source=source,
        doc_id=path.stem,
        url=(root.get("url") or "").strip(),
        focus=focus,
        synonyms=_unique(synonyms, focus),
        pairs=pairs,
    )


# --- writing --------------------------------------------------------------------------------


def _blocks(line: str) -> list[tuple[str, str]]:
    """("p" | "li", text) blocks of one source line, splitting its inline bullets/paragraphs."""
    pieces = _BULLET.split(line.strip())
    blocks = [("p", part) for part in _PARAGRAPH.split(pieces[0]) if part.strip()]
    for item in pieces[1:]:
        first, *rest = _PARAGRAPH.split(item)
        blocks.append(("li", first))
        blocks.extend(("p", part) for part in rest)
    return [(kind, _escape(_clean(text))) for kind, text in blocks if _clean(text)]


def _escape(text: str) -> str:
    """A line that Markdown or our parser would read as a heading or rule gets a backslash."""
    return "\\" + text if _NEEDS_ESCAPE.match(text) else text


def format_answer(answer: str) -> str:
    """MedQuAD answer → readable Markdown: paragraphs apart, list items on their own lines."""
    blocks = [block for line in answer.split("\n") for block in _blocks(line)]
    out: list[str] = []
    previous = ""
    for kind, text in blocks:
        if out:
            out.append("\n" if kind == previous == "li" else "\n\n")
        out.append(f"- {text}" if kind == "li" else text)
        previous = kind
    return "".join(out)


def _front_matter(doc: MedQuADDocument) -> str:
    qtypes = sorted({pair.qtype for pair in doc.pairs if pair.qtype})
    meta = {
        "id": doc.kb_id,
        "title": doc.focus,
        "aliases": list(doc.synonyms),
        "source": {
            "name": f"{SOURCE_NAMES.get(doc.source, doc.source)}, via MedQuAD",
            "url": doc.url,
        },
        "license": "CC BY 4.0",
        "language": "en",
        "audience": "patients",
        "last_reviewed": SNAPSHOT_DATE,
        "reviewed_by": REVIEWED_BY,
        "tags": ["medquad", doc.source.lower(), *qtypes],
    }
    if not doc.synonyms:
        del meta["aliases"]
    dumped = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000)
    return f"---\n{dumped}---\n"


def render(doc: MedQuADDocument) -> str:
    """The knowledge file for one MedQuAD document."""
    parts = [
        _front_matter(doc),
        f"\n# {doc.focus}\n\n",
        f"Source: {doc.url} — from MedQuAD (CC BY 4.0), {CITATION}.\n",
    ]
    for pair in doc.pairs:
        qid = f"{doc.source}_{doc.doc_id}_{pair.pid}"
        parts.append(f"\n## {pair.question}\n<!-- qid: {qid} -->\n\n{format_answer(pair.answer)}\n")
    return "".join(parts)


def _write(path: Path, text: str) -> None:
    """Write only when the content changed, so make and git see real changes only."""
    data = text.encode("utf-8")
    if not path.exists() or path.read_bytes() != data:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def import_tree(src: Path, out: Path, progress: bool = True) -> ImportStats:
    """Convert every XML file under `src` into `out`; remove stale `.md` files there."""
    xml_files = sorted(src.glob("*/*.xml"))
    if not xml_files:
        raise SystemExit(f"no MedQuAD XML under {src}: pass --src")
    written: set[Path] = set()
    sections = unanswered = 0
    other_layout = []
    for path in tqdm(xml_files, desc="MedQuAD", unit="file", disable=not progress):
        doc = read_document(path)
        if doc is None and b"<QAPair" not in path.read_bytes():
            other_layout.append(path.relative_to(src).as_posix())
        if doc is None:
            unanswered += 1
            continue
        target = out / doc.relative_path
        _write(target, render(doc))
        written.add(target)
        sections += len(doc.pairs)
    for stale in set(out.rglob("*.md")) - written:
        if stale.name != "README.md":
            stale.unlink()
    stats = ImportStats(len(written), sections, unanswered - len(other_layout), tuple(other_layout))
    _write(
        out / "README.md", README.format(citation=CITATION, date=SNAPSHOT_DATE, **_counts(stats))
    )
    return stats


def _counts(stats: ImportStats) -> dict[str, str]:
    return {"files": f"{stats.files:,}", "sections": f"{stats.sections:,}"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="MedQuAD folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    stats = import_tree(args.src, args.out, progress=not args.quiet)
    print(f"{stats.files} files, {stats.sections} sections in {args.out}")
    print(f"skipped {stats.unanswered} XML files without answers")
    if stats.other_layout:  # an XML layout this importer does not read: worth a look
        print(f"skipped {len(stats.other_layout)} without <QAPair>: {' '.join(stats.other_layout)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
