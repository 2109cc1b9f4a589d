"""Route a referral: from an origin and a needed specialty to the institution the tiered-care policy picks.

Build a :class:`Router` once per region (it compiles the network into arrays)
and ask it many times; each answer is a frozen :class:`Referral` that says
where to go, how far, by which links, which policy step decided, what else
would do, and why nearer institutions were passed over::

    >>> from mednet.regions import load_region
    >>> router = Router.from_region(load_region("quzhou"))
    >>> r = router.route("华埠", "普外科")
    >>> r.destination.name, r.step, round(r.distance_km, 1), round(r.minutes)
    ('开化县人民医院', 'own_community', 20.0, 30)
    >>> [(g.reason, [i.name for i in g.institutions]) for g in r.passed_over][:2]
    [('is_origin', ['华埠卫生院']), ('outside_community_at_this_step', ['开化县第二人民医院'])]
    >>> router.route("华埠", "general surgery", direction="emergency").destination.name
    '开化县第二人民医院'

The policy (see DESIGN.md, "Route a referral"):

- ``up`` (上转): to an institution of a higher tier than the origin, or to a
  scheduled session that a higher-tier expert holds (上下联动: the session's
  ``provider`` outranks the origin). Steps, in order: ``own_community`` (the
  origin's community: its lead, or such a session at a member),
  ``partners`` (the city hospitals the lead refers to by ``lead_city``
  links, the community's alliance and collaborator members), ``any``. The
  nearest candidate of the first step that has one within ``max_km`` is the
  destination.
- ``emergency`` (急): the nearest institution holding the specialty
  permanently, communities and tiers ignored (step ``nearest``). A
  scheduled session does not count: it is not there now.
- ``down`` (下转): back to the home community (``home``: a community, or the
  patient's home institution, whose community is used; by default the
  origin's own community when the origin is a hospital). Steps:
  ``home_centre`` (the home institution given, when it offers the care),
  then ``home_community`` (the nearest lead or branch of the home community
  that offers it). The care defaults to rehabilitation, else general
  practice.

In every direction the origin itself is never the destination, with one
exception going up: a session a higher-tier expert holds at the origin
itself (the visiting clinic at the patient's own centre, at 0 km). ``max_km``
(network km) skips a step whose nearest candidate lies beyond it.

Scheduled capabilities (a :class:`~mednet.models.Capability` with
``sessions``) count only when a session falls in the booking window: from
``when`` (default: now, China Standard Time) for the region's
``booking_days`` (``G.graph["booking_days"]``, default 7). A session is
taken to run 08:00–12:00 (morning), 14:00–17:30 (afternoon), 18:00–21:00
(evening) or 08:00–17:30 (all day or unstated); it is in the window when it
has not ended at ``when`` and starts before the window closes. Dates outside
``valid_from``..``valid_until`` never count. ``every_weeks`` > 1 counts
every N-th week from the first such weekday on or after ``valid_from``; with
no ``valid_from`` its weeks are unknown, so, like a session with no weekday
("weekly, day to be arranged"), it counts when the window holds at least
``7 * every_weeks`` valid days, and the answer gives no date.

How it is fast: the network is compiled once into CSR arrays, a capability
code matrix (specialty x institution), community, partner and anchor tables
(network km from each community member to its hospitals and partners) and
each institution's nearest hospitals. An ``up`` query without scheduled
sessions is decided from those tables; a numba kernel then searches from
the origin only as far as the destination, classifying every institution it
settles (the passed-over list) and never resetting per-node arrays (stamps
instead). Other queries run one early-stopping search in the same kernel.
The answer is assembled from cached, already-validated parts (one reference
object per institution and per link); the passed-over institutions come
grouped by reason. :meth:`Router.route_json` writes the same answer's JSON
directly from cached JSON fragments of those parts, without building it.
A point given as coordinates is checked
(:func:`mednet.geo.check_lat_lon`, mainland China) and snapped to the
nearest primary-care institution (great circle, within ``SNAP_MAX_KM``)
through a grid of cells searched ring by ring in numba: the same answer as
:class:`mednet.geo.SpatialIndex`, at a fraction of its cost for one point.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import networkx as nx
import numpy as np
import orjson
import pydantic_core
from numba import njit
from pydantic import BaseModel, ConfigDict, computed_field, model_validator

from mednet.errors import (
    InvalidCoordinates, InvalidRequest, NoCapableInstitution, UnknownCommunity, UnknownInstitution,
)
from mednet.geo import EARTH_RADIUS_KM, check_lat_lon
from mednet.models import (
    WEEKDAYS, Capability, DayPart, Latitude, LinkKind, Longitude, Region, Role, Session, Tier, Weekday,
)
from mednet.network import CompiledNetwork, build_network, compile_network, resolve_community, resolve_institution
from mednet.specialties import SPECIALTIES, resolve_specialty

Direction = Literal["up", "down", "emergency"]
Step = Literal["own_community", "partners", "any", "nearest", "home_centre", "home_community"]
Reason = Literal[
    "is_origin", "not_capable", "not_higher_tier", "not_in_session", "outside_community_at_this_step",
    "not_home_centre", "beyond_max_km",
]
#: Each direction, step and passed-over reason in the words of a Chinese referral desk.
DIRECTION_ZH: dict[str, str] = {"up": "上转", "down": "下转", "emergency": "急诊"}
STEP_ZH: dict[str, str] = {
    "own_community": "本医共体内", "partners": "医共体协作单位", "any": "区域内任一机构", "nearest": "最近的有能力机构",
    "home_centre": "居住地卫生院", "home_community": "居住地医共体",
}
REASON_ZH: dict[str, str] = {
    "is_origin": "出发地", "not_capable": "无此专科", "not_higher_tier": "非上级机构",
    "not_in_session": "预约期内无门诊", "outside_community_at_this_step": "本步骤范围外",
    "not_home_centre": "非居住地卫生院", "beyond_max_km": "超出距离限制",
}

#: China Standard Time: the default ``when`` is "now" there.
CST = dt.timezone(dt.timedelta(hours=8), "CST")
#: A point given as coordinates is snapped to a primary-care institution no farther than this.
SNAP_MAX_KM = 50.0
#: Follow-up care of ``down`` when no specialty is given, in order of preference.
DOWN_DEFAULT_CARE = ("rehabilitation", "general_practice")
#: When each part of the day runs (start, end), for the booking window.
PART_HOURS: dict[str | None, tuple[dt.time, dt.time]] = {
    "morning": (dt.time(8), dt.time(12)),
    "afternoon": (dt.time(14), dt.time(17, 30)),
    "evening": (dt.time(18), dt.time(21)),
    "all_day": (dt.time(8), dt.time(17, 30)),
    None: (dt.time(8), dt.time(17, 30)),
}
_WEEKDAY_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# --------------------------------------------------------------------------- the answer


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Point(_Frozen):
    """A WGS84 point given by a user, e.g. a patient's home."""

    lat: Latitude
    lon: Longitude


class InstitutionRef(_Frozen):
    """An institution as an answer names it."""

    id: str
    name: str
    tier: Tier
    county: str
    community: str | None = None
    community_name: str | None = None
    location_is_proxy: bool = False


class SpecialtyRef(_Frozen):
    code: str
    label_zh: str
    label_en: str


class Hop(_Frozen):
    """One link of the path, in travel order."""

    from_id: str
    to_id: str
    kind: LinkKind
    distance_km: float


class SessionSlot(_Frozen):
    """The scheduled session a capability is held in: a date, or "day to be arranged" (``date`` None)."""

    date: dt.date | None
    weekday: Weekday | None
    part: DayPart | None
    every_weeks: int = 1
    provider: InstitutionRef | None = None
    text: str


class Alternative(_Frozen):
    """Another capable institution, in the order the policy would pick it."""

    institution: InstitutionRef
    distance_km: float
    minutes: float
    step: Step
    session: SessionSlot | None = None


class PassedOver(_Frozen):
    """Institutions skipped for one reason, nearest first.

    Nearer than the destination (``is_origin``, ``not_capable``,
    ``not_higher_tier``, ``not_in_session``, ``outside_community_at_this_step``,
    ``not_home_centre``), or, for ``beyond_max_km``, the best candidate of an
    earlier step that lay beyond the limit.
    """

    reason: Reason
    institutions: tuple[InstitutionRef, ...]
    distances_km: tuple[float, ...]


class Referral(_Frozen):
    """Where a referral goes and why.

    ``distance_km`` is network km along ``path``; ``minutes`` assumes the
    region's ``speed_kmh``. ``origin_point`` and ``snap_km`` are set when the
    origin was given as coordinates. ``step`` is the policy step that
    decided (``explanation`` says it in a line); ``session`` the scheduled
    session the destination holds the specialty in, if so. ``alternatives``
    follow the policy's order (step, then distance); ``passed_over`` groups
    the skipped institutions by reason. ``when`` is the start of the booking
    window, when scheduled sessions were considered or ``when`` was given.
    """

    region: str
    origin: InstitutionRef
    origin_point: Point | None = None
    snap_km: float | None = None
    specialty: SpecialtyRef
    direction: Direction
    destination: InstitutionRef
    distance_km: float
    minutes: float
    speed_kmh: float
    path: tuple[Hop, ...]
    step: Step
    session: SessionSlot | None = None
    alternatives: tuple[Alternative, ...] = ()
    passed_over: tuple[PassedOver, ...] = ()
    max_km: float | None = None
    when: dt.datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _drop_computed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "explanation" in data:
            data = {k: v for k, v in data.items() if k != "explanation"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def explanation(self) -> str:
        """One line on why the destination was chosen."""
        return explain(self)

    def passed_over_by_distance(self) -> list[tuple[InstitutionRef, float, Reason]]:
        """Every passed-over institution as ``(institution, distance_km, reason)``, nearest first."""
        rows = [(i, d, g.reason) for g in self.passed_over for i, d in zip(g.institutions, g.distances_km)]
        return sorted(rows, key=lambda row: row[1])


def explain(r: Referral) -> str:
    """The one-line human explanation of a referral's policy step."""
    return _explain(r.step, r.origin, r.destination, r.specialty, r.session, r.max_km)


def _explain(step: Step, origin: InstitutionRef, destination: InstitutionRef, specialty: SpecialtyRef,
             session: SessionSlot | None, max_km: float | None) -> str:
    dest, care = destination.name, specialty.label_zh
    limit = f" within {max_km:g} km" if max_km is not None else ""
    held = f" in a session ({session.text})" if session else ""
    if step == "own_community" and destination.id == origin.id and session and session.provider:
        return (f"上下联动 at the own centre: {session.provider.name} holds a {care} session at {dest} "
                f"({session.text}), before any upward referral")
    if step == "own_community":
        return (f"上转 within the own community {origin.community_name}: {dest} is its nearest institution "
                f"offering {care}{held} at a higher tier than {origin.name}")
    if step == "partners":
        return (f"上转 to a partner of {origin.community_name}: its own members cannot take {care}{limit}; "
                f"{dest} is the nearest partner (city hospital, alliance or collaborator) that can{held}")
    if step == "any":
        where = "its community and partners" if origin.community else "it belongs to no community, and"
        return (f"上转 beyond the community: {where} offer no higher-tier {care}{limit}; "
                f"{dest} is the nearest institution that does{held}")
    if step == "nearest":
        return f"急诊: {dest} is the nearest institution offering {care} now, communities ignored"
    if step == "home_centre":
        return f"下转 to the patient's home centre {dest}, which offers {care}{held}"
    return (f"下转 to the home community {destination.community_name}: {dest} is its nearest member "
            f"offering {care}{held}{limit}")


_new = object.__new__
_NO_SLOTS: dict = {}
# The slots every pydantic model instance has, set through their descriptors (as model_construct sets them).
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _assemble(cls: type[BaseModel], values: dict[str, Any]) -> Any:
    """An instance from values that are already valid (what ``model_construct`` does, without its per-field work).

    Every field must be present. Used only for answers built from the
    compiled network, whose parts were validated when the region was loaded
    (the tests check that such answers equal their validated copies).
    """
    obj = _new(cls)
    _set_dict(obj, values)
    _set_fields_set(obj, _FIELDS[cls])
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


_FIELDS: dict[type, set[str]] = {
    cls: set(cls.model_fields)
    for cls in (InstitutionRef, SpecialtyRef, Hop, SessionSlot, Alternative, PassedOver, Referral)
}


# --------------------------------------------------------------------------- the kernel
# Compiled with numba (cache=True: compiled once per machine, then loaded from __pycache__). Everything below
# works on row indices of the compiled network; codes and slots are shared with the Router by these constants.

_UP, _DOWN, _EMERGENCY = 0, 1, 2
_MODES = {"up": _UP, "down": _DOWN, "emergency": _EMERGENCY}
_DIRECTION = {_UP: "up", _DOWN: "down", _EMERGENCY: "emergency"}
# Code of a settled institution: 0..2 = a candidate of that step; >= 10 = why it cannot be one.
_IS_ORIGIN, _NOT_CAPABLE, _NOT_HIGHER_TIER, _NOT_IN_SESSION, _OUTSIDE = 10, 11, 12, 13, 14
# Passed-over groups, in the order answers list them; group 1 ("a later step's candidate") is
# outside_community_at_this_step for up and not_home_centre for down.
_GROUP_OF_CODE = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 3, 4, 2], dtype=np.int64)
_N_GROUPS = 6
_GROUP_REASONS = {
    _UP: ("is_origin", "outside_community_at_this_step", "outside_community_at_this_step", "not_higher_tier",
          "not_in_session", "not_capable"),
    _DOWN: ("is_origin", "not_home_centre", "outside_community_at_this_step", "not_higher_tier", "not_in_session",
            "not_capable"),
    _EMERGENCY: ("is_origin", "outside_community_at_this_step", "outside_community_at_this_step", "not_higher_tier",
                 "not_in_session", "not_capable"),
}
_STEPS = {
    _UP: ("own_community", "partners", "any"),
    _DOWN: ("home_centre", "home_community", "home_community"),
    _EMERGENCY: ("nearest", "nearest", "nearest"),
}
# Session codes passed to the kernel: not bookable in the window / bookable / bookable but held by a lower tier.
_SESSION_NO, _SESSION_OK, _SESSION_LOW = 0, 1, 2
# Integer answer slots (the float ones: 0 destination km, 1..3 each step's best beyond max_km).
_H_STAMP, _H_PASSED, _H_DECIDED, _H_ALT, _H_PATH, _H_DEST, _H_SETTLED, _H_GROUPS, _H_BEYOND = 0, 1, 2, 3, 4, 5, 6, 7, 13
_HEADER = 16
#: Nearest hospitals kept per institution and tier threshold (up from primary care, up from county level).
NEAREST_K = 6


@njit(cache=True)
def _classify(j, origin, mode, cap, rank, home, hc, preferred, mark, q8):  # pragma: no cover - compiled
    """0..2: a candidate of that step; else why not. ``mark[j] - q8`` in 0..7: marked in this query."""
    c = cap[j]
    mv = mark[j] - q8
    value = int(mv) if 0.0 <= mv < 8.0 else 0
    if j == origin:
        # The origin is never the destination, except for a higher-tier expert's session held at the
        # origin itself (上下联动: the visiting clinic at the patient's own centre), going up.
        if mode != _UP or c != 2 or ((value >> 1) & 3) != _SESSION_OK:
            return _IS_ORIGIN
    if c == 0:
        return _NOT_CAPABLE
    if c == 1:
        if mode == _UP and rank[j] <= rank[origin]:
            return _NOT_HIGHER_TIER
    else:
        sc = (value >> 1) & 3
        if sc == _SESSION_NO:
            return _NOT_IN_SESSION
        if sc == _SESSION_LOW:
            return _NOT_HIGHER_TIER
    if mode == _UP:
        if hc >= 0 and home[j] == hc:
            return 0
        if value & 1:
            return 1
        return 2
    if mode == _DOWN:
        if j == preferred:
            return 0
        if home[j] == hc:
            return 1
        return _OUTSIDE
    return 2


@njit(cache=True)
def _push(hd, hn, size, d, v):  # pragma: no cover - compiled
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if hd[parent] <= d:
            break
        hd[i] = hd[parent]
        hn[i] = hn[parent]
        i = parent
    hd[i] = d
    hn[i] = v
    return size + 1


@njit(cache=True)
def _pop(hd, hn, size):  # pragma: no cover - compiled
    """Remove the root (read it first); returns the new size."""
    size -= 1
    d = hd[size]
    v = hn[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and hd[c + 1] < hd[c]:
            c += 1
        if hd[c] >= d:
            break
        hd[i] = hd[c]
        hn[i] = hn[c]
        i = c
    hd[i] = d
    hn[i] = v
    return size


@njit(cache=True)
def _start(origin, dist, pred, seen, q, hd, hn):  # pragma: no cover - compiled
    """A new search from ``origin``: its state, and a heap holding it alone (size 1)."""
    dist[origin] = 0.0
    pred[origin] = -1.0
    seen[origin] = q
    return _push(hd, hn, 0, 0.0, origin)


@njit(cache=True)
def _relax(j, d, first, last, adj_node, adj_km, dist, pred, seen, q, hd, hn, size):  # pragma: no cover - compiled
    """Relax the links of node ``j`` settled at ``d`` km; returns the new heap size."""
    for e in range(first[j], last[j]):
        v = int(adj_node[e])
        sv = seen[v]
        if sv == -q:
            continue
        nd = d + adj_km[e]
        if sv != q or nd < dist[v]:
            dist[v] = nd
            pred[v] = j
            seen[v] = q
            size = _push(hd, hn, size, nd, v)
    return size


@njit(cache=True)
def _complete(found, nstep, need):  # pragma: no cover - compiled
    """Whether the first ``need`` candidates in (step, distance) order are all known."""
    for s in range(3):
        if found[s] >= need:
            return True
        if found[s] < nstep[s]:
            return False
        need -= nstep[s]
    return True


@njit(cache=True)
def _keep_nearest(nodes, kms, kept, need, v, d):  # pragma: no cover - compiled
    """Insert (v, d) into the sorted, at most ``need`` long lists; returns the new length."""
    if kept == need and d >= kms[need - 1]:
        return kept
    i = kept if kept < need else need - 1
    while i > 0 and kms[i - 1] > d:
        nodes[i] = nodes[i - 1]
        kms[i] = kms[i - 1]
        i -= 1
    nodes[i] = v
    kms[i] = d
    return min(kept + 1, need)


@njit(cache=True)
def _from_tables(origin, hc, need, max_km, table, cap, rank, home, com, tab, lab_node, lab_km, mark, q8,
                 cand, cand_km, alt_node, alt_step, alt_km, res, res_f):  # pragma: no cover - compiled
    """The ordered candidates of an ``up`` query from the anchor and nearest-hospital tables.

    Returns how many were written (destination first), or 0 when the tables
    cannot decide (nothing within the limit, or too few nearest hospitals
    kept): the caller then searches.
    """
    com_ptr = _part(com, 0)
    anc_ptr = _part(com, 4)
    anc_nodes = _part(com, 5)
    row_ptr = _part(com, 6)
    pos_in_com = _part(com, 7)
    kept0 = kept1 = kept2 = 0
    tot0 = tot1 = 0
    far0 = far1 = -1
    far0_km = far1_km = np.inf
    if hc >= 0:
        na = anc_ptr[hc + 1] - anc_ptr[hc]
        base = row_ptr[hc] + (pos_in_com[origin] - com_ptr[hc]) * na
        for i in range(na):
            a = anc_nodes[anc_ptr[hc] + i]
            d = tab[base + i]
            if d == np.inf:
                continue
            c = _classify(a, origin, _UP, cap, rank, home, hc, -1, mark, q8)
            if c == 0:
                if d > max_km:
                    if d < far0_km:
                        far0, far0_km = a, d
                else:
                    tot0 += 1
                    kept0 = _keep_nearest(cand[0], cand_km[0], kept0, need, a, d)
            elif c == 1:
                if d > max_km:
                    if d < far1_km:
                        far1, far1_km = a, d
                else:
                    tot1 += 1
                    kept1 = _keep_nearest(cand[1], cand_km[1], kept1, need, a, d)
    need2 = need - tot0 - tot1
    if need2 > 0:
        decided = False
        K = lab_node.shape[2]
        for i in range(K):
            v = lab_node[table, origin, i]
            d = lab_km[(table * lab_node.shape[1] + origin) * K + i]
            if v < 0 or d > max_km:
                decided = True
                break
            if _classify(v, origin, _UP, cap, rank, home, hc, -1, mark, q8) == 2:
                cand[2, kept2] = v
                cand_km[2, kept2] = d
                kept2 += 1
                if kept2 == need2:
                    decided = True
                    break
        if not decided:
            return 0
    n_alt = 0
    for s, kept in ((0, kept0), (1, kept1), (2, kept2)):
        for i in range(kept):
            if n_alt < need:
                alt_node[n_alt] = cand[s, i]
                alt_step[n_alt] = s
                alt_km[n_alt] = cand_km[s, i]
                n_alt += 1
    if n_alt == 0:
        return 0
    if alt_step[0] > 0 and far0 >= 0:
        res[_H_BEYOND] = far0
        res_f[1] = far0_km
    if alt_step[0] > 1 and tot1 == 0 and far1 >= 0:
        res[_H_BEYOND + 1] = far1
        res_f[2] = far1_km
    return n_alt


@njit(cache=True)
def _route_kernel(static_f, static_i, com, cap, sess, scratch_f, scratch_i, origin, mode, hc, preferred, n_total,
                  max_km, k, table):  # pragma: no cover - compiled
    """One query: ordered candidates, the search from the origin, the grouped passed-over list and the path.

    ``out`` receives the header (``_H_*`` slots), then the passed-over
    institutions grouped, the candidates (destination first), their steps
    and the links of the path; ``out_f`` the destination km, each step's
    best beyond the limit, the passed-over km and the candidates' km.
    Returns how many integers were written.

    The arrays come packed by :func:`_pack` (the static ones by the router,
    the scratch ones by :meth:`Router._size_buffers`): a call with few
    arguments costs a third of one with an argument per array. What a
    node costs in memory is interleaved, so that it is one cache line rather
    than one per array: ``node`` rows (first link, end of links, home
    community, tier rank), ``adj`` rows (neighbour, km) and ``state`` rows
    (km, stamp: +q reached / -q settled, predecessor, mark: 8q + value).
    ``com`` packs the community tables; ``sess`` the institutions holding
    the specialty in sessions, then their session codes.
    """
    node = _part(static_i, 0).reshape((-1, 4))
    n = node.shape[0]
    lab_node = _part(static_i, 1).reshape((2, n, -1))
    adj = _part(static_f, 0).reshape((-1, 2))
    lab_km = _part(static_f, 1)
    tab = _part(static_f, 2)
    hn = _part(scratch_i, 0)
    settled = _part(scratch_i, 1).reshape((2, n))
    cand = _part(scratch_i, 2).reshape((5, -1))
    out = _part(scratch_i, 3)
    state = _part(scratch_f, 0).reshape((n, 4))
    hd = _part(scratch_f, 1)
    settled_km = _part(scratch_f, 2)
    cand_km = _part(scratch_f, 3).reshape((4, -1))
    out_f = _part(scratch_f, 4)
    n_sess = sess.size // 2
    sess_nodes = sess[:n_sess]
    sess_codes = sess[n_sess:]
    first = node[:, 0]
    last = node[:, 1]
    home = node[:, 2]
    rank = node[:, 3]
    adj_node = adj[:, 0]
    adj_km = adj[:, 1]
    dist = state[:, 0]
    seen = state[:, 1]
    pred = state[:, 2]
    mark = state[:, 3]
    alt_node = cand[3]
    alt_step = cand[4]
    alt_km = cand_km[3]
    q = out[_H_STAMP] + 1
    if q >= 2_000_000_000:
        seen[:] = 0
        mark[:] = 0
        q = 1
    out[_H_STAMP] = q
    q8 = 8.0 * q
    for i in range(1, _HEADER):
        out[i] = 0
    out[_H_DECIDED] = -1
    out[_H_DEST] = -1
    for i in range(3):
        out[_H_BEYOND + i] = -1
        out_f[1 + i] = np.inf
    com_ptr = _part(com, 0)
    com_nodes = _part(com, 1)
    part_ptr = _part(com, 2)
    part_nodes = _part(com, 3)
    if mode == _UP and hc >= 0:
        for e in range(part_ptr[hc], part_ptr[hc + 1]):
            mark[part_nodes[e]] = q8 + 1.0
    for e in range(sess_nodes.size):
        p = sess_nodes[e]
        if not 0.0 <= mark[p] - q8 < 8.0:
            mark[p] = q8
        mark[p] += sess_codes[e] << 1

    need = k + 1
    n_alt = 0
    if table >= 0:
        n_alt = _from_tables(origin, hc, need, max_km, table, cap, rank, home, com, tab, lab_node, lab_km, mark,
                             q8, cand, cand_km, alt_node, alt_step, alt_km, out, out_f)
    m = 0
    dest_pos = -1
    if n_alt > 0:
        # The tables decided: search only as far as the destination, for the passed-over list and the path.
        decided = alt_step[0]
        size = _start(origin, dist, pred, seen, q, hd, hn)
        while size > 0:
            d = hd[0]
            j = hn[0]
            size = _pop(hd, hn, size)
            if seen[j] == -q:
                continue
            seen[j] = -q
            code = _classify(j, origin, mode, cap, rank, home, hc, preferred, mark, q8)
            settled[0, m] = j
            settled_km[m] = d
            settled[1, m] = code
            m += 1
            if code == decided:
                dest_pos = m - 1
                break
            size = _relax(j, d, first, last, adj_node, adj_km, dist, pred, seen, q, hd, hn, size)
        if dest_pos < 0:  # cannot happen when the tables are right; search in full then
            n_alt = 0
        else:
            dest = settled[0, dest_pos]
            if dest != alt_node[0]:  # a tie at the same distance settled first: it is the destination
                at = -1
                for i in range(n_alt):
                    if alt_node[i] == dest:
                        at = i
                if at < 0:
                    at = n_alt if n_alt < need else n_alt - 1
                    n_alt = at + 1
                for i in range(at, 0, -1):
                    alt_node[i] = alt_node[i - 1]
                    alt_step[i] = alt_step[i - 1]
                    alt_km[i] = alt_km[i - 1]
                alt_node[0] = dest
                alt_step[0] = decided
            alt_km[0] = settled_km[dest_pos]
    if n_alt == 0:
        # Search: settle in distance order until the first `need` candidates in (step, distance) order are known.
        for i in range(3):
            out[_H_BEYOND + i] = -1
        m = 0
        nstep = np.zeros(3, np.int64)
        found = np.zeros(3, np.int64)
        if mode == _UP:
            if hc >= 0:
                for e in range(com_ptr[hc], com_ptr[hc + 1]):
                    if _classify(com_nodes[e], origin, mode, cap, rank, home, hc, preferred, mark, q8) == 0:
                        nstep[0] += 1
                for e in range(part_ptr[hc], part_ptr[hc + 1]):
                    if _classify(part_nodes[e], origin, mode, cap, rank, home, hc, preferred, mark, q8) == 1:
                        nstep[1] += 1
            nstep[2] = max(n_total - nstep[0] - nstep[1], 0)
        elif mode == _DOWN:
            if preferred >= 0 and _classify(preferred, origin, mode, cap, rank, home, hc, preferred,
                                            mark, q8) == 0:
                nstep[0] = 1
            for e in range(com_ptr[hc], com_ptr[hc + 1]):
                if _classify(com_nodes[e], origin, mode, cap, rank, home, hc, preferred, mark, q8) == 1:
                    nstep[1] += 1
        else:
            nstep[2] = n_total
        if _complete(found, nstep, need):  # no candidate anywhere
            return _HEADER
        want = np.zeros(3, np.bool_)
        wanted = 0
        phase = 0
        decided = -1
        size = _start(origin, dist, pred, seen, q, hd, hn)
        while size > 0:
            d = hd[0]
            j = hn[0]
            size = _pop(hd, hn, size)
            if seen[j] == -q:
                continue
            if phase == 0 and d > max_km:
                for s in range(3):
                    if found[s] > 0:
                        decided = s
                        break
                for s in range(3):
                    if (decided < 0 or s < decided) and nstep[s] > 0:
                        want[s] = True
                        wanted += 1
                if wanted == 0:
                    break
                phase = 1
            seen[j] = -q
            code = _classify(j, origin, mode, cap, rank, home, hc, preferred, mark, q8)
            settled[0, m] = j
            settled_km[m] = d
            settled[1, m] = code
            m += 1
            if code < 3:
                if phase == 0:
                    f = found[code]
                    if f < need:
                        cand[code, f] = m - 1
                    found[code] = f + 1
                    if _complete(found, nstep, need):
                        break
                elif want[code]:
                    want[code] = False
                    out[_H_BEYOND + code] = j
                    out_f[1 + code] = d
                    wanted -= 1
                    if wanted == 0:
                        break
            size = _relax(j, d, first, last, adj_node, adj_km, dist, pred, seen, q, hd, hn, size)
        if decided < 0:
            for s in range(3):
                if found[s] > 0:
                    decided = s
                    break
        if decided < 0:
            return _HEADER
        for s in range(3):
            for i in range(min(found[s], need)):
                if n_alt < need:
                    pos = cand[s, i]
                    alt_node[n_alt] = settled[0, pos]
                    alt_step[n_alt] = s
                    alt_km[n_alt] = settled_km[pos]
                    n_alt += 1
        dest_pos = cand[decided, 0]
    dest = settled[0, dest_pos]
    out_f[0] = settled_km[dest_pos]
    out[_H_DECIDED] = alt_step[0]
    out[_H_DEST] = dest
    out[_H_ALT] = n_alt
    out[_H_SETTLED] = m
    # The passed-over institutions (settled before the destination), grouped by reason, nearest first.
    counts = np.zeros(_N_GROUPS, np.int64)
    for i in range(dest_pos):
        counts[_GROUP_OF_CODE[settled[1, i]]] += 1
    start = np.zeros(_N_GROUPS, np.int64)
    for g in range(1, _N_GROUPS):
        start[g] = start[g - 1] + counts[g - 1]
    for g in range(_N_GROUPS):
        out[_H_GROUPS + g] = counts[g]
    for i in range(dest_pos):
        g = _GROUP_OF_CODE[settled[1, i]]
        out[_HEADER + start[g]] = settled[0, i]
        out_f[4 + start[g]] = settled_km[i]
        start[g] += 1
    out[_H_PASSED] = dest_pos
    # The candidates follow the passed-over block.
    base = _HEADER + dest_pos
    for i in range(n_alt):
        out[base + i] = alt_node[i]
        out[base + n_alt + i] = alt_step[i]
        out_f[4 + dest_pos + i] = alt_km[i]
    n_path = 0  # links
    j = dest
    while j != origin:
        n_path += 1
        j = int(pred[j])
    j = dest
    for i in range(n_path - 1, -1, -1):
        u = int(pred[j])
        for e in range(first[u], last[u]):
            if int(adj_node[e]) == j:
                out[base + 2 * n_alt + i] = e
                break
        j = u
    out[_H_PATH] = n_path
    return base + 2 * n_alt + n_path


@njit(cache=True, nogil=True)
def _has_label(lab_node, v, count, src):  # pragma: no cover - compiled
    for t in range(count):
        if lab_node[v, t] == src:
            return True
    return False


@njit(cache=True, nogil=True)
def _nearest_sources(indptr, indices, weights, is_source, K):  # pragma: no cover - compiled
    """For every node, its ``K`` nearest sources by network distance (-1 / inf where fewer are reachable).

    One label-setting pass: heap entries are (km, node, source); a node accepts
    the first ``K`` distinct sources popped for it, which are its nearest.
    """
    n = indptr.size - 1
    lab_node = np.full((n, K), -1, np.int32)
    lab_km = np.full((n, K), np.inf)
    cnt = np.zeros(n, np.int32)
    capacity = 4 * n + 16
    hd = np.empty(capacity)
    hn = np.empty(capacity, np.int32)
    hs = np.empty(capacity, np.int32)
    size = 0
    for s in range(n):
        if is_source[s]:
            hd[size] = 0.0
            hn[size] = s
            hs[size] = s
            size += 1  # all keys 0: already a heap
    while size > 0:
        d = hd[0]
        v = hn[0]
        src = hs[0]
        size -= 1
        ld, lv, ls = hd[size], hn[size], hs[size]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= size:
                break
            if c + 1 < size and hd[c + 1] < hd[c]:
                c += 1
            if hd[c] >= ld:
                break
            hd[i], hn[i], hs[i] = hd[c], hn[c], hs[c]
            i = c
        hd[i], hn[i], hs[i] = ld, lv, ls
        c = cnt[v]
        if c >= K or _has_label(lab_node, v, c, src):
            continue
        lab_node[v, c] = src
        lab_km[v, c] = d
        cnt[v] = c + 1
        for e in range(indptr[v], indptr[v + 1]):
            u = indices[e]
            cu = cnt[u]
            if cu >= K or _has_label(lab_node, u, cu, src):
                continue
            if size == capacity:
                capacity *= 2
                hd2 = np.empty(capacity)
                hn2 = np.empty(capacity, np.int32)
                hs2 = np.empty(capacity, np.int32)
                hd2[:size] = hd[:size]
                hn2[:size] = hn[:size]
                hs2[:size] = hs[:size]
                hd, hn, hs = hd2, hn2, hs2
            nd = d + weights[e]
            i = size
            while i > 0:
                parent = (i - 1) >> 1
                if hd[parent] <= nd:
                    break
                hd[i], hn[i], hs[i] = hd[parent], hn[parent], hs[parent]
                i = parent
            hd[i], hn[i], hs[i] = nd, u, src
            size += 1
    return lab_node, lab_km


@njit(cache=True)
def _anchor_distances(indptr, indices, weights, anchors, task_ptr, task_com, task_idx, com, n_tab):  # pragma: no cover
    """Network km from every anchor to every member of the communities it anchors.

    ``tab[row_ptr[c] + r * n_anchors(c) + i]`` is the km between member ``r``
    of community ``c`` and its anchor ``i`` (inf: unreachable). One Dijkstra
    per anchor, stopped when all the members it serves are settled.
    """
    com_ptr = _part(com, 0)
    com_nodes = _part(com, 1)
    anc_ptr = _part(com, 4)
    row_ptr = _part(com, 6)
    n = indptr.size - 1
    tab = np.full(n_tab, np.inf)
    dist = np.zeros(n)
    seen = np.zeros(n, np.int32)
    target = np.zeros(n, np.int32)
    hd = np.empty(indptr[n] + 1)
    hn = np.empty(indptr[n] + 1, np.int32)
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
        a = anchors[u]
        dist[a] = 0.0
        seen[a] = q
        size = _push(hd, hn, 0, 0.0, a)
        while size > 0 and remaining > 0:
            d = hd[0]
            j = hn[0]
            size = _pop(hd, hn, size)
            if seen[j] == -q:
                continue
            seen[j] = -q
            if target[j] == q:
                remaining -= 1
            for e in range(indptr[j], indptr[j + 1]):
                v = indices[e]
                sv = seen[v]
                if sv == -q:
                    continue
                nd = d + weights[e]
                if sv != q or nd < dist[v]:
                    dist[v] = nd
                    seen[v] = q
                    size = _push(hd, hn, size, nd, v)
        for t in range(task_ptr[u], task_ptr[u + 1]):
            c = task_com[t]
            na = anc_ptr[c + 1] - anc_ptr[c]
            for r in range(com_ptr[c + 1] - com_ptr[c]):
                j = com_nodes[com_ptr[c] + r]
                if seen[j] == -q:
                    tab[row_ptr[c] + r * na + task_idx[t]] = dist[j]
    return tab


class _SnapGrid:
    """Nearest point on the sphere for one query at a time, from a lat/lon grid of cells (numba).

    Gives the great-circle nearest point, as :class:`mednet.geo.SpatialIndex`
    does (the tests check that they agree), for one point at a time in about
    7 µs where the k-d tree takes about 30 µs, mostly per-call set-up.
    """

    CELL_DEG = 0.1

    def __init__(self, *, lat: np.ndarray, lon: np.ndarray):
        lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        rows = np.floor(lat / self.CELL_DEG).astype(np.int64)
        cols = np.floor(lon / self.CELL_DEG).astype(np.int64)
        self.row0, self.col0 = int(rows.min()), int(cols.min())
        self.height, self.width = int(rows.max()) - self.row0 + 1, int(cols.max()) - self.col0 + 1
        cell = (rows - self.row0) * self.width + (cols - self.col0)
        self.order = np.argsort(cell, kind="stable").astype(np.int64)
        self.ptr = np.zeros(self.height * self.width + 1, dtype=np.int64)
        np.cumsum(np.bincount(cell, minlength=self.height * self.width), out=self.ptr[1:])
        self.phi, self.lam = np.radians(lat[self.order]), np.radians(lon[self.order])
        self.cos_phi = np.cos(self.phi)
        self.cos_min = float(self.cos_phi.min())

    def nearest(self, *, lat: float, lon: float) -> tuple[int, float]:
        """Index of the nearest point and its great-circle distance in km."""
        i, hav = _grid_nearest(lat, lon, self.ptr, self.order, self.phi, self.lam, self.cos_phi, self.cos_min,
                               self.row0, self.col0, self.height, self.width, self.CELL_DEG)
        return i, 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(hav, 1.0)))


@njit(cache=True)
def _grid_nearest(lat, lon, ptr, order, phi, lam, cos_phi, cos_min, row0, col0, height, width,
                  cell):  # pragma: no cover - compiled
    """Ring by ring around the query's cell; stops when no farther ring can hold a nearer point.

    A point ``r + 1`` rings away differs by at least ``r`` cells in latitude
    or longitude, so its haversine is at least ``cos(lat) * cos_min *
    sin²(r * cell / 2)`` (``cos_min``: the smallest cos(lat) of the points).
    """
    qphi, qlam = math.radians(lat), math.radians(lon)
    qcos = math.cos(qphi)
    ci = int(math.floor(lat / cell)) - row0
    cj = int(math.floor(lon / cell)) - col0
    best, best_i = np.inf, -1
    reach = max(height, width) + abs(ci) + abs(cj) + 1
    for r in range(reach + 1):
        for di in range(-r, r + 1):
            i = ci + di
            if i < 0 or i >= height:
                continue
            step = 1 if abs(di) == r else 2 * r
            j = cj - r
            while j <= cj + r:
                if 0 <= j < width:
                    c = i * width + j
                    for t in range(ptr[c], ptr[c + 1]):
                        a = math.sin((phi[t] - qphi) / 2)
                        b = math.sin((lam[t] - qlam) / 2)
                        h = a * a + qcos * cos_phi[t] * b * b
                        if h < best:
                            best, best_i = h, order[t]
                j += step
        bound = math.sin(math.radians(r * cell) / 2)
        if best <= qcos * cos_min * bound * bound:
            break
    return best_i, best


def _pack(*arrays: np.ndarray, dtype: type = np.int64) -> np.ndarray:
    """Several flat arrays as one: a header of offsets, then the arrays (fewer arguments to the kernel).

    >>> packed = _pack(np.array([7, 8]), np.array([9]))
    >>> packed.tolist(), _part(packed, 1).tolist()
    ([3, 5, 6, 7, 8, 9], [9])
    """
    header = len(arrays) + 1
    offsets = np.cumsum([header, *(a.size for a in arrays)])
    return np.concatenate([offsets, *(a.ravel() for a in arrays)]).astype(dtype)


@njit(cache=True)
def _part(packed, i):  # pragma: no cover - compiled
    """Array ``i`` of a :func:`_pack` result (a view)."""
    return packed[int(packed[i]):int(packed[i + 1])]


# --------------------------------------------------------------------------- the router


class Router:
    """Built once per region from its compiled network; answers many queries.

    Compiling builds the kernel's tables: the CSR graph, the capability
    codes, per community its members, partners and anchors (its hospital-tier
    members and partners) with the network km from every member to every
    anchor, and per institution its ``NEAREST_K`` nearest hospitals of county
    tier and above and of city tier. An ``up`` query without scheduled
    sessions is then decided from the tables and searches only as far as the
    destination (for the passed-over list and the path); other queries run
    one early-stopping search. Thread-safe (queries share scratch arrays
    under a lock); the network must not change afterwards.
    """

    def __init__(self, net: CompiledNetwork):
        self.net = net
        G = self.G = net.G
        n = net.n
        self.region = str(G.graph.get("region", ""))
        self.speed_kmh = float(G.graph.get("speed_kmh", 40.0))
        self.booking_days = int(G.graph.get("booking_days", 7))
        csr = net.csr
        self._indptr = csr.indptr.astype(np.int64)
        self._indices = csr.indices.astype(np.int32)
        self._weights = csr.data.astype(np.float64)
        self._cap = np.ascontiguousarray((net.capable.T * 1 + net.in_session.T * 2).astype(np.int8))
        self._cap_rows = list(self._cap)
        self._rank = net.tier_rank.astype(np.int8)
        self._ranks = self._rank.tolist()
        self._home = net.home.astype(np.int32)
        self._homes = self._home.tolist()
        self._columns = {code: s for s, code in enumerate(net.specialties)}
        self._specialties = {s.code: s for s in SPECIALTIES}

        communities = G.graph.get("communities", {})
        self._community_names = tuple(communities[c].name for c in net.community_ids)
        self._com, n_tab, anchors, tasks = self._community_tables(communities)
        tab = _anchor_distances(self._indptr, self._indices, self._weights, *anchors, *tasks, self._com, n_tab)
        lab_node = np.full((2, n, NEAREST_K), -1, dtype=np.int32)
        lab_km = np.full((2, n, NEAREST_K), np.inf)
        thresholds = [t for t in (0, 1) if (self._rank >= t + 2).any()]
        with ThreadPoolExecutor(max_workers=2) as pool:  # the kernel releases the GIL: both tables at once
            done = pool.map(lambda t: _nearest_sources(self._indptr, self._indices, self._weights,
                                                       self._rank >= t + 2, NEAREST_K), thresholds)
            for t, (nodes, kms) in zip(thresholds, done, strict=True):
                lab_node[t], lab_km[t] = nodes, kms
        node = np.column_stack((self._indptr[:-1], self._indptr[1:], self._home, self._rank)).astype(np.int32)
        adj = np.column_stack((self._indices.astype(np.float64), self._weights))
        self._static_i = _pack(node, lab_node, dtype=np.int32)
        self._static_f = _pack(adj, lab_km, tab, dtype=np.float64)
        self._edge_row = np.repeat(np.arange(n, dtype=np.int32), np.diff(self._indptr))

        # Per specialty: how many hold it permanently above each tier rank, and who holds it in sessions.
        perm = self._cap == 1
        self._n_above = [
            [int(np.count_nonzero(perm[s] & (self._rank > r))) for r in range(5)] for s in range(len(net.specialties))
        ]
        self._n_permanent = [int(np.count_nonzero(perm[s])) for s in range(len(net.specialties))]
        self._sessions: list[tuple[tuple[int, tuple[Session, ...]], ...]] = []
        for s, code in enumerate(net.specialties):
            held = np.flatnonzero(self._cap[s] == 2).tolist()
            self._sessions.append(tuple((j, G.nodes[net.ids[j]]["capabilities"][code].sessions) for j in held))

        self._n = n
        self._no_sessions = np.zeros(0, dtype=np.int64)
        self._size_buffers(4)
        self._lock = threading.Lock()

        # Every institution's ref, by index, made up front: answers take them by list index (a list lookup is
        # the cheapest per passed-over institution, and there is no "not made yet" check to pay).
        self._refs: list[InstitutionRef] = self._make_refs()
        self._ref_of = self._refs.__getitem__
        self._hops: list[Hop | None] = [None] * len(self._indices)
        self._ref_fragments: list[orjson.Fragment] = []  # for route_json, made on first use
        self._hop_fragments: dict[int, orjson.Fragment] = {}
        self._specialty_refs = {
            code: _assemble(SpecialtyRef, {"code": code, "label_zh": sp.label_zh, "label_en": sp.label_en})
            for code, sp in self._specialties.items()
        }
        self._specialty_json = {code: _json(ref) for code, ref in self._specialty_refs.items()}
        primary = np.flatnonzero(net.primary_care)
        self._primary = primary
        self._snap = _SnapGrid(lat=net.lat[primary], lon=net.lon[primary]) if primary.size else None

    def _size_buffers(self, need: int) -> None:
        """The kernel's scratch arrays, for up to ``need - 1`` alternatives, in a fresh state.

        Integers: the heap's nodes, the settled nodes and their codes, the
        candidates, ``out``. Floats: the node states, the heap's km, the
        settled km, the candidates' km, ``out_f``.
        """
        n, links = self._n, len(self._indices)
        self._scratch_i = _pack(np.zeros(links + 1), np.zeros(2 * n), np.zeros(5 * need),
                                np.zeros(_HEADER + 2 * n + 2 * need))
        self._scratch_f = _pack(np.zeros(4 * n), np.zeros(links + 1), np.zeros(n), np.zeros(4 * need),
                                np.zeros(4 + n + need), dtype=np.float64)
        self._out = self._scratch_i[int(self._scratch_i[3]):]
        self._out_f = self._scratch_f[int(self._scratch_f[4]):]
        self._need = need

    @classmethod
    def from_region(cls, region: Region) -> Router:
        """Build the region's network, compile it and make a router."""
        return cls(compile_network(build_network(region)))

    @classmethod
    def from_graph(cls, G: nx.Graph) -> Router:
        """A router for a graph, compiled once and kept in the graph's cache (cleared when the graph changes)."""
        cache = G.__networkx_cache__
        router = cache.get("mednet.routing.Router")
        if router is None:
            router = cache["mednet.routing.Router"] = cls(compile_network(G))
        return router

    def _community_tables(self, communities):
        """Members, partners and anchors per community, packed for the kernel; and the anchor tasks."""
        net, G = self.net, self.G
        C = len(net.community_ids)
        order = np.argsort(self._home, kind="stable")
        order = order[self._home[order] >= 0]
        com_ptr = np.zeros(C + 1, dtype=np.int64)
        np.cumsum(np.bincount(self._home[order], minlength=C), out=com_ptr[1:])
        pos_in_com = np.full(net.n, -1, dtype=np.int64)
        pos_in_com[order] = np.arange(len(order))
        part_ptr, part_nodes, anc_ptr, anc_nodes, row_ptr = [0], [], [0], [], [0]
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
            anchors = list(dict.fromkeys([j for j in members if self._rank[j] >= 2] + list(partners)))
            for i, a in enumerate(anchors):
                tasks.setdefault(a, []).append((c, i))
            anc_nodes.extend(anchors)
            anc_ptr.append(len(anc_nodes))
            row_ptr.append(row_ptr[-1] + len(members) * len(anchors))
        com = _pack(com_ptr, order, np.asarray(part_ptr), np.asarray(part_nodes, dtype=np.int64), np.asarray(anc_ptr),
                    np.asarray(anc_nodes, dtype=np.int64), np.asarray(row_ptr), pos_in_com)
        anchor_ids = np.asarray(list(tasks), dtype=np.int64)
        task_ptr = np.cumsum([0] + [len(t) for t in tasks.values()]).astype(np.int64)
        task_com = np.asarray([c for t in tasks.values() for c, _ in t], dtype=np.int64)
        task_idx = np.asarray([i for t in tasks.values() for _, i in t], dtype=np.int64)
        return com, int(row_ptr[-1]), (anchor_ids,), (task_ptr, task_com, task_idx)

    # ----------------------------------------------------------------- queries

    def route(
        self,
        origin: str | Point,
        specialty: str | None,
        *,
        direction: Direction = "up",
        home: str | None = None,
        max_km: float | None = None,
        alternatives: int = 3,
        when: dt.datetime | None = None,
    ) -> Referral:
        """Route one referral; see the module docstring for the policy.

        ``specialty`` may be None only with ``direction="down"`` (then
        rehabilitation, else general practice).
        """
        return self._answer(self._referral, origin, specialty, direction, home, max_km, alternatives, when)

    def route_json(self, origin: str | Point, specialty: str | None, **options: Any) -> bytes:
        """:meth:`route`'s answer (same arguments) as JSON: the bytes of ``route(...).model_dump_json()``,
        at a fraction of the cost (the service answers with it).

        No :class:`Referral` is built: the same decoded search writes the
        JSON directly, each institution, link and specialty as a fragment
        pydantic rendered once, the rest by orjson (numbers in the same
        shortest round-trip form).

        >>> from mednet.regions import load_region
        >>> router = Router.from_region(load_region("quzhou"))
        >>> router.route_json("华埠", "儿科") == router.route("华埠", "儿科").model_dump_json().encode()
        True
        """
        return self._answer(self._referral_json, origin, specialty, **options)

    def _answer(self, render, origin, specialty, direction="up", home=None, max_km=None, alternatives=3, when=None):
        """Check the request, resolve the origin and the care, search, and ``render`` the answer."""
        mode = _MODES.get(direction) if type(direction) is str else None
        if mode is None:
            raise InvalidRequest("direction", direction, "must be one of 'up', 'down', 'emergency'")
        if type(alternatives) is not int or alternatives < 1:
            raise InvalidRequest("alternatives", alternatives, "must be a whole number >= 1")
        if max_km is None:
            limit = math.inf
        elif isinstance(max_km, bool) or not isinstance(max_km, int | float) or not max_km > 0:
            raise InvalidRequest("max_km", max_km, "must be > 0")
        else:
            limit = float(max_km)

        point = snap_km = None
        if type(origin) is str:
            o = self.net.index.get(origin)
            if o is None:
                o = self.net.index[resolve_institution(self.G, origin)]
        elif isinstance(origin, Point):
            point = origin
            o, snap_km = self._snap_point(origin)
        elif isinstance(origin, str):  # a str subclass
            o = self.net.index[resolve_institution(self.G, str(origin))]
        else:
            raise InvalidRequest("origin", origin, "must be an institution id, name or alias, or a Point(lat=, lon=)")

        hc, preferred = self._homes[o], -1
        codes: tuple[str, ...]
        if mode == _DOWN:
            hc, preferred = self._home_for_down(o, home)
        elif home is not None:
            raise InvalidRequest("home", home, "is only used with direction='down'")
        if specialty is not None:
            codes = (specialty if specialty in self._columns else resolve_specialty(specialty).code,)
        elif mode == _DOWN:
            codes = DOWN_DEFAULT_CARE
        else:
            raise InvalidRequest("specialty", None, "is required (it may be left out only for direction='down')")
        for code in codes[:-1]:  # down with no specialty: rehabilitation, else general practice
            with contextlib.suppress(NoCapableInstitution):
                return render(o, code, mode, limit, point, snap_km,
                              *self._search(o, code, mode, hc, preferred, limit, alternatives, when))
        return render(o, codes[-1], mode, limit, point, snap_km,
                      *self._search(o, codes[-1], mode, hc, preferred, limit, alternatives, when))

    def _search(self, o, code, mode, hc, preferred, limit, k, when):
        """Run the kernel; returns what the renderers take: the decoded answer, the slots and ``when``."""
        s = self._columns.get(code)
        if s is None:
            raise self._nothing(o, code, mode, hc, limit, None)
        if k > self._n:
            k = self._n
        rank_o = self._ranks[o]
        sessions = self._no_sessions
        slots: dict[int, SessionSlot] = _NO_SLOTS
        n_sessions = 0
        held = self._sessions[s]
        if held or when is not None:
            when = _window_start(when)
        if held and mode != _EMERGENCY:
            sessions, slots, n_sessions = self._session_codes(held, o, mode, when)
        table = -1
        if mode == _UP:
            n_total = self._n_above[s][rank_o] + n_sessions
            if not held and rank_o in (1, 2):
                table = rank_o - 1
        elif mode == _EMERGENCY:
            n_total = self._n_permanent[s] - (self._cap[s, o] == 1)
        else:
            n_total = 0
        if mode != _DOWN and n_total <= 0:
            raise self._nothing(o, code, mode, hc, limit, None)

        with self._lock:
            if self._need < k + 1:
                self._size_buffers(k + 1)
            out = self._out
            written = _route_kernel(self._static_f, self._static_i, self._com, self._cap_rows[s], sessions,
                                    self._scratch_f, self._scratch_i, o, mode, hc, preferred, n_total, limit, k, table)
            ints = out[:written].tolist()
            n_passed, n_alt = ints[_H_PASSED], ints[_H_ALT]
            floats = tuple(self._out_f[:4 + n_passed + n_alt].tolist())
        if ints[_H_DECIDED] < 0:
            beyond = [(floats[1 + i], ints[_H_BEYOND + i]) for i in range(3) if ints[_H_BEYOND + i] >= 0]
            raise self._nothing(o, code, mode, hc, limit, min(beyond) if beyond else None)

        # The passed-over groups: (reason, institutions, km), then each earlier step's best beyond max_km.
        passed = []
        at = _HEADER
        reasons = _GROUP_REASONS[mode]
        for g, count in enumerate(ints[_H_GROUPS:_H_GROUPS + _N_GROUPS]):
            if count:
                passed.append((reasons[g], ints[at:at + count], floats[at - _HEADER + 4:at - _HEADER + 4 + count]))
                at += count
        if limit != math.inf:
            for i in range(3):
                if ints[_H_BEYOND + i] >= 0:
                    passed.append(("beyond_max_km", ints[_H_BEYOND + i:_H_BEYOND + i + 1], floats[1 + i:2 + i]))
        # The candidates, destination first: institutions, km, step numbers; then the path's CSR entries.
        base = _HEADER + n_passed
        return (passed, ints[base:base + n_alt], floats[4 + n_passed:4 + n_passed + n_alt],
                ints[base + n_alt:base + 2 * n_alt], ints[base + 2 * n_alt:], slots, when)

    def _referral(self, o, code, mode, limit, point, snap_km, passed, nodes, kms, kinds, edges, slots,
                  when) -> Referral:
        """The answer as a :class:`Referral`, from cached, already-validated parts."""
        refs, ref_of, speed, hops, steps = self._refs, self._ref_of, self.speed_kmh, self._hops, _STEPS[mode]
        groups = []
        fields = _FIELDS[PassedOver]
        for reason, group, group_km in passed:  # _assemble, inlined: these loops are hot
            obj = _new(PassedOver)
            _set_dict(obj, {"reason": reason, "institutions": tuple(map(ref_of, group)), "distances_km": group_km})
            _set_fields_set(obj, fields)
            _set_extra(obj, None)
            _set_private(obj, None)
            groups.append(obj)
        alternatives = []
        fields = _FIELDS[Alternative]
        for i in range(1, len(nodes)):
            j, km = nodes[i], kms[i]
            obj = _new(Alternative)
            _set_dict(obj, {"institution": refs[j], "distance_km": km, "minutes": km / speed * 60.0,
                            "step": steps[kinds[i]], "session": slots.get(j) if slots else None})
            _set_fields_set(obj, fields)
            _set_extra(obj, None)
            _set_private(obj, None)
            alternatives.append(obj)
        dest, distance = nodes[0], kms[0]
        return _assemble(Referral, {
            "region": self.region, "origin": refs[o], "origin_point": point, "snap_km": snap_km,
            "specialty": self._specialty_refs[code], "direction": _DIRECTION[mode], "destination": refs[dest],
            "distance_km": distance, "minutes": distance / speed * 60.0, "speed_kmh": speed,
            "path": tuple([hops[e] or self._hop(e) for e in edges]), "step": steps[kinds[0]],
            "session": slots.get(dest) if slots else None, "alternatives": tuple(alternatives),
            "passed_over": tuple(groups), "max_km": None if limit == math.inf else limit, "when": when,
        })

    def _referral_json(self, o, code, mode, limit, point, snap_km, passed, nodes, kms, kinds, edges, slots,
                       when) -> bytes:
        """The answer as the JSON of its :class:`Referral`, written directly (see :meth:`route_json`)."""
        frag = (self._ref_fragments or self._make_ref_fragments()).__getitem__
        speed, steps = self.speed_kmh, _STEPS[mode]
        dest, distance, step = nodes[0], kms[0], steps[kinds[0]]
        session = slots.get(dest) if slots else None
        max_km = None if limit == math.inf else limit
        return orjson.dumps({
            "region": self.region, "origin": frag(o), "origin_point": _json(point), "snap_km": snap_km,
            "specialty": self._specialty_json[code], "direction": _DIRECTION[mode], "destination": frag(dest),
            "distance_km": distance, "minutes": distance / speed * 60.0, "speed_kmh": speed,
            "path": list(map(self._hop_json, edges)), "step": step, "session": _json(session),
            "alternatives": [
                {"institution": frag(j), "distance_km": km, "minutes": km / speed * 60.0, "step": steps[kind],
                 "session": _json(slots.get(j)) if slots else _NULL}
                for j, km, kind in zip(nodes[1:], kms[1:], kinds[1:], strict=True)
            ],
            "passed_over": [
                {"reason": reason, "institutions": list(map(frag, group)), "distances_km": group_km}
                for reason, group, group_km in passed
            ],
            "max_km": max_km, "when": _json(when),
            "explanation": _explain(step, self._refs[o], self._refs[dest], self._specialty_refs[code], session, max_km),
        })

    def _make_ref_fragments(self) -> list[orjson.Fragment]:
        """Every institution's reference as JSON, rendered by pydantic (on the first JSON answer; 0.1 s for
        the national network)."""
        with self._lock:
            if not self._ref_fragments:
                self._ref_fragments = list(map(_json, self._refs))
        return self._ref_fragments

    def _hop_json(self, e: int) -> orjson.Fragment:
        """The path link of CSR entry ``e`` as JSON (kept, like the link)."""
        fragment = self._hop_fragments.get(e)
        if fragment is None:
            hop = self._hops[e] or self._hop(e)
            fragment = self._hop_fragments[e] = _json(hop)
        return fragment

    # ----------------------------------------------------------------- helpers

    def _snap_point(self, point: Point) -> tuple[int, float]:
        lat, lon = check_lat_lon(lat=point.lat, lon=point.lon, within_china=True)
        if self._snap is None:
            raise InvalidRequest("origin", point, f"cannot be snapped: region {self.region!r} has no primary care")
        i, km = self._snap.nearest(lat=lat, lon=lon)
        o = int(self._primary[i])
        if km > SNAP_MAX_KM:
            raise InvalidCoordinates(
                "lat, lon", (lat, lon),
                f"must lie within {SNAP_MAX_KM:g} km of a primary-care institution of region {self.region!r} "
                f"(the nearest, {self.net.G.nodes[self.net.ids[o]]['name']}, is {km:,.0f} km away)",
            )
        return o, km

    def _home_for_down(self, o: int, home: str | None) -> tuple[int, int]:
        """The home community (index) and the home institution (index or -1) of a ``down`` referral."""
        net, G = self.net, self.G
        if home is None:
            if not Tier(G.nodes[net.ids[o]]["tier"]).is_hospital:
                raise InvalidRequest("home", None, "is required for direction='down' from an origin that is not "
                                     "a hospital: give the patient's home community or home institution")
            hc = int(self._home[o])
            if hc < 0:
                raise InvalidRequest("home", None, "is required: the origin leads no community and belongs to none")
            return hc, -1
        try:
            com = resolve_community(G, home)
        except UnknownCommunity as err:
            try:
                inst = net.index[resolve_institution(G, home)]
            except UnknownInstitution:
                known = [*G.graph.get("communities", {}), *self._community_names]
                raise UnknownCommunity(home, known=known, where=f"region {self.region!r} (nor an institution)") from err
            hc = int(self._home[inst])
            if hc < 0:
                raise InvalidRequest("home", home, "must be a community or one of its lead or branch members") from err
            return hc, inst
        return net.community_ids.index(com.id), -1

    def _session_codes(self, held, o, mode, when) -> tuple[np.ndarray, dict[int, SessionSlot], int]:
        """Per institution holding the specialty in sessions: whether one is bookable (the institutions, then
        their codes, as the kernel takes them), and the slot; and how many are bookable."""
        nodes, codes, slots = [], [], {}
        rank_o = int(self._rank[o])
        for j, sessions in held:
            best = None
            for session in sessions:
                found = _first_in_window(session, when, self.booking_days)
                if found is None:
                    continue
                provider = self.net.index.get(session.provider) if session.provider else None
                high = int(self._rank[provider if provider is not None else j]) > rank_o
                key = (mode != _UP or high, found[1] is not None, -(found[0].toordinal()) if found[0] else 0)
                if best is None or key > best[0]:
                    best = (key, session, found[0], provider, high)
            nodes.append(j)
            if best is None:
                codes.append(_SESSION_NO)
                continue
            _, session, date, provider, high = best
            codes.append(_SESSION_OK if mode != _UP or high else _SESSION_LOW)
            slots[j] = _assemble(SessionSlot, {
                "date": date, "weekday": session.weekday, "part": session.part, "every_weeks": session.every_weeks,
                "provider": None if provider is None else self._refs[provider],
                "text": _session_text(session, date),
            })
        n_ok = sum(1 for c in codes if c == _SESSION_OK)
        return np.asarray(nodes + codes, dtype=np.int64), slots, n_ok

    def _nothing(self, o, code, mode, hc, limit, nearest_beyond) -> NoCapableInstitution:
        origin = self.G.nodes[self.net.ids[o]]["name"]
        spec = self._specialty_refs[code]
        what = f"{spec.label_zh} ({spec.code})"
        if mode == _UP:
            msg = f"no institution of a higher tier than {origin} offers {what}"
        elif mode == _DOWN:
            msg = f"no member of the home community {self._community_names[hc]} offers {what}"
        else:
            msg = f"no institution other than {origin} offers {what} permanently"
        nearest = nearest_km = None
        if limit != math.inf:
            msg += f" within max_km={limit:g} km"
            if nearest_beyond is not None:
                nearest_km, j = nearest_beyond
                nearest = self.G.nodes[self.net.ids[j]]["name"]
                msg += f"; the nearest is {nearest} at {nearest_km:.1f} km"
        msg += f" in region {self.region!r}"
        return NoCapableInstitution(msg, specialty=code, origin=self.net.ids[o], nearest=nearest,
                                    nearest_km=nearest_km)

    def _make_refs(self) -> list[InstitutionRef]:
        """Every institution's :class:`InstitutionRef`, in index order."""
        nodes, community_ids, community_names = self.G.nodes, self.net.community_ids, self._community_names
        tiers = {tier.value: tier for tier in Tier}
        refs = []
        for node_id, c in zip(self.net.ids, self._homes, strict=True):
            attrs = nodes[node_id]
            location = attrs.get("location")
            refs.append(_assemble(InstitutionRef, {
                "id": node_id, "name": attrs["name"], "tier": tiers[attrs["tier"]], "county": attrs["county"],
                "community": community_ids[c] if c >= 0 else None,
                "community_name": community_names[c] if c >= 0 else None,
                "location_is_proxy": bool(location.is_proxy) if location is not None else False,
            }))
        return refs

    def _hop(self, e: int) -> Hop:
        """The path link of CSR entry ``e`` (cached)."""
        a, b = self.net.ids[int(self._edge_row[e])], self.net.ids[int(self._indices[e])]
        data = self.G.adj[a][b]
        hop = self._hops[e] = _assemble(Hop, {
            "from_id": a, "to_id": b, "kind": LinkKind(data["kind"]), "distance_km": float(data["distance_km"]),
        })
        return hop

_NULL = orjson.Fragment(b"null")


def _json(value: BaseModel | dt.datetime | None) -> orjson.Fragment:
    """A model or a date-time as pydantic writes it inside a model."""
    if value is None:
        return _NULL
    if isinstance(value, BaseModel):
        return orjson.Fragment(value.__pydantic_serializer__.to_json(value))
    return orjson.Fragment(pydantic_core.to_json(value))


def _window_start(when: dt.datetime | None) -> dt.datetime:
    if when is None:
        return dt.datetime.now(CST)
    if not isinstance(when, dt.datetime):
        if isinstance(when, dt.date):
            return dt.datetime.combine(when, dt.time())
        raise InvalidRequest("when", when, "must be a date and time (ISO 8601, e.g. 2026-11-02T09:00)")
    if not WHEN_RANGE[0] <= when.year <= WHEN_RANGE[1]:
        raise InvalidRequest("when", when.isoformat(), f"must fall in the years {WHEN_RANGE[0]}–{WHEN_RANGE[1]}")
    return when


#: Years a query date may fall in (booking windows are computed with calendar arithmetic).
WHEN_RANGE = (2000, 2100)


def _first_in_window(session: Session, when: dt.datetime, days: int) -> tuple[dt.date | None, str | None] | None:
    """The first date the session is held in the window, ``(date, weekday)``; ``(None, ...)`` when not dated."""
    end = when + dt.timedelta(days=days)
    period = 7 * session.every_weeks
    start_day, stop_day = when.date(), end.date()
    lo = max(start_day, session.valid_from) if session.valid_from else start_day
    hi = min(stop_day, session.valid_until + dt.timedelta(days=1)) if session.valid_until else stop_day
    if session.weekday is None or (session.every_weeks > 1 and session.valid_from is None):
        return (None, session.weekday) if (hi - lo).days >= period else None
    wd = WEEKDAYS.index(session.weekday)
    begin, finish = PART_HOURS[session.part]
    day = start_day + dt.timedelta(days=(wd - start_day.weekday()) % 7)
    if session.valid_from and session.every_weeks > 1:
        first = session.valid_from + dt.timedelta(days=(wd - session.valid_from.weekday()) % 7)
        if day < first:
            day = first
        else:
            day += dt.timedelta(days=(-(day - first).days) % period)
    while day <= stop_day:
        in_validity = (session.valid_from is None or day >= session.valid_from) and (
            session.valid_until is None or day <= session.valid_until)
        opens = dt.datetime.combine(day, begin, tzinfo=when.tzinfo)
        closes = dt.datetime.combine(day, finish, tzinfo=when.tzinfo)
        if in_validity and closes > when and opens < end:
            return (day, session.weekday)
        day += dt.timedelta(days=period if session.every_weeks > 1 else 7)
    return None


def _session_text(session: Session, date: dt.date | None) -> str:
    part = {None: "", "all_day": " all day"}.get(session.part, f" {session.part}")
    if session.weekday is None:
        every = "weekly" if session.every_weeks == 1 else f"every {session.every_weeks} weeks"
        return f"{every}{part}, day to be arranged"
    day = _WEEKDAY_EN[WEEKDAYS.index(session.weekday)]
    if date is None:
        return f"every {session.every_weeks} weeks on {day}{part}, date to be confirmed"
    return f"{day} {date.isoformat()}{part}"


def route_referral(G: nx.Graph, origin: str | Point, specialty: str | None, **options: Any) -> Referral:
    """Route one referral on a graph (compiled once per graph and cached with it); see :meth:`Router.route`.

    >>> from mednet.regions import load_region
    >>> G = build_network(load_region("quzhou"))
    >>> route_referral(G, "池淮(张湾)", "骨科").destination.name
    '开化县人民医院'
    """
    return Router.from_graph(G).route(origin, specialty, **options)


def warm_up() -> None:
    """Compile the search kernel now (numba; cached on disk after the first time)."""
    tiny = nx.Graph(region="warm-up", communities={}, names={"n0": ("n0",), "n1": ("n1",)})
    gp = Capability(specialty="general_practice", source="warm-up")
    for i, tier in enumerate((Tier.TOWNSHIP_CENTRE, Tier.COUNTY_HOSPITAL)):
        tiny.add_node(f"n{i}", name=f"n{i}", aliases=(), tier=tier, county="x", lat=30.0, lon=120.0 + i / 10,
                      capabilities={"general_practice": gp}, communities={})
    tiny.add_edge("n0", "n1", kind=LinkKind.NEIGHBOUR, distance_km=10.0)
    Router(compile_network(tiny)).route("n0", "general_practice")


__all__ = [
    "Alternative", "Direction", "Hop", "InstitutionRef", "PassedOver", "Point", "Reason", "Referral", "Router",
    "SessionSlot", "SpecialtyRef", "Step", "explain", "route_referral", "warm_up",
]
