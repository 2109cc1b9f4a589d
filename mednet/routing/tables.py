"""The router's precomputed tables: what a query reads instead of searching (numba, built once per network).

Per community: its members, its partners (the city hospitals its lead
refers to by ``lead_city`` links, its alliance and collaborator members)
and its anchors (hospital-tier members and partners), with the network km
from every member to every anchor. Per institution: its ``NEAREST_K``
nearest hospitals of county tier and above, and of city tier. Both come
from :mod:`mednet.routing.search`'s search.

What a link costs is :mod:`mednet.routing.links`' (whole metres, 0 between
institutions at one shared proxy point); the tie priority among equal
distances (:func:`tie_priority`) is decided here.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import networkx as nx
import numpy as np
from numba import njit

from mednet.models import Community, LinkKind, Role, Tier
from mednet.network import CompiledNetwork
from mednet.routing.kernel import NEAREST_K, pack, part
from mednet.routing.search import heap_pop, heap_push, internal, relax_links, settle_next, start_search

#: Order of community roles among equal distances (lower first); institutions in no community come last.
ROLE_ORDER = {Role.LEAD: 0, Role.BRANCH: 1, Role.COLLABORATOR: 2, Role.ALLIANCE: 3}


def tie_priority(G: nx.Graph, ids: tuple[str, ...] | list[str]) -> np.ndarray:
    """Per institution, its place among equal distances (lower first, each its own): higher tier first, then
    its best community role (:data:`ROLE_ORDER`; none last), then index order."""
    n = len(ids)
    at = dict(zip(ids, range(n), strict=True))
    role = np.full(n, len(ROLE_ORDER), dtype=np.int64)
    members = [(at[m.institution], ROLE_ORDER[m.role]) for com in G.graph.get("communities", {}).values()
               for m in com.members if m.institution in at]
    if members:
        where, order = np.array(members, dtype=np.int64).T
        np.minimum.at(role, where, order)
    rank_of = {tier.value: tier.rank for tier in Tier}
    nodes = G.nodes
    rank = np.fromiter((rank_of[nodes[i]["tier"]] for i in ids), dtype=np.int64, count=n)
    return ((5 - rank) * 8 + role) * n + np.arange(n, dtype=np.int64)


class CommunityTables(NamedTuple):
    """The community tables packed for the kernel (see :func:`community_tables`), and the anchor searches."""

    packed: np.ndarray
    n_anchor_km: int
    anchors: np.ndarray
    task_ptr: np.ndarray
    task_com: np.ndarray
    task_idx: np.ndarray


def community_tables(net: CompiledNetwork, home: np.ndarray, rank: np.ndarray,
                     communities: Mapping[str, Community]) -> CommunityTables:
    """Members, partners and anchors per community, packed for the kernel; and one search task per anchor.

    Packed in order: member pointers, members (grouped by community),
    partner pointers, partners, anchor pointers, anchors, the first row of
    each community in the anchor km table, each institution's position in
    its community.
    """
    G: nx.Graph = net.G
    C = len(net.community_ids)
    order = np.argsort(home, kind="stable")
    order = order[home[order] >= 0]
    com_ptr = np.zeros(C + 1, dtype=np.int64)
    np.cumsum(np.bincount(home[order], minlength=C), out=com_ptr[1:])
    pos_in_com = np.full(net.n, -1, dtype=np.int64)
    pos_in_com[order] = np.arange(len(order))
    part_ptr, anc_ptr, row_ptr = [0], [0], [0]
    part_nodes: list[int] = []
    anc_nodes: list[int] = []
    tasks: dict[int, list[tuple[int, int]]] = {}
    for c, com_id in enumerate(net.community_ids):
        com = communities[com_id]
        partners: dict[int, None] = {}
        if com.lead in net.index:
            for other, data in G.adj[com.lead].items():
                if data.get("kind") == LinkKind.LEAD_CITY:
                    partners[net.index[other]] = None
        for m in com.members:
            if m.role in (Role.ALLIANCE, Role.COLLABORATOR) and m.institution in net.index:
                partners[net.index[m.institution]] = None
        part_nodes.extend(partners)
        part_ptr.append(len(part_nodes))
        members = order[com_ptr[c]:com_ptr[c + 1]].tolist()
        anchors = list(dict.fromkeys([j for j in members if rank[j] >= 2] + list(partners)))
        for i, a in enumerate(anchors):
            tasks.setdefault(a, []).append((c, i))
        anc_nodes.extend(anchors)
        anc_ptr.append(len(anc_nodes))
        row_ptr.append(row_ptr[-1] + len(members) * len(anchors))
    packed = pack(com_ptr, order, np.asarray(part_ptr), np.asarray(part_nodes, dtype=np.int64), np.asarray(anc_ptr),
                  np.asarray(anc_nodes, dtype=np.int64), np.asarray(row_ptr), pos_in_com)
    return CommunityTables(
        packed=packed, n_anchor_km=int(row_ptr[-1]), anchors=np.asarray(list(tasks), dtype=np.int64),
        task_ptr=np.cumsum([0] + [len(t) for t in tasks.values()]).astype(np.int64),
        task_com=np.asarray([c for t in tasks.values() for c, _ in t], dtype=np.int64),
        task_idx=np.asarray([i for t in tasks.values() for _, i in t], dtype=np.int64),
    )


def nearest_hospitals(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray,
                      rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per tier threshold (0: county tier and above, 1: city tier) and institution, its ``NEAREST_K`` nearest
    hospitals and their km (-1 / inf where fewer are reachable); both thresholds at once (the search releases
    the GIL)."""
    n = indptr.size - 1
    nodes = np.full((2, n, NEAREST_K), -1, dtype=np.int32)
    kms = np.full((2, n, NEAREST_K), np.inf)
    thresholds = [t for t in (0, 1) if (rank >= t + 2).any()]
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = pool.map(lambda t: _nearest_sources(indptr, indices, weights, rank >= t + 2, NEAREST_K), thresholds)
        for t, (found, found_km) in zip(thresholds, done, strict=True):
            nodes[t], kms[t] = found, found_km
    return nodes, kms


@internal(nogil=True)
def _has_label(labels, v, count, src):  # pragma: no cover - compiled
    for t in range(count):  # noqa: SIM110 - a loop compiles; any() over a generator does not
        if labels[v, t] == src:
            return True
    return False


@njit(cache=True, nogil=True)
def _nearest_sources(indptr, indices, weights, is_source, K):  # pragma: no cover - compiled
    """For every node, its ``K`` nearest sources by network distance (-1 / inf where fewer are reachable).

    One label-setting pass on the shared heap: an item is ``source * n +
    node``; a node accepts the first ``K`` distinct sources popped for it,
    which are its nearest.
    """
    n = indptr.size - 1
    labels = np.full((n, K), -1, np.int32)
    label_km = np.full((n, K), np.inf)
    count = np.zeros(n, np.int64)
    capacity = 4 * n + 16
    heap_km = np.full(capacity, np.inf)  # full and zeros only: each allocator compiles once per type (cold)
    heap_item = np.zeros(capacity, np.int64)
    size = np.int64(0)  # not a literal 0: one compiled heap_push/heap_pop
    for s in range(n):
        if is_source[s]:
            size = heap_push(heap_km, heap_item, size, 0.0, s * n + s)
    while size > 0:
        d = heap_km[0]
        item = heap_item[0]
        size = heap_pop(heap_km, heap_item, size)
        src, v = item // n, item % n
        c = count[v]
        if c >= K or _has_label(labels, v, c, src):
            continue
        labels[v, c] = src
        label_km[v, c] = d
        count[v] = c + 1
        for e in range(indptr[v], indptr[v + 1]):
            u = np.int64(indices[e])  # one compiled _has_label
            cu = count[u]
            if cu >= K or _has_label(labels, u, cu, src):
                continue
            if size == capacity:
                capacity *= 2
                grown_km = np.full(capacity, np.inf)
                grown_item = np.zeros(capacity, np.int64)
                for i in range(size):  # a loop: a slice copy compiles numba's shape-error text (seconds, cold)
                    grown_km[i] = heap_km[i]
                    grown_item[i] = heap_item[i]
                heap_km, heap_item = grown_km, grown_item
            size = heap_push(heap_km, heap_item, size, d + weights[e], src * n + u)
    return labels, label_km


@njit(cache=True)
def anchor_distances(indptr, indices, weights, anchors, task_ptr, task_com, task_idx, com,
                     n_anchor_km):  # pragma: no cover - compiled
    """Network km from every anchor to every member of the communities it anchors.

    ``anchor_km[row_ptr[c] + r * n_anchors(c) + i]`` is the km between
    member ``r`` of community ``c`` and its anchor ``i`` (inf: unreachable).
    One search per anchor, stopped when all the members it serves are settled.
    """
    com_ptr = part(com, 0)
    com_nodes = part(com, 1)
    anc_ptr = part(com, 4)
    row_ptr = part(com, 6)
    n = indptr.size - 1
    anchor_km = np.full(n_anchor_km, np.inf)
    # The search's arrays in the routing kernel's layout (columns of interleaved rows): one compiled
    # start_search / settle_next / relax_links serves both, which saves their second compile on a cold cache.
    links = np.full((n, 2), -1, np.int32)  # np.full as in _nearest_sources: no other allocator to compile
    for j in range(n):
        links[j, 0] = indptr[j]
        links[j, 1] = indptr[j + 1]
    adj = np.full((indices.size, 2), np.inf)
    for e in range(indices.size):
        adj[e, 0] = indices[e]
        adj[e, 1] = weights[e]
    state = np.full((n, 3), 0.0)
    first, last, adj_node, adj_km = links[:, 0], links[:, 1], adj[:, 0], adj[:, 1]
    dist, stamp, pred = state[:, 0], state[:, 1], state[:, 2]
    target = np.zeros(n, np.int64)
    heap_km = np.full(indptr[n] + 1, np.inf)
    heap_node = np.zeros(indptr[n] + 1, np.int64)
    for u in range(anchors.size):
        q = u + 1
        remaining = 0
        for t in range(task_ptr[u], task_ptr[u + 1]):
            c = task_com[t]
            for e in range(com_ptr[c], com_ptr[c + 1]):
                j = com_nodes[e]
                if target[j] != q:
                    target[j] = q
                    remaining += 1
        size = start_search(anchors[u], dist, pred, stamp, q, heap_km, heap_node)
        while remaining > 0:
            j, d, size = settle_next(stamp, q, heap_km, heap_node, size)
            if j < 0:
                break
            if target[j] == q:
                remaining -= 1
            size = relax_links(j, d, first, last, adj_node, adj_km, dist, pred, stamp, q, heap_km, heap_node, size)
        for t in range(task_ptr[u], task_ptr[u + 1]):
            c = task_com[t]
            na = anc_ptr[c + 1] - anc_ptr[c]
            for r in range(com_ptr[c + 1] - com_ptr[c]):
                j = com_nodes[com_ptr[c] + r]
                if stamp[j] == -q:
                    anchor_km[row_ptr[c] + r * na + task_idx[t]] = dist[j]
    return anchor_km
