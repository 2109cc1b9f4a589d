"""ruff and mypy (configured in pyproject.toml) find nothing: run here so that CI runs them too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "ruff", "check", "mednet", "service", "tools", "tests"],
    [sys.executable, "-m", "mypy"],  # the files and settings are in pyproject.toml
], ids=["ruff", "mypy"])
def test_the_code_is_clean(command: list[str]) -> None:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command[2:])} found problems:\n{done.stdout}{done.stderr}"
