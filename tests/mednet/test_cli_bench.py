import json

from mednet.cli import main


def test_quick_bench_reports_ratios_but_judges_no_targets(capsys):
    assert main(["bench", "--area", "coverage", "--quick", "--format", "json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert rows and all(r["area"] == "coverage" and r["met"] is None for r in rows)
    assert all(r["value"] > 0 for r in rows) and any(r["reference_value"] for r in rows)  # each beside its reference
    assert "targets not judged" in captured.err
