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


def test_people_shares_equal_an_independent_count(quzhou_graph):
    """The illustrative (made-up) township population of Quzhou: the share of people within each km limit of
    paediatrics equals a count done here with a haversine first leg and networkx's Dijkstra along the links;
    minute shares grow with the limit and stay within 0..1."""
    import math
    from pathlib import Path

    import numpy as np

    from mednet.importing.population import read_population
    from mednet.planning.population import townships_population

    G = quzhou_graph
    sheet = Path(__file__).parents[3] / "examples" / "quzhou_population_illustrative.csv"
    people = townships_population(read_population([sheet]), net=G, source="示例（虚构）")
    frame = access_shares(G, specialties=["paediatrics"], population=people)
    assert set(frame["basis"]) == {"按人口计（乡镇/网格人口：示例（虚构））"}
    capable = [n for n, d in G.nodes(data=True) if "paediatrics" in d["capabilities"]]
    reach = nx.multi_source_dijkstra_path_length(G, capable, weight="distance_km")
    nodes = list(G.nodes)
    factor = float(G.graph.get("road_factor", 1.3))

    def haversine(lat1, lon1, lat2, lon2):
        p1, p2, dlat, dlon = map(math.radians, (lat1, lat2, lat2 - lat1, lon2 - lon1))
        h = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
        return 2 * 6371.0088 * math.asin(math.sqrt(h))

    km = []
    for lat, lon in zip(people.lat, people.lon, strict=True):
        leg, entry = min((haversine(lat, lon, G.nodes[n]["lat"], G.nodes[n]["lon"]), n) for n in nodes)
        km.append(leg * factor + reach.get(entry, math.inf))
    km = np.array(km)
    total = float(people.people.sum())
    assert frame["total"].iloc[0] == pytest.approx(total)
    for limit in (10.0, 20.0, 40.0):
        want = float(people.people[km <= limit + 1e-9].sum()) / total
        got = frame[(frame["unit"] == "km") & (frame["limit"] == limit)]["share"].iloc[0]
        assert got == pytest.approx(want, abs=1e-9), limit
    minutes = frame[frame["unit"] == "minutes"].sort_values("limit")["share"].to_numpy()
    assert list(minutes) == sorted(minutes) and minutes[0] >= 0 and minutes[-1] <= 1
    assert 0 < frame[frame["unit"] == "km"]["share"].max() < 1 or total == 0
