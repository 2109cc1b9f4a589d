import json

from mednet.cli import main


def test_quick_bench_reports_ratios_but_judges_no_targets(capsys):
    assert main(["bench", "--area", "coverage", "--quick", "--format", "json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert rows and all(r["area"] == "coverage" and r["met"] is None for r in rows)
    assert any(r["ratio"] and r["ratio"] > 1 for r in rows)  # scipy beats networkx measured in the same run
    assert "targets not judged" in captured.err
