"""The admin's tutorial (docs/tutorials/admin.md), run as written on a ledger of its own (SQLite in a temporary data
folder): keys, quotas, the database upgrade, a backup and its restore; and the systemd unit's command line is one
``mednet serve`` accepts."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest

from mednet.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = (ROOT / "docs" / "tutorials" / "admin.md").read_text(encoding="utf-8")


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", TUTORIAL, re.S)


def test_the_admin_tutorial_runs_as_written(tmp_path, capsys, monkeypatch):
    pytest.importorskip("sqlalchemy", reason="the referral ledger (the `ledger` extra)")
    monkeypatch.setenv("MEDNET_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MEDNET_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    said = []
    for line in (line for block in blocks("sh") for line in block.splitlines() if line.strip()):
        assert main(shlex.split(line)[1:]) == 0, line
        said.append((line, capsys.readouterr().out))
    assert len(said) == 12
    listed = next(out for line, out in said if line == "mednet keys list")
    for label in ("区卫健委信息科", "华埠卫生院转诊窗口", "开化县人民医院转诊中心", "医共体办公室"):
        assert label in listed
    quotas = next(out for line, out in said if line.startswith("mednet quotas list"))
    assert "开化县人民医院" in quotas or "kh-people" in quotas
    levels = next(out for line, out in said if line.startswith("mednet service-levels list"))
    assert re.search(r"urgent +respond 4 hours .*\(region\)", levels), levels
    assert (tmp_path / "ledger-backup.sqlite3").stat().st_size > 0
    # the restored ledger still holds the keys
    assert main(["keys", "list"]) == 0 and "华埠卫生院转诊窗口" in capsys.readouterr().out


def test_the_systemd_unit_and_the_serve_line_are_ones_mednet_accepts():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string(blocks("ini")[0])
    command = shlex.split(unit["Service"]["ExecStart"])
    assert command[0].endswith("/.venv/bin/mednet")
    args = build_parser("serve").parse_args(command[1:])
    assert (args.host, args.port, args.workers) == ("127.0.0.1", 8000, 2)
    serve = next(line for block in blocks("text") for line in block.splitlines() if line.startswith("mednet serve"))
    assert build_parser("serve").parse_args(shlex.split(serve)[1:]).port == 8000
    assert "proxy_pass http://127.0.0.1:8000;" in blocks("nginx")[0]
