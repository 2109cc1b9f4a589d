"""The benchmark's synthetic year, loaded as the benchmark loads it, gives the indicators its frames say."""

from __future__ import annotations

import datetime as dt

from mednet.bench.indicators import load, synthetic_year
from mednet.indicators import compute_indicators
from mednet.ledger import open_ledger_engine
from mednet.regions import load_region


def test_the_bench_year_counts_what_it_holds(pg_server):
    referrals, events = synthetic_year(3000, seed=3)
    url = pg_server.new_database()
    engine = open_ledger_engine(url)
    load(url, referrals, events)
    frame = compute_indicators(engine, load_region("quzhou"), "2026", now=dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    got = frame.set_index("indicator")
    engine.dispose()
    assert got.loc["referrals", "value"] == len(referrals) == 3000
    assert got.loc["up", "value"] == (referrals["direction"] == "up").sum()
    assert got.loc["acceptance_rate", "numerator"] == (events["action"] == "accept").sum()
    assert got.loc["no_show_rate", "denominator"] == (events["action"] == "book").sum()
    routed = referrals["proposed_id"].notna()
    assert got.loc["bypass", "value"] == (routed & (referrals["proposed_id"] != referrals["destination_id"])).sum()
    assert got.loc["returned_home_share", "numerator"] == referrals["parent_id"].notna().sum()
