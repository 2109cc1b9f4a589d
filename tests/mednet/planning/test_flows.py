"""Observed against modelled flows: β recovered from flows the model made, bypassed institutions named, the ledger
and an imported table as sources."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from mednet.errors import InvalidRequest, TableImportError
from mednet.planning.flows import Flow, fit_flows, huff_shares, ledger_flows, table_flows
from mednet.planning.passes import network_graph, whole_km


def _model_flows(net, beta, decay="exponential"):
    """Expected flows of the model itself from every primary-care centre (100 referrals each)."""
    from scipy.sparse.csgraph import dijkstra

    column = net.column("paediatrics")
    dests = np.flatnonzero(net.capable[:, column] | net.in_session[:, column])
    origins = np.flatnonzero(net.primary_care & ~net.capable[:, column])
    cost = whole_km(dijkstra(network_graph(net), directed=True, indices=origins))[:, dests]
    share = huff_shares(cost, np.ones(len(dests)), beta=beta, decay=decay)
    return [Flow(net.ids[o], net.ids[d], 100 * share[i, j], "paediatrics")
            for i, o in enumerate(origins) for j, d in enumerate(dests) if share[i, j] > 0]


@pytest.mark.parametrize(("decay", "beta"), [("exponential", 0.08), ("power", 1.7)])
def test_fit_recovers_the_decay_the_flows_were_made_with(net, decay, beta):
    fit = fit_flows(net, _model_flows(net, beta, decay), "儿科", decay=decay)
    assert fit.beta == pytest.approx(beta, abs=1e-5)
    for row in fit.rows:
        assert row.modelled == pytest.approx(row.observed, abs=1e-6)


def test_bypassed_nearer_institutions_are_named(net):
    column = net.column("paediatrics")
    dests = np.flatnonzero(net.capable[:, column])
    origin = net.ids[np.flatnonzero(net.primary_care & ~net.capable[:, column])[0]]
    from scipy.sparse.csgraph import dijkstra

    cost = whole_km(dijkstra(network_graph(net), directed=True, indices=[net.index[origin]]))[0, dests]
    order = np.argsort(cost)
    near, far = net.ids[dests[order[0]]], net.ids[dests[order[-1]]]
    fit = fit_flows(net, [Flow(origin, near, 30), Flow(origin, far, 10)], "paediatrics")
    by_dest = {r.destination: r for r in fit.rows if r.origin == origin}
    assert by_dest[near].bypassed == ()
    expected = tuple(net.ids[dests[k]] for k in order if cost[k] < cost[order[-1]])
    assert by_dest[far].bypassed == expected and near in by_dest[far].bypassed
    assert fit.bypass_share == pytest.approx(0.25)
    frame = fit.frame()
    assert net.G.nodes[near]["name"] in frame.loc[frame.destination == far, "bypassed"].iloc[0]
    assert by_dest[near].modelled + sum(r.modelled for r in fit.rows if r.destination != near) == pytest.approx(40)


def test_by_minutes_on_the_travel_layer(net):
    fit = fit_flows(net, _model_flows(net, 0.08), "paediatrics", cost="minutes")
    assert fit.cost == "minutes" and fit.beta > 0
    with pytest.raises(InvalidRequest, match="paediatrics"):
        fit_flows(net, [], "儿科")


def test_ledger_flows_group_the_referrals(tmp_path):
    import sqlalchemy as sa

    from mednet.ledger.store import metadata, referrals

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    metadata.create_all(engine)
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    rows = [("a", "x", "儿科", "up"), ("a", "x", "paediatrics", "up"), ("a", "y", "儿科", "up"),
            ("b", "x", "儿科", "down"), ("b", "x", "骨科", "up")]
    with engine.begin() as conn:
        for n, (o, d, s, direction) in enumerate(rows):
            conn.execute(referrals.insert().values(
                number=f"R{n}", region="quzhou", origin_id=o, origin_desk="d", destination_id=d, specialty=s,
                direction=direction, priority="routine", reason="示例", patient_ref=f"p{n}", state="sent", version=1,
                created_at=now, updated_at=now))
    flows = ledger_flows(engine, region="quzhou", specialty="儿科")
    assert flows == [Flow("a", "x", 2.0, "paediatrics"), Flow("a", "y", 1.0, "paediatrics")]
    assert ledger_flows(engine, region="quzhou", specialty="儿科", since=now + dt.timedelta(days=1)) == []
    assert len(ledger_flows(engine, region="quzhou")) == 3


def test_table_flows_resolve_names_and_report_problems(net, tmp_path):
    path = tmp_path / "flows.csv"
    name = net.G.nodes[net.ids[0]]["name"]
    path.write_text(f"起点,终点,人次\n{name},{net.ids[1]},12\n不存在的机构,{net.ids[1]},x\n", encoding="utf-8")
    with pytest.raises(TableImportError) as err:
        table_flows([path], net)
    assert {(p.row, p.rule) for p in err.value.problems if p.severity == "error"} == {
        (3, "unknown-institution"), (3, "number")}
    path.write_text(f"起点,终点,人次\n{name},{net.ids[1]},12\n", encoding="utf-8")
    assert table_flows([path], net) == [Flow(net.ids[0], net.ids[1], 12.0, None)]
