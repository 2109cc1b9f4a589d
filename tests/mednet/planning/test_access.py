"""2SFCA/E2SFCA: the same scores as PySAL `access` on the same inputs (to 1e-9), and their inputs stated."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from mednet.errors import InvalidRequest
from mednet.planning.access import (
    access_scores,
    floating_catchment,
    gaussian_decay,
    step_decay,
    steps_decay,
)
from mednet.planning.demand import attach, pairs_within
from mednet.planning.population import Population

access = pytest.importorskip("access", reason="PySAL access (test extra) is the reference")



@pytest.fixture(scope="module")
def people():
    """Illustrative demand: a 12 × 12 grid over Quzhou with varied people counts."""
    rng = np.random.default_rng(7)
    lat, lon = np.meshgrid(np.linspace(28.5, 29.4, 12), np.linspace(118.1, 119.2, 12), indexing="ij")
    return Population(names=tuple(f"p{i}" for i in range(lat.size)), lat=lat.ravel(), lon=lon.ravel(),
                      people=rng.integers(100, 20_000, lat.size).astype(float), kind="points", source="illustrative")


def _pysal(people, sites, supply, point, site, cost, *, max_cost, weight_fn, enhanced):
    from access import Access

    demand_df = pd.DataFrame({"id": list(people.names), "pop": people.people})
    supply_df = pd.DataFrame({"id": list(sites), "units": supply})
    cost_df = pd.DataFrame({"origin": [people.names[i] for i in point], "dest": [sites[j] for j in site],
                            "cost": cost})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acc = Access(demand_df=demand_df, demand_index="id", demand_value="pop", supply_df=supply_df,
                     supply_index="id", supply_value="units", cost_df=cost_df, cost_origin="origin",
                     cost_dest="dest", cost_name="cost")
        if enhanced:
            out = acc.enhanced_two_stage_fca(name="e2sfca", max_cost=max_cost, weight_fn=weight_fn, normalize=False)
        else:
            out = acc.two_stage_fca(name="2sfca", max_cost=max_cost, weight_fn=weight_fn, normalize=False)
    return out.iloc[:, 0].reindex(list(people.names))


@pytest.mark.parametrize(("decay", "weight_fn", "enhanced"), [
    (step_decay(30), None, False),
    (steps_decay({10: 1, 20: 0.68, 30: 0.22}), {10: 1, 20: 0.68, 30: 0.22}, True),
    (gaussian_decay(12, 30), 12, True),
])
def test_scores_equal_pysal_access(net, people, decay, weight_fn, enhanced):
    from access import weights

    fn = None if weight_fn is None else (weights.step_fn(weight_fn) if isinstance(weight_fn, dict)
                                         else weights.gaussian(weight_fn))
    rows = np.flatnonzero(net.capable[:, net.column("paediatrics")])
    supply = np.arange(1, len(rows) + 1, dtype=float) * 3.0
    point, site, cost = pairs_within(net, attach(net, lat=people.lat, lon=people.lon), rows, limit=decay.limit)
    ours = floating_catchment(people.people, supply, point, site, cost, decay).score
    theirs = _pysal(people, [net.ids[r] for r in rows], supply, point, site, cost, max_cost=decay.limit,
                    weight_fn=fn, enhanced=enhanced)
    reached = theirs.notna().to_numpy()
    assert reached.sum() > 20 and (~reached).any()  # both cases present
    assert np.allclose(ours[reached], theirs.to_numpy()[reached], rtol=0, atol=1e-9)
    assert (ours[~reached] == 0).all()


def test_scores_by_minutes_state_their_inputs(net, people):
    scores = access_scores(net, people, "儿科", decay=gaussian_decay(20, 60), cost="minutes")
    assert scores.cost == "minutes" and scores.supply_basis == "sites" and (scores.score > 0).any()
    line = scores.statement()
    assert "e2sfca-gaussian by minutes" in line and "illustrative" in line
    assert list(scores.frame().columns) == ["name", "lat", "lon", "people", "score"]
    # the population served by a site never exceeds all people, and the supply is shared out exactly
    sites = scores.sites_frame()
    assert (sites["demand"] <= people.total + 1e-6).all()


def test_caller_units_and_missing_figures(net, people):
    units = {"kh-people": 40, "qz-people": 100}
    scores = access_scores(net, people, "paediatrics", decay=step_decay(40), supply=units)
    assert scores.supply_basis == "caller" and sorted(scores.site_ids) == sorted(units)
    # the total supply reached, weighted by people, is the supply of the sites anyone reaches
    reached = scores.catchments.demand > 0
    assert (people.people * scores.score).sum() == pytest.approx(scores.supply[reached].sum())
    with pytest.raises(InvalidRequest, match="no institution"):
        access_scores(net, people, "paediatrics", decay=step_decay(40), supply="beds")
    with pytest.raises(InvalidRequest, match="supply"):
        access_scores(net, people, "paediatrics", decay=step_decay(40), supply="doctors")
    with pytest.raises(InvalidRequest, match="> 0"):
        step_decay(0)


def test_referral_quota_units_from_the_ledger(net, people, tmp_path):
    import datetime as dt

    import sqlalchemy as sa

    from mednet.ledger.store import metadata, quotas
    from mednet.planning.access import ledger_quota_supply

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    metadata.create_all(engine)
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        for institution, specialty, per_day in (("kh-people", "儿科", 4), ("qz-people", "paediatrics", 10),
                                                ("kh-people", "骨科", 9)):
            conn.execute(quotas.insert().values(region="quzhou", institution=institution, specialty=specialty,
                                                per_day=per_day, release_days=7, updated_at=now))
    units = ledger_quota_supply(engine, region="quzhou", specialty="paediatrics")
    assert units == {"kh-people": 28.0, "qz-people": 70.0}
    scores = access_scores(net, people, "儿科", decay=step_decay(40), supply=units)
    assert scores.supply.sum() == 98.0
    with pytest.raises(InvalidRequest, match="quota"):
        ledger_quota_supply(engine, region="quzhou", specialty="obstetrics")
