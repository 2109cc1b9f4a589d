"""Route by network km: the engine by km, one compiled kernel query (:mod:`mednet.routing.kernel`) per care.

It takes what the engine by travel cost (:mod:`mednet.routing.by_cost`)
takes, the network's :class:`~mednet.routing.routing_tables.RoutingTables`,
the checked :class:`~mednet.routing.request.RouteQuery` and the names
:meth:`mednet.routing.Router.resolve` resolved, and returns a typed
:class:`KmAnswer` that writes itself as a
:class:`~mednet.routing.answers.Referral` or as its JSON (with
:class:`~mednet.routing.render.Renderer`): the shape of
:mod:`mednet.routing.engine`.

    >>> from mednet.regions import load_region
    >>> from mednet.routing import Router
    >>> from mednet.routing.request import RouteQuery
    >>> router = Router.from_region(load_region("quzhou"))
    >>> q = RouteQuery.checked("华埠", "普外科")
    >>> a = route_by_km(router.tables, q, router.resolve(q))
    >>> router.G.nodes[router.net.ids[a.nodes[0]]]["name"], a.kms[0]
    ('开化县人民医院', 19.958)
    >>> search = compiled_search(router.tables, q, router.resolve(q))  # the kernel query alone
    >>> search() == search() > 0
    True
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from mednet.errors import NoCapableInstitution
from mednet.routing.answers import NO_SLOTS, Lang, SessionSlot
from mednet.routing.kernel import (
    GROUP_REASONS,
    N_GROUPS,
    OUT_ALT,
    OUT_BEYOND,
    OUT_DECIDED,
    OUT_GROUPS,
    OUT_HEADER,
    OUT_PASSED,
    OUT_START,
    route_kernel,
)
from mednet.routing.policy import DOWN, EMERGENCY, UP
from mednet.routing.scheduled import with_undated
from mednet.routing.sessions import window_start
from mednet.routing.trip import trip_kernel

if TYPE_CHECKING:
    from mednet.routing.answers import Referral
    from mednet.routing.request import RouteQuery
    from mednet.routing.routing_tables import RoutingTables
    from mednet.routing.start import Resolved, Start

_NO_SESSIONS = np.zeros(0, dtype=np.int64)


class KmAnswer(NamedTuple):
    """A decided route by km: the query's origin, care, direction, ``max_km`` (``math.inf``: none) and start, the
    passed-over groups (reason, count, institutions, km), the candidates (destination first: institutions, km,
    step numbers), the destination path's CSR entries, the session slots, the booking window's start and the
    language."""

    o: int
    code: str
    mode: int
    limit: float
    start: Start
    passed: list[tuple]
    nodes: list[int]
    kms: tuple[float, ...]
    kinds: list[int]
    path: list[int]
    slots: dict[int, SessionSlot]
    when: dt.datetime | None
    lang: Lang

    def referral(self, rt: RoutingTables) -> Referral:
        """The answer as a :class:`~mednet.routing.answers.Referral` (:meth:`Renderer.referral
        <mednet.routing.render.Renderer.referral>`)."""
        return rt.render.referral(*self[:-1], lang=self.lang)

    def json(self, rt: RoutingTables) -> bytes:
        """The answer as that model's JSON, written directly (:meth:`Renderer.referral_json
        <mednet.routing.render.Renderer.referral_json>`)."""
        return rt.render.referral_json(*self[:-1], lang=self.lang)


def route_by_km(rt: RoutingTables, q: RouteQuery, r: Resolved) -> KmAnswer:
    """The engine by km: the decided answer to the checked query ``q`` (names resolved in ``r``); the care is
    ``r.codes[0]``, else the next (``down`` with none given)."""
    o, codes, mode, hc, preferred, start, keep = r
    limit = math.inf if q.max_km is None else q.max_km
    for code in codes[:-1]:  # down with no specialty: rehabilitation, else general practice
        with contextlib.suppress(NoCapableInstitution):
            return _search(rt, o, code, mode, hc, preferred, limit, q.alternatives, q.when, start, keep, q.lang)
    return _search(rt, o, codes[-1], mode, hc, preferred, limit, q.alternatives, q.when, start, keep, q.lang)


def _search(rt: RoutingTables, o: int, code: str, mode: int, hc: int, preferred: int, limit: float, k: int,
            when: dt.datetime | None, start: Start, keep: int, lang: Lang) -> KmAnswer:
    """Run the kernel and decode its answer. ``o`` is the origin institution (the home centre of a point); the
    search starts at ``start.nodes`` when given."""
    s, sessions, slots, undated, n_total, table, k, when = _prepare(rt, o, code, mode, hc, limit, k, when, start,
                                                                    lang)
    ints, floats = _kernel(rt, s, sessions, o, start, mode, hc, preferred, n_total, limit, k, table, keep)
    n_passed, n_alt = ints[OUT_PASSED], ints[OUT_ALT]
    if ints[OUT_DECIDED] < 0:
        beyond = [(floats[1 + i], ints[OUT_BEYOND + i]) for i in range(3) if ints[OUT_BEYOND + i] >= 0]
        raise rt.nothing(o, code, mode, hc, limit, min(beyond) if beyond else None, undated)

    # The passed-over groups: (reason, count, institutions, km), then each earlier step's best beyond max_km.
    passed: list[tuple] = []
    at = OUT_HEADER
    reasons = GROUP_REASONS[mode]
    for g, count in enumerate(ints[OUT_GROUPS:OUT_GROUPS + N_GROUPS]):
        if count:
            shown = min(count, keep)
            first_km = at - OUT_HEADER + 4
            passed.append((reasons[g], count, ints[at:at + shown], floats[first_km:first_km + shown]))
            at += shown
    if limit != math.inf:
        for i in range(3):
            if ints[OUT_BEYOND + i] >= 0:
                passed.append(("beyond_max_km", 1, ints[OUT_BEYOND + i:OUT_BEYOND + i + 1], floats[1 + i:2 + i]))
    # The candidates, destination first: institutions, km, step numbers; then the path's CSR entries.
    base = OUT_HEADER + n_passed
    start.first = ints[OUT_START]
    nodes, kms = ints[base:base + n_alt], floats[4 + n_passed:4 + n_passed + n_alt]
    kinds = ints[base + n_alt:base + 2 * n_alt]
    if undated:
        def rerun(codes: np.ndarray, n: int, kk: int) -> tuple[list[int], tuple[float, ...]]:
            return _kernel(rt, s, codes, o, start, mode, hc, preferred, n, limit, kk, -1, 0)
        nodes, kms, kinds = with_undated(rerun, sessions, undated, n_total, k, (nodes, kms, kinds))
    if start.measured_from == "home":
        if start.legs is None:
            start.trip = _trip(rt, o, nodes[0])
        else:
            legs, leg_kms = start.legs
            start.trip = _trip_from_legs(rt, legs, leg_kms, nodes[0])
    return KmAnswer(o, code, mode, limit, start, passed, nodes, kms, kinds, ints[base + 2 * n_alt:], slots, when,
                    lang)


def _prepare(rt: RoutingTables, o: int, code: str, mode: int, hc: int, limit: float, k: int,
             when: dt.datetime | None, start: Start, lang: Lang
             ) -> tuple[int, np.ndarray, dict[int, SessionSlot], list[int], int, int, int, dt.datetime | None]:
    """What the kernel query needs beside the query: the specialty's row, the session holders (and their slots,
    and those whose day is not published), how many candidates there are, the table that may decide it, the
    alternatives capped at the network's size and the booking window's start. Raises
    :class:`~mednet.errors.NoCapableInstitution` when nobody can be the destination."""
    s = rt.columns.get(code)
    if s is None:
        raise rt.nothing(o, code, mode, hc, limit, None)
    if k > rt.net.n:
        k = rt.net.n
    rank_o = rt.ranks[o]
    sessions = _NO_SESSIONS
    slots: dict[int, SessionSlot] = NO_SLOTS
    n_sessions = 0
    undated: list[int] = []
    held = rt.sessions[s]
    if held or when is not None:
        when = window_start(when)
    if held and mode != EMERGENCY:
        assert when is not None  # set just above
        sessions, slots, n_sessions, undated = rt.scheduled.codes(held, o, mode, when, lang)
    table = -1
    kernel_origin = -1 if start.point is not None else o
    if mode == UP:
        n_total = rt.n_above[s][rank_o] + n_sessions
        if not held and rank_o in (1, 2):
            table = rank_o - 1
    elif mode == EMERGENCY:
        n_total = rt.n_permanent[s] - (kernel_origin >= 0 and rt.cap[s, o] == 1)
    else:
        n_total = 0
    if mode != DOWN and n_total <= 0:
        raise rt.nothing(o, code, mode, hc, limit, None, undated)
    return s, sessions, slots, undated, n_total, table, k, when


def _kernel(rt: RoutingTables, s: int, sessions: np.ndarray, o: int, start: Start, mode: int, hc: int,
            preferred: int, n_total: int, limit: float, k: int, table: int, keep: int
            ) -> tuple[list[int], tuple[float, ...]]:
    """One kernel query from ``start`` (the origin ``o`` when it has no nodes): its integer and float answer
    slots."""
    scratch = rt.scratch
    with scratch.lock:
        written = route_kernel(*_kernel_args(rt, s, sessions, o, start, mode, hc, preferred, n_total, limit, k,
                                             table, keep))
        ints = scratch.out[:written].tolist()
        floats = tuple(scratch.out_f[:4 + ints[OUT_PASSED] + ints[OUT_ALT]].tolist())
    return ints, floats


def _kernel_args(rt: RoutingTables, s: int, sessions: np.ndarray, o: int, start: Start, mode: int, hc: int,
                 preferred: int, n_total: int, limit: float, k: int, table: int, keep: int) -> tuple:
    """:func:`~mednet.routing.kernel.route_kernel`'s arguments for one query, the scratch sized for ``k``
    alternatives (call under ``rt.scratch.lock``)."""
    scratch = rt.scratch
    if scratch.need < k + 1:
        scratch.size(k + 1)
    return (rt.static_f, rt.static_i, rt.com, rt.cap_rows[s], sessions, scratch.floats, scratch.ints,
            -1 if start.point is not None else o, rt.ranks[o], start.nodes, start.metres, mode, hc, preferred,
            n_total, limit, k, table, keep)


def compiled_search(rt: RoutingTables, q: RouteQuery, r: Resolved) -> Callable[[], int]:
    """The compiled search of the checked query ``q`` (names resolved in ``r``; its first care) alone, ready to
    run: a no-argument call making the kernel query :func:`route_by_km` makes, and returning how many answer
    slots it wrote. It measures the search apart from the answer decoded and written around it (the module's
    example)."""
    o, codes, mode, hc, preferred, start, keep = r
    limit = math.inf if q.max_km is None else q.max_km
    s, sessions, _, _, n_total, table, k, _ = _prepare(rt, o, codes[0], mode, hc, limit, q.alternatives, q.when,
                                                       start, q.lang)
    lock = rt.scratch.lock
    with lock:  # sizing the scratch is a change every query sees
        args = _kernel_args(rt, s, sessions, o, start, mode, hc, preferred, n_total, limit, k, table, keep)

    def search() -> int:
        with lock:
            return int(route_kernel(*args))

    return search


def _trip(rt: RoutingTables, o: int, dest: int) -> tuple[float, list[int], None] | None:
    """The trip from the origin ``o`` to ``dest``: its km and links (None: no link leads there)."""
    scratch = rt.scratch
    with scratch.lock:
        n_links = trip_kernel(rt.static_f, rt.static_i, scratch.floats, scratch.ints, o, dest)
        if n_links < 0:
            return None
        return float(scratch.out_f[0]) / 1000.0, scratch.out[OUT_HEADER:OUT_HEADER + n_links].tolist(), None


def _trip_from_legs(rt: RoutingTables, nodes: np.ndarray, kms: np.ndarray, dest: int
                    ) -> tuple[float, list[int], tuple[int, float] | None] | None:
    """The trip from a point to ``dest`` by the shortest of its access legs (``nodes``, their ``kms``): its km
    (whole metres, as every distance), links and access leg (node, km); None when no leg leads there. Equal
    totals keep the nearer leg."""
    best: tuple[float, list[int], tuple[int, float] | None] | None = None
    best_m = math.inf
    for node, km in zip(nodes.tolist(), kms.tolist(), strict=True):
        found = _trip(rt, node, dest)
        if found is not None and round(km * 1000.0) + round(found[0] * 1000.0) < best_m:
            best_m = round(km * 1000.0) + round(found[0] * 1000.0)
            best = (best_m / 1000.0, found[1], (node, km))
    return best
