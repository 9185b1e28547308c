"""Rasa's own component-test fixtures (its conftest does not ship with the wheel)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.storage import ModelStorage


@pytest.fixture
def default_model_storage(tmp_path: Path) -> ModelStorage:
    """A fresh model storage per test, in its own temporary folder."""
    return LocalModelStorage.create(tmp_path)


@pytest.fixture
def default_execution_context() -> ExecutionContext:
    """An execution context for components built outside a trained graph."""
    return ExecutionContext(GraphSchema({}), "test-component")
