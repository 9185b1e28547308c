"""The compiled action-reply validator accepts and rejects exactly what Rasa's does."""

from __future__ import annotations

from unittest import mock

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from nlu.server import perf

GOOD = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
BAD = [
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"responses": ["not an object"]},
]


def _rasa_original(result: dict) -> None:
    jsonschema.validate(result, RemoteAction.action_response_format_spec())


def test_good_reply_passes() -> None:
    perf.apply()
    action = RemoteAction("action_x", None)
    assert action._validate_action_result(GOOD) is True
    _rasa_original(GOOD)


@pytest.mark.parametrize("result", BAD)
def test_bad_replies_fail_like_rasa(result: dict) -> None:
    perf.apply()
    with pytest.raises(jsonschema.ValidationError):
        _rasa_original(result)
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server"):
        RemoteAction("action_x", None)._validate_action_result(result)


def test_schema_is_checked_once() -> None:
    perf.apply()
    perf.action_response_validator()  # compiled (and the schema checked) at most once
    validator_class = type(perf.action_response_validator())
    with mock.patch.object(validator_class, "check_schema") as check:
        for _ in range(5):
            RemoteAction("action_x", None)._validate_action_result(GOOD)
    check.assert_not_called()
