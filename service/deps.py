"""What the routers depend on: the regions loaded at start, one :class:`ServedRegion` each.

Dependencies are ``async`` so that they run on the event loop, not in the
thread pool (the route endpoint is on the hot path).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated

import networkx as nx
import numpy as np
from fastapi import Depends, HTTPException
from fastapi import Path as PathParam
from starlette.requests import HTTPConnection

from mednet.errors import UnknownRegion
from mednet.models import Institution, Region
from mednet.network import CompiledNetwork
from mednet.routing import Router, warm_up
from mednet.validate import (
    CommunitySummary,
    ValidationReport,
    load_valid_regions,
    summarize_communities,
    validate_membership,
)


@dataclass(eq=False)
class ServedRegion:
    """A region as the service holds it: the data, its network and its compiled router (read-only)."""

    region: Region
    G: nx.Graph = field(repr=False)
    router: Router = field(repr=False)
    institutions: dict[str, Institution] = field(repr=False)
    lat: np.ndarray = field(repr=False)
    lon: np.ndarray = field(repr=False)
    _validation: ValidationReport | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_region(cls, region: Region) -> ServedRegion:
        """Build the network and compile it for routing, once."""
        insts = region.institutions
        router = Router.from_region(region)
        return cls(
            region=region, G=router.G, router=router,
            institutions={i.id: i for i in insts},
            lat=np.fromiter((i.lat for i in insts), dtype=float, count=len(insts)),
            lon=np.fromiter((i.lon for i in insts), dtype=float, count=len(insts)),
        )

    @cached_property
    def communities(self) -> tuple[CommunitySummary, ...]:
        """Each community's id, name, lead and member count (lead and branches), in file order."""
        return summarize_communities(self.region)

    @property
    def network(self) -> CompiledNetwork:
        """The network in array form (the router's)."""
        return self.router.net

    def validation(self) -> ValidationReport:
        """The membership report, computed on first use and kept."""
        with self._lock:
            if self._validation is None:
                self._validation = validate_membership(self.region)
            return self._validation


def load_served_regions(folder: Path, *, allow_invalid: bool = False) -> dict[str, ServedRegion]:
    """Every region file in ``folder``, loaded, validated and compiled; raises naming every broken file
    (:func:`mednet.validate.load_valid_regions`)."""
    regions = load_valid_regions(folder, allow_invalid=allow_invalid)
    warm_up()  # compile the routing kernel now, not on the first referral
    return {name: ServedRegion.from_region(region) for name, region in regions.items()}


def served_regions(conn: HTTPConnection) -> dict[str, ServedRegion]:
    """The loaded regions; 503 while the app has not finished starting."""
    regions = getattr(conn.app.state, "regions", None)
    if regions is None:
        raise HTTPException(503, "regions are not loaded yet; retry shortly", headers={"Retry-After": "1"})
    return regions


def find_region(conn: HTTPConnection, region: str) -> ServedRegion:
    """A loaded region by id; :class:`UnknownRegion` (→ 404) with the closest ids."""
    regions = served_regions(conn)
    found = regions.get(region)
    if found is None:
        raise UnknownRegion(region, known=list(regions), where="this service")
    return found


RegionId = Annotated[str, PathParam(description="region id, e.g. `quzhou` (see `GET /regions`)")]


async def get_region(conn: HTTPConnection, region: RegionId) -> ServedRegion:
    return find_region(conn, region)


RegionDep = Annotated[ServedRegion, Depends(get_region)]
