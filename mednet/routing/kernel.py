"""The route kernel (numba): one query's candidates, passed-over list and path, from the router's tables.

Everything here works on row indices of the compiled network. Each settled
institution gets a code: 0..2, a candidate of that policy step; >= 10, why
it cannot be one. The kernel writes its answer into ``out`` (integers:
the ``OUT_*`` header slots, then the passed-over institutions grouped by
reason, the candidates and their steps, the path's links) and ``out_f``
(km). The search itself is :mod:`mednet.routing.search`'s.

Arrays reach the kernel packed by :func:`pack` (a call with few arguments
costs a third of one with an argument per array) and are read back with
:func:`part`:

    >>> packed = pack(np.array([7, 8]), np.array([9]))
    >>> packed.tolist(), part(packed, 1).tolist()
    ([3, 5, 6, 7, 8, 9], [9])
"""

from __future__ import annotations

import threading

import numpy as np
from numba import njit
from numba.extending import register_jitable

from mednet.routing.policy import DOWN, EMERGENCY, UP, classify
from mednet.routing.search import internal, relax_links, settle_next, start_search, start_seeds

# Passed-over groups, in the order answers list them; group 1 ("a later step's candidate") is
# outside_community_at_this_step for up and not_home_centre for down.
GROUP_OF_CODE = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 3, 4, 2], dtype=np.int64)
N_GROUPS = 6
GROUP_REASONS = {
    UP: ("is_origin", "outside_community_at_this_step", "outside_community_at_this_step", "not_higher_tier",
          "not_in_session", "not_capable"),
    DOWN: ("is_origin", "not_home_centre", "outside_community_at_this_step", "not_higher_tier", "not_in_session",
            "not_capable"),
    EMERGENCY: ("is_origin", "outside_community_at_this_step", "outside_community_at_this_step", "not_higher_tier",
                 "not_in_session", "not_capable"),
}
# Integer answer slots (the float ones: 0 destination km, 1..3 each step's best beyond max_km).
(OUT_STAMP, OUT_PASSED, OUT_DECIDED, OUT_ALT, OUT_PATH, OUT_DEST, OUT_SETTLED, OUT_GROUPS,
 OUT_BEYOND, OUT_START) = 0, 1, 2, 3, 4, 5, 6, 7, 13, 16
OUT_HEADER = 17
#: Columns of a node row: first link, end of links, home community, tier rank, tie priority.
NODE_COLUMNS = 5
#: Nearest hospitals kept per institution and tier threshold (up from primary care, up from county level).
NEAREST_K = 6


def pack(*arrays: np.ndarray, dtype: type = np.int64) -> np.ndarray:
    """Several flat arrays as one: a header of offsets, then the arrays (fewer arguments to the kernel)."""
    header = len(arrays) + 1
    offsets = np.cumsum([header, *(a.size for a in arrays)])
    return np.concatenate([offsets, *(a.ravel() for a in arrays)]).astype(dtype)


class Scratch:
    """The kernel's scratch arrays for one network, sized for up to ``need - 1`` alternatives, used under
    ``lock`` (queries share them; thread-safe).

    Integers: the heap's nodes, the settled nodes and their codes, the
    candidates, ``out``. Floats: the node states, the heap's km, the
    settled km, the candidates' km, ``out_f``. ``seeds``: the most starts a
    search has beside the origin (a point's access legs).
    """

    def __init__(self, n: int, links: int, seeds: int) -> None:
        self.n, self.links, self.seeds = n, links, seeds
        self.lock = threading.Lock()
        self.size(4)

    def size(self, need: int) -> None:
        """Size the arrays for ``need - 1`` alternatives, in a fresh state."""
        n, links = self.n, self.links
        self.ints = pack(np.zeros(links + self.seeds + 2), np.zeros(2 * n), np.zeros(5 * need),
                         np.zeros(OUT_HEADER + 2 * n + 2 * need))
        self.floats = pack(np.zeros(4 * n), np.zeros(links + self.seeds + 2), np.zeros(n), np.zeros(4 * need),
                           np.zeros(4 + n + need), dtype=np.float64)
        self.out = self.ints[int(self.ints[3]):]
        self.out_f = self.floats[int(self.floats[4]):]
        self.need = need


@register_jitable
def part(packed, i):  # pragma: no cover - compiled
    """Array ``i`` of a :func:`pack` result (a view)."""
    return packed[int(packed[i]):int(packed[i + 1])]


@internal()
def _first_candidates_known(found, nstep, need):  # pragma: no cover - compiled
    """Whether the first ``need`` candidates in (step, distance) order are all known."""
    for s in range(3):
        if found[s] >= need:
            return True
        if found[s] < nstep[s]:
            return False
        need -= nstep[s]
    return True


@internal()
def _keep_nearest(nodes, kms, kept, need, v, d, prio):  # pragma: no cover - compiled
    """Insert (v, d) into the lists sorted by (km, tie priority), at most ``need`` long; returns the new length."""
    if kept == need and (d > kms[need - 1] or (d == kms[need - 1] and prio[v] >= prio[nodes[need - 1]])):
        return kept
    i = kept if kept < need else need - 1
    while i > 0 and (kms[i - 1] > d or (kms[i - 1] == d and prio[nodes[i - 1]] > prio[v])):
        nodes[i] = nodes[i - 1]
        kms[i] = kms[i - 1]
        i -= 1
    nodes[i] = v
    kms[i] = d
    return min(kept + 1, need)


@internal()
def _keep_settled(row, kept, need, pos, settled, settled_m, prio):  # pragma: no cover - compiled
    """Insert settled position ``pos`` into ``row`` (positions, sorted by (metres, tie priority)), at most
    ``need`` long; returns the new length."""
    v = settled[0, pos]
    d = settled_m[pos]
    if kept == need:
        last = row[need - 1]
        if d > settled_m[last] or (d == settled_m[last] and prio[v] >= prio[settled[0, last]]):
            return kept
    i = kept if kept < need else need - 1
    while i > 0:
        before = row[i - 1]
        if settled_m[before] < d or (settled_m[before] == d and prio[settled[0, before]] <= prio[v]):
            break
        row[i] = before
        i -= 1
    row[i] = pos
    return min(kept + 1, need)


@internal()
def decide_from_tables(origin, origin_rank, legs, leg_m, home_com, need, max_km, table, capability, rank, home, prio,
                       com, anchor_m, nearest_hospital, nearest_hospital_m, mark, mark_base,
                       cand, cand_m, alt_node, alt_step, alt_m, res, res_f):  # pragma: no cover - compiled
    """The ordered candidates of an ``up`` query from the anchor and nearest-hospital tables.

    The query starts at ``legs`` (the origin, or a point's access legs),
    each at its ``leg_m`` metres; a distance is the least over the legs.
    Returns how many were written (destination first), or 0 when the tables
    cannot decide (a leg outside the home community, nothing within the
    limit, too few nearest hospitals kept, or a tie at the last one kept):
    the caller then searches.

    Each leg's list of nearest hospitals is complete up to its last entry,
    so the merged lists are exact and complete below the least of
    (leg metres + last entry): only candidates below it are kept.
    """
    com_ptr = part(com, 0)
    anc_ptr = part(com, 4)
    anc_nodes = part(com, 5)
    row_ptr = part(com, 6)
    pos_in_com = part(com, 7)
    n_legs = legs.size
    # Variables, not literals, where a compiled helper is called: a literal argument compiles one more copy of
    # the helper (seconds on a cold cache).
    kept0 = kept1 = kept2 = np.int64(0)
    up, nobody = np.int64(UP), np.int64(-1)
    tot0 = tot1 = 0
    far0 = far1 = -1
    far0_m = far1_m = np.inf
    if home_com >= 0:
        for t in range(n_legs):
            if home[legs[t]] != home_com:
                return 0
        na = anc_ptr[home_com + 1] - anc_ptr[home_com]
        for i in range(na):
            a = anc_nodes[anc_ptr[home_com] + i]
            d = np.inf
            for t in range(n_legs):
                via = leg_m[t] + anchor_m[row_ptr[home_com] + (pos_in_com[legs[t]] - com_ptr[home_com]) * na + i]
                if via < d:
                    d = via
            if d == np.inf:
                continue
            c = classify(a, origin, origin_rank, up, capability, rank, home, home_com, nobody, mark, mark_base)
            if c == 0:
                if d / 1000.0 > max_km:
                    if d < far0_m:
                        far0, far0_m = a, d
                else:
                    tot0 += 1
                    kept0 = _keep_nearest(cand[0], cand_m[0], kept0, need, a, d, prio)
            elif c == 1:
                if d / 1000.0 > max_km:
                    if d < far1_m:
                        far1, far1_m = a, d
                else:
                    tot1 += 1
                    kept1 = _keep_nearest(cand[1], cand_m[1], kept1, need, a, d, prio)
    need2 = need - tot0 - tot1
    if need2 > 0:
        # The legs' nearest hospitals merged (each at its least metres), and the bound below which they are
        # complete.
        K = nearest_hospital.shape[2]
        n = nearest_hospital.shape[1]
        merged = np.zeros(n_legs * K, np.int64)  # zeros and full: allocators compiled elsewhere too (cold)
        merged_m = np.full(n_legs * K, np.inf)
        n_merged = 0
        bound = np.inf
        for t in range(n_legs):
            row = (table * n + legs[t]) * K
            for i in range(K):
                v = nearest_hospital[table, legs[t], i]
                if v < 0:
                    break
                d = leg_m[t] + nearest_hospital_m[row + i]
                if i == K - 1 and d < bound:
                    bound = d
                at = 0
                while at < n_merged and merged[at] != v:
                    at += 1
                if at == n_merged:
                    merged[at] = v
                    merged_m[at] = d
                    n_merged += 1
                elif d < merged_m[at]:
                    merged_m[at] = d
        decided = False
        while True:  # the merged hospitals in (metres, tie priority) order
            best = -1
            for i in range(n_merged):
                if merged[i] >= 0 and (best < 0 or merged_m[i] < merged_m[best]
                                       or (merged_m[i] == merged_m[best] and prio[merged[i]] < prio[merged[best]])):
                    best = i
            d = merged_m[best] if best >= 0 else bound
            if best < 0 or d >= bound:
                # Beyond the bound: what is left is at least this far.
                decided = d == np.inf or d / 1000.0 > max_km or (kept2 == need2 and d > cand_m[2, need2 - 1])
                break
            v = merged[best]
            merged[best] = -1
            if d / 1000.0 > max_km or (kept2 == need2 and d > cand_m[2, need2 - 1]):
                decided = True
                break
            if classify(v, origin, origin_rank, up, capability, rank, home, home_com, nobody, mark, mark_base) == 2:
                kept2 = _keep_nearest(cand[2], cand_m[2], kept2, need2, v, d, prio)
        if not decided:
            return 0
    n_alt = 0
    for s, kept in ((0, kept0), (1, kept1), (2, kept2)):
        for i in range(kept):
            if n_alt < need:
                alt_node[n_alt] = cand[s, i]
                alt_step[n_alt] = s
                alt_m[n_alt] = cand_m[s, i]
                n_alt += 1
    if n_alt == 0:
        return 0
    if alt_step[0] > 0 and far0 >= 0:
        res[OUT_BEYOND] = far0
        res_f[1] = far0_m / 1000.0
    if alt_step[0] > 1 and tot1 == 0 and far1 >= 0:
        res[OUT_BEYOND + 1] = far1
        res_f[2] = far1_m / 1000.0
    return n_alt


@njit(cache=True)
def route_kernel(static_f, static_i, com, capability, session_holders, scratch_f, scratch_i, origin, origin_rank,
                 seeds, seed_m, mode, home_com, preferred, n_total, max_km, k, table,
                 keep):  # pragma: no cover - compiled
    """One query: ordered candidates, the search from the start, the grouped passed-over list and the path.

    The search starts at ``origin``, or, when ``seeds`` are given, at each
    of them at its ``seed_m`` metres (a point's access legs; the home
    institution of a ``down`` referral). ``origin`` is -1 for a point.
    Distances are whole metres (the sums are exact, whatever the order the
    links are added in); every km written is ``metres / 1000``, the same
    float that was compared with ``max_km``. Equal distances are ordered by
    the tie priority (``node`` column 4: higher tier, then community role).

    ``out`` receives the header (``OUT_*`` slots), then the passed-over
    institutions grouped (at most ``keep`` per group, nearest first; the
    groups' full counts in the header), the candidates (destination first),
    their steps and the links of the path; ``out_f`` the destination km, each
    step's best beyond the limit, the passed-over km and the candidates' km.
    Returns how many integers were written.

    The arrays come packed by :func:`pack` (the static ones by the router,
    the scratch ones by :meth:`Router._size_buffers`): a call with few
    arguments costs a third of one with an argument per array. What a
    node costs in memory is interleaved, so that it is one cache line rather
    than one per array: ``node`` rows (first link, end of links, home
    community, tier rank, tie priority), ``adj`` rows (neighbour, metres)
    and ``state`` rows (metres, stamp: +q reached / -q settled, predecessor,
    mark: 8q + value). ``com`` packs the community tables;
    ``session_holders`` the institutions holding the specialty in sessions,
    then their session codes.
    """
    node = part(static_i, 0).reshape((-1, NODE_COLUMNS))
    n = node.shape[0]
    nearest_hospital = part(static_i, 1).reshape((2, n, -1))
    adj = part(static_f, 0).reshape((-1, 2))
    nearest_hospital_m = part(static_f, 1)
    anchor_m = part(static_f, 2)
    heap_node = part(scratch_i, 0)
    settled = part(scratch_i, 1).reshape((2, n))
    cand = part(scratch_i, 2).reshape((5, -1))
    out = part(scratch_i, 3)
    state = part(scratch_f, 0).reshape((n, 4))
    heap_km = part(scratch_f, 1)
    settled_m = part(scratch_f, 2)
    cand_m = part(scratch_f, 3).reshape((4, -1))
    out_f = part(scratch_f, 4)
    n_holders = session_holders.size // 2
    holder_nodes = session_holders[:n_holders]
    holder_codes = session_holders[n_holders:]
    first = node[:, 0]
    last = node[:, 1]
    home = node[:, 2]
    rank = node[:, 3]
    prio = node[:, 4]
    adj_node = adj[:, 0]
    adj_m = adj[:, 1]
    dist = state[:, 0]
    stamp = state[:, 1]
    pred = state[:, 2]
    mark = state[:, 3]
    alt_node = cand[3]
    alt_step = cand[4]
    alt_m = cand_m[3]
    q = next_stamp(out, stamp, mark)
    mark_base = 8.0 * q
    for i in range(1, OUT_HEADER):
        out[i] = 0
    out[OUT_DECIDED] = -1
    out[OUT_DEST] = -1
    for i in range(3):
        out[OUT_BEYOND + i] = -1
        out_f[1 + i] = np.inf
    com_ptr = part(com, 0)
    com_nodes = part(com, 1)
    part_ptr = part(com, 2)
    part_nodes = part(com, 3)
    if mode == UP and home_com >= 0:
        for e in range(part_ptr[home_com], part_ptr[home_com + 1]):
            mark[part_nodes[e]] = mark_base + 1.0
    for e in range(holder_nodes.size):
        p = holder_nodes[e]
        if not 0.0 <= mark[p] - mark_base < 8.0:
            mark[p] = mark_base
        mark[p] += holder_codes[e] << 1

    need = k + 1
    n_alt = 0
    if table >= 0:
        if seeds.size == 0:  # allocations of the shapes and types compiled elsewhere (a cold compile is per shape)
            legs = np.zeros(1, np.int64)
            legs[0] = origin
            leg_m = np.full(1, 0.0)
        else:
            legs, leg_m = seeds, seed_m
        n_alt = decide_from_tables(origin, origin_rank, legs, leg_m, home_com, need, max_km, table, capability,
                                   rank, home, prio, com, anchor_m, nearest_hospital, nearest_hospital_m, mark,
                                   mark_base, cand, cand_m, alt_node, alt_step, alt_m, out, out_f)
    m = 0
    dest_pos = -1
    decided = -1
    if n_alt > 0:
        # The tables decided: search only as far as the destination, for the passed-over list and the path.
        decided = alt_step[0]
        dest = alt_node[0]
        if seeds.size == 0:
            size = start_search(origin, dist, pred, stamp, q, heap_km, heap_node)
        else:
            size = start_seeds(seeds, seed_m, dist, pred, stamp, q, heap_km, heap_node)
        while True:
            j, d, size = settle_next(stamp, q, heap_km, heap_node, size)
            if j < 0:
                break
            code = classify(j, origin, origin_rank, mode, capability, rank, home, home_com, preferred, mark,
                            mark_base)
            settled[0, m] = j
            settled_m[m] = d
            settled[1, m] = code
            m += 1
            if j == dest:
                dest_pos = m - 1
                break
            if code == decided and (d < alt_m[0] or (d == alt_m[0] and prio[j] < prio[dest])):
                break  # the tables were wrong (cannot happen): search in full
            size = relax_links(j, d, first, last, adj_node, adj_m, dist, pred, stamp, q, heap_km, heap_node, size)
        if dest_pos < 0 or settled_m[dest_pos] != alt_m[0]:
            n_alt = 0
    if n_alt == 0:
        # Search: settle in distance order until the first `need` candidates in (step, distance) order are known.
        for i in range(3):
            out[OUT_BEYOND + i] = -1
            out_f[1 + i] = np.inf
        m = 0
        nstep = np.zeros(3, np.int64)
        found = np.zeros(3, np.int64)
        kept = np.zeros(3, np.int64)
        if mode == UP:
            if home_com >= 0:
                for e in range(com_ptr[home_com], com_ptr[home_com + 1]):
                    if classify(com_nodes[e], origin, origin_rank, mode, capability, rank, home, home_com,
                                preferred, mark, mark_base) == 0:
                        nstep[0] += 1
                for e in range(part_ptr[home_com], part_ptr[home_com + 1]):
                    if classify(part_nodes[e], origin, origin_rank, mode, capability, rank, home, home_com,
                                preferred, mark, mark_base) == 1:
                        nstep[1] += 1
            nstep[2] = max(n_total - nstep[0] - nstep[1], 0)
        elif mode == DOWN:
            if preferred >= 0 and classify(preferred, origin, origin_rank, mode, capability, rank, home, home_com,
                                           preferred, mark, mark_base) == 0:
                nstep[0] = 1
            for e in range(com_ptr[home_com], com_ptr[home_com + 1]):
                if classify(com_nodes[e], origin, origin_rank, mode, capability, rank, home, home_com, preferred,
                            mark, mark_base) == 1:
                    nstep[1] += 1
        else:
            nstep[2] = n_total
        if _first_candidates_known(found, nstep, need):  # no candidate anywhere
            return OUT_HEADER
        want = np.zeros(3, np.int64)  # 1: the step is wanted
        wanted = 0
        phase = 0
        tie_m = -1.0  # once the candidates are known: settle on only while the distance stays the same
        if seeds.size == 0:
            size = start_search(origin, dist, pred, stamp, q, heap_km, heap_node)
        else:
            size = start_seeds(seeds, seed_m, dist, pred, stamp, q, heap_km, heap_node)
        while True:
            j, d, size = settle_next(stamp, q, heap_km, heap_node, size)
            if j < 0 or (tie_m >= 0.0 and d != tie_m):
                break
            if phase == 0 and d / 1000.0 > max_km:
                for s in range(3):
                    if found[s] > 0:
                        decided = s
                        break
                for s in range(3):
                    if (decided < 0 or s < decided) and nstep[s] > 0:
                        want[s] = 1
                        wanted += 1
                if wanted == 0:
                    break
                phase = 1
            code = classify(j, origin, origin_rank, mode, capability, rank, home, home_com, preferred, mark,
                            mark_base)
            settled[0, m] = j
            settled_m[m] = d
            settled[1, m] = code
            m += 1
            if code < 3:
                if phase == 0:
                    kept[code] = _keep_settled(cand[code], kept[code], need, m - 1, settled, settled_m, prio)
                    found[code] += 1
                    if tie_m < 0.0 and _first_candidates_known(found, nstep, need):
                        tie_m = d
                elif want[code]:
                    want[code] = 0
                    out[OUT_BEYOND + code] = j
                    out_f[1 + code] = d / 1000.0
                    wanted -= 1
                    if wanted == 0:
                        break
            size = relax_links(j, d, first, last, adj_node, adj_m, dist, pred, stamp, q, heap_km, heap_node, size)
        if decided < 0:
            for s in range(3):
                if found[s] > 0:
                    decided = s
                    break
        if decided < 0:
            return OUT_HEADER
        for s in range(3):
            for i in range(kept[s]):
                if n_alt < need:
                    pos = cand[s, i]
                    alt_node[n_alt] = settled[0, pos]
                    alt_step[n_alt] = s
                    alt_m[n_alt] = settled_m[pos]
                    n_alt += 1
        dest_pos = cand[decided, 0]
    dest = settled[0, dest_pos]
    out_f[0] = settled_m[dest_pos] / 1000.0
    out[OUT_DECIDED] = decided
    out[OUT_DEST] = dest
    out[OUT_ALT] = n_alt
    out[OUT_SETTLED] = m
    # The passed-over institutions (settled before the destination; not its equals of the same step, settled
    # first at the same distance), grouped by reason, nearest first; at most `keep` of each group written.
    counts = np.zeros(N_GROUPS, np.int64)
    for i in range(dest_pos):
        if settled[1, i] != decided:
            counts[GROUP_OF_CODE[settled[1, i]]] += 1
    start = np.zeros(N_GROUPS, np.int64)
    for g in range(1, N_GROUPS):
        start[g] = start[g - 1] + min(counts[g - 1], keep)
    written = start[N_GROUPS - 1] + min(counts[N_GROUPS - 1], keep)
    for g in range(N_GROUPS):
        out[OUT_GROUPS + g] = counts[g]
    left = np.zeros(N_GROUPS, np.int64)
    for g in range(N_GROUPS):
        left[g] = min(counts[g], keep)
    for i in range(dest_pos):
        c = settled[1, i]
        if c == decided:
            continue
        g = GROUP_OF_CODE[c]
        if left[g] > 0:
            out[OUT_HEADER + start[g]] = settled[0, i]
            out_f[4 + start[g]] = settled_m[i] / 1000.0
            start[g] += 1
            left[g] -= 1
    out[OUT_PASSED] = written
    # The candidates follow the passed-over block.
    base = OUT_HEADER + written
    for i in range(n_alt):
        out[base + i] = alt_node[i]
        out[base + n_alt + i] = alt_step[i]
        out_f[4 + written + i] = alt_m[i] / 1000.0
    n_path = write_path(dest, pred, first, last, adj_node, out, base + 2 * n_alt)
    out[OUT_PATH] = n_path
    return base + 2 * n_alt + n_path


@internal()
def next_stamp(out, stamp, mark):  # pragma: no cover - compiled
    """A new search's stamp (the state is reset when the counter runs out)."""
    q = out[OUT_STAMP] + 1
    if q >= 2_000_000_000:
        stamp[:] = 0
        mark[:] = 0
        q = 1
    out[OUT_STAMP] = q
    return q


@internal()
def write_path(dest, pred, first, last, adj_node, out, at):  # pragma: no cover - compiled
    """The CSR entries of the path to ``dest`` (by ``pred``), written from ``out[at]``; the node it starts
    from in ``out[OUT_START]``. Returns how many links."""
    n_path = 0
    j = dest
    while pred[j] >= 0.0:
        n_path += 1
        j = int(pred[j])
    out[OUT_START] = j
    j = dest
    for i in range(n_path - 1, -1, -1):
        u = int(pred[j])
        for e in range(first[u], last[u]):
            if int(adj_node[e]) == j:
                out[at + i] = e
                break
        j = u
    return n_path
