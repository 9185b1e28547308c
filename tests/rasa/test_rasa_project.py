"""Rasa's own checks on the project: data validation and the test stories."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL = ROOT / "models" / "assistant.tar.gz"

pytestmark = pytest.mark.slow


def rasa(*args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"}
    return subprocess.run(
        [str(RASA), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_rasa_data_validate_passes() -> None:
    result = rasa("data", "validate", "--domain", "domain.yml", "--data", "nlu/data")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert " ERROR " not in output, output[-6000:]


def test_every_test_story_passes(tmp_path: Path) -> None:
    assert MODEL.exists(), "run `make train` first (make test does it)"
    out = tmp_path / "results"
    result = rasa(
        "test", "core", "--model", str(MODEL), "--stories", "tests/stories",
        "--out", str(out), "--no-plot",
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    failed = out / "failed_test_stories.yml"
    failures = failed.read_text() if failed.exists() else ""
    assert "story:" not in failures, failures[-6000:]
    report = json.loads((out / "story_report.json").read_text())
    assert report["conversation_accuracy"]["accuracy"] == 1.0, report["conversation_accuracy"]
    assert report["conversation_accuracy"]["total"] >= 25
