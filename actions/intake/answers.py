"""Turn free-text intake answers into normalised values.

Patients answer "since tuesday", "a couple of weeks", "7/10" or "pretty bad"; the
next-steps table needs days and one of mild / moderate / severe.
"""

from __future__ import annotations

import re
from datetime import date

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "couple": 2, "a couple": 2, "a couple of": 2, "few": 3, "a few": 3, "several": 4,
    "half": 0.5, "a half": 0.5,
}  # fmt: skip
_UNIT_DAYS = {
    "min": 1 / 1440, "minute": 1 / 1440, "mins": 1 / 1440, "minutes": 1 / 1440,
    "h": 1 / 24, "hr": 1 / 24, "hrs": 1 / 24, "hour": 1 / 24, "hours": 1 / 24,
    "d": 1, "day": 1, "days": 1, "night": 1, "nights": 1,
    "wk": 7, "wks": 7, "week": 7, "weeks": 7, "fortnight": 14,
    "month": 30, "months": 30, "mth": 30, "mths": 30,
    "yr": 365, "yrs": 365, "year": 365, "years": 365,
}  # fmt: skip
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_FIXED_PHRASES = [
    (r"\b(just now|a moment ago|few minutes|minutes ago)\b", 0.01),
    (r"\b(this morning|this afternoon|this evening|tonight|today|earlier today)\b", 0.5),
    (r"\b(last night|yesterday|overnight)\b", 1.0),
    (r"\bday before yesterday\b", 2.0),
    (r"\b(last|past) week(end)?\b", 7.0),
    (r"\b(last|past) month\b", 30.0),
    (r"\b(ages|a long time|forever|years)\b", 365.0),
]
_QUANTITY = re.compile(
    r"(?P<num>\d+(?:[.,]\d+)?|a couple(?: of)?|couple|a few|few|several|a half|half|an?|"
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
    r"(?:\s+and\s+a\s+half)?\s*(?P<unit>minutes?|mins?|hours?|hrs?|h|days?|d|nights?|"
    r"weeks?|wks?|fortnight|months?|mths?|years?|yrs?)\b(?:\s+and\s+a\s+half)?"
)


def parse_duration(text: str, today: date | None = None) -> float | None:
    """Days since the symptom started, or None when the answer gives no duration."""
    low = text.lower().strip()[:200]
    match = _QUANTITY.search(low)
    if match:
        raw = match.group("num").replace(",", ".")
        number = float(raw) if raw[0].isdigit() else float(_NUMBER_WORDS[raw])
        if "and a half" in match.group(0):
            number += 0.5
        return round(number * _UNIT_DAYS[match.group("unit")], 3)
    for pattern, days in _FIXED_PHRASES[::-1]:
        if re.search(pattern, low):
            return days
    return _since_weekday(low, today or date.today())


def _since_weekday(low: str, today: date) -> float | None:
    """'since tuesday' -> days back to the most recent Tuesday (a week if it is today)."""
    for index, name in enumerate(_WEEKDAYS):
        if re.search(rf"\b({name}|{name[:3]})\b", low):
            back = (today.weekday() - index) % 7
            return float(back or 7)
    return None


_SEVERITY_PATTERNS = [
    ("mild", r"\bnot (that|too|so|very|really) (bad|severe)\b|\bnot severe\b"),
    ("severe", r"\b(severe|really bad|very bad|so bad|terrible|awful|unbearable|excruciating|"
               r"agony|agonising|agonizing|worst|extreme|horrendous|intense|killing me)\b"),
    ("moderate", r"\b(moderate|quite bad|pretty bad|fairly bad|medium|bad|bearable|"
                 r"manageable|in between|so-so)\b"),
    ("mild", r"\b(mild|slight|slightly|a bit|a little|minor|light|not bad|barely|niggle|ok)\b"),
]  # fmt: skip
_SCORE = re.compile(r"\b(10|[0-9])(?:\s*(?:/|out of|of)\s*10)?\b")


def parse_severity(text: str) -> str | None:
    """One of 'mild', 'moderate', 'severe' (0-3, 4-6, 7-10 on a 0-10 scale), or None."""
    low = text.lower().strip()[:200]
    for level, pattern in _SEVERITY_PATTERNS:
        if re.search(pattern, low):
            return level
    score = _SCORE.search(low)
    if score:
        value = int(score.group(1))
        return "mild" if value <= 3 else "moderate" if value <= 6 else "severe"
    return None
