"""The knowledge-file format: parser, validator, the committed knowledge/ tree, the importer."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from actions.rag.documents import (
    KBFormatError,
    KBIssue,
    check_document,
    iter_kb_files,
    load_tree,
    parse_document,
    slug,
    validate_tree,
)
from actions.rag.types import KBDocument, Section

ROOT = Path(__file__).resolve().parents[3]
DATA = Path(__file__).parent / "data"
BROKEN = DATA / "broken"

VALID = """---
id: clinic-flu
title: Flu vaccination
aliases: [flu jab, flu shot]
source:
  name: Example Clinic
  url: https://example.org/flu
license: CC0-1.0
language: en
audience: patients
last_reviewed: 2025-01-15
reviewed_by: Dr A. Example
tags: [clinic, vaccination]
---

# Flu vaccination

An introduction that is not searched.

## Who can get a free flu vaccination?

Everyone aged 65 or over.

### Details

People with asthma too.

## When should I get vaccinated?
<!-- qid: FLU_2 -->

Between October and December.

```
## not a heading inside a code block
```
"""


def errors(issues: list[KBIssue]) -> list[KBIssue]:
    return [issue for issue in issues if issue.is_error]


def only_error(name: str) -> KBIssue:
    doc, issues = check_document(BROKEN / name)
    assert doc is None
    assert len(errors(issues)) == 1, [str(i) for i in issues]
    return errors(issues)[0]


# --- one problem per file -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("no_front_matter.md", 1, "missing front matter: the file must start with a '---' line"),
        ("unterminated_front_matter.md", 1, "front matter is never closed"),
        ("invalid_yaml.md", 3, "invalid YAML in front matter: mapping values are not allowed"),
        ("not_a_mapping.md", 1, "front matter must be 'key: value' lines"),
        ("missing_source.md", 1, "missing required key 'source'"),
        ("missing_license.md", 1, "missing required key 'license'"),
        ("misspelt_key.md", 7, "unknown key 'licence' (did you mean 'license'?)"),
        ("bad_url.md", 6, "'source.url' must be a web address (http:// or https://)"),
        ("bad_date.md", 10, "'last_reviewed' must be a real date written YYYY-MM-DD"),
        ("bad_id.md", 2, "'id' may only use a-z, 0-9"),
        ("wrong_type.md", 3, "'title' must be text: put the value in quotes"),
        ("empty_value.md", 11, "'reviewed_by' is empty"),
        ("no_sections.md", 13, "no sections: add at least one '## Heading'"),
        ("empty_section.md", 18, "section 'What comes next?' has no text"),
        ("bad_qid.md", 15, "qid 'has spaces in it' may only use letters, digits"),
        ("binary.md", 17, "binary content (NUL byte)"),
        ("duplicate_qid_in_file.md", 18, "duplicate qid 'duplicate-qid-in-file#what-is-this"),
    ],
)
def test_broken_file_names_file_line_and_problem(name, line, message):
    issue = only_error(name)
    assert (issue.path, issue.line, issue.severity) == (BROKEN / name, line, "error")
    assert message in issue.message
    assert str(issue).startswith(f"{BROKEN / name}:{line}: error: ")


def test_duplicate_id_across_files_names_both():
    docs, issues = validate_tree(BROKEN / "duplicate_id")
    first, second = BROKEN / "duplicate_id" / "first.md", BROKEN / "duplicate_id" / "second.md"
    assert len(docs) == 2
    by_message = {issue.message.split(" (")[0]: issue for issue in errors(issues)}
    issue = by_message["duplicate id 'shared-id'"]
    assert (issue.path, issue.line) == (second, 2)
    assert f"also in {first}:2" in issue.message
    with pytest.raises(KBFormatError):
        load_tree(BROKEN / "duplicate_id")


def test_duplicate_qid_across_files_names_both():
    _, issues = validate_tree(BROKEN / "duplicate_qid")
    [issue] = errors(issues)
    assert (issue.path, issue.line) == (BROKEN / "duplicate_qid" / "second.md", 14)
    assert issue.message == (
        f"duplicate qid 'SHARED_1' (also in {BROKEN / 'duplicate_qid' / 'first.md'}:14)"
    )


def test_every_broken_file_fails_and_validate_tree_reports_them_all():
    _, issues = validate_tree(BROKEN)
    failing = {issue.path for issue in errors(issues)}
    assert failing >= {p for p in iter_kb_files(BROKEN) if p.parent == BROKEN}
    assert len(failing) == len(list(BROKEN.glob("*.md"))) + 2  # + second.md of each pair


# --- problems found in memory ---------------------------------------------------------------


def test_all_problems_of_a_file_are_reported_at_once():
    text = VALID.replace("license: CC0-1.0", "licence: x").replace("2025-01-15", "soon")
    text = text[: text.index("Between October")]
    with pytest.raises(KBFormatError) as raised:
        parse_document(Path("flu.md"), text)
    assert [(i.line, i.message) for i in raised.value.issues] == [
        (8, "unknown key 'licence' (did you mean 'license'?)"),
        (11, "'last_reviewed' must be a real date written YYYY-MM-DD"),
        (28, "section 'When should I get vaccinated?' has no text"),
    ]
    assert str(raised.value).startswith("flu.md:8: error: unknown key 'licence'")


def test_file_not_in_utf8_names_the_line(tmp_path):
    # Made here, not committed: ruff's Markdown check refuses a non-UTF-8 file in the repo.
    path = tmp_path / "latin1.md"
    path.write_bytes(VALID.encode() + "Caf\xe9 au lait.\n".encode("latin-1"))
    [issue] = check_document(path)[1]
    assert (issue.line, issue.message) == (
        36,
        "not UTF-8 text: save the file as UTF-8 in your editor",
    )


def test_file_over_one_megabyte_is_an_error(tmp_path):
    path = tmp_path / "big.md"
    path.write_text(VALID + "x" * 1_000_001, encoding="utf-8")
    [issue] = check_document(path)[1]
    assert (issue.line, issue.severity) == (1, "error") and "split it" in issue.message


def test_long_section_and_repeated_heading_are_warnings_only(tmp_path):
    text = VALID.replace("Everyone aged 65 or over.", "word " * 4_500)
    text += "\n## Who can get a free flu vaccination?\n<!-- qid: FLU_3 -->\n\nAgain.\n"
    doc, issues = check_document(tmp_path / "flu.md", text)
    assert doc is not None and not errors(issues)
    assert [(i.line, i.message.split(" ")[0]) for i in issues] == [(20, "section"), (37, "heading")]
    assert "also on line 20" in issues[1].message


def test_repeated_heading_with_own_qids_is_not_reported():
    text = VALID + "\n## Who can get a free flu vaccination?\n<!-- qid: FLU_1b -->\n\nA.\n"
    text = text.replace(
        "## Who can get a free flu vaccination?\n\n",
        "## Who can get a free flu vaccination?\n<!-- qid: FLU_1 -->\n\n",
        1,
    )
    assert check_document(Path("flu.md"), text)[1] == []


def test_unterminated_front_matter_reports_only_that():
    _, issues = check_document(Path("x.md"), VALID.replace("---\n\n# Flu", "\n# Flu"))
    assert [(i.line, i.message[:30]) for i in issues] == [(1, "front matter is never closed: ")]


# --- a valid file ---------------------------------------------------------------------------


def test_valid_file_parses_into_document_and_sections(tmp_path):
    path = tmp_path / "flu.md"
    path.write_text(VALID, encoding="utf-8")
    doc = parse_document(path)
    assert doc == KBDocument(
        path=path,
        doc_id="clinic-flu",
        title="Flu vaccination",
        source_name="Example Clinic",
        source_url="https://example.org/flu",
        license="CC0-1.0",
        language="en",
        audience="patients",
        last_reviewed="2025-01-15",
        reviewed_by="Dr A. Example",
        aliases=("flu jab", "flu shot"),
        tags=("clinic", "vaccination"),
        sections=(
            Section(
                qid="clinic-flu#who-can-get-a-free-flu-vaccination",
                heading="Who can get a free flu vaccination?",
                text="Everyone aged 65 or over.\n\n### Details\n\nPeople with asthma too.",
                line=20,
            ),
            Section(
                qid="FLU_2",
                heading="When should I get vaccinated?",
                text="Between October and December.\n\n```\n## not a heading inside a code block"
                "\n```",
                line=28,
            ),
        ),
    )
    assert parse_document(path, VALID.replace("\n", "\r\n")).sections == doc.sections


def test_slug():
    assert slug("When should I get vaccinated?") == "when-should-i-get-vaccinated"
    assert slug("  Étape 1 / Step 2 ") == "tape-1-step-2"
    assert slug("???") == "section"


def test_iter_kb_files_skips_readmes_and_hidden_folders(tmp_path):
    for rel in ("a.md", "README.md", "sub/b.md", "sub/readme.md", ".git/c.md", "d.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(VALID, encoding="utf-8")
    assert iter_kb_files(tmp_path) == [tmp_path / "a.md", tmp_path / "sub" / "b.md"]


def test_readme_example_is_a_valid_file():
    readme = (ROOT / "knowledge" / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```markdown\n(.*?)\n```\n", readme, re.S)
    assert example
    doc = parse_document(Path("example.md"), example.group(1))
    assert [s.qid for s in doc.sections] == [
        "clinic-flu-vaccination#who-can-get-a-free-flu-vaccination",
        "clinic-flu-vaccination#when-should-i-get-vaccinated",
    ]


# --- the committed knowledge base -----------------------------------------------------------


@pytest.fixture(scope="module")
def knowledge() -> tuple[list[KBDocument], list[KBIssue]]:
    return validate_tree(ROOT / "knowledge")


def test_committed_knowledge_validates(knowledge):
    docs, issues = knowledge
    assert errors(issues) == []
    assert {doc.path.parent.name for doc in docs if "clinic" in doc.path.parts} == {"clinic"}
    assert len([d for d in docs if "clinic" in d.path.parts]) >= 3


def test_committed_medquad_sections(knowledge):
    docs, _ = knowledge
    medquad = [d for d in docs if d.doc_id.startswith("medquad-")]
    qids = [s.qid for d in medquad for s in d.sections]
    assert (len(medquad), len(qids), len(set(qids))) == (5486, 16407, 16407)
    assert "GHR_0000804_2" in qids
    ghr = next(d for d in medquad if d.doc_id == "medquad-ghr-0000804")
    assert ghr.aliases == ("PKD", "polycystic renal disease")
    assert ghr.sections[1].heading == "How many people are affected by polycystic kidney disease ?"
    assert all(p.stat().st_size < 1_000_000 for p in (ROOT / "knowledge").rglob("*.md"))


# --- the MedQuAD importer -------------------------------------------------------------------


@pytest.fixture(scope="module")
def importer():
    path = ROOT / "scripts" / "kb" / "import_medquad.py"
    spec = importlib.util.spec_from_file_location("import_medquad", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_medquad"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    yield module
    del sys.modules["import_medquad"]


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_importer_is_deterministic_and_valid(importer, tmp_path):
    first = importer.import_tree(DATA / "medquad_sample", tmp_path / "a", progress=False)
    importer.import_tree(DATA / "medquad_sample", tmp_path / "b", progress=False)
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert sorted(tree(tmp_path / "a")) == [
        "README.md",
        "cancergov/CancerGov_0000013_2.md",
        "cancergov/CancerGov_0000013_2_1.md",
        "ghr/GHR_0000804.md",
    ]
    assert (first.files, first.sections, first.unanswered) == (3, 5, 1)
    docs = load_tree(tmp_path / "a")
    qids = [s.qid for d in docs for s in d.sections]
    assert qids == [
        "CancerGov_0000013_2_1",
        "CancerGov_0000013_2_1_1",
        "GHR_0000804_1",
        "GHR_0000804_3",
        "GHR_0000804_4",
    ]


def test_importer_output_content(importer, tmp_path):
    importer.import_tree(DATA / "medquad_sample", tmp_path, progress=False)
    doc = parse_document(tmp_path / "ghr" / "GHR_0000804.md")
    assert (doc.doc_id, doc.title, doc.license) == (
        "medquad-ghr-0000804",
        "polycystic kidney disease",
        "CC BY 4.0",
    )
    assert doc.aliases == ("PKD", "polycystic renal disease")  # deduplicated, title dropped
    assert doc.tags == ("medquad", "ghr", "information", "treatment")
    assert doc.source_name == "Genetics Home Reference (NIH), via MedQuAD"
    assert doc.last_reviewed == "2017-01-01"
    first, treatment, again = doc.sections  # pid 2 has no answer: skipped
    assert first.heading == again.heading == "What is (are) polycystic kidney disease ?"
    assert first.text == (
        "Polycystic kidney disease is a disorder that affects the kidneys.\n\n"
        "Clusters of cysts develop in the kidneys."
    )
    assert treatment.text.splitlines() == [
        "These resources address the diagnosis:",
        "",
        "- Gene Review: Polycystic Kidney Disease",
        "- MedlinePlus Encyclopedia: Polycystic kidney disease",
        "",
        "\\# 1 in 500 people are affected & this line starts with a hash",
        "",
        "\\---",
        "",
        "The end.",
    ]
    text = (tmp_path / "ghr" / "GHR_0000804.md").read_text(encoding="utf-8")
    assert "from MedQuAD (CC BY 4.0), Ben Abacha & Demner-Fushman" in text


def test_importer_removes_stale_files(importer, tmp_path):
    stale = tmp_path / "gard" / "GARD_0000001.md"
    stale.parent.mkdir()
    stale.write_text("old", encoding="utf-8")
    importer.import_tree(DATA / "medquad_sample", tmp_path, progress=False)
    assert not stale.exists()
