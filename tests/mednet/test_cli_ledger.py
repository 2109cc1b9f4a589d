"""``mednet db upgrade``, ``mednet keys``, ``mednet referrals`` on a SQLite ledger in a temporary folder."""

from __future__ import annotations

import re
import socket

from mednet.cli import main
from mednet.ledger import Ledger, LedgerRegion, NewReferral, authenticate, open_ledger_engine
from mednet.regions import load_region


def test_keys_and_referrals_from_the_command_line(tmp_path, capsys):
    where = ["--data-dir", str(tmp_path)]
    assert main(["db", "upgrade", *where]) == 0
    assert "schema revision 0006_sent_home" in capsys.readouterr().out
    assert main(["keys", "create", "--role", "desk", "--region", "minhang", "--institution", "虹桥社区卫生服务中心",
                 "--label", "虹桥转诊窗口", *where]) == 0
    text = capsys.readouterr().out.splitlines()[0]
    assert re.fullmatch(r"mk_[0-9a-f]{10}_\S+", text)
    assert main(["keys", "create", "--role", "desk", "--region", "minhang", "--institution", "虹桥社区",
                 "--label", "x", *where]) == 2
    assert "did you mean" in capsys.readouterr().err
    assert main(["keys", "create", "--role", "desk", "--region", "minhang", "--label", "x", *where]) == 2
    assert capsys.readouterr().err == ("mednet: error: `--role` needs --institution: a desk key belongs to one "
                                       "institution of one region, got 'desk'\n")
    engine = open_ledger_engine(data_dir=tmp_path)
    key = authenticate(engine, text)
    assert key.institution == "mh-hongqiao"
    ledger = Ledger(engine, {"minhang": LedgerRegion.from_region(load_region("minhang"))})
    number = ledger.create(key, NewReferral(specialty="儿科", reason="发热", patient={"ref": "C1"},
                                            destination="sh-xinhua", route=False)).record.number
    assert main(["referrals", "list", "--status", "requested", *where]) == 0
    out = capsys.readouterr().out
    assert number in out and "1 referral(s)" in out
    assert main(["referrals", "show", number, "--events", *where]) == 0
    assert "create" in capsys.readouterr().out
    assert main(["referrals", "show", number, "--format", "fhir", *where]) == 0
    assert '"ServiceRequest"' in capsys.readouterr().out
    assert main(["referrals", "show", "R1", *where]) == 2
    assert main(["keys", "list", *where]) == 0
    assert "虹桥转诊窗口" in capsys.readouterr().out
    assert main(["keys", "revoke", key.id, *where]) == 0
    assert main(["keys", "list", *where]) == 0
    assert "revoked" in capsys.readouterr().out


def test_a_database_url_of_another_kind_is_refused_naming_where_it_came_from(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MEDNET_DATABASE_URL", raising=False)
    assert main(["db", "upgrade", "--database-url", "mysql://x/y"]) == 2
    assert "`--database-url` must name a PostgreSQL database" in capsys.readouterr().err
    monkeypatch.setenv("MEDNET_DATABASE_URL", "mysql://z")
    assert main(["db", "upgrade", "--data-dir", str(tmp_path)]) == 2
    assert "`MEDNET_DATABASE_URL` must name a PostgreSQL database" in capsys.readouterr().err


def test_a_database_that_refuses_the_connection_is_one_line(capsys, monkeypatch):
    monkeypatch.delenv("MEDNET_DATABASE_URL", raising=False)
    with socket.socket() as unused:  # a port bound but never listening: the connection is refused at once
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        assert main(["db", "upgrade", "--database-url", f"postgresql://127.0.0.1:{port}/none"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot open the ledger database" in err and "refused" in err, err


def test_quotas_and_overdue_referrals_from_the_command_line(tmp_path, capsys):
    import datetime as dt

    from mednet.ledger import create_key

    where = ["--data-dir", str(tmp_path)]
    assert main(["quotas", "set", "--region", "quzhou", "--institution", "开化县人民医院", "--specialty", "普外科",
                 "--per-day", "3", "--release-days", "2", "--note", "医务科排班", *where]) == 0
    assert capsys.readouterr().out.strip() == "开化县人民医院 普通外科: 3 a day, released 2 day(s) ahead"
    assert main(["quotas", "set", "--region", "quzhou", "--institution", "开化县人民医院", "--specialty", "普外",
                 "--per-day", "-1", *where]) == 2
    engine = open_ledger_engine(data_dir=tmp_path)
    desk = create_key(engine, role="desk", label="华埠", region="quzhou", institution="kh-huabu")[0]
    three_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    ledger = Ledger(engine, {"quzhou": LedgerRegion.from_region(load_region("quzhou"))}, now=lambda: three_hours_ago)
    late = ledger.create(desk, NewReferral(specialty="普外科", reason="腹痛", patient={"ref": "L1"}, priority="urgent",
                                           destination="kh-people", route=False)).record.number
    on_time = ledger.create(desk, NewReferral(specialty="普外科", reason="腹痛", patient={"ref": "L2"},
                                              destination="kh-people", route=False)).record.number
    assert main(["quotas", "list", "--region", "quzhou", *where]) == 0
    out = capsys.readouterr().out
    assert "开化县人民医院 (kh-people)  普通外科: 3 a day, released 2 day(s) ahead  [医务科排班]" in out
    assert out.count("used 0/3  free 3") == 3 and "1 quota(s)" in out
    assert main(["referrals", "overdue", *where]) == 0
    out = capsys.readouterr().out
    assert late in out and on_time not in out and "to respond" in out and "1 overdue referral(s)" in out
