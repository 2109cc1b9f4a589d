"""Observed flows against the network's model: where referrals went, where the router proposed, and the bypass
— referrals sent farther than the proposal the tiered-care rules gave, with the km and minutes given up.

The database counts referrals per (origin, destination, proposal); the network distances of those few pairs
are computed here on the region's graph (network km along links; minutes at the region's ``speed_kmh``, an
estimate, said so in the column name).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import networkx as nx
import pandas as pd
from sqlalchemy.engine import Engine

from mednet.indicators.ledger_sql import pair_counts
from mednet.indicators.periods import Period, parse_period
from mednet.indicators.places import place_rows
from mednet.models import Region

BYPASS_COLUMNS = ("origin", "origin_name", "destination", "destination_name", "proposed", "proposed_name",
                  "referrals", "destination_km", "proposed_km", "km_given_up", "minutes_given_up_estimated",
                  "reasons")
FLOW_COLUMNS = ("origin", "origin_name", "destination", "destination_name", "observed", "modelled", "bypassed")


def _pairs(engine: Engine, region: Region, period: str | Period) -> list[dict[str, Any]]:
    p = period if isinstance(period, Period) else parse_period(period)
    with engine.connect() as conn:
        return pair_counts(conn, region.id, p.start, p.end)


def _names(region: Region) -> dict[str, str]:
    return {i.id: i.name for i in region.institutions}


def flow_table(engine: Engine, region: Region, period: str | Period) -> pd.DataFrame:
    """Per origin → institution: referrals that went there (observed), that the router proposed there
    (modelled), and that went there although the proposal was elsewhere (bypassed). Routed referrals only."""
    observed: Counter[tuple[str, str]] = Counter()
    modelled: Counter[tuple[str, str]] = Counter()
    bypassed: Counter[tuple[str, str]] = Counter()
    for row in _pairs(engine, region, period):
        if row["proposed_id"] is None:
            continue
        observed[row["origin_id"], row["destination_id"]] += row["n"]
        modelled[row["origin_id"], row["proposed_id"]] += row["n"]
        if row["proposed_id"] != row["destination_id"]:
            bypassed[row["origin_id"], row["destination_id"]] += row["n"]
    names = _names(region)
    rows = [dict(origin=o, origin_name=names.get(o, o), destination=d, destination_name=names.get(d, d),
                 observed=observed[o, d], modelled=modelled[o, d], bypassed=bypassed[o, d])
            for o, d in sorted(set(observed) | set(modelled))]
    return pd.DataFrame(rows, columns=list(FLOW_COLUMNS))


def bypass_table(engine: Engine, region: Region, G: nx.Graph, period: str | Period) -> pd.DataFrame:
    """Per (origin, destination, proposal) where the destination is not the proposal: the referrals, the
    network km to each, the km and estimated minutes given up (destination − proposal) and the reasons the
    desks stated, most frequent first; largest km given up first."""
    counts: Counter[tuple[str, str, str]] = Counter()
    reasons: defaultdict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    for row in _pairs(engine, region, period):
        if row["proposed_id"] is None or row["proposed_id"] == row["destination_id"]:
            continue
        key = (row["origin_id"], row["destination_id"], row["proposed_id"])
        counts[key] += row["n"]
        reasons[key][row["destination_why"] or "（未说明）"] += row["n"]
    speed = float(G.graph.get("speed_kmh") or region.speed_kmh)
    lengths: dict[str, dict[str, float]] = {}
    names = _names(region)
    rows: list[dict[str, Any]] = []
    for (o, d, q), n in counts.items():
        if o not in lengths:
            lengths[o] = nx.single_source_dijkstra_path_length(G, o, weight="distance_km") if o in G else {}
        to_d, to_q = lengths[o].get(d), lengths[o].get(q)
        given = None if to_d is None or to_q is None else round(to_d - to_q, 3)
        rows.append(dict(origin=o, origin_name=names.get(o, o), destination=d, destination_name=names.get(d, d),
                         proposed=q, proposed_name=names.get(q, q), referrals=n,
                         destination_km=None if to_d is None else round(to_d, 3),
                         proposed_km=None if to_q is None else round(to_q, 3), km_given_up=given,
                         minutes_given_up_estimated=None if given is None else round(given / speed * 60.0, 1),
                         reasons="；".join(f"{text}（{k}）" for text, k in reasons[o, d, q].most_common(3))))
    rows.sort(key=lambda r: (-(r["km_given_up"] or 0.0) * r["referrals"], r["origin"], r["destination"]))
    return pd.DataFrame(rows, columns=list(BYPASS_COLUMNS))


def flow_matrix(engine: Engine, region: Region, period: str | Period) -> pd.DataFrame:
    """Referrals between communities and levels: rows the origin's ``community · level``, columns the
    destination's (level 基层 for township and community centres, 医院 otherwise; 医共体外 outside any
    community), all referrals of the period."""
    place = {row["id"]: row for row in place_rows(region)}

    def side(inst: str) -> str:
        row = place.get(inst)
        if row is None:
            return "（未知）"
        community = row["community_name"] or "医共体外"
        return f"{community} · {'基层' if row['primary_care'] else '医院'}"

    counts: Counter[tuple[str, str]] = Counter()
    for row in _pairs(engine, region, period):
        counts[side(row["origin_id"]), side(row["destination_id"])] += row["n"]
    labels = sorted({a for a, _ in counts} | {b for _, b in counts})
    frame = pd.DataFrame(0, index=labels, columns=labels, dtype="int64")
    for (a, b), n in counts.items():
        frame.loc[a, b] = n
    return frame
