"""The protocols as data: every file valid, every rule sourced, the complaints covered; and the
validator reports mistakes with file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from actions.triage.levels import LEVELS, level_texts
from actions.triage.protocols import (
    PROTOCOL_DIR,
    ProtocolError,
    load_protocol,
    parse_condition,
    phrase,
    validate_dir,
)

REQUIRED = {
    "chest_pain", "breathlessness", "abdominal_pain", "headache", "fever_adult", "fever_child",
    "fever_infant", "cough", "sore_throat", "ear_pain", "back_pain", "urinary_symptoms",
    "diarrhoea_vomiting", "rash", "dizziness_fainting", "palpitations", "limb_injury",
    "eye_problem", "bleeding", "pregnancy", "mental_health", "allergic_reaction", "burns",
    "head_injury",
}  # fmt: skip


@pytest.fixture(scope="module")
def shipped():
    protocols, problems = validate_dir(PROTOCOL_DIR)
    assert problems == []
    return protocols


def test_at_least_40_complaints_including_the_telephone_triage_list(shipped) -> None:
    ids = {p.id for p in shipped}
    assert len(ids - {"general"}) >= 40
    assert ids >= REQUIRED, REQUIRED - ids
    assert sum(p.fallback for p in shipped) == 1


def test_every_rule_has_an_id_a_reason_and_a_public_source(shipped) -> None:
    for protocol in shipped:
        assert protocol.questions or protocol.fallback or protocol.always, protocol.id
        for rule in protocol.rules:
            source = protocol.sources[rule.source]
            assert source.url.startswith("https://") and source.title, (protocol.id, rule.id)
            assert rule.reason and rule.level in LEVELS


def test_every_question_is_read_by_a_rule(shipped) -> None:
    for protocol in shipped:
        read = set().union(*(rule.condition.questions() for rule in protocol.rules))
        unused = {q.id for q in protocol.questions} - read
        assert not unused, (protocol.id, unused)


def test_every_level_has_patient_wording() -> None:
    texts = level_texts()
    assert set(texts) == set(LEVELS)
    assert "{emergency_number}" in texts["emergency_ambulance"].do_now


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


GOOD = """\
    id: sample
    title: Sample
    triggers: [sample pain]
    base_level: self_care
    unresolved_level: urgent
    questions:
      - id: q_bad
        ask: Is it bad?
        detect: [really bad]
    rules:
      - id: SA01
        if: {yes_to: q_bad}
        level: urgent
        reason: it is bad
        source: nhs
    sources:
      nhs: {title: NHS, url: "https://www.nhs.uk/"}
"""


def test_a_good_file_loads(tmp_path: Path) -> None:
    protocol = load_protocol(write(tmp_path, "sample", GOOD))
    assert protocol.rules[0].condition.questions() == {"q_bad"}


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("if: {yes_to: q_bad}", "if: {yes: q_bad}"), 12, "yes_to/no_to"),
        (("if: {yes_to: q_bad}", "if: {yes_to: q_other}"), 12, "unknown question 'q_other'"),
        (("level: urgent\n", "level: soon\n"), 13, "'level' must be one of"),
        (("source: nhs\n", "source: blog\n"), 15, "cites 'blog'"),
        (("base_level: self_care", "base_level: emergency"), 5, "not be below base_level"),
        (("triggers: [sample pain]", "triggers: [Sample pain]"), 3, "must be lowercase"),
        (("detect: [really bad]", "detect: [really (bad]"), 9, "not a valid pattern"),
        (("id: SA01", "id: sa-1"), 11, "not like CP01"),
        (('url: "https://www.nhs.uk/"', 'url: "http://x"'), 17, "https:// url"),
        (("title: Sample\n", "title: Sample\n    colour: red\n"), 3, "unknown key 'colour'"),
    ],
)  # fmt: skip
def test_mistakes_are_reported_with_file_and_line(
    tmp_path: Path, change: tuple[str, str], line: int, message: str
) -> None:
    path = write(tmp_path, "sample", GOOD.replace(*change))
    with pytest.raises(ProtocolError) as raised:
        load_protocol(path)
    assert any(p.startswith(f"{path}:{line}: error:") and message in p
               for p in raised.value.problems), raised.value.problems  # fmt: skip


def test_broken_yaml_and_a_misnamed_file(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match=r"broken.yml:2: error: not valid YAML"):
        load_protocol(write(tmp_path, "broken", "id: x\n  - : [\n"))
    with pytest.raises(ProtocolError, match="match the file name"):
        load_protocol(write(tmp_path, "other", GOOD))


def test_duplicate_rule_ids_across_files(tmp_path: Path) -> None:
    write(tmp_path, "sample", GOOD)
    write(tmp_path, "second", GOOD.replace("id: sample", "id: second"))
    _, problems = validate_dir(tmp_path)
    assert any("SA01 is used in more than one protocol" in p for p in problems)


@pytest.mark.parametrize(
    "raw",
    [{"vital": "temperature_c"}, {"vital": "mood", "gte": 1}, {"risk": "smoking"},
     {"age_gte": "old"}, {"all": []}, {"sex": "other"}, {"yes_to": "a", "no_to": "b"}, "x"],
)  # fmt: skip
def test_bad_conditions_say_what_is_wrong(raw: object) -> None:
    with pytest.raises(ValueError, match="rule R"):
        parse_condition(raw, "rule R")


def test_phrases_match_whole_words_only() -> None:
    assert phrase("stiff neck").search("he has a stiff neck today")
    assert not phrase("rash").search("thrash metal")
    assert not phrase("fever").search("feverfew tea")


def test_a_question_shared_by_several_protocols_is_the_same_everywhere(shipped) -> None:
    """One answer serves every protocol that asks it, so the copies must not drift apart."""
    seen: dict[str, tuple] = {}
    for protocol in shipped:
        for q in protocol.questions:
            copy = (q.ask, [p.pattern for p in q.detect], [p.pattern for p in q.detect_no])
            assert seen.setdefault(q.id, copy) == copy, (protocol.id, q.id)
