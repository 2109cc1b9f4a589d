"""Access by centres equals a multi-source Dijkstra of networkx from the capable institutions."""

from __future__ import annotations

import networkx as nx
import pytest

from mednet.indicators.access import access_shares


def test_shares_equal_networkx(quzhou_graph):
    G = quzhou_graph
    frame = access_shares(G, specialties=["paediatrics"], minutes=(30.0,), km=(10.0, 20.0))
    capable = [n for n, d in G.nodes(data=True) if "paediatrics" in d["capabilities"]]
    centres = [n for n, d in G.nodes(data=True) if d["tier"].is_primary_care]
    reach = nx.multi_source_dijkstra_path_length(G, capable, weight="distance_km")
    speed = G.graph["speed_kmh"]
    for unit, limit in (("km", 10.0), ("km", 20.0), ("minutes", 30.0)):
        km_limit = limit if unit == "km" else limit / 60 * speed
        want = sum(reach.get(c, float("inf")) <= km_limit + 1e-9 for c in centres) / len(centres)
        got = frame[(frame["unit"] == unit) & (frame["limit"] == limit)]["share"].iloc[0]
        assert got == pytest.approx(want), (unit, limit)
    assert set(frame["basis"]) == {"按机构计（区域未提供人口）"}
