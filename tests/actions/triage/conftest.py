"""The engine over the sample protocols, shared by the triage tests."""

from __future__ import annotations

import textwrap

import pytest

from actions.triage.engine import TriageEngine
from actions.triage.protocols import load_protocol

from .samples import GENERAL, PROTOCOL


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> TriageEngine:
    folder = tmp_path_factory.mktemp("protocols")
    for name, text in (("headache", PROTOCOL), ("general", GENERAL)):
        (folder / f"{name}.yml").write_text(textwrap.dedent(text), encoding="utf-8")
    return TriageEngine([load_protocol(p) for p in sorted(folder.glob("*.yml"))])
