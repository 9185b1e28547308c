"""JSON from outside: a body nested thousands of levels deep is refused, not a RecursionError."""

from __future__ import annotations

import json

import pytest

from healthbot import jsonsafe


@pytest.mark.parametrize(
    ("text", "expected"),
    [("{}", 1), ('{"a": [1, {"b": 2}]}', 3), ('"[[[[" ', 0), ('{"a": "x\\"[[["}', 1),
     ("[]" * 3, 1), ("7", 0)],
)  # fmt: skip
def test_depth_ignores_brackets_in_strings(text: str, expected: int) -> None:
    assert jsonsafe.depth(text) == expected


def test_deep_nesting_is_refused_as_bad_json() -> None:
    deep = "[" * 5000 + "]" * 5000
    with pytest.raises(jsonsafe.JsonTooDeep) as raised:
        jsonsafe.loads(deep)
    assert isinstance(raised.value, ValueError)
    with pytest.raises(RecursionError):
        json.loads("[" * 100_000 + "]" * 100_000)  # what the limit protects from


def test_ordinary_json_parses_as_json_does() -> None:
    text = '{"sender": "p", "message": "hi", "metadata": {"a": [1, 2.5, null]}}'
    assert jsonsafe.loads(text.encode()) == json.loads(text)
    with pytest.raises(json.JSONDecodeError):
        jsonsafe.loads("{oops")
