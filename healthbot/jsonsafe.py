"""JSON from outside, parsed with a nesting limit: Python's parser recurses, so a body nested a
few thousand levels deep raises RecursionError (a 500) instead of a clear "malformed" answer.

``loads`` counts the depth in one linear pass (strings skipped) before parsing, and raises
``JsonTooDeep`` (a ``ValueError``, so callers that refuse bad JSON refuse this too).
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 100  # FHIR bundles nest about 10 deep; widget and API bodies 2-3


class JsonTooDeep(ValueError):
    """Nested deeper than the limit."""


def depth(text: str) -> int:
    """The deepest nesting of objects and arrays, ignoring brackets inside strings."""
    deepest = level = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            level += 1
            deepest = max(deepest, level)
        elif ch in "]}":
            level -= 1
    return deepest


def loads(data: str | bytes, max_depth: int = MAX_DEPTH, **options: Any) -> Any:
    """``json.loads`` that refuses nesting deeper than ``max_depth`` with JsonTooDeep."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    if depth(text) > max_depth:
        raise JsonTooDeep(f"JSON nested deeper than {max_depth} levels")
    return json.loads(text, **options)
