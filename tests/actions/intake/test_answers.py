from datetime import date

import pytest

from actions.intake.answers import parse_duration, parse_severity

WEDNESDAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("3 days", 3.0),
        ("about 2 hrs", 0.083),
        ("a couple of weeks", 14.0),
        ("a week and a half", 10.5),
        ("since yesterday", 1.0),
        ("since this morning", 0.5),
        ("for ages", 365.0),
        ("2,5 days", 2.5),
        ("since monday", 2.0),
        ("since wednesday", 7.0),
        ("a month", 30.0),
        ("dunno", None),
        ("", None),
    ],
)
def test_parse_duration(text, days):
    assert parse_duration(text, today=WEDNESDAY) == days


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("mild", "mild"),
        ("not too bad", "mild"),
        ("pretty bad", "moderate"),
        ("really bad", "severe"),
        ("its killing me", "severe"),
        ("7/10", "severe"),
        ("5 out of 10", "moderate"),
        ("2", "mild"),
        ("purple", None),
    ],
)
def test_parse_severity(text, level):
    assert parse_severity(text) == level


def test_hostile_input_is_bounded():
    assert parse_duration("9" * 50_000) is None
    assert parse_severity("\x00\xff" * 10_000) is None
