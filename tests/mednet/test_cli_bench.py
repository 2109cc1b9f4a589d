import json

from mednet.cli import main


def test_quick_bench_reports_ratios_but_judges_no_targets(capsys):
    assert main(["bench", "--area", "coverage", "--quick", "--format", "json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert rows and all(r["area"] == "coverage" and r["met"] is None for r in rows)
    assert all(r["value"] > 0 for r in rows) and any(r["reference_value"] for r in rows)  # each beside its reference
    assert "targets not judged" in captured.err


def test_http_bench_without_the_service_extra_is_one_line_and_exit_2(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "fastapi", None)  # as if the `service` extra were not installed
    for name in [m for m in sys.modules if m == "service" or m.startswith("service.")]:
        monkeypatch.delitem(sys.modules, name)
    assert main(["bench", "--area", "http", "--quick"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fastapi is needed" in err and "mednet[service]" in err
