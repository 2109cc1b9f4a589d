"""What both engines read of one network: :class:`RoutingTables`, a frozen value built once per network.

The engine by km (:mod:`mednet.routing.by_km`) and the engine by travel
cost (:mod:`mednet.routing.by_cost`) read the same tables: each
institution's tier rank, home community and tie priority, the packed
community tables, the capability codes, who holds each specialty in
sessions, and the parts answers are rendered from; the engine by km also
its kernel's packed tables and scratch arrays. Neither reads the
other's private names.

    >>> from mednet.regions import load_region
    >>> from mednet.routing import Router
    >>> t = Router.from_region(load_region("quzhou")).tables
    >>> t.region, len(t.ranks) == t.net.n
    ('quzhou', True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mednet.errors import NoCapableInstitution
from mednet.models import Session
from mednet.network import CompiledNetwork
from mednet.routing.kernel import Scratch
from mednet.routing.refusals import no_capable
from mednet.routing.render import Renderer
from mednet.routing.scheduled import Scheduled


@dataclass(frozen=True, eq=False)
class RoutingTables:
    """One network's routing tables (arrays and their list copies for Python-level reads); never changed but
    for the km kernel's ``scratch``."""

    net: CompiledNetwork
    region: str
    speed_kmh: float
    rank: np.ndarray  #: tier rank of each institution (int8)
    ranks: list[int]
    home: np.ndarray  #: home community of each institution (int32, -1: none)
    homes: list[int]
    prio: np.ndarray  #: tie priority among equal distances
    com: np.ndarray  #: the packed community tables (members, partners, anchors)
    cap: np.ndarray  #: (specialties × institutions) 1 permanent, 2 in sessions
    columns: dict[str, int]  #: specialty code → row of ``cap``
    sessions: list[tuple[tuple[int, tuple[Session, ...]], ...]]  #: per specialty, who holds it in sessions
    community_names: tuple[str, ...]
    render: Renderer
    scheduled: Scheduled
    static_i: np.ndarray  #: the km kernel's packed integer tables (nodes, nearest hospitals)
    static_f: np.ndarray  #: the km kernel's packed float tables (links and their metres, hospital and anchor km)
    cap_rows: list[np.ndarray]  #: the rows of ``cap``
    n_above: list[list[int]]  #: per specialty, how many hold it permanently above each tier rank
    n_permanent: list[int]  #: per specialty, how many hold it permanently
    scratch: Scratch  #: the km kernel's scratch arrays, shared by queries under its lock

    def nothing(self, o: int, code: str, mode: int, hc: int, limit: float,
                nearest_beyond: tuple[float, int] | None, undated: list[int] | None = None,
                **by_cost: Any) -> NoCapableInstitution:
        """:func:`~mednet.routing.refusals.no_capable` on this network (``by_cost``: its keyword-only limits);
        ``limit`` is ``math.inf`` for none."""
        return no_capable(self.net, self.region, self.community_names, self.render.specialty_refs[code], o, mode,
                          hc, limit if limit is not None else math.inf, nearest_beyond, undated, **by_cost)
