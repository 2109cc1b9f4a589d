"""The FastAPI application: ``create_app()`` and its lifespan.

Nothing happens at import time: the settings are read and the regions
loaded when the app starts (its lifespan), once, and kept read-only in
``app.state.regions``.

    >>> app = create_app()
    >>> app.title, hasattr(app.state, "regions")
    ('mednet referral desk', False)
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from mednet import __version__
from service.config import Settings, get_settings
from service.deps import load_served_regions
from service.errors import ProblemDetails, document_problems, install_error_handlers
from service.pages import router as desk_pages
from service.routers import (
    communities,
    coverage,
    health,
    institutions,
    regions,
    routes,
    specialties,
    validation,
)

logger = logging.getLogger("service")

DESCRIPTION = """\
Where to send a patient: referral routing through China's medical communities (医共体).

`POST /regions/{region}/routes` answers a referral with the destination, the path of links,
the policy step that chose it, ranked alternatives and why closer institutions were passed over.
Errors are `application/problem+json`: unknown names answer 404 with the closest names in
`suggestions`, invalid values 422 naming the `field`, and a specialty nobody offers within the
limits 409.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    folder = settings.region_folder()
    start = time.perf_counter()
    app.state.regions = load_served_regions(folder)
    # The regions stay for the life of the process: move them out of the garbage collector's sight, so that
    # its full collections (which requests' allocations trigger) do not walk hundreds of thousands of objects.
    gc.collect()
    gc.freeze()
    logger.info("loaded %d region(s) from %s in %.2f s: %s", len(app.state.regions), folder,
                time.perf_counter() - start, ", ".join(app.state.regions) or "none")
    try:
        yield
    finally:
        app.state.regions = None
        gc.unfreeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service, serving the regions of ``settings.regions_dir`` (default: from the environment)."""
    app = FastAPI(
        title="mednet referral desk", version=__version__, description=DESCRIPTION, lifespan=lifespan,
    )
    app.state.settings = settings or get_settings()
    install_error_handlers(app)
    # The referral endpoint is the hot path: it goes first, ahead of the documentation routes and the
    # included routers, which are matched one after another (each match costs 1-2 µs in-process).
    app.router.routes[0:0] = routes.router.routes
    for module in (health, specialties, regions, institutions, communities, validation, coverage):
        app.include_router(module.router)
    app.include_router(desk_pages)  # the desk page for clerks and planners, under /desk
    _finish_openapi(app)
    return app


def _finish_openapi(app: FastAPI) -> None:
    """Add the problem bodies to the document (routes refer to them by name)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = document_problems(build())
            schema = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
            components = document.setdefault("components", {}).setdefault("schemas", {})
            components.update(schema.pop("$defs", {}))
            components["ProblemDetails"] = schema
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
