"""The common tasks page (docs/guides/tasks.md), run as written: every command of its ``sh`` blocks succeeds, in a
folder of its own (with the example OD table where the page names it)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from mednet.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "guides" / "tasks.md").read_text(encoding="utf-8")


def test_the_common_tasks_run_as_written(tmp_path, capsys, monkeypatch):
    pytest.importorskip("openpyxl", reason="export and import (the `importing` extra)")
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "quzhou_od_example.csv", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    said = {}
    for block in re.findall(r"```sh\n(.*?)```", PAGE, re.S):
        for line in filter(str.strip, block.splitlines()):
            assert main(shlex.split(line)[1:]) == 0, line
            said[line] = capsys.readouterr().out
    assert len(said) == 9
    assert "华埠卫生院 → 开化县人民医院" in said["mednet route quzhou --from 华埠 --specialty 普外科"]
    assert "basis: default_model" in said["mednet travel between quzhou 齐溪 开化县人民医院"]
    assert (tmp_path / "儿科缺口.csv").read_text(encoding="utf-8-sig").count("\n") == 57  # a header, 56 centres
    by_od = said["mednet coverage quzhou -s 儿科 --cost minutes --max-minutes 45 --travel quzhou.travel.json"]
    assert "示例数据（虚构，非实测）" in by_od
