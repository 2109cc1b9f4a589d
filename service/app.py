"""The FastAPI application: ``create_app()`` and its lifespan.

Nothing happens at import time: the settings are read when the app is
created; the region files are read and the routers built in the background
when it starts (``app.state.loader``, see :mod:`service.deps`) and kept
read-only, while the service already answers ``/ready`` with 503. ``mednet
serve`` builds them once before forking its workers instead (see
:mod:`service.server`).
The referral ledger's database is opened (created or migrated) at start
too, before the first request (``app.state.ledger``), and its expiry sweep
runs in the background (:mod:`service.sweeper`).

    >>> app = create_app()
    >>> app.title, hasattr(app.state, "loader")
    ('mednet referral desk', False)
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mednet import __version__
from mednet.ledger.backup import serving
from service.accesslog import AccessLog
from service.config import Settings, get_settings
from service.deps import LoadedRegions, RegionLoader, open_ledger
from service.docs import include_docs
from service.errors import install_error_handlers
from service.heavy import HeavyWork
from service.live import ChangeFeed
from service.metrics import Metrics, overdue_families
from service.middleware import Guard
from service.openapi import finish_openapi
from service.routers import include_routers
from service.sweeper import sweeping

logger = logging.getLogger("service")

DESCRIPTION = """\
Where to send a patient: referral routing through China's medical communities (医共体).

`POST /regions/{region}/routes` answers a referral with the destination, the path of links,
the policy step that chose it, ranked alternatives and why closer institutions were passed over.
Errors are `application/problem+json`: unknown names answer 404 with the closest names in
`suggestions`, invalid values 422 naming the `field`, and a specialty nobody offers within the
limits 409.

`/referrals` keeps each referral through the closed loop of 双向转诊 (requested → accepted → booked →
arrived → completed → sent home) for desks signed in with an API key (`Authorization: Bearer mk_…`).
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    folder = settings.region_folder()
    loader: RegionLoader = app.state.preloaded or RegionLoader(folder=folder, allow_invalid=settings.allow_invalid)
    # The ledger's database is created or migrated before any request (in each worker: a connection is never
    # shared across a fork); the ledger sees the regions once built.
    app.state.ledger = ledger = open_ledger(settings, LoadedRegions(loader))
    app.state.metrics.gauges[:] = [overdue_families(ledger.overdue_counts)]
    app.state.live = live = ChangeFeed(ledger.engine, poll_seconds=settings.live_poll_seconds)
    app.state.loader = loader if loader.regions is not None else loader.start()
    app.state.heavy = HeavyWork(processes=settings.heavy_processes, threads=settings.heavy_threads,
                                queue=settings.heavy_queue, cache_entries=settings.heavy_cache_entries,
                                nice=settings.heavy_nice, context=LoadedRegions(loader))
    app.state.access_log.open()  # lines written in batches by a thread while the app runs
    if loader.regions is None:
        logger.info("reading the region files of %s and building the routers in the background", folder)
    try:
        with serving(ledger.engine):  # `mednet db restore` will not replace a ledger a service has open
            async with sweeping(ledger, settings.sweep_seconds, idle_minutes=settings.desk_idle_minutes):
                yield
    finally:
        await live.stop()
        app.state.heavy.close()
        app.state.access_log.close()  # what is queued is written
        ledger.engine.dispose()
        if loader.regions is not None:
            gc.unfreeze()
        app.state.loader = app.state.ledger = None


def create_app(settings: Settings | None = None, *, regions: RegionLoader | None = None) -> FastAPI:
    """The service, serving the regions of ``settings.regions_dir`` (default: from the environment).

    ``regions``: a loader already built (``mednet serve`` builds it once before forking its workers); by
    default the regions are read and built in the background when the app starts.
    """
    app = FastAPI(
        title="mednet referral desk", version=__version__, description=DESCRIPTION, lifespan=lifespan,
        docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings = settings or get_settings()
    app.state.preloaded = regions
    app.state.metrics = metrics = Metrics()
    install_error_handlers(app)
    include_routers(app)
    include_docs(app)
    app.state.access_log = access = AccessLog(logging.getLogger("service.access"))
    app.add_middleware(Guard, settings=settings, metrics=metrics, routes=app.router.routes, access=access)
    finish_openapi(app)
    return app
