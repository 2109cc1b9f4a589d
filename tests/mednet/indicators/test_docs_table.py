"""docs/indicators.md documents every indicator the code defines."""

from __future__ import annotations

from pathlib import Path

from mednet.indicators import INDICATORS

DOC = Path(__file__).resolve().parents[3] / "docs" / "indicators.md"


def test_every_indicator_is_in_the_table():
    text = DOC.read_text(encoding="utf-8")
    missing = [key for key, ind in INDICATORS.items() if f"| `{key}` | {ind.label_zh} |" not in text]
    assert missing == []
