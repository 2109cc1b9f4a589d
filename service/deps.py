"""What the routers depend on: the regions loaded at start, one :class:`ServedRegion` each.

Dependencies are ``async`` so that they run on the event loop, not in the
thread pool (the route endpoint is on the hot path).
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated

import networkx as nx
import numpy as np
from fastapi import Depends, Header, HTTPException
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from mednet.errors import LedgerUnavailable, NotAuthenticated, UnknownRegion
from mednet.ledger import ApiKey, Ledger, authenticate, open_ledger_engine
from mednet.ledger.keys import recent_key
from mednet.models import Institution, Region
from mednet.network import CompiledNetwork
from mednet.regions import list_regions, load_region
from mednet.routing import Router, warm_up
from mednet.validate import CommunitySummary, ValidationReport, summarize_communities, validate_membership
from service.config import Settings


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


def load_served_regions(folder: Path) -> dict[str, ServedRegion]:
    """Every region file in ``folder``, loaded and compiled; raises on a broken file."""
    warm_up()  # compile the routing kernel now, not on the first referral
    return {name: ServedRegion.from_region(load_region(folder / f"{name}.json")) for name in list_regions(folder)}


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


def open_ledger(settings: Settings, regions: dict[str, ServedRegion]) -> Ledger:
    """The referral ledger over the served regions: its database created or migrated first."""
    engine = open_ledger_engine(settings.database_url, data_dir=settings.data_folder())
    return Ledger(engine, regions, hold_minutes=settings.hold_minutes, session_slots=settings.session_slots)


async def get_ledger(conn: HTTPConnection) -> Ledger:
    ledger = getattr(conn.app.state, "ledger", None)
    if ledger is None:
        raise LedgerUnavailable("the ledger is not open yet; retry shortly")
    return ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]


async def get_key(ledger: LedgerDep, authorization: Annotated[str | None, Header(
        description="`Bearer mk_…`: the desk's, planner's or admin's API key")] = None) -> ApiKey:
    """The caller's key from ``Authorization: Bearer``; 401 when missing, unknown or revoked.

    A key checked in the last seconds is known without a query (:func:`mednet.ledger.keys.recent_key`), on the
    event loop; otherwise the database is read in the thread pool.
    """
    text = authorization.removeprefix("Bearer").strip() if authorization else None
    known = recent_key(ledger.engine, text)
    return known if known is not None else await run_in_threadpool(authenticate, ledger.engine, text)


KeyDep = Annotated[ApiKey, Depends(get_key)]


#: Paths open even when reads need a key: liveness, readiness and the API's own documentation.
OPEN_PATHS = ("/health", "/ready", "/docs", "/redoc", "/openapi.json")


async def require_key_for_reads(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Middleware (``MEDNET_READS_NEED_KEY=1``): routing and directory requests need a live API key;
    ``/referrals`` checks its own keys and roles."""
    path = request.url.path
    if not (path.startswith(OPEN_PATHS) or path.startswith("/referrals")):
        from service.errors import problem_from_error

        try:
            await get_key(await get_ledger(request), request.headers.get("authorization"))
        except (NotAuthenticated, LedgerUnavailable) as err:
            return problem_from_error(err)
    return await call_next(request)
