"""``mednet service-levels list|set|reset`` on a SQLite ledger in a temporary folder."""

from __future__ import annotations

import json

from mednet.cli import main
from mednet.ledger import Ledger, LedgerRegion, open_ledger_engine
from mednet.regions import load_region


def test_service_levels_from_the_command_line(tmp_path, capsys):
    where = ["--region", "quzhou", "--data-dir", str(tmp_path)]
    assert main(["service-levels", "list", *where]) == 0
    out = capsys.readouterr().out
    assert "urgent     respond 2 hours" in out and "routine    respond 2 working_days" in out and "(default)" in out
    assert main(["service-levels", "set", "--priority", "urgent", "--measure", "respond", "--allowance", "1 小时",
                 "--note", "示例：医共体转诊管理办法（虚构）", *where]) == 0
    assert capsys.readouterr().out == "quzhou: urgent respond within 1 hours\n"
    ledger = Ledger(open_ledger_engine(data_dir=tmp_path), {"quzhou": LedgerRegion.from_region(load_region("quzhou"))})
    level = ledger.service_levels("quzhou")["urgent"]
    assert (level.respond.text, level.book.text, level.source) == ("1 hours", "2 hours", "region")
    assert main(["service-levels", "list", "--format", "json", *where]) == 0
    listed = {row["priority"]: row for row in json.loads(capsys.readouterr().out)}
    assert listed["urgent"] == {"priority": "urgent", "respond": "1 hours", "book": "2 hours", "source": "region"}
    assert main(["service-levels", "set", "--priority", "urgent", "--measure", "book", "--allowance", "2 weeks",
                 *where]) == 2
    assert "`allowance` must be a whole number and a unit" in capsys.readouterr().err
    assert main(["service-levels", "set", "--priority", "urgent", "--measure", "book", "--allowance", "0 hours",
                 *where]) == 2
    assert "`amount` must be between 1 and 720 hours" in capsys.readouterr().err
    assert main(["service-levels", "reset", "--priority", "urgent", "--measure", "respond", *where]) == 0
    assert capsys.readouterr().out == "quzhou: urgent respond back to the default, 2 hours\n"
    assert ledger.service_levels("quzhou")["urgent"].source == "default"
    assert main(["service-levels", "list", "--region", "nowhere", "--data-dir", str(tmp_path)]) == 2
    assert "nowhere" in capsys.readouterr().err
