"""The planner's tutorial (docs/tutorials/planner.md), run as written: every command of its ``sh`` blocks succeeds
and prints what the page says, and the map it shows is the one its command draws (written into ``artifacts/docs/``,
not committed, where the manual's build and the README pick it up)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from mednet.cli import main

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorials" / "planner.md"
SHOTS = ROOT / "artifacts" / "docs"
MAP = "coverage-quzhou-paediatrics"


def commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", TUTORIAL.read_text(encoding="utf-8"), re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_the_planner_tutorial_runs_as_written(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib", reason="maps (the `planning` extra)")
    pytest.importorskip("openpyxl", reason="registry import (the `importing` extra)")
    pytest.importorskip("sqlalchemy", reason="the referral ledger's indicators (the `ledger` extra)")
    shutil.copytree(ROOT / "examples" / "longyou" / "registry", tmp_path / "examples" / "longyou" / "registry")
    shutil.copy(ROOT / "tests" / "fixtures" / "whatif_hetian_paediatrics.json", tmp_path)
    shutil.copy(ROOT / "examples" / "quzhou_population_illustrative.csv", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEDNET_DATA_DIR", str(tmp_path / "data"))  # a ledger of its own: indicators of nothing yet
    monkeypatch.delenv("MEDNET_DATABASE_URL", raising=False)
    said = {}
    for line in commands():
        words = shlex.split(line)
        assert words[0] == "mednet"
        assert main(words[1:]) == 0, line
        said[line] = capsys.readouterr().out
    imported, validated, longyou, quzhou, what_if, suggest, people, indicators = said.values()
    assert "已写入 longyou.json" in imported and "错误：无" in validated and "儿科" in longyou
    assert re.search(r"儿科 +11 +79 % +12 +20\.6 +65\.9", quzhou) and "廿八都镇卫生院" in quzhou
    assert re.search(r"儿科 +44 +46 +\+2", what_if) and "齐溪卫生院 何田卫生院" in what_if
    assert re.search(r"峡口中心卫生院 .*\+4 +48", suggest) and "53 (95 %)" in suggest
    assert "1,093,000 人" in people and "625000" in people  # the illustrative population's figures
    assert "转诊总数" in indicators and "未采集" in indicators  # a new ledger: no denominators yet
    drawn = tmp_path / f"{MAP}.png"
    assert drawn.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(drawn, SHOTS / f"{MAP}.png")
    assert f"img/shots/{MAP}.png" in TUTORIAL.read_text(encoding="utf-8")
