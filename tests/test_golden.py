"""Every answer on the bundled regions matches its committed fingerprint (tools/write_golden.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _writer():
    spec = importlib.util.spec_from_file_location("write_golden", ROOT / "tools" / "write_golden.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_answers_match_the_golden_file() -> None:
    writer = _writer()
    expected = writer.read_golden()
    actual = writer.golden_cases()
    missing = sorted(expected.keys() - actual.keys())
    new = sorted(actual.keys() - expected.keys())
    differ = sorted(k for k in expected.keys() & actual.keys() if expected[k] != actual[k])
    assert not (missing or new or differ), (
        f"{len(differ)} answers differ: {differ[:20]}; {len(missing)} cases gone: {missing[:10]}; "
        f"{len(new)} new cases: {new[:10]} (run tools/write_golden.py only when an answer is meant to change)"
    )
