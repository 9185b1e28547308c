"""Lab and vital values: read them from note text or FHIR, normalise units, compare with ranges.

The adult ranges, critical limits, units, names and LOINC codes live in the cited table
``data/reference_ranges.yml`` so a clinician can read and correct them; this module only checks
the table (refusing a malformed one with the file and key that is wrong), converts units and
compares. Every value is rounded to the table's reporting precision *after* conversion, as a lab
would report it, so a boundary value in another unit (3.9 mmol/L glucose) lands on the same side
of the limit as the source states it (70 mg/dL).

Text is read with one linear-time regular expression built from the table's names (bounded
quantifiers only, no nested repetition), then each hit is checked in plain code: a hit is kept
only when its unit is known for the test, or, with no unit, when the number is plausible in
exactly one known unit. Doses ("potassium 20 mEq PO"), durations ("48 HR"), dates, ranges
("3.5-5.0"), ages ("72-year-old") and list numbers are refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from actions.ehr.types import LabStatus, LabValue, Range

TABLE_PATH = Path(__file__).with_name("data") / "reference_ranges.yml"
SEXES = ("male", "female")
_MALE = frozenset({"male", "m", "man"})
_FEMALE = frozenset({"female", "f", "woman"})


class RangeTableError(ValueError):
    """The reference table is malformed; the message names the file and the key."""


# --- table model ------------------------------------------------------------------------


@dataclass(frozen=True)
class BySex:
    """A limit that may differ by sex; a plain number has the same value for both."""

    male: float | None
    female: float | None

    def pick(self, sex: str | None, envelope: Callable[[float, float], float]) -> float | None:
        """The limit for ``sex``; unknown sex gets the wider envelope (lowest low, highest high)."""
        if sex == "male":
            return self.male
        if sex == "female":
            return self.female
        if self.male is None or self.female is None:
            return self.male if self.female is None else self.female
        return envelope(self.male, self.female)


@dataclass(frozen=True)
class Threshold:
    """A critical limit with its comparison exactly as the cited source words it."""

    value: float
    inclusive: bool

    def below(self, value: float) -> bool:
        return value <= self.value if self.inclusive else value < self.value

    def above(self, value: float) -> bool:
        return value >= self.value if self.inclusive else value > self.value


@dataclass(frozen=True)
class UnitSpec:
    """An accepted unit: canonical = value * factor + offset."""

    unit: str
    factor: float
    offset: float
    aliases: tuple[str, ...]

    def to_canonical(self, value: float) -> float:
        return value * self.factor + self.offset


@dataclass(frozen=True)
class Citation:
    source: str
    url: str


@dataclass(frozen=True)
class RangeSpec:
    """One row of the reference table (see the schema comment at the top of the YAML)."""

    key: str
    name: str
    unit: str
    decimals: int
    low: BySex
    high: BySex
    critical_low: Threshold | None
    critical_high: Threshold | None
    plausible: tuple[float, float]
    infer_within: tuple[float, float]
    loinc: tuple[str, ...]
    names: tuple[str, ...]
    abbreviations: tuple[str, ...]
    units: tuple[UnitSpec, ...]
    citation: tuple[Citation, ...]
    note: str | None = None

    @cached_property
    def _unit_index(self) -> dict[str, UnitSpec]:
        return {_unit_key(s): unit for unit in self.units for s in (unit.unit, *unit.aliases)}

    @cached_property
    def _references(self) -> dict[str | None, Range]:
        return {sex: self._reference(sex) for sex in (None, *SEXES)}

    def unit_spec(self, unit: str) -> UnitSpec | None:
        """The accepted unit spelled ``unit`` (case, spaces, ° and µ spellings ignored)."""
        return self._unit_index.get(_unit_key(unit))

    def normalise(self, value: float, unit: str) -> float | None:
        """The value in the canonical unit, rounded; None for an unknown unit or a data error."""
        spec = self.unit_spec(unit)
        if spec is None or not math.isfinite(value):
            return None
        canonical = _round(spec.to_canonical(value), self.decimals)
        low, high = self.plausible
        return canonical if low <= canonical <= high else None

    def infer_unit(self, value: float) -> UnitSpec | None:
        """The one unit that puts a unit-less number inside ``infer_within``; else None."""
        low, high = self.infer_within
        fits = {(s.factor, s.offset): s for s in self.units if low <= s.to_canonical(value) <= high}
        return next(iter(fits.values())) if len(fits) == 1 else None

    def reference(self, sex: str | None = None) -> Range:
        """The range for ``sex`` ("male"/"female"; anything else gets the wider envelope)."""
        return self._references[sex if sex in SEXES else None]

    def _reference(self, sex: str | None) -> Range:
        return Range(
            low=self.low.pick(sex, min),
            high=self.high.pick(sex, max),
            critical_low=self.critical_low.value if self.critical_low else None,
            critical_high=self.critical_high.value if self.critical_high else None,
            unit=self.unit,
            citation="; ".join(f"{c.source} ({c.url})" for c in self.citation),
        )

    def status(self, value: float, sex: str | None = None) -> LabStatus:
        """Critical limits first (they are what triggers the emergency advice), then the range."""
        if self.critical_low and self.critical_low.below(value):
            return "critical_low"
        if self.critical_high and self.critical_high.above(value):
            return "critical_high"
        low, high = self.low.pick(sex, min), self.high.pick(sex, max)
        if low is None and high is None:
            return "unknown"
        if low is not None and value < low:
            return "low"
        if high is not None and value > high:
            return "high"
        return "normal"


@dataclass(frozen=True)
class _Table:
    tests: dict[str, RangeSpec]
    names: dict[str, tuple[str, ...]]  # alias key -> test keys (two for a pair such as BP)
    abbreviations: dict[str, tuple[str, ...]]  # exact spelling -> test keys
    loinc: dict[str, str]
    pattern: re.Pattern[str]
    unit_keys: frozenset[str]  # every unit spelling of every test


# --- public API -------------------------------------------------------------------------


def load_ranges(path: Path | None = None) -> dict[str, RangeSpec]:
    """The checked reference table by test key (parsed once per file and process)."""
    return dict(_table(str(path or TABLE_PATH)).tests)


def classify(
    test: str,
    value: float,
    unit: str,
    *,
    sex: str | None = None,
    source: str = "text",
    raw: str = "",
    start: int | None = None,
    end: int | None = None,
    effective: str | None = None,
) -> LabValue | None:
    """``value`` in ``unit`` normalised and compared with the adult range.

    None when the test is not in the table, the unit is unknown or incompatible, or the value is
    outside the plausible bounds (a data error must never raise an alarm).
    """
    spec = _table(str(TABLE_PATH)).tests.get(test)
    if spec is None:
        return None
    canonical = spec.normalise(value, unit)
    if canonical is None:
        return None
    who = _sex(sex)
    return LabValue(
        test=spec.key,
        name=spec.name,
        value=canonical,
        unit=spec.unit,
        raw=raw or f"{_number(value)} {unit}".strip(),
        status=spec.status(canonical, who),
        source=source,
        start=start,
        end=end,
        effective=effective,
        reference=spec.reference(who),
    )


def extract_from_text(text: str) -> list[LabValue]:
    """Values written in a note, each with the offsets of its whole "name value unit" span."""
    table = _table(str(TABLE_PATH))
    found: list[LabValue] = []
    pos = 0
    while (match := table.pattern.search(text, pos)) is not None:
        values, end = _read_hit(table, text, match, pos)
        found.extend(values)
        pos = max(end, match.start() + 1)
    return found


def from_observation(
    code: str | None,
    display: str,
    value: float,
    unit: str,
    *,
    resource_id: str,
    effective: str | None,
    sex: str | None,
) -> LabValue | None:
    """A FHIR Observation value: matched by LOINC code first, by display name as a fallback."""
    table = _table(str(TABLE_PATH))
    test = _test_for_code(table, code) or _test_for_display(table, display)
    if test is None:
        return None
    source = resource_id if "/" in resource_id else f"Observation/{resource_id}"
    return classify(
        test,
        value,
        unit,
        sex=sex,
        source=source,
        raw=f"{_number(value)} {unit}".strip(),
        effective=effective,
    )


# --- text extraction --------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_GAP = (
    r"[ \t]{0,12}(?i:(?:level|levels|reading|value|result)[ \t]{1,4})?"
    r"(?:(?:[:=\-–]|(?i:(?:of|is|was|at|now|measured[ \t]at)\b))[ \t]{0,4})?"
)
_VALUE = (
    r"(?P<cmp>[<>]=?|[≤≥])?[ \t]{0,2}"
    r"(?:(?P<first>\d{2,3})[ \t]{0,2}/[ \t]{0,2}(?P<second>\d{2,3})"
    r"|(?P<num>\d{1,4}(?:\.\d{1,3})?|\.\d{1,3}))"
    # not part of a longer number, a range/date ("3.5-5.0", "5/12", "3.5 to 5"), or "72-year"
    r"(?![\d.,]?\d|[ \t]{0,2}[-–/][ \t]{0,2}\d|[ \t]{1,2}to[ \t]{1,2}\d|-[A-Za-z])"
)
_UNIT = re.compile(
    r"[ \t]{0,2}(?P<unit>%"
    r"|[°º][ \t]?[CcFf](?![A-Za-z])"
    r"|(?i:deg(?:ree)?s?[ \t]?(?:fahrenheit|celsius|centigrade|[cf]))(?![A-Za-z])"
    r"|(?i:(?:(?:beats|breaths)[ \t])?per[ \t]min(?:ute)?)(?![A-Za-z])"
    r"|(?i:ml/min/1\.73[ \t]m(?:2|²|\^2))"
    r"|[A-Za-zµμ\[{/][A-Za-z0-9µμ/\[\]{}._^²*+\-]{0,30})"
)
# A number followed by one of these measures something else: a dose, a duration, a count.
_FOREIGN_UNITS = _words(
    "mg mcg ug µg g gm gram grams ml l cc unit units u iu tab tabs tablet tablets cap caps "
    "capsule capsules puff puffs drop drops time times x h hr hrs hour hours min mins minute "
    "minutes sec secs second seconds s ms d day days wk wks week weeks mo mos month months y yr "
    "yrs year years yo y/o kg lb lbs cm mm"
)
_DOSE_AFTER = re.compile(
    r"[ \t]{1,3}(?i:po|iv|im|sc|sq|daily|bid|tid|qid|qd|od|bd|tds|qds|prn|tabs?|tablets?|caps?|"
    r"supplements?|replacement|replacing|given|dose|doses)\b"
)
# The word before the name turns the value into something other than a current blood result.
_BLOCKERS = _words(
    "vitamin vit non urine urinary urinalysis csf stool fluid dialysate target goal aim troponin "
    # not a resting value: exercise peaks, sleep-study nadirs, fetal or in-heart measurements
    "peak max maximum maximal predicted lowest minimum nadir fetal atrial ventricular artery "
    "aortic venous mixed svc ivc"
)
# A body fluid named earlier in the sentence ("CSF analysis showed: glucose 16") applies to it.
_OTHER_FLUID = re.compile(
    r"(?i:\b(?:csf|cerebrospinal|spinal fluid|pleural|peritoneal|ascitic|synovial|urinalysis)\b)"
)
_SENTENCE_BREAK = re.compile(r"[.;](?:\s|$)|\n")
_BLOOD_NAME = re.compile(r"(?i:serum|plasma|blood)\b")
_WORD_BEFORE = re.compile(r"([A-Za-z]+)[ \t\-]{0,3}$")
_NUMBER_BEFORE = re.compile(r"\d[ \t]?$")
_NUMBER_ENDS_ITEM = re.compile(r"[.)](?:\s|$)")
_LIST_MARKER = re.compile(r"(?:^|\n)[ \t]*\d{1,2}[.)][ \t]*$")


def _read_hit(
    table: _Table, text: str, match: re.Match[str], read_up_to: int
) -> tuple[list[LabValue], int]:
    """The values of one regex hit (none when refused) and where the next search starts.

    ``read_up_to`` is where the previous hit ended: a number before it belongs to that hit.
    """
    targets = _targets(table, match.group("name"))
    numbers = _numbers(match)
    if len(numbers) != len(targets) or (len(numbers) == 2 and numbers[0] <= numbers[1]):
        return [], match.end()  # "BP 120" or "K 12/03": wrong shape; systolic must exceed diastolic
    if _glued_digit(match):
        return [], match.end()
    token, token_end = _unit_after(text, match.end())
    unit = table.tests[targets[0]].unit_spec(token) if token else None
    end = token_end if unit else match.end()  # an unknown word after the number is not a unit
    if _refused(table, text, match, token if unit is None else "", (read_up_to, end)):
        return [], match.end()
    raw = text[match.start() : end]
    values = [
        _text_value(table.tests[test], number, unit, raw, match.start(), end)
        for test, number in zip(targets, numbers, strict=True)
    ]
    kept = [value for value in values if value is not None]
    return (kept, end) if len(kept) == len(values) else ([], match.end())


def _glued_digit(match: re.Match[str]) -> bool:
    """ "K1", "T4", "K2 35.8": a name and a lone digit written together are a label, not a value."""
    number = match.group("num")
    return number is not None and len(number) == 1 and match.start("num") == match.end("name")


def _targets(table: _Table, name: str) -> tuple[str, ...]:
    return table.abbreviations.get(name) or table.names.get(_alias_key(name), ())


def _numbers(match: re.Match[str]) -> list[float]:
    if match.group("num") is not None:
        return [float(match.group("num"))]
    return [float(match.group("first")), float(match.group("second"))]


def _unit_after(text: str, pos: int) -> tuple[str, int]:
    """The word right after the number (a unit or any other word) and where it ends."""
    found = _UNIT.match(text, pos)
    if found is None:
        return "", pos
    token = found.group("unit").rstrip(".,;:")
    return token, found.start("unit") + len(token)


def _refused(
    table: _Table, text: str, match: re.Match[str], other_word: str, span: tuple[int, int]
) -> bool:
    """Context that makes the hit a dose, duration, list number or non-blood value."""
    read_up_to, end = span
    start = match.start("name")
    before = _WORD_BEFORE.search(text, max(0, start - 24), start)
    if before and before.group(1).casefold() in _BLOCKERS:
        return True
    if not _BLOOD_NAME.match(match.group("name")) and _other_fluid(text, start):
        return True
    unread = max(read_up_to, start - 2)
    if match.group("name") in table.abbreviations and _NUMBER_BEFORE.search(text, unread, start):
        return True  # "48 HR", "10 K": the abbreviation is the unit of the number before it
    if _foreign_unit(table, other_word):
        return True
    if _DOSE_AFTER.match(text, end):
        return True
    return _is_list_number(text, match)


def _other_fluid(text: str, start: int) -> bool:
    """A fluid other than blood named earlier in the same sentence (within 100 characters)."""
    window = text[max(0, start - 100) : start]
    breaks = [found.end() for found in _SENTENCE_BREAK.finditer(window)]
    return _OTHER_FLUID.search(window, breaks[-1] if breaks else 0) is not None


def _foreign_unit(table: _Table, word: str) -> bool:
    """A unit that is not this test's: a dose or duration, or another test's unit ("ng/L").

    "72 hr" is a duration, but in "HR 72 HR 80" the second HR starts a new value.
    """
    key = _unit_key(word)
    if not key or _targets(table, word):
        return False
    return key in _FOREIGN_UNITS or key in table.unit_keys or "/" in key


def _is_list_number(text: str, match: re.Match[str]) -> bool:
    """In "2. Potassium 3. Sodium" the 3 numbers the next item; it is not a result."""
    number = match.group("num")
    if number is None or "." in number:
        return False
    if not _NUMBER_ENDS_ITEM.match(text, match.end()):
        return False
    start = match.start("name")
    return _LIST_MARKER.search(text, max(0, start - 8), start) is not None


def _text_value(
    spec: RangeSpec, number: float, unit: UnitSpec | None, raw: str, start: int, end: int
) -> LabValue | None:
    """A written unit is used as is; a missing one is inferred only when the value allows one."""
    chosen = unit or spec.infer_unit(number)
    if chosen is None:
        return None
    return classify(spec.key, number, chosen.unit, raw=raw, start=start, end=end)


# --- FHIR mapping -----------------------------------------------------------------------

_BLOOD = frozenset(
    {"blood", "serum", "plasma", "serum or plasma", "serum, plasma or blood", "arterial blood",
     "venous blood", "capillary blood", "blood by pulse oximetry"}
)  # fmt: skip
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff]")
_BRACKETS = re.compile(r"\[[^\]]*\]|\([^)]*\)")


def _test_for_code(table: _Table, code: str | None) -> str | None:
    if not code:
        return None
    return table.loinc.get(code.rsplit("|", 1)[-1].strip())


def _test_for_display(table: _Table, display: str) -> str | None:
    """A name from the table, once brackets and a blood specimen are taken off the display."""
    text = " ".join(_BRACKETS.sub(" ", _INVISIBLE.sub("", display or "")).split())
    analyte, _, specimen = text.casefold().partition(" in ")
    if specimen and specimen.split(" by ")[0].strip() not in _BLOOD:
        return None  # urine, stool, CSF...: the blood range does not apply
    analyte = analyte.split("/")[0].split(" by ")[0].strip()
    targets = table.abbreviations.get(text.strip()) or table.names.get(_alias_key(analyte), ())
    return targets[0] if len(targets) == 1 else None


# --- helpers ----------------------------------------------------------------------------


def _sex(sex: str | None) -> str | None:
    """FHIR administrative gender (or M/F) to the table's keys; anything else is unknown."""
    value = (sex or "").strip().casefold()
    if value in _MALE:
        return "male"
    return "female" if value in _FEMALE else None


def _round(value: float, decimals: int) -> float:
    """Half-up rounding on the decimal digits, so 6.45 is 6.5 as a lab would report it."""
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def _number(value: float) -> str:
    return f"{value:.6g}"


@lru_cache(maxsize=1024)
def _unit_key(unit: str) -> str:
    """Spellings of one unit compare equal: case, spaces, ° and the two µ signs are ignored."""
    key = unit.casefold().replace("µ", "u").replace("μ", "u").replace("²", "2").replace("^2", "2")
    return _UNIT_NOISE.sub("", key).rstrip(".,;:")


_UNIT_NOISE = re.compile(r"[\s°º]")


def _alias_key(name: str) -> str:
    return " ".join(re.split(r"[\s\-]+", name.casefold())).strip()


# --- loading and validation -------------------------------------------------------------

_TOP_KEYS = frozenset({"version", "tests", "pairs"})
_REQUIRED = frozenset({"name", "unit", "plausible", "units", "citation"})
_OPTIONAL = frozenset(
    {"decimals", "low", "high", "critical_low", "critical_high", "infer_within", "loinc",
     "names", "abbreviations", "note"}
)  # fmt: skip
_PAIR_KEYS = frozenset({"tests", "names", "abbreviations"})
_UNIT_KEYS = frozenset({"unit", "factor", "offset", "aliases"})
_KEY = re.compile(r"[a-z][a-z0-9_]*\Z")
_LOINC = re.compile(r"\d{1,7}-\d\Z")
_URL = re.compile(r"https?://[^\s/]+\.[^\s]+\Z")
_THRESHOLD = re.compile(r"\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*\Z")


@lru_cache(maxsize=8)
def _table(path: str) -> _Table:
    """The parsed, checked table and its text pattern, built once per file."""
    file = Path(path)
    data = _read_yaml(file)
    tests = {str(key): _spec(file, str(key), row) for key, row in data["tests"].items()}
    names: dict[str, tuple[str, ...]] = {}
    abbreviations: dict[str, tuple[str, ...]] = {}
    for spec in tests.values():
        _add_aliases(file, f"tests.{spec.key}", (spec.key,), spec, names, abbreviations)
    for key, pair in (data.get("pairs") or {}).items():
        _add_pair(file, str(key), pair, tests, names, abbreviations)
    return _Table(
        tests=tests,
        names=names,
        abbreviations=abbreviations,
        loinc=_loinc_index(file, tests),
        pattern=_compile(names, abbreviations),
        unit_keys=frozenset(key for spec in tests.values() for key in spec._unit_index),
    )


def _fail(path: Path, where: str, problem: str) -> RangeTableError:
    return RangeTableError(f"{path}: {where}: {problem}")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RangeTableError(f"{path}: cannot read the table ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise RangeTableError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("tests"), dict) or not data["tests"]:
        raise RangeTableError(f"{path}: expected a mapping with a non-empty 'tests:' mapping")
    if unknown := sorted(set(data) - _TOP_KEYS):
        raise _fail(path, "top level", f"unknown key(s) {unknown}")
    if not isinstance(data.get("pairs") or {}, dict):
        raise _fail(path, "pairs", "expected a mapping")
    return data


def _spec(path: Path, key: str, row: Any) -> RangeSpec:
    """One checked test row; every problem names the file and ``tests.<key>.<field>``."""
    where = f"tests.{key}"
    if not _KEY.match(key):
        raise _fail(path, where, "test keys are lower_snake_case")
    if not isinstance(row, dict):
        raise _fail(path, where, "expected a mapping")
    if missing := sorted(_REQUIRED - row.keys()):
        raise _fail(path, where, f"missing {missing}")
    if unknown := sorted(row.keys() - _REQUIRED - _OPTIONAL):
        raise _fail(path, where, f"unknown key(s) {unknown}")
    unit = _text(path, f"{where}.unit", row["unit"])
    plausible = _interval(path, f"{where}.plausible", row["plausible"])
    low = _by_sex(path, f"{where}.low", row.get("low"))
    high = _by_sex(path, f"{where}.high", row.get("high"))
    spec = RangeSpec(
        key=key,
        name=_text(path, f"{where}.name", row["name"]),
        unit=unit,
        decimals=_decimals(path, f"{where}.decimals", row.get("decimals", 1)),
        low=low,
        high=high,
        critical_low=_threshold(path, f"{where}.critical_low", row.get("critical_low"), "<"),
        critical_high=_threshold(path, f"{where}.critical_high", row.get("critical_high"), ">"),
        plausible=plausible,
        infer_within=_interval(path, f"{where}.infer_within", row.get("infer_within", plausible)),
        loinc=_strings(path, f"{where}.loinc", row.get("loinc"), _LOINC),
        names=_strings(path, f"{where}.names", row.get("names")),
        abbreviations=_strings(path, f"{where}.abbreviations", row.get("abbreviations")),
        units=_units(path, f"{where}.units", row["units"], unit),
        citation=_citations(path, f"{where}.citation", row["citation"]),
        note=" ".join(str(row["note"]).split()) if row.get("note") else None,
    )
    _check_limits(path, where, spec)
    return spec


def _check_limits(path: Path, where: str, spec: RangeSpec) -> None:
    """Limits in order: critical low <= low <= high <= critical high, all inside plausible."""
    for sex in SEXES:
        low, high = spec.low.pick(sex, min), spec.high.pick(sex, max)
        if low is not None and high is not None and low > high:
            raise _fail(path, where, f"low {low} is above high {high} ({sex})")
    low, high = spec.low.pick(None, min), spec.high.pick(None, max)
    if spec.critical_low and low is not None and spec.critical_low.value > low:
        raise _fail(path, f"{where}.critical_low", f"is above low {low}")
    if spec.critical_high and high is not None and spec.critical_high.value < high:
        raise _fail(path, f"{where}.critical_high", f"is below high {high}")
    bottom, top = spec.plausible
    if not bottom <= spec.infer_within[0] < spec.infer_within[1] <= top:
        raise _fail(path, f"{where}.infer_within", "must lie inside plausible")
    for limit in (low, high):
        if limit is not None and not bottom <= limit <= top:
            raise _fail(path, where, f"limit {limit} is outside plausible {list(spec.plausible)}")
    if not spec.names and not spec.abbreviations:
        raise _fail(path, where, "needs at least one of names or abbreviations")


def _number_or_none(path: Path, where: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(path, where, f"expected a number, got {value!r}")
    return float(value)


def _by_sex(path: Path, where: str, value: Any) -> BySex:
    """A number, null, or {male: x, female: y} (both sexes required)."""
    if isinstance(value, dict):
        if set(value) != set(SEXES):
            raise _fail(path, where, f"a sex-specific limit needs exactly {list(SEXES)}")
        male = _number_or_none(path, f"{where}.male", value["male"])
        female = _number_or_none(path, f"{where}.female", value["female"])
        return BySex(male, female)
    number = _number_or_none(path, where, value)
    return BySex(number, number)


def _threshold(path: Path, where: str, value: Any, direction: str) -> Threshold | None:
    """ "<= 2.5" / "< 90" for a low limit, ">= 6.5" / "> 400" for a high one."""
    if value is None:
        return None
    found = _THRESHOLD.match(str(value))
    if not isinstance(value, str) or found is None or not found.group(1).startswith(direction):
        raise _fail(path, where, f'expected "{direction} x" or "{direction}= x", got {value!r}')
    return Threshold(float(found.group(2)), inclusive=found.group(1).endswith("="))


def _interval(path: Path, where: str, value: Any) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise _fail(path, where, f"expected [min, max], got {value!r}")
    low = _number_or_none(path, where, value[0])
    high = _number_or_none(path, where, value[1])
    if low is None or high is None or low >= high:
        raise _fail(path, where, f"expected [min, max] with min < max, got {value!r}")
    return low, high


def _decimals(path: Path, where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
        raise _fail(path, where, f"expected a whole number 0-4, got {value!r}")
    return value


def _text(path: Path, where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, where, f"expected non-empty text, got {value!r}")
    return " ".join(value.split())


def _strings(
    path: Path, where: str, value: Any, shape: re.Pattern[str] | None = None
) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(path, where, f"expected a list, got {value!r}")
    items = tuple(_text(path, where, item) for item in value)
    for item in items:
        if shape is not None and not shape.match(item):
            raise _fail(path, where, f"{item!r} is not in the expected form")
    return items


def _units(path: Path, where: str, value: Any, canonical: str) -> tuple[UnitSpec, ...]:
    """The accepted units; the canonical one must be there with factor 1 and no offset."""
    if not isinstance(value, list) or not value:
        raise _fail(path, where, "expected a non-empty list of {unit, factor, offset, aliases}")
    units = tuple(_unit(path, f"{where}[{index}]", item) for index, item in enumerate(value))
    if not any(u.unit == canonical and u.factor == 1 and u.offset == 0 for u in units):
        raise _fail(path, where, f"must list the canonical unit {canonical!r} with factor 1")
    seen: dict[str, str] = {}
    for unit in units:
        for spelling in (unit.unit, *unit.aliases):
            owner = seen.setdefault(_unit_key(spelling), unit.unit)
            if owner != unit.unit:
                raise _fail(path, where, f"{spelling!r} is listed for both {owner} and {unit.unit}")
    return units


def _unit(path: Path, where: str, item: Any) -> UnitSpec:
    if not isinstance(item, dict) or "unit" not in item or "factor" not in item:
        raise _fail(path, where, "expected a mapping with unit and factor")
    if unknown := sorted(item.keys() - _UNIT_KEYS):
        raise _fail(path, where, f"unknown key(s) {unknown}")
    factor = _number_or_none(path, f"{where}.factor", item["factor"])
    if factor is None or factor <= 0:
        raise _fail(path, f"{where}.factor", "expected a positive number")
    return UnitSpec(
        unit=_text(path, f"{where}.unit", item["unit"]),
        factor=factor,
        offset=_number_or_none(path, f"{where}.offset", item.get("offset", 0)) or 0.0,
        aliases=_strings(path, f"{where}.aliases", item.get("aliases")),
    )


def _citations(path: Path, where: str, value: Any) -> tuple[Citation, ...]:
    """At least one public source, each with an http(s) URL a reader can open."""
    if not isinstance(value, list) or not value:
        raise _fail(path, where, "expected a non-empty list of {source, url}")
    citations = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"source", "url"}:
            raise _fail(path, f"{where}[{index}]", "expected a mapping with source and url")
        url = _text(path, f"{where}[{index}].url", item["url"])
        if not _URL.match(url):
            raise _fail(path, f"{where}[{index}].url", f"expected an http(s) URL, got {url!r}")
        citations.append(Citation(_text(path, f"{where}[{index}].source", item["source"]), url))
    return tuple(citations)


def _add_aliases(
    path: Path,
    where: str,
    targets: tuple[str, ...],
    spec: RangeSpec | _Pair,
    names: dict[str, tuple[str, ...]],
    abbreviations: dict[str, tuple[str, ...]],
) -> None:
    """Index the names (case-insensitive) and abbreviations (exact); a clash is an error."""
    for index, spellings, key_of in (
        (names, spec.names, _alias_key),
        (abbreviations, spec.abbreviations, str),
    ):
        for spelling in spellings:
            owner = index.setdefault(key_of(spelling), targets)
            if owner != targets:
                raise _fail(path, where, f"{spelling!r} is also a name of {'/'.join(owner)}")


@dataclass(frozen=True)
class _Pair:
    names: tuple[str, ...]
    abbreviations: tuple[str, ...]


def _add_pair(
    path: Path,
    key: str,
    pair: Any,
    tests: dict[str, RangeSpec],
    names: dict[str, tuple[str, ...]],
    abbreviations: dict[str, tuple[str, ...]],
) -> None:
    """A name written with two values ("BP 182/124"): first value to tests[0], second to [1]."""
    where = f"pairs.{key}"
    if not isinstance(pair, dict) or not pair.keys() <= _PAIR_KEYS or "tests" not in pair:
        raise _fail(path, where, "expected a mapping with tests (and names, abbreviations)")
    targets = _strings(path, f"{where}.tests", pair["tests"])
    if len(targets) != 2 or len(set(targets)) != 2 or not set(targets) <= tests.keys():
        raise _fail(path, f"{where}.tests", f"expected two different test keys, got {targets!r}")
    spelled = _Pair(
        names=_strings(path, f"{where}.names", pair.get("names")),
        abbreviations=_strings(path, f"{where}.abbreviations", pair.get("abbreviations")),
    )
    _add_aliases(path, where, targets, spelled, names, abbreviations)


def _loinc_index(path: Path, tests: dict[str, RangeSpec]) -> dict[str, str]:
    index: dict[str, str] = {}
    for spec in tests.values():
        for code in spec.loinc:
            owner = index.setdefault(code, spec.key)
            if owner != spec.key:
                raise _fail(path, f"tests.{spec.key}.loinc", f"{code} is also mapped to {owner}")
    return index


def _compile(
    names: dict[str, tuple[str, ...]], abbreviations: dict[str, tuple[str, ...]]
) -> re.Pattern[str]:
    """One alternation of every spelling, grouped by first letter and longest first.

    Grouping keeps the work per position small (a few dozen first letters, not hundreds of
    spellings); longest first makes "hemoglobin a1c" win over "hemoglobin".
    """
    groups: dict[str, list[tuple[int, str]]] = {}
    for spelling, exact in [(n, False) for n in names] + [(a, True) for a in abbreviations]:
        first, rest = _name_regex(spelling, exact=exact)
        groups.setdefault(spelling[0].casefold(), []).append((len(spelling), first + rest))
    alternation = "|".join(
        f"[{re.escape(letter)}{re.escape(letter.upper())}](?:"
        + "|".join(rest for _, rest in sorted(pieces, key=lambda piece: -piece[0]))
        + ")"
        for letter, pieces in sorted(groups.items())
    )
    return re.compile(rf"(?<![\w\-])(?P<name>{alternation}){_GAP}{_VALUE}")


def _name_regex(spelling: str, *, exact: bool) -> tuple[str, str]:
    """The check on the (already matched) first letter and the regex for the rest.

    A name must end at a word boundary; an abbreviation may run into its number ("HR69",
    "BP121/85", "T36.0"), as vitals are often written, but not into letters ("KCl", "Temp").
    """
    if exact:  # case-sensitive: the first letter is checked by looking back at it
        end = r"(?![A-Za-z_])" if spelling[-1].isalpha() else r"(?![^\W_])"
        return f"(?<={re.escape(spelling[0])})", re.escape(spelling[1:]) + end
    words = [re.escape(word) for word in spelling[1:].split(" ")]
    return "", "(?i:" + r"[ \t\-]{1,3}".join(words) + r")(?![^\W_])"
