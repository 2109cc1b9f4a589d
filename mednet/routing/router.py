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


The policy:

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
  that offers it, nearest to the home institution when one is given, or to
  the point). From a point with no ``home``, the home centre is the home
  institution. The care defaults to rehabilitation, else general practice.

In every direction the origin institution (not a point's home centre) is never the destination, with one
exception going up: a session a higher-tier expert holds at the origin
itself (the visiting clinic at the patient's own centre, at 0 km). ``max_km``
(network km) skips a step whose nearest candidate lies beyond it.

Scheduled capabilities (a :class:`~mednet.models.Capability` with
``sessions``) count only when a session falls in the booking window (see
:mod:`mednet.routing.sessions`): from ``when`` (default: now, China Standard
Time) for the region's ``booking_days`` (``G.graph["booking_days"]``,
default 7).

How it is fast: the network is compiled once into CSR arrays, a capability
code matrix (specialty x institution) and the tables of
:mod:`mednet.routing.tables`. An ``up`` query without scheduled sessions is
decided from those tables (from a point too, when its access legs all lead
into its home community: each distance is the least over the legs); the kernel (:mod:`mednet.routing.kernel`) then
searches from the origin only as far as the destination, classifying every
institution it settles (the passed-over list). Other queries run one
early-stopping search in the same kernel. The answer is assembled by
:mod:`mednet.routing.render` from parts made once per institution and link.
A point given as coordinates is checked (mainland China) and starts where it
is: it joins the network by access legs (:meth:`Router.access_legs`: its
``ACCESS_K`` nearest institutions of any tier within ``ACCESS_MAX_KM``, and
its home centre, each great circle x the region's road factor, through
:class:`mednet.geo.SpatialIndex`), and the search starts from all of them at
once. Its home centre, the nearest primary-care institution (within
``SNAP_MAX_KM``), is the answer's ``origin`` and decides the community going
``up`` and ``down``. A ``down`` referral with a home institution ranks the
home community's members from that home (``measured_from="home"``).

Distances are counted in whole metres, so a distance is one float whichever
way its links are added, the one compared with ``max_km`` and the one
reported; institutions at one shared proxy point are 0 km apart, and equal
distances go by tier, then community role (:mod:`mednet.routing.tables`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import networkx as nx
import numpy as np

from mednet.errors import (
    InvalidRequest,
    MednetError,
    NoCapableInstitution,
    UnknownCommunity,
    UnknownInstitution,
)
from mednet.models import Capability, LinkKind, Region, Session, Tier
from mednet.network import CompiledNetwork, build_network, compile_network, resolve_community, resolve_institution
from mednet.routing.access import AccessLegs
from mednet.routing.answers import (
    SHORT_PASSED_OVER,
    Direction,
    Explain,
    Lang,
    Point,
    Referral,
)
from mednet.routing.by_cost import route_by_cost
from mednet.routing.by_km import route_by_km
from mednet.routing.engine import Decided, Engine
from mednet.routing.kernel import Scratch, pack
from mednet.routing.links import csr_metres
from mednet.routing.policy import DOWN, MODES
from mednet.routing.render import Renderer
from mednet.routing.request import LANGS, RouteQuery, check_referral_service
from mednet.routing.routing_tables import RoutingTables
from mednet.routing.scheduled import Scheduled
from mednet.routing.start import Resolved, Start
from mednet.routing.tables import anchor_distances, community_tables, nearest_hospitals, tie_priority
from mednet.specialties import resolve_specialty
from mednet.travel.layer import Cost, TravelLayer

#: A point given as coordinates must lie this close (great circle) to a primary-care institution: its home
#: centre, which decides its community.
SNAP_MAX_KM = 50.0
#: A point joins the network by access legs to its ``ACCESS_K`` nearest institutions of any tier within
#: ``ACCESS_MAX_KM`` (great circle), and always to its home centre; each leg is great circle x the region's
#: road factor, in whole metres.
ACCESS_K, ACCESS_MAX_KM = 4, 30.0
#: Follow-up care of ``down`` when no specialty is given, in order of preference.
DOWN_DEFAULT_CARE = ("rehabilitation", "general_practice")
_ZERO_KM = np.zeros(1)


class Router:
    """Built once per region from its compiled network; answers many queries.

    Compiling builds the tables (:mod:`mednet.routing.tables`): the CSR
    graph, the capability codes, per community its members, partners and
    anchors with the network km from every member to every anchor, and per
    institution its nearest hospitals. Requests are checked by
    :mod:`mednet.routing.request`, resolved (:meth:`resolve`), answered by
    the engine their cost picks (:func:`~mednet.routing.by_km.route_by_km`
    or :func:`~mednet.routing.by_cost.route_by_cost`, one signature) and
    rendered (:class:`~mednet.routing.render.Renderer`,
    :mod:`mednet.routing.cost_render`). Thread-safe (queries share scratch
    arrays under a lock); the network must not change afterwards.
    """

    def __init__(self, net: CompiledNetwork) -> None:
        self.net = net
        G = self.G = net.G
        n = net.n
        self.region = str(G.graph.get("region", ""))
        self.speed_kmh = net.speed_kmh
        self.booking_days = int(G.graph.get("booking_days", 7))
        csr = net.csr
        indptr = csr.indptr.astype(np.int64)
        self._link_to = csr.indices.astype(np.int32)
        link_from = np.repeat(np.arange(n, dtype=np.int32), np.diff(indptr))
        weights = csr_metres(net, link_from, self._link_to)
        self._cap = np.ascontiguousarray((net.capable.T * 1 + net.in_session.T * 2).astype(np.int8))
        self._cap_rows = list(self._cap)
        self._rank = net.tier_rank.astype(np.int8)
        self._ranks = self._rank.tolist()
        self._home = net.home.astype(np.int32)
        self._homes = self._home.tolist()
        self._columns = {code: s for s, code in enumerate(net.specialties)}
        #: Codes taken as given (the network's referral services); any other name is resolved and checked.
        self._referable = frozenset(code for code in net.specialties if resolve_specialty(code).is_referral_service)

        communities = G.graph.get("communities", {})
        self._community_names = tuple(communities[c].name for c in net.community_ids)
        tables = community_tables(net, self._home, self._rank, communities)
        self._com = tables.packed
        anchor_km = anchor_distances(indptr, self._link_to, weights, tables.anchors, tables.task_ptr,
                                     tables.task_com, tables.task_idx, tables.packed, tables.n_anchor_km)
        hospital_nodes, hospital_km = nearest_hospitals(indptr, self._link_to, weights, self._rank)
        self._prio = tie_priority(G, net.ids)
        node = np.column_stack((indptr[:-1], indptr[1:], self._home, self._rank, self._prio)).astype(np.int32)
        adj = np.column_stack((self._link_to.astype(np.float64), weights))
        self._static_i = pack(node, hospital_nodes, dtype=np.int32)
        self._static_f = pack(adj, hospital_km, anchor_km, dtype=np.float64)

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
        self._render = Renderer(net, region=self.region, speed_kmh=self.speed_kmh, home=self._homes,
                                community_names=self._community_names,
                                link_from=link_from, link_to=self._link_to, metres=weights)
        self.road_factor = net.road_factor
        self._access = AccessLegs(net, region=self.region, road_factor=self.road_factor)
        self._scheduled = Scheduled(self._rank, net.index, self.booking_days, self._render)
        #: What both engines read (the engine by travel cost reads nothing else of the router).
        self.tables = RoutingTables(
            net=net, region=self.region, speed_kmh=self.speed_kmh, rank=self._rank, ranks=self._ranks,
            home=self._home, homes=self._homes, prio=self._prio, com=self._com, cap=self._cap, columns=self._columns,
            sessions=self._sessions, community_names=self._community_names, render=self._render,
            scheduled=self._scheduled, static_i=self._static_i, static_f=self._static_f, cap_rows=self._cap_rows,
            n_above=self._n_above, n_permanent=self._n_permanent,
            scratch=Scratch(n, len(self._link_to), seeds=ACCESS_K))

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
        explain: Explain = "short",
        lang: Lang = "zh",
        cost: Cost = "km",
        max_minutes: float | None = None,
        travel: TravelLayer | None = None,
    ) -> Referral:
        """Route one referral; see the module docstring for the policy.

        ``specialty`` may be None only with ``direction="down"`` (then
        rehabilitation, else general practice). ``explain="full"`` names every
        passed-over institution; by default each reason gives its count and
        the nearest :data:`~mednet.routing.answers.SHORT_PASSED_OVER`.
        ``lang`` is the language of the explanation and the session texts:
        ``zh`` (Chinese) or ``en``. By travel cost (``cost="minutes"``, a
        ``max_minutes`` limit, or a ``travel`` layer given; default: the
        region's default model) the answer is a
        :class:`~mednet.routing.cost_answers.ReferralByCost`
        (:mod:`mednet.routing.by_cost`).
        """
        try:
            query = RouteQuery.checked(origin, specialty, direction=direction, home=home, max_km=max_km,
                                       alternatives=alternatives, when=when, explain=explain, lang=lang, cost=cost,
                                       max_minutes=max_minutes, travel=travel)
            return self.decide(query).referral(self.tables)
        except MednetError as err:
            raise err.in_lang(lang if lang in LANGS else "zh")  # noqa: B904 - the same error, re-raised

    def route_json(self, origin: str | Point, specialty: str | None, **options: Any) -> bytes:
        """:meth:`route`'s answer (same arguments) as JSON: the bytes of ``route(...).model_dump_json()``,
        at a fraction of the cost (the service answers with it; see :mod:`mednet.routing.render`).

        >>> from mednet.regions import load_region
        >>> router = Router.from_region(load_region("quzhou"))
        >>> router.route_json("华埠", "儿科") == router.route("华埠", "儿科").model_dump_json().encode()
        True
        """
        try:
            return self.decide(RouteQuery.checked(origin, specialty, **options)).json(self.tables)
        except MednetError as err:
            lang = options.get("lang", "zh")
            raise err.in_lang(lang if lang in LANGS else "zh")  # noqa: B904 - the same error, re-raised

    def answer(self, query: RouteQuery) -> Referral:
        """:meth:`route` for a query already checked (:meth:`RouteQuery.checked`)."""
        try:
            return self.decide(query).referral(self.tables)
        except MednetError as err:
            raise err.in_lang(query.lang)  # noqa: B904 - the same error, re-raised

    def answer_json(self, query: RouteQuery) -> bytes:
        """:meth:`route_json` for a query already checked (:meth:`RouteQuery.checked`)."""
        try:
            return self.decide(query).json(self.tables)
        except MednetError as err:
            raise err.in_lang(query.lang)  # noqa: B904 - the same error, re-raised

    def access_legs(self, point: Point) -> tuple[list[int], list[float]]:
        """The institutions (indices) a point joins the network through, and each leg's km: its
        :data:`ACCESS_K` nearest within :data:`ACCESS_MAX_KM` (great circle) and its home centre, each leg
        great circle x the region's road factor, in whole metres.

        >>> from mednet.regions import load_region
        >>> router = Router.from_region(load_region("quzhou"))
        >>> nodes, km = router.access_legs(Point(lat=28.97, lon=118.86))
        >>> [router.net.G.nodes[router.net.ids[j]]["name"] for j in nodes[:3]], km[:3]
        (['衢州市第二人民医院', '衢州市人民医院', '衢州市中医医院'], [0.816, 0.816, 0.816])
        """
        lat, lon = point.wgs84()
        nodes, kms, _, _, _ = self._legs(point if point.datum == "wgs84" else Point(lat=lat, lon=lon))
        return nodes.tolist(), kms.tolist()

    def home_centre(self, point: Point) -> int:
        """The point's home centre (index): the nearest primary-care institution within :data:`SNAP_MAX_KM`,
        which decides its community and is a point answer's ``origin``.

        >>> from mednet.regions import load_region
        >>> router = Router.from_region(load_region("quzhou"))
        >>> router.G.nodes[router.net.ids[router.home_centre(Point(lat=28.97, lon=118.86))]]["tier"].value
        'township_centre'
        """
        lat, lon = point.wgs84()
        return self._legs(point if point.datum == "wgs84" else Point(lat=lat, lon=lon))[3]

    def _legs(self, point: Point) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float]:
        """:meth:`access_legs` (and the metres the search starts each leg at), the point's home centre and its
        great-circle km."""
        return self._access.legs(point, k=ACCESS_K, max_km=ACCESS_MAX_KM, snap_max_km=SNAP_MAX_KM)

    def decide(self, q: RouteQuery) -> Decided:
        """The checked query decided, not yet written: its origin and care resolved (:meth:`resolve`) and handed
        to the engine its cost picks (by km: :func:`~mednet.routing.by_km.route_by_km`; by travel cost:
        :func:`~mednet.routing.by_cost.route_by_cost`). The answer writes itself
        (:class:`~mednet.routing.engine.Decided`: ``.referral(tables)``, ``.json(tables)``)."""
        engine: Engine = route_by_cost if q.by_cost else route_by_km
        return engine(self.tables, q, self.resolve(q))

    def resolve(self, q: RouteQuery) -> Resolved:
        """The checked query's names resolved on this network: the origin institution (a point's home centre,
        its access legs in ``start``), the care, the home community and institution.

        >>> from mednet.regions import load_region
        >>> router = Router.from_region(load_region("quzhou"))
        >>> r = router.resolve(RouteQuery.checked("华埠", "普外科"))
        >>> router.G.nodes[router.net.ids[r.o]]["name"], r.codes, r.start.measured_from
        ('华埠卫生院', ('general_surgery',), 'origin')
        """
        mode = MODES[q.direction]
        keep = self._n if q.explain == "full" else SHORT_PASSED_OVER
        start = Start()
        if isinstance(q.origin, Point):
            start.at = q.origin.wgs84()
            at = q.origin if q.origin.datum == "wgs84" else Point(lat=start.at[0], lon=start.at[1])
            start.nodes, start.kms, start.metres, o, snap_km = self._legs(at)
            start.snap_km = round(snap_km * 1000.0) / 1000.0
            start.point, start.measured_from = q.origin, "origin_point"
        else:
            found = self.net.index.get(q.origin)
            o = found if found is not None else self.net.index[resolve_institution(self.G, q.origin, field="origin")]

        hc, preferred = self._homes[o], -1
        if mode == DOWN:
            hc, preferred = self._home_for_down(o, q.home, point=start.point is not None)
            if q.home is not None and preferred >= 0:  # ranked from the patient's home institution
                if start.point is not None:  # the patient's trip still starts at the point, by its legs
                    start.legs = (start.nodes, start.kms)
                start.measured_from, start.nodes = "home", np.full(1, preferred, dtype=np.int64)
                start.kms = start.metres = _ZERO_KM
        codes: tuple[str, ...] = DOWN_DEFAULT_CARE
        if q.specialty is not None:
            codes = (q.specialty if q.specialty in self._referable
                     else check_referral_service(resolve_specialty(q.specialty)).code,)
        return Resolved(o, codes, mode, hc, preferred, start, keep)

    # ----------------------------------------------------------------- helpers


    def _home_for_down(self, o: int, home: str | None, *, point: bool = False) -> tuple[int, int]:
        """The home community (index) and the home institution (index or -1) of a ``down`` referral.

        From a point with no ``home``: the community of the point's home centre ``o``, which is the home
        institution.
        """
        net, G = self.net, self.G
        if home is None and point:
            if self._homes[o] < 0:
                raise InvalidRequest("home", None, "is required: the point's home centre belongs to no community",
                                     rule_zh="必须给出：该位置的居住地中心不属于任何医共体", code="home_required")
            return self._homes[o], o
        if home is None:
            if not Tier(G.nodes[net.ids[o]]["tier"]).is_hospital:
                raise InvalidRequest("home", None, "is required for direction='down' from an origin that is not "
                                     "a hospital: give the patient's home community or home institution",
                                     rule_zh="下转且起点不是医院时必须给出：请填写患者居住地的医共体或机构",
                                     code="home_required")
            hc = int(self._home[o])
            if hc < 0:
                raise InvalidRequest("home", None, "is required: the origin leads no community and belongs to none",
                                     rule_zh="必须给出：起点机构不牵头也不属于任何医共体", code="home_required")
            return hc, -1
        try:
            com = resolve_community(G, home, field="home")
        except UnknownCommunity as err:
            try:
                inst = net.index[resolve_institution(G, home, field="home")]
            except UnknownInstitution:
                known = [*G.graph.get("communities", {}), *self._community_names]
                raise UnknownCommunity(home, known=known, where=f"region {self.region!r} (nor an institution)",
                                       field="home") from err
            hc = int(self._home[inst])
            if hc < 0:
                raise InvalidRequest("home", home, "must be a community or one of its lead or branch members",
                                     rule_zh="必须是医共体，或其牵头、分院成员", code="home_not_member") from err
            return hc, inst
        return net.community_ids.index(com.id), -1

    def _nothing(self, o: int, code: str, mode: int, hc: int, limit: float,
                 nearest_beyond: tuple[float, int] | None, undated: list[int] | None = None,
                 **by_cost: Any) -> NoCapableInstitution:
        """:meth:`RoutingTables.nothing` (``by_cost``: its keyword-only limits)."""
        return self.tables.nothing(o, code, mode, hc, limit, nearest_beyond, undated, **by_cost)



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
