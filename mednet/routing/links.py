"""What a link costs, for routing and planning alike (no numba).

Every link counts in whole metres (:func:`link_metres`; sums of whole
numbers are exact, so a distance is the same float whichever way its links
are added), and a link between two institutions placed at one shared proxy
point counts 0 (:func:`same_proxy_point`): the region's nominal km for it is
not a distance.

    >>> link_metres(np.array([1.0, 0.0006, 6.6634]), np.array([False, False, True])).tolist()
    [1000.0, 1.0, 0.0]
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from mednet.network import CompiledNetwork


def same_proxy_point(G: nx.Graph, a: str, b: str) -> bool:
    """Whether the link a–b joins two institutions placed at one point, its km computed rather than measured
    on roads (the region files floor such a link at a nominal 1 km: the distance between them is not known).
    A link the graph does not hold (a what-if's new link, its km given) is taken as measured."""
    na, nb, data = G.nodes[a], G.nodes[b], G.adj[a].get(b)
    return data is not None and (na["lat"], na["lon"]) == (nb["lat"], nb["lon"]) \
        and data.get("distance_basis") != "road"


def link_metres(km: np.ndarray, same_point: np.ndarray) -> np.ndarray:
    """Link costs as the search counts them: whole metres, 0 between institutions at one proxy point."""
    return np.where(same_point, 0.0, np.round(np.asarray(km, dtype=np.float64) * 1000.0))


def csr_metres(net: CompiledNetwork, link_from: np.ndarray, link_to: np.ndarray) -> np.ndarray:
    """:func:`link_metres` of every CSR entry of the compiled network."""
    same = (net.lat[link_from] == net.lat[link_to]) & (net.lon[link_from] == net.lon[link_to])
    for e in np.flatnonzero(same).tolist():
        same[e] = same_proxy_point(net.G, net.ids[int(link_from[e])], net.ids[int(link_to[e])])
    return link_metres(net.csr.data, same)
