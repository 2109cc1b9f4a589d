"""``mednet bench --area planning --quick``: the three planning figures, each beside its in-run reference."""

from __future__ import annotations

import json

import pytest

from mednet.cli import main

pytest.importorskip("distributed")
pytest.importorskip("highspy")


@pytest.mark.slow
def test_quick_planning_bench_reports_three_figures_with_references(capsys):
    assert main(["bench", "--area", "planning", "--quick", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["target"] for r in rows] == ["≤ 2× the catchment search", "≤ 5 s", "≤ 0.6× sequential"]
    assert all(r["area"] == "planning" and r["reference_value"] > 0 and r["value"] > 0 for r in rows)
    assert "optimal" in rows[1]["name"]
