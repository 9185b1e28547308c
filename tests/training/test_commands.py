"""The training and evaluation commands that ``make train-*``/``eval-*`` run still start."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = (
    "training.photo.train",
    "training.photo.evaluate",
    "training.ehr.train",
    "training.ehr.evaluate",
)


@pytest.mark.parametrize("module", COMMANDS)
def test_command_shows_help(module):
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("usage:")
