"""What the routers depend on: the regions loaded at start, one :class:`ServedRegion` each; the referral
ledger and the caller's API key.

The region files are read and checked when the app starts (a broken file
stops the start); compiling the routing kernel and building the routers
then happens in a background thread (:class:`RegionLoader`), while the
service already answers (``/ready`` 503 with ``Retry-After`` until done).

Dependencies are ``async`` so that they run on the event loop, not in the
thread pool (the route endpoint is on the hot path).
"""

from __future__ import annotations

import fcntl
import gc
import logging
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import networkx as nx
import numpy as np
from anyio.to_thread import current_default_thread_limiter
from fastapi import Depends, Header, HTTPException
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.responses import Response

from mednet.errors import LedgerUnavailable, NotAuthenticated, UnknownRegion
from mednet.ledger import ApiKey, Ledger, authenticate, open_ledger_engine
from mednet.ledger.keys import identify, known_key
from mednet.models import Institution, Region
from mednet.travel.layer import travel_path
from mednet.valid_regions import RegionFolder, read_region_folder, refusal_lines
from mednet.validate import CommunitySummary, summarize_communities
from service.config import Settings
from service.limits import NAME_MAX_CHARS, NAME_PATTERN

if TYPE_CHECKING:  # the routing kernel (numba) is imported by the loader thread, not at start
    from mednet.network import CompiledNetwork
    from mednet.routing import Router
    from mednet.travel import TravelLayer

logger = logging.getLogger("service")


@dataclass(eq=False)
class ServedRegion:
    """A region as the service holds it: the data, its network and its compiled router (read-only)."""

    region: Region
    G: nx.Graph = field(repr=False)
    router: Router = field(repr=False)
    institutions: dict[str, Institution] = field(repr=False)
    lat: np.ndarray = field(repr=False)
    lon: np.ndarray = field(repr=False)
    travel_file: Path | None = field(default=None, repr=False)

    @classmethod
    def from_region(cls, region: Region) -> ServedRegion:
        """Build the network and compile it for routing, once."""
        from mednet.routing import Router

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

    @cached_property
    def travel(self) -> TravelLayer:
        """The travel layer: the travel file beside the region file if there is one, else the default model."""
        from mednet.travel import load_travel

        return load_travel(self.region, travel=self.travel_file)

    @property
    def network(self) -> CompiledNetwork:
        """The network in array form (the router's)."""
        return self.router.net


@contextmanager
def compile_lock() -> Iterator[None]:
    """Held while compiling the routing kernel: when several servers start at once (or an app is created without
    ``mednet serve``), the first compiles it and writes numba's on-disk cache, the others wait and then load it."""
    with open(Path(tempfile.gettempdir()) / "mednet-kernel.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class RegionLoader:
    """Reads and validates the region files, compiles the routing kernel and builds each region's router.

    ``start()`` does it in a background thread (an app started on its own); ``mednet serve`` calls
    :meth:`read` and :meth:`build` in its parent process before forking the workers. ``regions`` is None
    until built; then it holds the valid regions, and with ``allow_invalid`` the invalid ones too (their error
    codes in ``invalid``). Files not served are in ``refused`` (file name → one line per error code);
    ``error`` says why loading failed as a whole, if it did.
    """

    def __init__(self, *, folder: Path, allow_invalid: bool = False) -> None:
        self.folder, self.allow_invalid = folder, allow_invalid
        self.regions: dict[str, ServedRegion] | None = None
        self.invalid: dict[str, tuple[str, ...]] = {}
        self.refused: dict[str, list[str]] = {}
        self.error: str | None = None
        self.thread = threading.Thread(target=self._load, name="mednet-loader", daemon=True)
        self._pending: dict[str, Region] = {}

    def start(self) -> RegionLoader:
        self.thread.start()
        return self

    def read(self) -> RegionFolder:
        """Read and validate every file; keep what will be served and say what is refused."""
        folder = read_region_folder(self.folder)
        self._pending = folder.usable(allow_invalid=self.allow_invalid)
        self.refused = {f"{name}.json": refusal_lines(err)
                        for name, err in folder.refused(allow_invalid=self.allow_invalid).items()}
        self.invalid = {name: err.codes for name, (_, err) in folder.invalid.items()} if self.allow_invalid else {}
        return folder

    def log_refusals(self) -> None:
        """Log the files not served and the regions served despite their errors."""
        for file, lines in self.refused.items():
            logger.error("not serving %s: %s", self.folder / file, "; ".join(lines))
        for name, codes in self.invalid.items():
            logger.warning("serving %s despite its validation errors (allow_invalid): %s", name, ", ".join(codes))

    def build(self) -> dict[str, ServedRegion]:
        """Compile the kernel (or load it from numba's cache) and build the routers of the regions read."""
        from mednet.routing import warm_up

        start = time.perf_counter()
        with compile_lock():
            warm_up()  # compile the routing kernel now (or load it from numba's cache), not on a referral
        regions = {name: ServedRegion.from_region(region) for name, region in self._pending.items()}
        for name, served in regions.items():
            beside = travel_path(self.folder / f"{name}.json")
            served.travel_file = beside if beside.exists() else None
        # The regions stay for the life of the process: move them out of the garbage collector's sight, so that
        # its full collections (which requests' allocations trigger) do not walk hundreds of thousands of objects.
        gc.collect()
        gc.freeze()
        self.regions, self._pending = regions, {}
        logger.info("ready: %d region(s) from %s in %.2f s: %s", len(regions), self.folder,
                    time.perf_counter() - start, ", ".join(regions) or "none")
        return regions

    def _load(self) -> None:
        try:
            self.read()
            self.log_refusals()
            self.build()
        except Exception as err:
            self.error = f"{type(err).__name__}: {err}"
            logger.error("could not load the regions of %s: %s", self.folder, self.error)


def served_regions(conn: HTTPConnection) -> dict[str, ServedRegion]:
    """The loaded regions; 503 with ``Retry-After`` while they are loading, 503 without it if none could be
    loaded (every file refused, or loading failed)."""
    loader: RegionLoader | None = getattr(conn.app.state, "loader", None)
    regions = None if loader is None else loader.regions
    if loader is None or (regions is None and loader.error is None):
        raise HTTPException(503, "regions are loading; retry shortly", headers={"Retry-After": "1"})
    if loader.error is not None:
        raise HTTPException(503, f"regions could not be loaded ({loader.error})")
    if not regions:
        raise HTTPException(503, "no region can be served: " + refused_text(loader.refused))
    return regions


def refused_text(refused: Mapping[str, list[str]]) -> str:
    """The refused files and why, on one line.

    >>> refused_text({"a.json": ["[lead-count] x", "[unknown-id] y"]})
    'a.json: [lead-count] x; [unknown-id] y'
    """
    return " | ".join(f"{file}: {'; '.join(lines)}" for file, lines in refused.items()) or "no region files"


def find_region(conn: HTTPConnection, region: str) -> ServedRegion:
    """A loaded region by id; :class:`UnknownRegion` (→ 404) with the closest ids."""
    regions = served_regions(conn)
    found = regions.get(region)
    refused = conn.app.state.loader.refused.get(f"{region}.json")
    if found is None and refused is not None:
        raise HTTPException(503, f"the region file {region}.json is not served: {'; '.join(refused)}")
    if found is None:
        raise UnknownRegion(region, known=list(regions), where="this service")
    return found


RegionId = Annotated[str, PathParam(min_length=1, max_length=NAME_MAX_CHARS, pattern=NAME_PATTERN,
                                    description="region id, e.g. `quzhou` (see `GET /regions`)")]


async def get_region(conn: HTTPConnection, region: RegionId) -> ServedRegion:
    return find_region(conn, region)


RegionDep = Annotated[ServedRegion, Depends(get_region)]


class LoadedRegions(Mapping[str, ServedRegion]):
    """The loader's regions as a mapping, for the ledger: empty until they are built (the ledger's endpoints
    answer 503 until then, see :func:`get_ledger`)."""

    def __init__(self, loader: RegionLoader) -> None:
        self.loader = loader

    def _regions(self) -> dict[str, ServedRegion]:
        return self.loader.regions or {}

    def __getitem__(self, name: str) -> ServedRegion:
        return self._regions()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._regions())

    def __len__(self) -> int:
        return len(self._regions())


def open_ledger(settings: Settings, regions: Mapping[str, ServedRegion]) -> Ledger:
    """The referral ledger over the served regions: its database created or migrated first, with a connection
    for each thread that may use it (``MEDNET_DB_POOL_SIZE``, by default the worker's thread pool and two more:
    the event loop's and the sweep's), so that none is opened per request under load."""
    pool = settings.db_pool_size or current_default_thread_limiter().total_tokens + 2
    engine = open_ledger_engine(settings.database_url, data_dir=settings.data_folder(), pool_size=int(pool))
    return Ledger(engine, regions, hold_minutes=settings.hold_minutes, session_slots=settings.session_slots,
                  expire_days=settings.expire_days)


def opened_ledger(conn: HTTPConnection) -> Ledger:
    """The ledger opened at start; :class:`LedgerUnavailable` (→ 503) outside the app's life."""
    ledger: Ledger | None = getattr(conn.app.state, "ledger", None)
    if ledger is None:
        raise LedgerUnavailable("the ledger is not open yet; retry shortly")
    return ledger


async def get_ledger(conn: HTTPConnection) -> Ledger:
    """The ledger, once the regions it routes by and names institutions from are built (503 until then)."""
    served_regions(conn)
    return opened_ledger(conn)


LedgerDep = Annotated[Ledger, Depends(get_ledger)]


async def get_key(ledger: LedgerDep, authorization: Annotated[str | None, Header(
        description="`Bearer mk_…`: the desk's, planner's or admin's API key")] = None) -> ApiKey:
    """The caller's key from ``Authorization: Bearer``; 401 when missing, unknown or revoked (read in the thread
    pool on every request: a revocation is refused at once, see :mod:`mednet.ledger.keys`)."""
    text = authorization.removeprefix("Bearer").strip() if authorization else None
    return await run_in_threadpool(authenticate, ledger.engine, text)


KeyDep = Annotated[ApiKey, Depends(get_key)]


async def get_ledger_key(ledger: LedgerDep, authorization: Annotated[str | None, Header(
        description="`Bearer mk_…`: the desk's, planner's or admin's API key")] = None) -> ApiKey:
    """The caller's key for an operation of the ledger, which checks the key's state again in its own
    transaction (a revoked key is refused there): a key this worker already authenticated is known without a
    query, on the event loop (:func:`mednet.ledger.keys.known_key`); otherwise the database is read in the
    thread pool. 401 when missing, unknown or revoked."""
    text = authorization.removeprefix("Bearer").strip() if authorization else None
    known = known_key(ledger.engine, text)
    return known if known is not None else await run_in_threadpool(identify, ledger.engine, text)


LedgerKeyDep = Annotated[ApiKey, Depends(get_ledger_key)]


#: Paths open even when reads need a key: liveness and readiness only (metrics and the API's documentation need one).
OPEN_PATHS = ("/health", "/ready")


async def read_key_refusal(conn: HTTPConnection, authorization: bytes | None) -> Response | None:
    """``MEDNET_READS_NEED_KEY=1`` (asked by the guard, :mod:`service.middleware`): the 401 answering a routing or
    directory request without a live API key (``authorization``: its ``Authorization`` header), else None;
    ``/referrals`` checks its own keys and roles, and the desk pages (``/desk``) theirs (the signed-in cookie's
    key counts there, see :mod:`service.pages.signin`), and :data:`OPEN_PATHS` are open."""
    path = conn.scope["path"]
    if path in OPEN_PATHS or path.startswith(("/referrals", "/desk")):
        return None
    from service.errors import problem_from_error

    try:
        await get_key(opened_ledger(conn), None if authorization is None else authorization.decode("latin-1"))
    except (NotAuthenticated, LedgerUnavailable) as err:
        return problem_from_error(err)
    return None
