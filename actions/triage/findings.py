"""Facts a triage nurse listens for, read from everything the patient has said so far.

Age, sex, pregnancy, risk factors, vital signs, duration and severity, each with the span it
came from. Negation, past and hypothetical mentions use the red-flag detector's context rules
(``healthbot.safety``: "no fever", "not diabetic", "had a stroke years ago"); vital signs are read
by the record analyzer's lab reader (``actions.ehr.labs``: units, plausibility, refusing doses
and dates). Nothing here is logged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from actions.ehr.labs import extract_from_text
from healthbot.safety.red_flags import default_detector

Span = tuple[int, int, int]  # (message number, start, end)

_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                 "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "couple of": 2,
                 "few": 3, "a few": 3, "several": 3}  # fmt: skip
_NUM = (
    r"(\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a few|few|several|"
    r"couple of)"
)
_UNIT_DAYS = {"minute": 1 / 1440, "min": 1 / 1440, "hour": 1 / 24, "hr": 1 / 24, "day": 1.0,
              "night": 1.0, "week": 7.0, "wk": 7.0, "month": 30.0, "year": 365.0}  # fmt: skip
_UNITS = r"(minute|min|hour|hr|day|night|week|wk|month|year)s?"

AGE_PATTERNS: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(rf"(\d+(?:\.\d+)?)[- ]?{unit}s?[- ]?old"), scale)
    for unit, scale in (("day", 1 / 365), ("week", 1 / 52), ("month", 1 / 12),
                        ("year", 1.0), ("yr", 1.0))
)  # fmt: skip
AGE_PATTERNS = (
    *AGE_PATTERNS,
    (re.compile(r"(?:\bi'?m|\bi am|\baged?|\bage of|\bage:?)\s+(\d{1,3})"
                r"(?![\d.%/]| ?(?:weeks|wk|kg|st|lb|cm|%|mmol|mg|degrees|°))"), 1.0),
    (re.compile(r"\b(\d{1,3}) ?(?:y/?o|yrs?|years?)\b(?! ago)"), 1.0),
    (re.compile(r"\b(\d{1,3}) ?(?:m|f)\b(?=[ ,.;]|$)"), 1.0),
)  # fmt: skip
NEWBORN = re.compile(r"\bnew ?born\b")

MALE = re.compile(r"\b(?:man|male|boy|son|husband|father|dad|daddy|grandfather|grandad|grandpa|"
                  r"brother|he|his|him|gentleman|\d{1,3} ?m)\b")  # fmt: skip
FEMALE = re.compile(r"\b(?:woman|female|girl|daughter|wife|mother|mum|mom|mummy|grandmother|"
                    r"grandma|nan|sister|she|her|lady|pregnant|\d{1,3} ?f)\b")  # fmt: skip
THIRD_PERSON = re.compile(
    r"\b(?:my|our) (?:son|daughter|baby|child|kid|toddler|boy|girl|dad|father|mum|mom|mother|"
    r"husband|wife|partner|boyfriend|girlfriend|brother|sister|grandfather|grandmother|grandad|"
    r"grandma|nan|friend|neighbou?r|\d+[- ]?(?:month|week|year|day)[- ]?old)\b"
    r"|\b(?:he|she|they) (?:has|have|is|are|was|were|had|keeps|can'?t|cannot|won'?t)\b"
    r"|\b(?:a|an) \d{1,3}[- ]?(?:year|month|week|day)[- ]?old\b|\b(?:patient|pt)\b"
)
CHILD = re.compile(r"\b(?:baby|babies|infant|newborn|toddler|child|kid|son|daughter|boy|girl|"
                   r"little one|grandson|granddaughter)\b")  # fmt: skip
PREGNANT = re.compile(
    r"\bpregnan(?:t|cy)\b|\bexpecting (?:a baby|twins)\b|\b\d{1,2} ?weeks? pregnant\b"
)

RISK_PATTERNS: dict[str, re.Pattern[str]] = {
    name: re.compile(r"(?<![\w-])(?:" + "|".join(words) + r")(?![\w-])")
    for name, words in {
        "diabetes": ["diabet\\w*", "type ?[12] diabetes", "t[12]dm", "iddm", "niddm",
                     "on insulin", "metformin"],
        "immunosuppressed": ["chemo\\w*", "immuno\\w*suppress\\w*", "immunocompromised",
                             "transplant", "on steroids", "long[- ]term steroids",
                             "neutropeni\\w*", "low immune system", "weak immune system",
                             "methotrexate", "hiv"],
        "anticoagulant": ["warfarin", "apixaban", "eliquis", "rivaroxaban", "xarelto",
                          "dabigatran", "pradaxa", "edoxaban", "heparin", "enoxaparin",
                          "clexane", "blood thinners?", "anticoagula\\w*", "coumadin"],
        "heart_disease": ["heart (?:disease|condition|problems?|failure|attack)",
                          "angina", "previous mi", "ihd", "cad", "coronary", "stent\\w*",
                          "bypass", "pacemaker", "atrial fibrillation", "a ?fib", "af"],
        "lung_disease": ["copd", "emphysema", "asthma\\w*", "bronchiectasis",
                         "lung (?:disease|condition)", "cystic fibrosis", "pulmonary fibrosis"],
        "recent_surgery": ["(?:had|recent|just had) (?:an? )?(?:operation|surgery|op)",
                           "post[- ]?op\\w*", "after (?:my|an|the|his|her) (?:operation|surgery)",
                           "(?:operation|surgery) (?:\\w+ ){0,2}(?:days?|weeks?) ago"],
        "kidney_disease": ["kidney (?:disease|failure|problems?)", "ckd", "dialysis",
                           "renal (?:failure|disease|impairment)"],
    }.items()
}  # fmt: skip

DURATION_PATTERNS: tuple[tuple[re.Pattern[str], float | None], ...] = (
    (re.compile(rf"\b(?:for|since|over|past|last|about|almost|nearly)( the)?( past| last)? "
                rf"{_NUM} {_UNITS}\b"), None),
    (re.compile(rf"\b{_NUM} {_UNITS} ago\b"), None),
    (re.compile(rf"\b{_NUM} {_UNITS} (?:of|history)\b"), None),
    (re.compile(r"\bsince (?:yesterday|last night)\b"), 1.0),
    (re.compile(r"\bsince (?:this morning|earlier today|today|lunch(?:time)?|this afternoon)"
                r"\b"), 0.3),
    (re.compile(r"\b(?:last|this) (?:night|evening)\b"), 0.5),
    (re.compile(r"\bsince (?:last week)\b"), 7.0),
    (re.compile(r"\bjust now\b|\ba few minutes ago\b|\bminutes ago\b"), 0.01),
)  # fmt: skip
SEVERITY_NUMBER = re.compile(r"\b(10|[0-9])(?:\.5)? ?(?:/|out of) ?10\b")
SEVERITY_WORDS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"\b(?:worst (?:ever|of my life|i'?ve ever had)|unbearable|excruciating|agony|"
                r"agonising|agonizing|severe|really bad|very bad|terrible|awful|horrendous)\b"), 8),
    (re.compile(r"\b(?:moderate|quite bad|pretty bad|fairly bad)\b"), 5),
    (re.compile(r"\b(?:mild|slight|a bit|a little|minor|not too bad|niggl\w*)\b"), 3),
)  # fmt: skip
_VITAL_NAMES = {
    "temperature": "temperature_c", "heart_rate": "heart_rate",
    "respiratory_rate": "respiratory_rate", "systolic_bp": "systolic_bp",
    "diastolic_bp": "diastolic_bp", "spo2": "spo2", "glucose": "glucose_mmol",
}  # fmt: skip
_LAY_SPO2 = re.compile(r"\boxygen (?:is |was |at |of )?(\d{2,3}) ?%")
_LAY_TEMPERATURE = re.compile(
    r"\b(?:temp|temperature|fever|temps?)\D{0,12}?(\d{2,3}(?:\.\d)?) ?"
    r"(?:°|º|deg(?:rees?)?)? ?(c|f)?\b"
)


@dataclass
class Findings:
    """What is known about the patient; ``None`` / empty means "not said"."""

    age_years: float | None = None
    sex: str | None = None
    pregnant: bool | None = None
    risks: set[str] = field(default_factory=set)
    vitals: dict[str, float] = field(default_factory=dict)
    duration_days: float | None = None
    severity: int | None = None
    third_person: bool = False
    child: bool = False  # the text is about a child, whatever the age said
    spans: dict[str, Span] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "age_years": self.age_years, "sex": self.sex, "pregnant": self.pregnant,
            "risks": sorted(self.risks), "vitals": dict(sorted(self.vitals.items())),
            "duration_days": self.duration_days, "severity": self.severity,
            "third_person": self.third_person, "child": self.child,
            "spans": {k: list(v) for k, v in sorted(self.spans.items())},
        }  # fmt: skip


class Reader:
    """Reads findings from messages; one per process (the patterns compile once)."""

    def __init__(self) -> None:
        self.detector = default_detector()

    def context(self, text: str) -> Any:
        """The normalised text and its ConText-style context (negation, past, hypothetical)."""
        return self.detector.context(text)

    def read(self, messages: Sequence[str]) -> Findings:
        """Findings from the patient's messages, oldest first (a later statement wins)."""
        found = Findings()
        for number, message in enumerate(messages):
            if isinstance(message, str) and message.strip():
                self._read_one(number, message[:5000], found)
        return found

    def _read_one(self, number: int, message: str, found: Findings) -> None:
        norm, context = self.context(message)
        text = norm.text
        self._age(number, text, context, found)
        self._people(number, text, found)
        self._pregnancy(number, text, context, found)
        self._risks(number, text, context, found)
        self._vitals(number, message, text, context, found)
        self._duration(number, text, found)
        self._severity(number, text, context, found)

    @staticmethod
    def _age(number: int, text: str, context: Any, found: Findings) -> None:
        if NEWBORN.search(text) and found.age_years is None:
            found.age_years = 0.02
        for pattern, scale in AGE_PATTERNS:
            for match in pattern.finditer(text):
                before = text[max(0, match.start() - 12) : match.start()]
                if re.search(r"\b(?:for|since|past|last)\s*$", before):
                    continue  # "for 3 years old"-like durations are not ages
                if pattern.pattern.startswith(r"(?:\bi'?m") and re.search(
                    r"^\s*(?:weeks?|wks?)\b", text[match.end() : match.end() + 8]
                ):
                    continue
                value = float(match.group(1)) * scale
                if 0 <= value <= 120:
                    found.age_years = round(value, 3)
                    found.spans["age"] = (number, match.start(), match.end())
                    return

    @staticmethod
    def _people(number: int, text: str, found: Findings) -> None:
        third = THIRD_PERSON.search(text)
        if third:
            found.third_person = True
        if CHILD.search(text) and not re.search(
            r"\b(?:adult|grown[- ]up) (?:son|daughter)\b", text
        ):
            found.child = True
        scope = text[third.start() :] if third else text
        first_person_sex = re.search(
            r"\bi'?m an? (?:\d+[- ]year[- ]old )?(man|woman|male|female)\b", text
        )
        male, female = MALE.search(scope), FEMALE.search(scope)
        if not third and not first_person_sex:
            male = female = None
            if re.search(r"\b\d{1,3} ?(m|f)\b", text):
                male = re.search(r"\b\d{1,3} ?m\b", text)
                female = re.search(r"\b\d{1,3} ?f\b", text)
        if first_person_sex:
            found.sex = "male" if first_person_sex.group(1) in ("man", "male") else "female"
        elif male and (not female or male.start() < female.start()):
            found.sex = "male"
        elif female:
            found.sex = "female"

    @staticmethod
    def _pregnancy(number: int, text: str, context: Any, found: Findings) -> None:
        for match in PREGNANT.finditer(text):
            if context.suppression(match.start(), match.end()) in ("negated",):
                found.pregnant = False
            else:
                found.pregnant = True
                found.sex = "female"
                found.spans["pregnant"] = (number, match.start(), match.end())
            return

    @staticmethod
    def _risks(number: int, text: str, context: Any, found: Findings) -> None:
        for name, pattern in RISK_PATTERNS.items():
            for match in pattern.finditer(text):
                if context.is_negated(match.start(), match.end()):
                    found.risks.discard(name)
                    continue
                if name == "recent_surgery" and re.search(r"\b(?:months|years)\b", match.group()):
                    continue
                found.risks.add(name)
                found.spans[f"risk:{name}"] = (number, match.start(), match.end())
                break

    @staticmethod
    def _vitals(number: int, raw: str, text: str, context: Any, found: Findings) -> None:
        for value in extract_from_text(raw):
            name = _VITAL_NAMES.get(value.test)
            if name is None or value.start is None:
                continue
            if context.is_negated(value.start, value.end or value.start):
                continue
            amount = value.value / 18.0 if name == "glucose_mmol" else value.value
            found.vitals[name] = round(amount, 1)
            found.spans[name] = (number, value.start, value.end or value.start)
        if "spo2" not in found.vitals and (match := _LAY_SPO2.search(text)):
            found.vitals["spo2"] = float(match.group(1))
            found.spans["spo2"] = (number, match.start(), match.end())
        if "temperature_c" not in found.vitals and (match := _LAY_TEMPERATURE.search(text)):
            value, unit = float(match.group(1)), match.group(2)
            celsius = (value - 32) * 5 / 9 if unit == "f" or value > 45 else value
            if 34 <= celsius <= 43:
                found.vitals["temperature_c"] = round(celsius, 1)
                found.spans["temperature_c"] = (number, match.start(), match.end())

    @staticmethod
    def _duration(number: int, text: str, found: Findings) -> None:
        for pattern, fixed in DURATION_PATTERNS:
            match = pattern.search(text)
            if match is None:
                continue
            if fixed is None:
                groups = [
                    g for g in match.groups() if g and g.strip() not in ("the", "past", "last")
                ]
                count, unit = groups[-2], groups[-1]
                amount = _WORD_NUMBERS.get(count.strip())
                amount = float(count) if amount is None else float(amount)
                days = amount * _UNIT_DAYS[unit.rstrip("s")]
            else:
                days = fixed
            found.duration_days = round(days, 3)
            found.spans["duration"] = (number, match.start(), match.end())
            return

    @staticmethod
    def _severity(number: int, text: str, context: Any, found: Findings) -> None:
        if match := SEVERITY_NUMBER.search(text):
            found.severity = int(match.group(1))
            found.spans["severity"] = (number, match.start(), match.end())
            return
        for pattern, level in SEVERITY_WORDS:
            match = pattern.search(text)
            if match and not context.is_negated(match.start(), match.end()):
                found.severity = level
                found.spans["severity"] = (number, match.start(), match.end())
                return


def answer_from_text(
    patterns: Iterable[re.Pattern[str]],
    no_patterns: Iterable[re.Pattern[str]],
    messages: Sequence[tuple[Any, Any]],
) -> tuple[str | None, Span | None]:
    """ "yes", "no" or None for one question, from (normalised text, context) per message; a
    later message wins, and within one message an un-negated mention wins over a negated one
    (a missed danger sign costs more than a false alarm)."""
    answer: tuple[str | None, Span | None] = (None, None)
    for number, (norm, context) in enumerate(messages):
        text = norm.text
        said: tuple[str | None, Span | None] = (None, None)
        for pattern in no_patterns:
            if match := pattern.search(text):
                said = ("no", (number, match.start(), match.end()))
        for pattern in patterns:
            for match in pattern.finditer(text):
                verdict = context.suppression(match.start(), match.end())
                if verdict is None:
                    said = ("yes", (number, match.start(), match.end()))
                    break
                if verdict == "negated" and said[0] is None:
                    said = ("no", (number, match.start(), match.end()))
            if said[0] == "yes":
                break
        if said[0] is not None:
            answer = said
    return answer
