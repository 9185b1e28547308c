"""Knowledge files: Markdown with YAML front matter, parsed and checked into `KBDocument`s.

Content editors write these files by hand, so every problem is reported with the file, the
1-based line and what to do, and all problems of a file come at once (one editing pass fixes
them). The format is described for editors in `knowledge/README.md`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from actions.rag.types import KBDocument, Section

log = logging.getLogger(__name__)

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~3x faster on 5,500 files

MAX_FILE_BYTES = 1_000_000
MAX_SECTION_CHARS = 20_000
REQUIRED_KEYS = (
    "id",
    "title",
    "source",
    "license",
    "language",
    "audience",
    "last_reviewed",
    "reviewed_by",
)
OPTIONAL_KEYS = ("aliases", "tags")
SOURCE_KEYS = ("name", "url")
AUDIENCES = ("patients", "clinicians", "general")

_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_QID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._#-]*")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_HEADING = re.compile(r"##(?!#)(.*)")
_QID_COMMENT = re.compile(r"\s*<!--\s*qid\s*:\s*(.*?)\s*-->\s*")
_KEY_LINE = re.compile(r"([A-Za-z_][\w-]*)\s*:(?:\s|$)")
_NESTED_KEY_LINE = re.compile(r"\s+([A-Za-z_][\w-]*)\s*:(?:\s|$)")
_FENCE = ("```", "~~~")


@dataclass(frozen=True)
class KBIssue:
    """One problem in a knowledge file; `str()` gives the `path:line: error: message` form."""

    path: Path
    line: int
    message: str
    severity: str = "error"  # "error" fails validation; "warning" does not

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


class KBFormatError(ValueError):
    """Raised when knowledge files have errors; `issues` lists every one of them."""

    def __init__(self, issues: Sequence[KBIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues) or "invalid knowledge")


def slug(text: str) -> str:
    """Lowercase, runs of non-alphanumerics → `-`: the stable part of an automatic qid."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


@dataclass
class _Parse:
    """The state of checking one file: what was found so far and every issue."""

    path: Path
    issues: list[KBIssue] = field(default_factory=list)
    key_lines: dict[str, int] = field(default_factory=dict)  # "source.url" → 1-based line
    fm_start: int = 1

    def error(self, line: int, message: str) -> None:
        self.issues.append(KBIssue(self.path, line, message))

    def warn(self, line: int, message: str) -> None:
        self.issues.append(KBIssue(self.path, line, message, "warning"))

    def line_of(self, key: str) -> int:
        """Where a front-matter key is written; a missing key points at the front matter."""
        return self.key_lines.get(key) or self.key_lines.get(key.split(".")[0]) or self.fm_start

    @property
    def failed(self) -> bool:
        return any(issue.is_error for issue in self.issues)


# --- reading --------------------------------------------------------------------------------


def _decode(state: _Parse, raw: bytes) -> str | None:
    """The file's text, or None (with an error) when it is too big, binary or not UTF-8."""
    if len(raw) > MAX_FILE_BYTES:
        state.error(1, f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}: split it")
        return None
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        state.error(line, "binary content (NUL byte): knowledge files must be plain text")
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        state.error(line, "not UTF-8 text: save the file as UTF-8 in your editor")
        return None


def _read_text(state: _Parse, text: str | None) -> str | None:
    if text is None:
        return _decode(state, state.path.read_bytes())
    return _decode(state, text.encode("utf-8", "surrogatepass"))


# --- front matter ---------------------------------------------------------------------------


def _body_start(state: _Parse, lines: list[str]) -> int | None:
    """Index of the first line after the front matter: 0 when it is missing (an error), None
    when it is never closed (an error: then nothing after it can be read reliably)."""
    if not lines or lines[0].rstrip() != "---":
        state.error(1, "missing front matter: the file must start with a '---' line")
        return 0
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return index + 1
    state.error(1, "front matter is never closed: add a '---' line after the last key")
    return None


def _record_key_lines(state: _Parse, front: list[str]) -> None:
    """Remember where each key is written (for messages); report keys written twice."""
    parent = ""
    for offset, text in enumerate(front):
        line = offset + 2  # front matter starts on file line 2
        top = _KEY_LINE.match(text)
        nested = _NESTED_KEY_LINE.match(text)
        if top:
            parent = top.group(1)
            if parent in state.key_lines:
                first = state.key_lines[parent]
                state.error(line, f"key '{parent}' is given twice (first on line {first})")
            state.key_lines.setdefault(parent, line)
        elif nested and parent:
            state.key_lines.setdefault(f"{parent}.{nested.group(1)}", line)


def _load_yaml(state: _Parse, front: list[str]) -> dict[str, Any] | None:
    try:
        meta = yaml.load("\n".join(front), Loader=_Loader)  # noqa: S506 (safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 2 if mark is not None else state.fm_start
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        state.error(line, f"invalid YAML in front matter: {problem} (check quotes and colons)")
        return None
    if not isinstance(meta, dict):
        state.error(state.fm_start, "front matter must be 'key: value' lines")
        return None
    return meta


# --- front matter fields --------------------------------------------------------------------


def _check_keys(
    state: _Parse,
    found: dict[Any, Any],
    allowed: Sequence[str],
    required: Sequence[str],
    parent: str = "",
) -> None:
    """Unknown keys (with a did-you-mean hint) and missing ones, each reported once."""
    prefix = f"{parent}." if parent else ""
    suggested: set[str] = set()
    for key in found:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), allowed, n=1)
        suggested.update(close)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(allowed)})"
        state.error(state.line_of(f"{prefix}{key}"), f"unknown key '{prefix}{key}'{hint}")
    for key in required:
        if key not in found and key not in suggested:
            where = state.line_of(parent) if parent else state.fm_start
            state.error(where, f"missing required key '{prefix}{key}'")


def _text(state: _Parse, meta: dict[str, Any], key: str, label: str = "") -> str:
    """A required, non-empty text value ("" if the key is absent: reported elsewhere)."""
    label = label or key
    value = meta.get(key)
    if key not in meta:
        return ""
    if value is None or (isinstance(value, str) and not value.strip()):
        state.error(state.line_of(label), f"'{label}' is empty: give it a value")
        return ""
    if not isinstance(value, str):
        state.error(state.line_of(label), f"'{label}' must be text: put the value in quotes")
        return ""
    return value.strip()


def _text_list(state: _Parse, value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else None
    if items is None or not all(isinstance(item, str) and item.strip() for item in items):
        state.error(state.line_of(key), f"'{key}' must be a list of text, e.g. [one, two]")
        return ()
    return tuple(item.strip() for item in items)


def _check_url(state: _Parse, url: str, key: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url.split()) != 1:
        state.error(state.line_of(key), f"'{key}' must be a web address (http:// or https://)")


def _source(state: _Parse, meta: dict[str, Any]) -> tuple[str, str]:
    value = meta.get("source")
    if "source" not in meta:
        return "", ""
    if not isinstance(value, dict):
        state.error(state.line_of("source"), "'source' needs indented 'name:' and 'url:' lines")
        return "", ""
    _check_keys(state, value, SOURCE_KEYS, SOURCE_KEYS, "source")
    name = _text(state, value, "name", "source.name")
    url = _text(state, value, "url", "source.url")
    if url:
        _check_url(state, url, "source.url")
    return name, url


def _date(state: _Parse, meta: dict[str, Any], key: str) -> str:
    value = meta.get(key)
    if key not in meta:
        return ""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    problem = "is empty: give it" if value is None else "must be"
    state.error(state.line_of(key), f"'{key}' {problem} a real date written YYYY-MM-DD")
    return ""


def _check_choices(state: _Parse, fields: dict[str, Any]) -> None:
    if fields["doc_id"] and not _ID.fullmatch(fields["doc_id"]):
        state.error(state.line_of("id"), "'id' may only use a-z, 0-9, '.', '_', '-'")
    if fields["language"] and not _LANGUAGE.fullmatch(fields["language"]):
        state.error(state.line_of("language"), "'language' must be a code such as 'en'")
    if fields["audience"] and fields["audience"] not in AUDIENCES:
        state.error(state.line_of("audience"), f"'audience' must be one of {', '.join(AUDIENCES)}")


def _fields(state: _Parse, meta: dict[str, Any]) -> dict[str, Any]:
    """The KBDocument fields from the front matter; problems go to `state`."""
    _check_keys(state, meta, REQUIRED_KEYS + OPTIONAL_KEYS, REQUIRED_KEYS)
    name, url = _source(state, meta)
    fields = {
        "doc_id": _text(state, meta, "id"),
        "title": _text(state, meta, "title"),
        "source_name": name,
        "source_url": url,
        "license": _text(state, meta, "license"),
        "language": _text(state, meta, "language"),
        "audience": _text(state, meta, "audience"),
        "last_reviewed": _date(state, meta, "last_reviewed"),
        "reviewed_by": _text(state, meta, "reviewed_by"),
        "aliases": _text_list(state, meta.get("aliases"), "aliases"),
        "tags": _text_list(state, meta.get("tags"), "tags"),
    }
    _check_choices(state, fields)
    return fields


# --- body -----------------------------------------------------------------------------------


def _heading_blocks(lines: list[str], start: int) -> list[tuple[int, str, list[str]]]:
    """(heading line index, raw heading, body lines) for each `##` heading outside code fences."""
    blocks: list[tuple[int, str, list[str]]] = []
    in_fence = False
    for index in range(start, len(lines)):
        text = lines[index]
        if text.lstrip().startswith(_FENCE):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(text)
        if match:
            blocks.append((index, match.group(1), []))
        elif blocks:
            blocks[-1][2].append(text)
    return blocks


def _heading_text(state: _Parse, line: int, raw: str) -> str:
    if raw and not raw[0].isspace():
        state.warn(line, "write a space after '##' so other Markdown tools see a heading")
    heading = re.sub(r"\s+#+\s*$", "", " " + raw).strip()
    if not heading:
        state.error(line, "section heading is empty: write the question or topic after '##'")
    return heading


def _qid_and_text(state: _Parse, line: int, body: list[str], auto_qid: str) -> tuple[str, str]:
    """The section's qid (from a first-line `<!-- qid: … -->` comment, else automatic) and text."""
    first = next((i for i, text in enumerate(body) if text.strip()), len(body))
    comment = _QID_COMMENT.fullmatch(body[first]) if first < len(body) else None
    qid = comment.group(1) if comment else auto_qid
    if comment and not _QID.fullmatch(qid):
        state.error(line + 1 + first, f"qid '{qid}' may only use letters, digits and . _ - #")
    skip = first + 1 if comment else 0
    for offset, text in enumerate(body[skip:], start=skip):
        if _QID_COMMENT.fullmatch(text):
            where = line + 1 + offset
            state.warn(where, "a qid comment only counts on the first line after the heading")
    return qid, "\n".join(body[skip:]).strip()


def _check_section(state: _Parse, section: Section) -> None:
    if not section.text:
        state.error(section.line, f"section '{section.heading}' has no text")
    elif len(section.text) > MAX_SECTION_CHARS:
        state.warn(
            section.line,
            f"section is {len(section.text):,} characters (over {MAX_SECTION_CHARS:,}): "
            "consider splitting it",
        )


def _sections(state: _Parse, lines: list[str], start: int, doc_id: str) -> list[Section]:
    sections: list[Section] = []
    for index, raw, body in _heading_blocks(lines, start):
        line = index + 1
        heading = _heading_text(state, line, raw)
        qid, text = _qid_and_text(state, line, body, f"{doc_id}#{slug(heading)}")
        section = Section(qid=qid, heading=heading, text=text, line=line)
        _check_section(state, section)
        sections.append(section)
    if not sections:
        state.error(min(start + 1, len(lines)), "no sections: add at least one '## Heading'")
    _check_repeats(state, sections, doc_id)
    return sections


def _check_repeats(state: _Parse, sections: list[Section], doc_id: str) -> None:
    """Two sections with one qid is an error; a repeated heading only a warning.

    A heading repeated in sections that both carry their own qid comment was meant (MedQuAD
    asks the same question twice in some documents) and is not reported.
    """
    qids: dict[str, int] = {}
    headings: dict[str, Section] = {}
    for section in sections:
        if section.qid in qids:
            state.error(
                section.line,
                f"duplicate qid '{section.qid}' (also line {qids[section.qid]}): "
                "change one heading or give the section its own qid comment",
            )
            continue
        qids[section.qid] = section.line
        earlier = headings.setdefault(section.heading.casefold(), section)
        automatic = f"{doc_id}#{slug(section.heading)}"
        if earlier is not section and automatic in (earlier.qid, section.qid):
            state.warn(
                section.line,
                f"heading '{section.heading}' is also on line {earlier.line}: "
                "readers cannot tell the two sections apart",
            )


# --- one file -------------------------------------------------------------------------------


def _front_fields(state: _Parse, front: list[str]) -> dict[str, Any]:
    _record_key_lines(state, front)
    meta = _load_yaml(state, front)
    return _fields(state, meta) if meta is not None else {}


def _parse(path: Path, text: str | None) -> tuple[_Parse, KBDocument | None]:
    state = _Parse(path)
    content = _read_text(state, text)
    if content is None:
        return state, None
    lines = [line.rstrip("\r") for line in content.split("\n")]
    start = _body_start(state, lines)
    if start is None:
        return state, None
    fields = _front_fields(state, lines[1 : start - 1]) if start else {}
    doc_id = fields.get("doc_id") or slug(path.stem)
    sections = _sections(state, lines, start, doc_id)
    if state.failed:
        return state, None
    return state, KBDocument(path=path, sections=tuple(sections), **fields)


def check_document(path: Path, text: str | None = None) -> tuple[KBDocument | None, list[KBIssue]]:
    """Parse one file and return it (None if it has errors) with every issue, warnings too."""
    state, doc = _parse(path, text)
    return doc, state.issues


def parse_document(path: Path, text: str | None = None) -> KBDocument:
    """Parse one knowledge file (`text` instead of reading `path`, if given).

    Raises KBFormatError listing all of the file's errors; warnings are only logged.
    """
    doc, issues = check_document(path, text)
    if doc is None:
        raise KBFormatError([issue for issue in issues if issue.is_error])
    for issue in issues:
        log.warning("%s", issue)
    return doc


# --- a tree of files ------------------------------------------------------------------------


def iter_kb_files(root: Path) -> list[Path]:
    """The knowledge files under `root`, sorted: `**/*.md` except README.md and hidden folders."""
    if root.is_file():
        return [root]
    return sorted(
        path
        for path in root.rglob("*.md")
        if path.name.lower() != "readme.md"
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    )


def _cross_file_issues(parsed: list[tuple[KBDocument, int]]) -> list[KBIssue]:
    """Ids and qids must be unique across the whole knowledge base."""
    issues: list[KBIssue] = []
    ids: dict[str, tuple[Path, int]] = {}
    qids: dict[str, tuple[Path, int]] = {}
    for doc, id_line in parsed:
        if doc.doc_id in ids:
            where = ":".join(map(str, ids[doc.doc_id]))
            message = f"duplicate id '{doc.doc_id}' (also in {where}): each file needs its own id"
            issues.append(KBIssue(doc.path, id_line, message))
        ids.setdefault(doc.doc_id, (doc.path, id_line))
        for section in doc.sections:
            if section.qid in qids:
                where = ":".join(map(str, qids[section.qid]))
                message = f"duplicate qid '{section.qid}' (also in {where})"
                issues.append(KBIssue(doc.path, section.line, message))
            qids.setdefault(section.qid, (doc.path, section.line))
    return issues


def validate_tree(root: Path) -> tuple[list[KBDocument], list[KBIssue]]:
    """Parse every knowledge file under `root`; return the good documents and all issues."""
    if not root.exists():
        return [], [KBIssue(root, 0, "no such file or folder")]
    docs: list[KBDocument] = []
    issues: list[KBIssue] = []
    parsed: list[tuple[KBDocument, int]] = []
    for path in iter_kb_files(root):
        state, doc = _parse(path, None)
        issues.extend(state.issues)
        if doc is not None:
            docs.append(doc)
            parsed.append((doc, state.line_of("id")))
    if not parsed and not issues:
        issues.append(KBIssue(root, 0, "no knowledge files (*.md) found", "warning"))
    return docs, issues + _cross_file_issues(parsed)


def load_tree(root: Path) -> list[KBDocument]:
    """All documents under `root`; raises KBFormatError if any file has an error."""
    docs, issues = validate_tree(root)
    errors = [issue for issue in issues if issue.is_error]
    if errors:
        raise KBFormatError(errors)
    warnings = len(issues) - len(errors)
    if warnings:
        log.warning(
            "%d knowledge-base warning(s); run 'healthbot kb validate' to see them", warnings
        )
    return docs
