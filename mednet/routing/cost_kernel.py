"""The kernel of routing by travel cost (numba): one query's candidates and passed-over list, nearest first.

:mod:`mednet.routing.by_cost` hands it a query; it answers from a grid of
lat/lon cells over every institution (:class:`mednet.geo.SpatialIndex`'s
layout), searched ring by ring around the origin. Each institution met is
costed on the travel layer (the default model, or the figures the imported
tables give from the origin, handed in as ``ext_*``) and classified by the
one step rule (:func:`mednet.routing.policy.classify`), so a query costs and
classifies only the institutions nearer than what it must know:

- steps 0 and 1 (own community, partners; down: the home centre, the home
  community) come from the explicit list ``explicit`` whole, each step's
  within the limits ranked by (cost, tie priority), and its nearest beyond;
- step 2 (any, emergency) keeps the ``want`` best within the limits, and its
  nearest beyond them;
- every institution met goes to a buffer, from which the passed-over list
  is read: everyone nearer by ``cost`` than the destination (the first
  candidate not an undated session), equal cost going by tie priority.
  Institutions without the care (``not_capable``; most of them) are left
  uncosted by the grid until the destination is known (``_uncosted``): a
  cell none of whose institutions can be as near is skipped, one all of
  whose institutions are nearer is counted whole once the ``keep`` nearest
  to name are known, and the others are costed.

The search stops when no institution not met yet can change any of that: a
point ``r + 1`` rings away is at least ``floor`` km away by great circle,
and the default model's lower bound (``lower_*``, per great-circle km) less
half a rounding unit (figures are compared as answers give them: km to the
metre, minutes to 0.01 min) bounds what it could cost. Within the rings, a
cell whose least haversine puts all its institutions beyond what could
still be kept or passed over is passed by. Figures are computed
as :meth:`mednet.travel.TravelLayer.costs` and ``point_costs`` compute them
(the same haversine, circuity and terrain speed, then rounded as numpy
rounds); the tests check the answers against an exhaustive search, and the
default (short) passed-over list against the full one.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mednet.rings import ring_cells, ring_room
from mednet.routing.kernel import part
from mednet.routing.policy import NOT_CAPABLE, classify
from mednet.travel.model_kernel import model_km, model_minutes

#: Columns of the float buffer (``buf_f``): km, minutes; of the integer one (``buf_i``): institution, km basis,
#: minutes basis, code for the passed-over list (classified without undated sessions), code as a candidate.
F_KM, F_MIN = 0, 1
I_NODE, I_KB, I_MB, I_PASS, I_CAND = 0, 1, 2, 3, 4
#: Slots of ``res``: counts of step 0, 1, 2 candidates, buffer length, passed-over length, destination; then the
#: nearest reachable candidate of each step regardless of the limits (-1: none).
R_N0, R_N1, R_N2, R_BUF, R_PASSED, R_DEST, R_BEYOND = 0, 1, 2, 3, 4, 5, 6


@njit(cache=True, inline="always")
def _position(sorted_nodes, j):  # pragma: no cover - compiled
    """Position of ``j`` in a sorted array, or -1."""
    lo, hi = 0, sorted_nodes.size
    while lo < hi:
        mid = (lo + hi) >> 1
        if sorted_nodes[mid] < j:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < sorted_nodes.size and sorted_nodes[lo] == j else -1


@njit(cache=True, inline="always")
def _before(v1, j1, v2, j2, prio):  # pragma: no cover - compiled
    """Whether (value, tie priority) of ``j1`` comes before that of ``j2``."""
    return v1 < v2 or (v1 == v2 and prio[j1] < prio[j2])


#: Slots of the query's floats (``q_f``) and integers (``q_i``).
QF_PHI, QF_LAM, QF_COS, QF_LAT, QF_LON, QF_MAX_KM, QF_MAX_MIN, QF_BASE = range(8)
QI_NODE, QI_TERRAIN, QI_ORIGIN, QI_RANK, QI_MODE, QI_HOME, QI_PREFERRED, QI_MINUTES, QI_WANT, QI_KEEP = range(10)
#: Parts of the static arrays (:func:`mednet.routing.kernel.pack`): integers (grid pointers, grid order, grid shape
#: (row0, col0, height, width), terrain, tier rank, home community, tie priority, passed-over slot of each code and
#: decided step, greatest terrain class of each cell) and floats (grid phi, lam, cos phi; cos_min, cell, 2R,
#: circuity, lower km, lower minutes; phi, lam, cos phi by institution; speed by terrain).
S_PTR, S_ORDER, S_SHAPE, S_TERRAIN, S_RANK, S_HOME, S_PRIO, S_SLOT, S_CELL_TERRAIN = range(9)
SF_PHI, SF_LAM, SF_COS, SF_CONST, SF_NODE_PHI, SF_NODE_LAM, SF_NODE_COS, SF_KMH = range(8)
#: Passed-over slots after the kernel's groups: skipped for max_km, for max_minutes.
N_SLOTS = 8
#: Kernel codes (0..14).
N_CODES = 15
#: Then one count per passed-over slot.
R_SLOTS = 9
#: Then how many passed-over institutions are named in all.
R_NAMED = R_SLOTS + N_SLOTS
RES_SIZE = R_NAMED + 1


@njit(cache=True)
def cost_query(static_i, static_f, capability, q_i, q_f, ext_nodes, ext_f, ext_i, explicit, undated, mark, cand_i,
               cand_f, buf_i, buf_f, cells, passed, passed_f, res):  # pragma: no cover - compiled
    """One query (see the module's docstring). ``cand_*`` rows: step 0, then 1, then 2 candidates, each step ranked;
    ``passed``: the passed-over institutions, by reason slot then rank, at most ``keep`` of each, and
    ``passed_f`` their km and minutes (rows); ``res``: the counts, the destination (a row of ``cand_*``; -1: no
    candidate within the limits), the nearest of each step regardless of the limits, and the count of each
    passed-over slot. ``cells``: scratch (the cells met, and how many institutions in each were left uncosted)."""
    ptr, order, shape = part(static_i, S_PTR), part(static_i, S_ORDER), part(static_i, S_SHAPE)
    terrain, rank, home, prio = (part(static_i, S_TERRAIN), part(static_i, S_RANK), part(static_i, S_HOME),
                                 part(static_i, S_PRIO))
    row0, col0, height, width = shape[0], shape[1], shape[2], shape[3]
    phi, lam, cos_phi, const = (part(static_f, SF_PHI), part(static_f, SF_LAM), part(static_f, SF_COS),
                                part(static_f, SF_CONST))
    node_phi, node_lam, node_cos = part(static_f, SF_NODE_PHI), part(static_f, SF_NODE_LAM), part(static_f,
                                                                                                    SF_NODE_COS)
    kmh = part(static_f, SF_KMH)
    cos_min, cell, radius2, circuity, lower_km, lower_minutes = const[0], const[1], const[2], const[3], const[4], \
        const[5]
    o_phi, o_lam, o_cos, o_lat, o_lon = q_f[QF_PHI], q_f[QF_LAM], q_f[QF_COS], q_f[QF_LAT], q_f[QF_LON]
    max_km, max_minutes, mark_base = q_f[QF_MAX_KM], q_f[QF_MAX_MIN], q_f[QF_BASE]
    o_node, o_terrain, kernel_origin, origin_rank = q_i[QI_NODE], q_i[QI_TERRAIN], q_i[QI_ORIGIN], q_i[QI_RANK]
    mode, home_com, preferred, by_minutes, want = q_i[QI_MODE], q_i[QI_HOME], q_i[QI_PREFERRED], q_i[QI_MINUTES] == 1, \
        q_i[QI_WANT]
    half_km, half_min = 0.0005, 0.005  # half a rounding unit: km to the metre, minutes to 0.01 min
    # The fastest speed a pair from this origin can go at (its terrain class is the origin's or a slower one's).
    fastest = kmh[o_terrain:].max()
    lower_minutes = max(lower_minutes, lower_km / fastest * 60.0)
    # Institutions that hold no capability of the care are only ever passed over (not_capable; the origin aside):
    # the grid leaves them uncosted and they are counted, or costed, once the destination is known.
    defer = ext_nodes.size == 0
    # Counters start as variables, not literal zeros: a literal argument compiles a helper once more (cold).
    n_cells = 0
    n_buf = np.int64(0)
    for s in range(3):
        res[R_BEYOND + s] = -1
    beyond_v = np.full(3, np.inf)
    # Steps 0 and 1 from the explicit list: every candidate within the limits, and each step's nearest beyond.
    n01 = np.int64(0)
    for e in range(explicit.size):
        j = explicit[e]
        if capability[j] == 0:  # the origin or not capable: not a candidate
            continue
        code = _code(j, undated, kernel_origin, origin_rank, mode, capability, rank, home, home_com, preferred, mark,
                     mark_base, True)
        if code > 1:
            continue
        km, minutes, kb, mb, gone = _figures(j, o_node, o_terrain, o_phi, o_lam, o_cos, ext_nodes, ext_f, ext_i,
                                             terrain, kmh, circuity, node_phi, node_lam, node_cos, radius2)
        if gone:
            continue
        value = minutes if by_minutes else km
        if km <= max_km and minutes <= max_minutes:
            cand_i[n01, 0], cand_i[n01, 1], cand_i[n01, 2], cand_i[n01, 3] = j, code, kb, mb
            cand_f[n01, 0], cand_f[n01, 1], cand_f[n01, 2] = km, minutes, value
            n01 += 1
        elif res[R_BEYOND + code] < 0 or _before(value, j, beyond_v[code], res[R_BEYOND + code], prio):
            res[R_BEYOND + code], beyond_v[code] = j, value
    _rank_rows(cand_i, cand_f, np.int64(0), n01, prio)
    want = max(want - n01, 1)  # step 2's best: as many as are still wanted after steps 0 and 1
    n0 = 0
    while n0 < n01 and cand_i[n0, 1] == 0:
        n0 += 1
    # Step 2 and the passed-over list: the imported pairs first (any cost at all), then the grid ring by ring.
    n2 = 0
    ci = int(math.floor(o_lat / cell)) - row0  # noqa: RUF046 - numba types floor() as float
    cj = int(math.floor(o_lon / cell)) - col0  # noqa: RUF046
    reach = max(height, width) + abs(ci) + abs(cj) + 1
    # A cell can be passed by when none of its institutions can be a step 2 candidate kept (``want`` kept already)
    # or passed over (nearer than the destination of steps 0 and 1, if any): its least haversine, from the terms of
    # its row (``rows``: by offset from the origin's) and column, beyond that of the cost they would need.
    half = (0.005 if by_minutes else 0.0005) + 1e-7
    first01 = _destination(cand_i, n01, undated)
    value01 = cand_f[first01, 2] if first01 >= 0 else -np.inf
    rows = np.empty((2 * reach + 1, 4))
    cols = np.empty((2 * reach + 1, 2))
    ring = np.empty((ring_room(reach), 2), np.int64)  # the cells of one ring (mednet.rings)
    for r in range(-1, reach + 1):  # r = -1: the imported pairs
        met = n_buf
        if r < 0:
            for e in range(ext_nodes.size):
                if ext_i[e, 2] == 0:  # an unreachable pair is never met
                    n_buf = _put(buf_i, buf_f, n_buf, ext_nodes[e], ext_f[e, 0], ext_f[e, 1], ext_i[e, 0],
                                 ext_i[e, 1])
            if n_buf == met:
                continue
        for d in (-r, r):
            rows[reach + d] = _row_terms(ci + d + row0, cell, o_phi, o_cos)
            cols[reach + d] = _column_terms(cj + d + col0, cell, o_lam)
        beyond = 2.0
        if mode == 1 and first01 >= 0:
            beyond = _haversine_of(value01 + half, fastest, by_minutes, radius2, circuity)
        elif mode != 1 and n2 == want:
            beyond = _haversine_of(max(cand_f[n01 + n2 - 1, 2], value01) + half, fastest, by_minutes, radius2,
                                   circuity)
        for m in range(ring_cells(ci, cj, max(r, 0), height, width, ring) if r >= 0 else 0):
            i, jj = ring[m, 0], ring[m, 1]
            if rows[reach + i - ci, 0] + rows[reach + i - ci, 1] * cols[reach + jj - cj, 0] <= beyond:
                c = i * width + jj
                left = 0
                for t in range(ptr[c], ptr[c + 1]):
                    j = order[t]
                    if defer:
                        if capability[j] == 0 and j != kernel_origin:
                            left += 1
                            continue
                    elif _position(ext_nodes, j) >= 0:
                        continue
                    km, minutes, kb, mb = _model(j, o_node, o_terrain, o_phi, o_lam, o_cos, terrain, kmh,
                                                 circuity, phi[t], lam[t], cos_phi[t], radius2)
                    n_buf = _put(buf_i, buf_f, n_buf, j, km, minutes, kb, mb)
                if left:
                    cells[n_cells, 0], cells[n_cells, 1] = c, left
                    n_cells += 1
        # Classify what this ring met; keep the step 2 candidates among the ``want`` best.
        for a in range(met, n_buf):
            j, km, minutes = buf_i[a, I_NODE], buf_f[a, F_KM], buf_f[a, F_MIN]
            code = buf_i[a, I_PASS] = _code(j, undated, kernel_origin, origin_rank, mode, capability, rank, home,
                                            home_com, preferred, mark, mark_base, False)
            if undated.size:
                code = _code(j, undated, kernel_origin, origin_rank, mode, capability, rank, home, home_com,
                             preferred, mark, mark_base, True)
            buf_i[a, I_CAND] = code
            if code != 2:
                continue
            value = minutes if by_minutes else km
            if res[R_BEYOND + 2] < 0 or _before(value, j, beyond_v[2], res[R_BEYOND + 2], prio):
                res[R_BEYOND + 2], beyond_v[2] = j, value
            if km > max_km or minutes > max_minutes:
                continue
            last = n01 + n2 - 1
            if n2 == want and not _before(value, j, cand_f[last, 2], cand_i[last, 0], prio):
                continue
            at = n01 + n2 if n2 < want else last
            while at > n01 and _before(value, j, cand_f[at - 1, 2], cand_i[at - 1, 0], prio):
                cand_i[at] = cand_i[at - 1]
                cand_f[at] = cand_f[at - 1]
                at -= 1
            cand_i[at, 0], cand_i[at, 1], cand_i[at, 2], cand_i[at, 3] = j, 2, buf_i[a, I_KB], buf_i[a, I_MB]
            cand_f[at, 0], cand_f[at, 1], cand_f[at, 2] = km, minutes, value
            n2 = min(n2 + 1, want)
        if r < 0:
            continue
        # Not met yet: r rings away in latitude, or in longitude within rows ci - r .. ci + r (whose cosines are at
        # least the least of its edges').
        bound = math.sin(math.radians(r * cell) / 2)
        band = max(cos_min, min(math.cos(math.radians((ci - r + row0) * cell)),
                                math.cos(math.radians((ci + r + 1 + row0) * cell))))
        floor = radius2 * math.asin(min(math.sqrt(o_cos * band * bound * bound), 1.0))
        low_km = floor * lower_km - half_km
        low_min = floor * lower_minutes - half_min
        low = low_min if by_minutes else low_km
        # settled: no step 2 (down), nothing unmet within the limits, or none nearer than the last step 2 kept
        settled = mode == 1 or low_km > max_km or low_min > max_minutes or (
            n2 == want and low > cand_f[n01 + n2 - 1, 2])
        if not settled:
            continue
        dest = _destination(cand_i, n01 + n2, undated)
        if dest >= 0:
            if low > cand_f[dest, 2]:
                break
        elif mode == 1 or (res[R_BEYOND + 2] >= 0 and low > beyond_v[2]):
            break
    dest = _destination(cand_i, n01 + n2, undated)
    res[R_N0], res[R_N1], res[R_N2], res[R_DEST] = n0, n01 - n0, n2, dest
    res[R_PASSED] = 0
    if dest >= 0:
        keep = q_i[QI_KEEP]
        counted = 0
        if n_cells:
            shape_f = np.array([cell, o_phi, o_lam, o_cos, radius2, circuity, fastest, cand_f[dest, 2]])
            n_buf, counted = _uncosted(cells[:n_cells], shape, shape_f, part(static_i, S_CELL_TERRAIN), ptr, order,
                                       capability, kernel_origin, o_node, o_terrain, terrain, kmh, phi, lam, cos_phi,
                                       by_minutes, keep, buf_i, buf_f, n_buf)
        res[R_PASSED] = _passed_over(cand_i[dest, 0], cand_f[dest, 2], buf_i, buf_f, n_buf, by_minutes, prio, passed)
        slot_of = part(static_i, S_SLOT)[mode * (N_CODES + 2):(mode + 1) * (N_CODES + 2)]
        _group(passed, res, buf_i, buf_f, slot_of, cand_i[dest, 1], max_km, keep, passed_f)
        res[R_SLOTS + slot_of[NOT_CAPABLE]] += counted
    res[R_BUF] = n_buf


@njit(cache=True)
def _uncosted(cells, shape, shape_f, cell_terrain, ptr, order, capability, kernel_origin, o_node, o_terrain, terrain,
              kmh, phi, lam, cos_phi, by_minutes, keep, buf_i, buf_f, n_buf):  # pragma: no cover - compiled
    """The institutions the grid left uncosted (not capable, not the origin) that may be passed over, given the
    destination's cost ``shape_f[7]``: cells nearest first, each skipped when none of its institutions can be as
    near as the destination, counted whole when all are nearer and the ``keep`` nearest of them are known already
    (named: costed in nearer cells), else costed into the buffer. Returns the buffer's length and the count.

    A cell's bounds are the least and greatest haversine over its extent (padded against rounding), compared with
    the haversines of the costs they must pass (at the fastest speed a pair may go, or the slowest in the cell),
    widened by half a rounding unit and a slack."""
    cell, o_phi, o_lam, o_cos, radius2, circuity, fastest, dest_value = (
        shape_f[0], shape_f[1], shape_f[2], shape_f[3], shape_f[4], shape_f[5], shape_f[6], shape_f[7])
    row0, col0, width = shape[0], shape[1], shape[3]
    half = (0.005 if by_minutes else 0.0005) + 1e-7
    m = cells.shape[0]
    # Per row and column met, the haversine terms of its nearest and farthest edge from the origin.
    i_lo, i_hi, j_lo, j_hi = 1 << 60, -1, 1 << 60, -1
    for k in range(m):
        i, jj = cells[k, 0] // width, cells[k, 0] % width
        i_lo, i_hi, j_lo, j_hi = min(i_lo, i), max(i_hi, i), min(j_lo, jj), max(j_hi, jj)
    rows = np.empty((i_hi - i_lo + 1, 4))
    for i in range(i_lo, i_hi + 1):
        rows[i - i_lo] = _row_terms(i + row0, cell, o_phi, o_cos)
    cols = np.empty((j_hi - j_lo + 1, 2))
    for jj in range(j_lo, j_hi + 1):
        cols[jj - j_lo] = _column_terms(jj + col0, cell, o_lam)
    # The costs as haversines: beyond ``skip`` nothing is as near as the destination; below ``whole[t]`` (t: the
    # cell's greatest terrain class) everything is nearer.
    skip = _haversine_of(dest_value + half, fastest, by_minutes, radius2, circuity)
    low = np.empty(m)
    high = np.empty(m)
    near = np.empty(m, np.int64)  # the cells not beyond ``skip``
    n_near = 0
    for k in range(m):
        i, jj = cells[k, 0] // width - i_lo, cells[k, 0] % width - j_lo
        low[k] = rows[i, 0] + rows[i, 1] * cols[jj, 0]
        if low[k] <= skip:
            high[k] = rows[i, 2] + rows[i, 3] * cols[jj, 1]
            near[n_near] = k
            n_near += 1
    whole = np.empty(kmh.size)
    slowest = kmh[o_terrain]
    for t in range(kmh.size):
        if t >= o_terrain:
            slowest = min(slowest, kmh[t])
        whole[t] = _haversine_of(dest_value - half, slowest, by_minutes, radius2, circuity)
    named = keep <= 64  # with explain="full" every one is named: no cell is counted whole
    nearest = np.full(keep if named else 1, np.inf)  # the ``keep`` least costs seen, ascending
    known = 2.0  # the haversine beyond which a cell's institutions all come after those ``keep``
    counted = 0
    near = near[:n_near]
    for k in near[np.argsort(low[near])]:
        c = cells[k, 0]
        if low[k] > known and high[k] < whole[max(o_terrain, cell_terrain[c])]:
            counted += cells[k, 1]
            continue
        for t in range(ptr[c], ptr[c + 1]):
            j = order[t]
            if capability[j] != 0 or j == kernel_origin:
                continue
            h = _haversine(o_phi, o_lam, o_cos, phi[t], lam[t], cos_phi[t])
            if h > skip and j != o_node:  # farther than the destination, whatever its terrain
                continue
            if j == o_node:
                km, minutes, kb, mb = 0.0, 0.0, 0, 0
            else:
                km, minutes, kb, mb = _from_haversine(j, h, o_terrain, terrain, kmh, circuity, radius2)
            value = minutes if by_minutes else km
            if value > dest_value:
                continue
            n_buf = _put(buf_i, buf_f, n_buf, j, km, minutes, kb, mb)
            buf_i[n_buf - 1, I_PASS] = buf_i[n_buf - 1, I_CAND] = NOT_CAPABLE
            if named and value < nearest[-1]:
                at = nearest.size - 1
                while at > 0 and nearest[at - 1] > value:
                    nearest[at] = nearest[at - 1]
                    at -= 1
                nearest[at] = value
                if nearest[-1] < np.inf:
                    known = _haversine_of(nearest[-1] + half, fastest, by_minutes, radius2, circuity)
    return n_buf, counted


@njit(cache=True, inline="always")
def _row_terms(row, cell, o_phi, o_cos):  # pragma: no cover - compiled
    """A grid row's part of the least and the greatest haversine of its cells from the origin: the latitude term
    and the factor of the longitude term (the origin's cosine times the row's least, or greatest, cosine) of each
    (a cell's haversine is its row's latitude term plus the factor times its column's longitude term)."""
    lo, hi = _edges(row, cell)
    near, far = max(0.0, lo - o_phi, o_phi - hi), max(abs(lo - o_phi), abs(hi - o_phi))
    cos_lo, cos_hi = math.cos(lo), math.cos(hi)
    return (math.sin(near / 2) ** 2, o_cos * min(cos_lo, cos_hi), math.sin(far / 2) ** 2,
            o_cos * (1.0 if lo <= 0.0 <= hi else max(cos_lo, cos_hi)))


@njit(cache=True, inline="always")
def _column_terms(column, cell, o_lam):  # pragma: no cover - compiled
    """A grid column's longitude terms of the least and the greatest haversine of its cells from the origin."""
    lo, hi = _edges(column, cell)
    near, far = max(0.0, lo - o_lam, o_lam - hi), max(abs(lo - o_lam), abs(hi - o_lam))
    return math.sin(near / 2) ** 2, math.sin(far / 2) ** 2


@njit(cache=True, inline="always")
def _edges(index, cell):  # pragma: no cover - compiled
    """A row's (or column's) edges in radians, padded by 1e-7 degree against rounding."""
    return math.radians(index * cell - 1e-7), math.radians((index + 1) * cell + 1e-7)


@njit(cache=True, inline="always")
def _haversine_of(value, kmh, by_minutes, radius2, circuity):  # pragma: no cover - compiled
    """The haversine at which the default model's cost (km, or minutes at ``kmh``; unrounded) is ``value``: 2.0
    (above any) past half the globe, -1.0 (below any) for a negative cost."""
    if value < 0.0:
        return -1.0
    angle = (value * kmh / 60.0 if by_minutes else value) / (radius2 * circuity)
    if angle >= math.pi / 2:
        return 2.0
    return math.sin(angle) ** 2


@njit(cache=True, inline="always")
def _model(j, o_node, o_terrain, o_phi, o_lam, o_cos, terrain, kmh, circuity, phi, lam, cos_phi,
           radius2):  # pragma: no cover - compiled
    """The default model's km, minutes and their basis codes from the origin to ``j`` (as the layer computes them)."""
    if j == o_node:
        return 0.0, 0.0, 0, 0
    return _from_haversine(j, _haversine(o_phi, o_lam, o_cos, phi, lam, cos_phi), o_terrain, terrain, kmh, circuity,
                           radius2)


@njit(cache=True, inline="always")
def _haversine(o_phi, o_lam, o_cos, phi, lam, cos_phi):  # pragma: no cover - compiled
    """The haversine of the great-circle angle from the origin to a point (as the layer computes it)."""
    a = math.sin((phi - o_phi) / 2)
    b = math.sin((lam - o_lam) / 2)
    return a * a + o_cos * cos_phi * (b * b)


@njit(cache=True, inline="always")
def _from_haversine(j, h, o_terrain, terrain, kmh, circuity, radius2):  # pragma: no cover - compiled
    """:func:`_model`'s figures of ``j`` from its haversine ``h``."""
    km = model_km(h, radius2, circuity)
    t = max(terrain[j], o_terrain)
    minutes = model_minutes(km, kmh[t])
    return np.rint(km * 1000.0) / 1000.0, np.rint(minutes * 100.0) / 100.0, 1 + t, 1 + t


@njit(cache=True)
def _figures(j, o_node, o_terrain, o_phi, o_lam, o_cos, ext_nodes, ext_f, ext_i, terrain, kmh, circuity, phi, lam,
             cos_phi, radius2):  # pragma: no cover - compiled
    """Km, minutes, basis codes and unreachable of ``j``: an imported pair's figures, else the default model's."""
    if ext_nodes.size:
        e = _position(ext_nodes, j)
        if e >= 0:
            return ext_f[e, 0], ext_f[e, 1], ext_i[e, 0], ext_i[e, 1], ext_i[e, 2] == 1
    km, minutes, kb, mb = _model(j, o_node, o_terrain, o_phi, o_lam, o_cos, terrain, kmh, circuity, phi[j], lam[j],
                                 cos_phi[j], radius2)
    return km, minutes, kb, mb, False


@njit(cache=True, inline="always")
def _code(j, undated, kernel_origin, origin_rank, mode, capability, rank, home, home_com, preferred, mark, mark_base,
          as_candidate):  # pragma: no cover - compiled
    """The kernel's code of ``j``; ``as_candidate``: an undated session classified as if bookable."""
    base = mark_base
    if as_candidate and undated.size and _position(undated, j) >= 0:
        base = mark_base - 2.0  # SESSION_OK in the session bits
    return classify(j, kernel_origin, origin_rank, mode, capability, rank, home, home_com, preferred, mark, base)


@njit(cache=True, inline="always")
def _put(buf_i, buf_f, n_buf, j, km, minutes, kb, mb):  # pragma: no cover - compiled
    """An institution met, with its figures, into the buffer; returns the new length."""
    buf_i[n_buf, I_NODE], buf_i[n_buf, I_KB], buf_i[n_buf, I_MB] = j, kb, mb
    buf_f[n_buf, F_KM], buf_f[n_buf, F_MIN] = km, minutes
    return n_buf + 1


@njit(cache=True)
def _rank_rows(cand_i, cand_f, start, stop, prio):  # pragma: no cover - compiled
    """Rows ``start:stop`` sorted by (step, value, tie priority), rows equal in all three kept in their order
    (stable sorts by the last key first)."""
    rows_i, rows_f = cand_i[start:stop], cand_f[start:stop]
    by = np.argsort(prio[rows_i[:, 0]], kind="mergesort")
    by = by[np.argsort(rows_f[by, 2], kind="mergesort")]
    by = by[np.argsort(rows_i[by, 1], kind="mergesort")]
    cand_i[start:stop] = rows_i[by]
    cand_f[start:stop] = rows_f[by]


@njit(cache=True)
def _destination(cand_i, n, undated):  # pragma: no cover - compiled
    """The first candidate row that is not an undated session (-1: none)."""
    for a in range(n):
        if not undated.size or _position(undated, cand_i[a, 0]) < 0:
            return a
    return -1


@njit(cache=True)
def _passed_over(dest, dest_value, buf_i, buf_f, n_buf, by_minutes, prio, passed):  # pragma: no cover - compiled
    """Buffer rows nearer than the destination (equal: before it in tie order), ranked; returns how many."""
    column = F_MIN if by_minutes else F_KM
    m = 0
    for a in range(n_buf):
        j = buf_i[a, I_NODE]
        if j != dest and _before(buf_f[a, column], j, dest_value, dest, prio):
            passed[m] = a
            m += 1
    rows = passed[:m]
    by_prio = rows[np.argsort(prio[buf_i[rows, I_NODE]], kind="mergesort")]
    ranked = by_prio[np.argsort(buf_f[by_prio, column], kind="mergesort")]
    passed[:m] = ranked
    return m


@njit(cache=True)
def _group(passed, res, buf_i, buf_f, slot_of, decided, limit_km, keep, passed_f):  # pragma: no cover - compiled
    """The ranked passed-over rows regrouped by reason slot, at most ``keep`` named per slot (slot 0's, then slot
    1's, …, each nearest first: the institutions in ``passed``, their km and minutes in ``passed_f``); each slot's
    count in ``res[R_SLOTS:]``. ``slot_of``: the slot of each
    code, then of a candidate skipped for max_km and for max_minutes (a candidate of a step up to the decided
    one)."""
    m = res[R_PASSED]
    slots = np.empty(m, np.int64)
    for s in range(N_SLOTS):
        res[R_SLOTS + s] = 0
    for a in range(m):
        row = passed[a]
        code = buf_i[row, I_PASS]
        if code < 3 and code <= decided:
            slot = slot_of[N_CODES] if buf_f[row, F_KM] > limit_km else slot_of[N_CODES + 1]
        else:
            slot = slot_of[code]
        slots[a] = slot
        res[R_SLOTS + slot] += 1
    start = np.zeros(N_SLOTS, np.int64)
    for s in range(1, N_SLOTS):
        start[s] = start[s - 1] + min(res[R_SLOTS + s - 1], keep)
    res[R_NAMED] = start[N_SLOTS - 1] + min(res[R_SLOTS + N_SLOTS - 1], keep)
    ranked = passed[:m].copy()
    filled = np.zeros(N_SLOTS, np.int64)
    for a in range(m):
        s = slots[a]
        if filled[s] < keep:
            at, row = start[s] + filled[s], ranked[a]
            passed[at] = buf_i[row, I_NODE]
            passed_f[0, at], passed_f[1, at] = buf_f[row, F_KM], buf_f[row, F_MIN]
            filled[s] += 1
