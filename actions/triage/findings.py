"""Facts a triage nurse listens for, read from everything the patient has said so far.

Age, sex, pregnancy, risk factors, vital signs, duration and severity, each with the span it
came from (message number and offsets into the message as written). Negation, past and
hypothetical mentions use the red-flag detector's context rules (``healthbot.safety``: "no fever",
"not diabetic", "had a stroke years ago"); vital signs are read by the record analyzer's lab reader
(``actions.ehr.labs``: units, plausibility, refusing doses and dates), with a few lay phrasings it
does not cover ("38,5 degrees", "85 over 55", "my sugar was 60") read here.

The patterns run on the message lower-cased at its own offsets, not on the detector's normalised
text: that text splits numbers ("38.5" -> "38 . 5", "7/10" -> "7 10"). Context verdicts are asked
at the matching normalised offsets. Every pattern uses bounded quantifiers only, so each scan is
linear in the message length. Nothing here is logged.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from actions.ehr.labs import extract_from_text
from healthbot.safety.red_flags import default_detector

Span = tuple[int, int, int]  # (message number, start, end)
MAX_CHARS = 5000  # the detector reads no more of a message either
MAX_MENTIONS = 30  # mentions of one pattern judged per message: bounds the work on hostile text

# ---------------------------------------------------------------------------- numbers and units

_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                 "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
                 "twelve": 12, "couple of": 2, "few": 3, "a few": 3, "several": 3}  # fmt: skip
_NUM = (
    r"(\d{1,4}(?:\.\d{1,2})?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a few|few|"
    r"several|couple of)"
)
_UNIT_DAYS = {"minute": 1 / 1440, "min": 1 / 1440, "hour": 1 / 24, "hr": 1 / 24, "day": 1.0,
              "night": 1.0, "week": 7.0, "wk": 7.0, "month": 30.0, "year": 365.0}  # fmt: skip
_UNITS = r"(minute|min|hour|hr|day|night|week|wk|month|year)s?"


def _number(word: str) -> float:
    """A written number: digits or a word ("two", "a few")."""
    known = _WORD_NUMBERS.get(word.strip())
    return float(known) if known is not None else float(word.replace(",", "."))


def _days(count: str, unit: str) -> float:
    return _number(count) * _UNIT_DAYS[unit.rstrip("s")]


# ---------------------------------------------------------------------------- people and ages

_DAUGHTER = r"d(?:aughter|auhgter|augter|augther|aughther|uaghter|oughter|auther|aughtr)"
_PEOPLE = (
    rf"(?:sons?|{_DAUGHTER}s?|bab(?:y|ies)|child(?:ren)?|kids?|toddlers?|boys?|girls?|twins|"
    r"new ?born|infant|little one|dad|daddy|father|mum|mom|mummy|mommy|mother|husband|wife|"
    r"partner|boyfriend|girlfriend|fianc[eé]e?|brother|sister|grandfather|grandmother|"
    r"grand-?d?ad|grandpa|grandma|granny|nan|nana|grandson|granddaughter|grandchild|friend|"
    r"neighbou?r|flatmate|housemate|uncle|aunt(?:ie)?|cousin|nephew|niece|step(?:son|daughter|"
    r"dad|mum|mom)|colleague|patient)"
)
_AGE_NUM = (
    r"(?P<n>\d{1,3}(?:\.\d{1,2})?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
    r"twelve|an?)(?P<half> and a half)?"
)
_AGE_UNIT = r"(?P<unit>day|week|wk|month|mth|mo|year|yr)s?"
_AGE_SCALE = {"day": 1 / 365, "week": 1 / 52, "wk": 1 / 52, "month": 1 / 12, "mth": 1 / 12,
              "mo": 1 / 12, "year": 1.0, "yr": 1.0}  # fmt: skip
_SHORT_SEX = {"m": "male", "f": "female", "male": "male", "female": "female"}

# (pattern, strict): a strict pattern's number is an age only when no measurement follows it
# ("I'm 5'10", "she is 38 weeks pregnant", "I'm 80 kg"). Tried in order; the first age wins.
_AGE_SOURCES: tuple[tuple[str, bool], ...] = (
    # "45 year old F", "70 yo m"
    (r"(?<![\w.])(?P<age>(?P<n>\d{1,3})[- ]?(?:years?|yrs?|y/o|yo)(?:[- ]old)?,? (?P<sex>[mf]))"
     r"(?![\w'])", False),
    # "my 2.5 year old", "a 10-week-old", "my two-year-old", "28 years old"
    (rf"(?<![\w.])(?P<age>{_AGE_NUM}[- ]?{_AGE_UNIT}[- ]old)\b", False),
    # "17 y/o", "45yo", "60 years of age"
    (r"(?<![\w.])(?P<age>(?P<n>\d{1,3}) ?(?:y/o|y\.o\b|yoa?|years? of age))(?![a-z])", False),
    # "born 2 days ago"
    (rf"\b(?P<age>born {_AGE_NUM} {_AGE_UNIT} ago)\b", False),
    # "grandad (84)", "I (32M)", "my dad (84, diabetic)"
    (rf"\b(?:{_PEOPLE}|i|he|she) ?(?P<age>\((?P<n>\d{{1,3}}) ?(?P<sex>[mf])?[),])", False),
    # clinical shorthand "67M", "80F,", ", 23F", "F 29,"
    (r"(?:^|[(,;:] ?)(?P<age>(?P<n>\d{1,3}) ?(?P<sex>[mf]))(?![\w'])", False),
    (r"(?:\bi'?m |\bim |\bi am |\bis )(?P<age>(?P<n>\d{1,3})(?P<sex>[mf]))(?![\w'])", False),
    (r"(?:^|[(,;:] ?)(?P<age>(?P<sex>male|female|[mf]),? ?(?P<n>\d{1,3}))"
     r"(?=[,;:)]|$| (?:with|and|has|had|who|presents?)\b)", False),
    # "daughter 4 yrs, fever", "baby 6 weeks and not feeding"
    (rf"\b{_PEOPLE},? (?P<age>(?P<n>\d{{1,3}}) ?{_AGE_UNIT})(?=[,.;:!?)]|$| (?:old|and|with|has|"
     r"is|who)\b)", False),
    # "my daughter is 9 months", "my kid is 7", "she is 15", "he's 40", "I'm 72"
    (rf"(?:\b(?:my|our|the|his|her) (?:[a-z]+ )?{_PEOPLE}(?:,? (?:is|was|who is|just turned|"
     rf"turned|aged?)|'s)|\b(?:he|she)(?:'s|s| is| was)) (?:now |just |only |nearly |almost )?"
     rf"(?P<age>(?P<n>\d{{1,3}}(?:\.\d)?)(?P<half> and a half)?(?: ?{_AGE_UNIT}(?: old)?)?)", True),
    # "aged 3", "age 45", "age: 80"
    (rf"\b(?P<age>(?:aged?|age of|age:) ?(?P<n>\d{{1,3}})(?: ?{_AGE_UNIT}(?: old)?)?)", True),
    # "my 6 mo has a temp", "my 2yo won't eat"
    (r"\b(?:my|our) (?P<age>(?P<n>\d{1,2}(?:\.\d)?) ?(?P<unit>mo|mth|month|wk|week|yo|y/o|"
     r"yr)s?)(?= (?:has|had|is|was|keeps|won'?t|can'?t|isn'?t|hasn'?t|seems|feels|looks|"
     r"been|just|will|son|daughter|baby|boy|girl|twins)\b|[,.!?]|$)", False),
    (r"(?:\bi'?m|\bim|\bi am) (?:now |just |only |nearly |almost )?(?P<age>(?P<n>\d{1,3})"
     r"(?: ?(?:years?|yrs?)(?: old)?)?)", True),
)  # fmt: skip
AGE_PATTERNS = tuple((re.compile(source), strict) for source, strict in _AGE_SOURCES)
_NOT_AGE_AFTER = re.compile(
    r"(?:[\w'\"%/°]|[.,]\d| ?(?:kg|kilos?|st|stone|lbs?|pounds?|cm|ft|feet|foot|inch\w*|mmol|mg|"
    r"degrees?|deg|bpm|x|times|am|pm|o'?clock|c|f|weeks?|wks?|days?|months?|mos?|hours?|hrs?|"
    r"minutes?|mins?)\b"
    r"| (?:pregnant|pregant|pregnat|pregnent|gestation|along|postpartum|post|ago|overdue|late|"
    r"early|into|in|out|since|after|of|before)\b)"
)
_WRITER_BEFORE = re.compile(r"\b(?:i'?m|im|i am|i) ?\(?$")
_FOR_BEFORE = re.compile(r"\b(?:for|since|past|last|over)\s{0,3}$")
NEWBORN = re.compile(r"\bnew ?born\b")

MALE = re.compile(
    r"\b(?:man|male|boy|son|husband|boyfriend|fianc[eé]|father|dad|daddy|grandfather|grand-?d?ad|"
    r"grandpa|grandson|brother|nephew|uncle|step(?:son|dad)|he|his|him|gentleman|guy|bloke)\b"
)
FEMALE = re.compile(
    rf"\b(?:woman|female|girl|{_DAUGHTER}|wife|girlfriend|fianc[eé]e|mother|mum|mom|mummy|mommy|"
    r"grandmother|grandma|granny|nan|nana|granddaughter|sister|niece|aunt(?:ie)?|"
    r"step(?:daughter|mum|mom)|she|her|hers|lady|pregnant)\b"
)
THIRD_PERSON = re.compile(
    rf"\b(?:my|our) (?:little |eldest |youngest |oldest |elderly |baby |(?:\d{{1,2}}|two|three|"
    rf"four|five) )?{_PEOPLE}\b"
    rf"|\b(?:my|our) {_AGE_NUM}[- ]?{_AGE_UNIT}[- ]old\b"
    r"|\b(?:my|our) \d{1,2} ?(?:mo|mth|wk|yo|y/o)s?\b"
    rf"|^{_PEOPLE}\b"
    r"|\b(?:he'?s|she'?s|(?:he|she)(?:'ve|'ll|'d| (?:has|have|had|is|are|was|were|"
    r"keeps?|can'?t|cannot|won'?t|feels?|felt|seems?|looks?|fell|hit|got|gets|took|says?|"
    r"complains?|woke|started|doesn'?t|didn'?t|isn'?t|hasn'?t)))\b"
    r"|(?<!i am )(?<!i'm )(?<!\bim )\b(?:an?) \d{1,3}[- ]?(?:year|month|week|day)s?[- ]?old\b"
    r"|^(?:an? )?\d{1,2}[- ]?(?:year|month|week|day)s?[- ]?old\b|\b(?:patient|pt)\b"
)
_FETAL = re.compile(r"(?:'?s)? (?:[\w']+ ){0,5}?(?:mov(?:ing|ed|es|ements?)|kick\w*)\b")
_SELF_SEX = tuple(
    re.compile(pattern)
    for pattern in (
        r"\b(?:i'?m|im|i am) an? (?:[\w-]+ ){0,3}?(?P<sex>man|woman|male|female|guy|lady|bloke)\b",
        r"(?:y/o|yo|years? old|yrs? old),? (?P<sex>male|female|man|woman)\b",
        r"^(?P<sex>male|female)\b",
    )
)
_SEX_WORDS = {"man": "male", "male": "male", "guy": "male", "bloke": "male",
              "woman": "female", "female": "female", "lady": "female"}  # fmt: skip
CHILD = re.compile(
    rf"\b(?:bab(?:y|ies)|infants?|new ?borns?|toddlers?|child(?:ren)?|kids?|sons?|{_DAUGHTER}s?|"
    r"boys?|girls?|twins|little one|grandsons?|granddaughters?|grandchild(?:ren)?)\b"
)
_NOT_A_CHILD_NOW = re.compile(r"(?:\bas an?|\bwhen i was an?|\blike an?|\badult|\bgrown[ -]up) $")

# ---------------------------------------------------------------------------- pregnancy

PREGNANT = re.compile(
    r"\b(?:pregnant|pregant|pregnat|pregnent|prenant|preggers|preggo)\b"
    r"|\bexpecting (?:a baby|twins|my first|our first)\b|\b\d{1,2} ?(?:weeks?|wks?) gestation\b"
    r"|\b(?:i'?m|im|i am|she'?s|she is|we'?re|we are|(?:wife|partner|girlfriend|daughter) is) "
    r"due (?:in|on|next|any|this|tomorrow|today|soon)\b"
    r"|\bpositive pregnancy test\b|\bpregnancy test (?:was |is |came back |came up )?positive\b"
    r"|\b(?:my|her|this|current) (?:first |second |third |current )?pregnancy\b(?! test)"
    # "I'm 32 weeks": the writer is not 32 weeks old
    r"|\b(?:i'?m|im|i am) \d{1,2} ?(?:weeks?|wks?)\b(?! (?:old|post|postpartum|ago|into|in|out|"
    r"after|since|of|late|overdue)\b)"
)
NOT_PREGNANT = re.compile(
    r"\bnegative pregnancy test\b|\bpregnancy test (?:was |is |came back |came up )?negative\b"
)
_UNSURE = re.compile(
    r"\b(?:could|might|may|maybe|possibly|perhaps|wonder\w*|not sure|unsure|whether|chance|"
    r"worried|afraid|scared|test(?:ing)? for)\b"
)
_ASKS = re.compile(r"(?:could|can|am|are|is|might|may|would|will|do|does|did|should|how|what)\b")

# ---------------------------------------------------------------------------- risks


def _terms(words: Iterable[str]) -> re.Pattern[str]:
    """Whole-word alternation; a written space also matches a hyphen ("long-term", "a-fib")."""
    spaced = [re.sub(r"(?<!\[) (?![?*+{])", "[ -]", word) for word in words]
    return re.compile(r"(?<![\w-])(?:" + "|".join(spaced) + r")(?![\w-])")


# Conditions: a past mention still counts ("had a heart attack last year", "transplant in 2019").
RISK_PATTERNS: dict[str, re.Pattern[str]] = {
    name: _terms(words)
    for name, words in {
        "diabetes": ["diabet\\w*", "t[12]dm", "iddm", "niddm",
                     "type ?(?:1|2|one|two)(?= ?(?:$|[,.;!?)]|and\\b|diabet|dm\\b))"],
        "immunosuppressed": ["immuno\\w*suppress\\w*", "immunocompromised", "transplant\\w*",
                             "neutropeni\\w*", "low immune system", "weak immune system",
                             "hiv(?! negative)",
                             "no spleen", "asplenia"],
        "heart_disease": ["heart (?:disease|condition|problems?|failure|attacks?)", "angina",
                          "previous mi", "ihd", "cad", "coronary", "stent\\w*", "bypass",
                          "pacemaker", "atrial fibrillation", "a[ -]?fib", "af", "cardiomyopathy"],
        "lung_disease": ["copd", "emphysema", "asthma\\w*", "bronchiectasis",
                         "lung (?:disease|condition)", "cystic fibrosis", "pulmonary fibrosis",
                         "chronic bronchitis"],
        "kidney_disease": ["kidney (?:disease|failure|problems?)", "ckd", "dialysis",
                           "renal (?:failure|disease|impairment)"],
    }.items()
}  # fmt: skip
# Treatments: count only while taken; a stopped or past one is not a current risk.
TREATMENT_PATTERNS: dict[str, re.Pattern[str]] = {
    name: _terms(words)
    for name, words in {
        "diabetes": ["insulin", "metformin", "gliclazide"],
        "immunosuppressed": ["chemo\\w*", "on steroids", "(?:long term|regular|daily|high dose|"
                             "maintenance) (?:oral )?(?:steroids|prednisolone|prednisone|"
                             "dexamethasone)", "on (?:oral )?(?:prednisolone|prednisone)",
                             "methotrexate", "azathioprine", "mycophenolate", "tacrolimus",
                             "ciclosporin", "cyclosporine", "adalimumab", "infliximab",
                             "rituximab", "biologics?"],
        "anticoagulant": ["warfarin", "apixaban", "eliquis", "rivaroxaban", "xarelto",
                          "dabigatran", "pradaxa", "edoxaban", "lixiana", "heparin", "enoxaparin",
                          "clexane", "dalteparin", "fragmin", "blood thinners?", "anticoagula\\w*",
                          "coumadin"],
    }.items()
}  # fmt: skip
_RISK_NAMES = (*RISK_PATTERNS, "anticoagulant", "recent_surgery")
Heard = Iterator[tuple[str | None, tuple[int, int]]]  # ("yes" / "no" / None, span) per mention
_TREATMENT_IS_THE_RISK = frozenset({"anticoagulant"})  # "stopped warfarin": the risk is gone
_STOPPED_BEFORE = re.compile(
    r"\b(?:stopped|stopping|stop|quit|came off|come off|coming off|taken off|been off|no longer|"
    r"used to|(?:i'?m|im|am|is|are|was|he'?s|she'?s) off)(?: (?:taking|using|on|the|my|his|her|"
    r"be on|take|have|having)){0,3} ?$"
)
_STOPPED_AFTER = re.compile(r"\W{0,3}(?:was |were |has been |had been |got |been )?"
                            r"(?:stopped|discontinued)\b")  # fmt: skip
_SINCE = re.compile(r"\bsince\b")
_FAMILY = re.compile(r"\bfamily (?:history|hx)\b|\bruns in (?:my|the|our) family\b")

SURGERY = re.compile(
    r"\b(?:operations?|surgery|surgeries|op|post[ -]?op\w*|c[ -]?section|caesarean|cesarean|"
    r"(?:hip|knee|joint|shoulder) replacement|\w{3,20}ectomy|hernia repair|keyhole|"
    r"laparoscop\w*|arthroscop\w*|transplant|had (?:my|his|her|an?|the) (?:[\w-]+ ){0,2}?"
    r"(?:out|removed|taken out))\b"
)
_RECENT_CUE = re.compile(
    r"\b(?:recent(?:ly)?|just had|post[ -]?op\w*|(?:after|since|following) (?:my|his|her|the|an?|"
    r"their) (?:[\w-]+ )?(?:operation|surgery|op))\b"
)
_HAD_BEFORE = re.compile(r"\bhad (?:an? |some )?$")  # "had surgery", with no past context
_WHEN_AFTER = re.compile(
    rf"[^.;!?\n]{{0,40}}?\b(?:{_NUM} {_UNITS} ago|last (?P<last>week|month|year)"
    r"|(?P<fixed>yesterday|today|this morning|last night|the other day|at the weekend|"
    r"on (?:mon|tues|wednes|thurs|fri|satur|sun)day)"
    r"|(?P<old>(?:many |a few |several |some )?years ago|when i was|as an? (?:child|kid|teen\w*|"
    r"baby)|in (?:19|20)\d\d))\b"
)
_WHEN_BEFORE = re.compile(
    rf"\b{_NUM} {_UNITS} (?:(?:after|since|post|out from|from|following) )?(?:[\w-]+ ){{0,2}}$"
)
_FIXED_DAYS = {"yesterday": 1.0, "today": 0.0, "this morning": 0.0, "last night": 1.0,
               "the other day": 3.0, "at the weekend": 4.0, "week": 7.0, "month": 30.0,
               "year": 365.0}  # fmt: skip
RECENT_DAYS = 28  # an operation or a past treatment counts for 4 weeks

# ---------------------------------------------------------------------------- vital signs

_VITAL_NAMES = {
    "temperature": "temperature_c", "heart_rate": "heart_rate",
    "respiratory_rate": "respiratory_rate", "systolic_bp": "systolic_bp",
    "diastolic_bp": "diastolic_bp", "spo2": "spo2", "glucose": "glucose_mmol",
}  # fmt: skip
_DEC = r"\d{1,3}(?:[.,]\d{1,2})?"
_NOT_A_READING = (  # what follows a number that is a dose, a count or a time, not a reading
    r"(?![\d/%]|[.,]\d| ?(?:hours?|hrs?|days?|weeks?|mins?|minutes?|times|x\b|mg\b|ml\b|kg\b|"
    r"units?\b|spoons?|teaspoons?|tsp|cubes?|g\b|grams?|am\b|pm\b|(?:a|per) day))"
)
_TEMPERATURE = (
    re.compile(  # "temp 39", "fever of 40 degrees", "thermometer says 101", "temprature of 39.5"
        r"\b(?:temps?|temperature|temprature|tempreture|temperture|fever|thermometer)\b"
        rf"[^\d.,;!?\n]{{0,20}}?(?P<n>{_DEC}){_NOT_A_READING} ?(?:[°º]|degrees?|deg)? ?"
        r"(?P<unit>celsius|fahrenheit|c|f)?(?![a-z])"
    ),
    re.compile(  # "38,5 degrees", "39C", "101.2 °F"
        rf"(?<![\d.,])(?P<n>{_DEC}) ?(?=[°º]|deg|c\b|f\b|celsius|fahrenheit)(?:[°º]|degrees?|deg)?"
        r" ?(?P<unit>celsius|fahrenheit|c|f)?(?![a-z])"
    ),
    re.compile(  # "38.3 under the arm", "37.9 in his ear"
        rf"(?<![\d.,])(?P<n>{_DEC}) ?(?:[°º]|degrees?)? ?(?P<unit>c|f)? (?:under (?:the|his|her|"
        r"my|their) arm|in (?:the|his|her|my|their) (?:ear|mouth|armpit)|(?:under the )?armpit|"
        r"axillary|orally|tympanic|rectal(?:ly)?)\b"
    ),
)
_HEART_RATE = (
    re.compile(
        r"\b(?:hr|pulse(?: rate)?|heart ?rate|heartbeat|heart beat)\b(?: is| was| of| at| =|:)?"
        rf"(?: about| around| like)? ?(?P<n>\d{{2,3}}){_NOT_A_READING}"
    ),
    re.compile(r"(?<![\d.])(?P<n>\d{2,3}) ?(?:bpm|beats (?:a|per) min(?:ute)?)\b"),
)
_RESPIRATORY_RATE = (
    re.compile(
        r"\b(?:rr|resps?|resp(?:iratory)? rate|respirations?|breathing rate)\b(?: is| was| of| at|"
        rf" =|:)? ?(?P<n>\d{{1,2}}){_NOT_A_READING}"
    ),
    re.compile(
        r"\bbreath\w{0,6}[^\d.;!?\n]{0,20}?(?P<n>\d{1,2}) ?(?:times|breaths)? ?(?:a|per|/|each) ?"
        r"min(?:ute)?\b"
    ),
    re.compile(r"(?<![\d.])(?P<n>\d{1,2}) breaths (?:a|per|/) ?min(?:ute)?\b"),
)
_BLOOD_PRESSURE = (
    re.compile(
        r"\b(?:bp|b/p|blood pressures?|pressure)\b[^\d.;!?\n]{0,24}?(?P<n>\d{2,3}) ?(?:/|over) ?"
        r"(?P<n2>\d{2,3})(?![\d/])"
    ),
)
_SPO2 = (
    re.compile(
        r"\b(?P<trig>oxygen|o2|sats?|saturations?|spo2|sp02|pulse ?ox\w{0,6}|oximeter)\b"
        r"[^\d.,;!?\n]{0,20}?(?P<n>\d{2,3}) ?(?P<pct>%|percent)?(?![\d.])"
    ),
)
_GLUCOSE = (
    re.compile(
        r"\b(?:(?:blood |my |his |her |the )?sugars?(?: levels?| readings?)?|bm|bg|glucose)\b"
        rf"[^\d.,;!?\n]{{0,16}}?(?P<n>{_DEC}) ?(?P<unit>mmol(?:/l)?|mg/?dl|mg%)?(?![a-z])"
        + _NOT_A_READING
    ),
)

# ---------------------------------------------------------------------------- duration, severity

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
# "been on edoxaban for a year", "diabetic for 10 years", "born 2 days ago": not the complaint
_NOT_THE_COMPLAINT = re.compile(
    r"\b(?:born|(?:on|taking|started|using) (?:the |my |his |her )?(?:[\w-]+ )?(?:tablets?|"
    r"pills?|meds|medications?|medicines?|antibiotics|inhalers?|injections?))\W{0,3}$"
)
_JUST_BEFORE = re.compile(r"[\s,]{0,3}(?:(?:was|were|is|started|began) )?")
SEVERITY_NUMBER = (
    re.compile(r"(?<![\d./])(?P<n>10|\d)(?:\.5)? ?(?:/|out of) ?10\b(?!/)"),
    re.compile(r"\bpain (?:score|level|rating|scale)(?: is| was| of| at| =|:)? ?(?P<n>10|\d)"
               r"(?![\d.])"),
)  # fmt: skip
SEVERITY_WORDS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"\b(?:worst (?:[a-z]+ ){0,3}?(?:ever|of my life|i'?ve ever had|i have ever had)|"
                r"the worst (?:pain|headache|ache)|unbearable|excruciating|agony|agonising|"
                r"agonizing|severe|really bad|very bad|terrible|awful|horrendous)\b"), 8),
    (re.compile(r"\b(?:moderate|quite bad|pretty bad|fairly bad)\b"), 5),
    (re.compile(r"\b(?:mild|slight|a bit|a little|minor|not too bad|niggl\w*)\b"), 3),
)  # fmt: skip

_CLAUSE_BREAK = re.compile(
    r"[,;:!?()\n]|\.(?!\d)|\b(?:and|but|or|however|although|though|whereas|while)\b"
)
_SENTENCE_BREAK = re.compile(r"[!?;\n]|\.(?!\d)")
_APOSTROPHES = str.maketrans("’‘`´", "''''")


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


def _lower(raw: str) -> str:
    """Lower case with one apostrophe, keeping every offset (a few letters grow when lowered)."""
    lowered = raw.lower()
    if len(lowered) != len(raw):
        lowered = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in raw)
    return lowered.translate(_APOSTROPHES)


def _norm_span(norm: Any, start: int, end: int) -> tuple[int, int]:
    """The normalised-text range of the tokens that ``[start, end)`` of the message covers."""
    spans = norm.spans
    first = bisect_right(spans, start, key=lambda span: span[1])
    if first >= len(spans):
        return len(norm.text), len(norm.text)
    last = max(first, bisect_left(spans, end, key=lambda span: span[0]) - 1)
    stop = norm.starts[last + 1] - 1 if last + 1 < len(spans) else len(norm.text)
    return norm.starts[first], stop


def _mentions(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """The first ``MAX_MENTIONS`` matches (each may cost a context look-up)."""
    return islice(pattern.finditer(text), MAX_MENTIONS)


def _bounds(breaks: re.Pattern[str], text: str, start: int, end: int) -> tuple[int, int]:
    """The stretch around ``[start, end)`` between two breaks (looking 200 characters each way)."""
    left = max(0, start - 200)
    before = [m.end() for m in breaks.finditer(text, left, start)]
    after = breaks.search(text, end, min(len(text), end + 200))
    return (before[-1] if before else left), (after.start() if after else min(len(text), end + 200))


class _Message:
    """One message as the patterns read it, with the detector's verdicts at its offsets."""

    def __init__(self, number: int, raw: str, contexts: Callable[[str], Any]) -> None:
        self.number, self.raw, self.text = number, raw, _lower(raw)
        self._contexts = contexts
        self.norm, self.context = contexts(raw)

    def span(self, start: int, end: int) -> Span:
        return (self.number, start, end)

    def suppression(self, start: int, end: int) -> str | None:
        """Negated, historical, hypothetical or a general question (the whole message's rules)."""
        return self.context.suppression(*_norm_span(self.norm, start, end))

    def clause(self, start: int, end: int) -> tuple[int, int]:
        return _bounds(_CLAUSE_BREAK, self.text, start, end)

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        return _bounds(_SENTENCE_BREAK, self.text, start, end)

    def clause_suppression(self, start: int, end: int) -> str | None:
        """The same rules inside the clause only: "denies chest pain, HR 88" keeps the HR. A
        clause holds no trigger the message lacks, so only a flagged mention is looked at again."""
        if self.suppression(start, end) is None:
            return None
        left, right = self.clause(start, end)
        norm, context = self._contexts(self.text[left:right])
        return context.suppression(*_norm_span(norm, start - left, end - left))


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
                self._read_one(_Message(number, message[:MAX_CHARS], self.context), found)
        return found

    def _read_one(self, message: _Message, found: Findings) -> None:
        readings = _vitals(message, found)
        third = _third_person(message.text)
        shorthand_sex = _age(message, readings, third is not None, found)
        _people(message, third, shorthand_sex, found)
        _pregnancy(message, found)
        _risks(message, found)
        _duration(message, found)
        _severity(message, found)


# ---------------------------------------------------------------------------- age and people


def _age(
    message: _Message, readings: list[tuple[int, int]], about_other: bool, found: Findings
) -> str | None:
    """The first age the patterns find; returns the sex of clinical shorthand ("67M") when the
    age came from it. A number read as a vital sign is not an age, nor is the writer's own age
    when the message is about someone else ("I'm 45, my son has a fever")."""
    text = message.text
    for pattern, strict in AGE_PATTERNS:
        for match in _mentions(pattern, text):
            start, end = match.span("age")
            years = _years(match, text, strict)
            if years is None or any(s < end and start < e for s, e in readings):
                continue
            if about_other and _WRITER_BEFORE.search(text, max(0, start - 8), start):
                continue
            found.age_years = round(years, 3)
            found.spans["age"] = message.span(start, end)
            return _SHORT_SEX.get(match.groupdict().get("sex") or "")
    if found.age_years is None and (match := NEWBORN.search(text)):
        found.age_years = 0.02
        found.spans["age"] = message.span(*match.span())
    return None


def _years(match: re.Match[str], text: str, strict: bool) -> float | None:
    """The age in years, or None where the number is a duration or a measurement."""
    start, end = match.span("age")
    if _FOR_BEFORE.search(text, max(0, start - 12), start):
        return None  # "for 3 years": a duration
    if strict and _NOT_AGE_AFTER.match(text, end):
        return None
    unit = match.groupdict().get("unit") or "year"
    if unit in ("yo", "y/o"):
        unit = "year"
    number = _number(match.group("n"))
    if strict and "." in match.group("n") and match.groupdict().get("unit") is None:
        return None  # "she is 38.5": a temperature, not an age
    if match.groupdict().get("half"):
        number += 0.5
    years = number * _AGE_SCALE[unit]
    return years if 0 <= years <= 120 else None


def _people(
    message: _Message, third: re.Match[str] | None, shorthand_sex: str | None, found: Findings
) -> None:
    """Whether the patient is someone else (``third``: the first sign of it), a child, and the
    patient's sex."""
    text = message.text
    if third:
        found.third_person = True
    if any(
        not _NOT_A_CHILD_NOW.search(text, max(0, m.start() - 16), m.start())
        for m in _mentions(CHILD, text)
    ) and not re.search(r"\b(?:adult|grown[ -]up) (?:son|daughter)s?\b", text):
        found.child = True
    sex = shorthand_sex or (_scope_sex(text[third.start() :]) if third else _self_sex(text))
    if sex:
        found.sex = sex


def _third_person(text: str) -> re.Match[str] | None:
    """The first sign the patient is someone else; a baby whose movements are described is
    still in the womb ("baby hasn't been moving much, I'm 32 weeks")."""
    for match in _mentions(THIRD_PERSON, text):
        if not (match.group().endswith("baby") and _FETAL.match(text, match.end())):
            return match
    return None


def _self_sex(text: str) -> str | None:
    """The writer's own sex when stated ("I am a 45 year old woman", "17 y/o male")."""
    for pattern in _SELF_SEX:
        if match := pattern.search(text):
            return _SEX_WORDS[match.group("sex")]
    return None


def _scope_sex(scope: str) -> str | None:
    """The first sexed word about the person the text is about ("my son", "she")."""
    male, female = MALE.search(scope), FEMALE.search(scope)
    if male and (not female or male.start() < female.start()):
        return "male"
    return "female" if female else None


# ---------------------------------------------------------------------------- pregnancy


def _pregnancy(message: _Message, found: Findings) -> None:
    """Pregnant (True), said not to be (False), or unknown: a question or doubt says nothing,
    and within one message a pregnancy stated wins over one denied."""
    said: tuple[bool, tuple[int, int]] | None = None
    for match in _mentions(NOT_PREGNANT, message.text):
        said = (False, match.span())
    for match in _mentions(PREGNANT, message.text):
        verdict = message.suppression(*match.span())
        if verdict == "negated" and said is None:
            said = (False, match.span())
        elif verdict is None and not _unsure(message, *match.span()):
            said = (True, match.span())
            break
    mentioned = said is not None or PREGNANT.search(message.text) is not None
    if mentioned and (found.sex is None or (said and said[0])):
        found.sex = "female"
    if said is not None:
        found.pregnant = said[0]
        found.spans["pregnant"] = message.span(*said[1])


def _unsure(message: _Message, start: int, end: int) -> bool:
    """ "could I be pregnant?", "might be pregnant", "not sure if she's pregnant"."""
    left, right = message.clause(start, end)
    if _UNSURE.search(message.text, left, start):
        return True
    asked = right < len(message.text) and message.text[right] == "?"
    return asked and _ASKS.match(message.text[left:right].strip()) is not None


# ---------------------------------------------------------------------------- risks


def _risks(message: _Message, found: Findings) -> None:
    """Each risk stated now is added; one denied (or an anticoagulant stopped) is taken away.
    Within a message a risk stated wins over one denied."""
    for name in _RISK_NAMES:
        if name == "recent_surgery":
            heard = list(_surgery_verdicts(message))
        else:
            heard = [*_condition_verdicts(message, name), *_treatment_verdicts(message, name)]
        yes = next((span for verdict, span in heard if verdict == "yes"), None)
        if yes is not None:
            found.risks.add(name)
            found.spans[f"risk:{name}"] = message.span(*yes)
        elif any(verdict == "no" for verdict, _ in heard):
            found.risks.discard(name)


def _condition_verdicts(message: _Message, name: str) -> Heard:
    """A condition counts when current or past ("history of asthma"), not in family history."""
    pattern = RISK_PATTERNS.get(name)
    for match in _mentions(pattern, message.text) if pattern else ():
        verdict = message.suppression(*match.span())
        if verdict == "negated":
            yield "no", match.span()
        elif verdict in (None, "historical") and not _family(message, *match.span()):
            yield "yes", match.span()


def _treatment_verdicts(message: _Message, name: str) -> Heard:
    """A treatment counts while it is taken or was in the last 4 weeks; a denied or stopped
    anticoagulant takes its risk away."""
    pattern = TREATMENT_PATTERNS.get(name)
    for match in _mentions(pattern, message.text) if pattern else ():
        start, end = match.span()
        verdict = message.suppression(start, end)
        if verdict == "negated" or _stopped(message, start, end):
            yield ("no" if name in _TREATMENT_IS_THE_RISK else None), match.span()
        elif verdict in (None, "historical"):
            yield "yes", match.span()


def _stopped(message: _Message, start: int, end: int) -> bool:
    """ "stopped warfarin", "no longer on it", "warfarin was stopped", "on warfarin in 2019"
    (past, and over 4 weeks ago); "since" keeps it current ("heparin since my op last week")."""
    left, right = message.clause(start, end)
    text = message.text
    if _STOPPED_BEFORE.search(text, max(left, start - 40), start):
        return True
    if _STOPPED_AFTER.match(text, end):
        return True
    if _SINCE.search(text, end, right) or message.clause_suppression(start, end) != "historical":
        return False
    days = _days_since(message, start, end)  # "last chemo was 8 days ago" still counts
    return days is None or days > RECENT_DAYS


def _family(message: _Message, start: int, end: int) -> bool:
    left, right = message.sentence(start, end)
    return _FAMILY.search(message.text, left, right) is not None


def _surgery_verdicts(message: _Message) -> Heard:
    """An operation counts when it was in the last four weeks; with no time said, only when
    called recent ("just had", "post-op", "had surgery" without a past context)."""
    for match in _mentions(SURGERY, message.text):
        verdict = message.suppression(*match.span())
        if verdict == "negated":
            yield "no", match.span()
            continue
        if verdict in ("hypothetical", "general question"):
            continue
        days = _days_since(message, *match.span())
        if days is None:
            recent = _RECENT_CUE.search(message.text, *message.sentence(*match.span())) or (
                verdict is None and _had_surgery(message, match)
            )
        else:
            recent = days <= RECENT_DAYS
        yield ("yes" if recent else None), match.span()


def _had_surgery(message: _Message, match: re.Match[str]) -> bool:
    if match.group() not in ("operation", "surgery", "op"):
        return False
    return _HAD_BEFORE.search(message.text, max(0, match.start() - 12), match.start()) is not None


def _days_since(message: _Message, start: int, end: int) -> float | None:
    """How long ago the event at ``[start, end)`` was, from the time words nearest to it."""
    text = message.text
    left, right = message.sentence(start, end)
    if after := _WHEN_AFTER.match(text, end, right):
        if after.group("old"):
            return 365.0
        if after.group(1):
            return _days(after.group(1), after.group(2))
        return _FIXED_DAYS.get(after.group("last") or after.group("fixed"), 4.0)  # "on monday"
    if before := _WHEN_BEFORE.search(text, max(left, start - 40), start):
        return _days(before.group(1), before.group(2))
    return None


# ---------------------------------------------------------------------------- vital signs


def _vitals(message: _Message, found: Findings) -> list[tuple[int, int]]:
    """Vital signs of this message (the lab reader first, lay phrasings for what it missed);
    a value denied in its own clause is dropped. Returns the spans read."""
    read: dict[str, tuple[float, int, int]] = {}
    for value in extract_from_text(message.raw)[:MAX_MENTIONS]:
        name = _VITAL_NAMES.get(value.test)
        if name is None or value.start is None:
            continue
        end = value.end or value.start
        if message.clause_suppression(value.start, end) != "negated":
            amount = value.value / 18.0 if name == "glucose_mmol" else value.value
            read[name] = (round(amount, 1), value.start, end)
    for names, patterns, convert in _LAY_READERS:
        if not any(name in read for name in names):
            read.update(_lay_reading(message, names, patterns, convert))
    for name, (amount, start, end) in read.items():
        found.vitals[name] = amount
        found.spans[name] = message.span(start, end)
    return [(start, end) for _, start, end in read.values()]


_AMBIENT = re.compile(  # the weather or a room, not the patient: "40 degrees outside"
    r"\b(?:outside|outdoors|out there|heat ?wave|weather|in the sun|room|indoors|in here|"
    r"in the house|air|water|bath|oven|degree heat|heat)\b"
)


def _ambient(text: str, start: int, end: int) -> bool:
    """A temperature that describes the surroundings, said just before or after the number."""
    return bool(_AMBIENT.search(text, max(0, start - 24), start)) or bool(
        _AMBIENT.search(text[end : end + 24])
    )


def _lay_reading(
    message: _Message,
    names: tuple[str, ...],
    patterns: tuple[re.Pattern[str], ...],
    convert: Callable[[re.Match[str]], tuple[float, ...] | None],
) -> dict[str, tuple[float, int, int]]:
    """The first plausible, undenied lay reading of these vital signs."""
    for pattern in patterns:
        for match in _mentions(pattern, message.text):
            values = convert(match)
            if values is None or message.clause_suppression(*match.span()) == "negated":
                continue
            if "temperature_c" in names and _ambient(message.text, *match.span()):
                continue
            return {name: (value, *match.span()) for name, value in zip(names, values, strict=True)}
    return {}


def _celsius(match: re.Match[str]) -> tuple[float, ...] | None:
    """°C; a bare number is °C at 34-43 and °F at 93-110."""
    value = float(match.group("n").replace(",", "."))
    unit = (match.group("unit") or "")[:1]
    if unit == "f" or (not unit and 93 <= value <= 110):
        value = (value - 32) * 5 / 9
    elif not unit and not 34 <= value <= 43:
        return None
    return (round(value, 1),) if 30 <= value <= 45 else None


def _within(low: float, high: float) -> Callable[[re.Match[str]], tuple[float, ...] | None]:
    def convert(match: re.Match[str]) -> tuple[float, ...] | None:
        value = float(match.group("n"))
        return (value,) if low <= value <= high else None

    return convert


def _pressure(match: re.Match[str]) -> tuple[float, ...] | None:
    systolic, diastolic = float(match.group("n")), float(match.group("n2"))
    if 50 <= systolic <= 300 and 20 <= diastolic <= 200 and systolic > diastolic:
        return systolic, diastolic
    return None


def _saturation(match: re.Match[str]) -> tuple[float, ...] | None:
    """A percentage, or a bare number after a saturation word ("sats 94", not "oxygen 2")."""
    value = float(match.group("n"))
    if not match.group("pct") and match.group("trig") in ("oxygen", "o2"):
        return None
    return (value,) if 50 <= value <= 100 else None


def _glucose(match: re.Match[str]) -> tuple[float, ...] | None:
    """mmol/L; mg/dL / 18, and a bare value above 35 is mg/dL."""
    value = float(match.group("n").replace(",", "."))
    unit = match.group("unit") or ""
    if unit.startswith("mg") or (not unit and value > 35):
        value /= 18
    return (round(value, 1),) if 0.5 <= value <= 60 else None


_LAY_READERS: tuple[
    tuple[tuple[str, ...], tuple[re.Pattern[str], ...], Callable[..., tuple[float, ...] | None]],
    ...,
] = (
    (("temperature_c",), _TEMPERATURE, _celsius),
    (("heart_rate",), _HEART_RATE, _within(20, 250)),
    (("respiratory_rate",), _RESPIRATORY_RATE, _within(3, 80)),
    (("systolic_bp", "diastolic_bp"), _BLOOD_PRESSURE, _pressure),
    (("spo2",), _SPO2, _saturation),
    (("glucose_mmol",), _GLUCOSE, _glucose),
)

# ---------------------------------------------------------------------------- duration, severity


def _duration(message: _Message, found: Findings) -> None:
    """How long the complaint has lasted; a time attached to a medicine, a condition, an
    operation or a birth ("on edoxaban for a year") is not the complaint's."""
    for pattern, fixed in DURATION_PATTERNS:
        for match in _mentions(pattern, message.text):
            if fixed is None and _attached(message, match):
                continue
            days = _counted_days(match) if fixed is None else fixed
            found.duration_days = round(days, 3)
            found.spans["duration"] = message.span(*match.span())
            return


def _counted_days(match: re.Match[str]) -> float:
    """Days from a "<number> <unit>" duration match ("for the past 48 hours")."""
    groups = [g for g in match.groups() if g and g.strip() not in ("the", "past", "last")]
    return _days(groups[-2], groups[-1])


def _attached(message: _Message, match: re.Match[str]) -> bool:
    """The time belongs to a risk term, treatment, operation or birth written just before it
    ("diabetic for 10 years", "born 2 days ago"); an operation dates an "<n> ago" anywhere
    before it in the clause ("had a knee replacement on that side 3 weeks ago")."""
    start = match.start()
    left, _ = message.clause(start, start)
    tail_start = max(left, start - 30)
    text = message.text
    if _NOT_THE_COMPLAINT.search(text, tail_start, start):
        return True
    if match.group().endswith(" ago") and SURGERY.search(text, left, start):
        return True
    patterns = (*RISK_PATTERNS.values(), *TREATMENT_PATTERNS.values(), SURGERY)
    return any(
        _JUST_BEFORE.fullmatch(text, found.end(), start)
        for pattern in patterns
        for found in pattern.finditer(text, tail_start, start)
    )


def _severity(message: _Message, found: Findings) -> None:
    """A pain score ("7/10", "pain score 4") or the strongest undenied severity word."""
    for pattern in SEVERITY_NUMBER:
        if match := pattern.search(message.text):
            found.severity = int(match.group("n"))
            found.spans["severity"] = message.span(*match.span())
            return
    for pattern, level in SEVERITY_WORDS:
        for match in _mentions(pattern, message.text):
            if message.suppression(*match.span()) is None:
                found.severity = level
                found.spans["severity"] = message.span(*match.span())
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
