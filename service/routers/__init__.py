"""One router per resource, each owning its prefix and tags; :func:`include_routers` assembles them.

    >>> from fastapi import FastAPI
    >>> app = FastAPI()
    >>> include_routers(app)
    >>> app.router.routes[0].path  # the hot path first
    '/regions/{region}/routes'
"""

from __future__ import annotations

from fastapi import FastAPI

from service.fastpath import put_first
from service.routers import (
    communities,
    coverage,
    health,
    indicators,
    institutions,
    referrals,
    regions,
    routes,
    specialties,
    validation,
)

#: Matched in this order, after the referral route, the health probes and the ledger.
ROUTERS = (specialties, regions, institutions, communities, validation, coverage, indicators)


def include_routers(app: FastAPI) -> None:
    """Every router of the service: the referral route ahead of everything else, the health probes next (the
    most frequent trivial requests: three path checks for the rest), the ledger's routes next (its writes are the
    other hot path), then the others, then the desk page (``/desk``)."""
    from service.pages import router as desk_pages  # the pages import the routers' helpers: not at the top

    put_first(app, routes.router, health.router, referrals.router)
    for module in ROUTERS:
        app.include_router(module.router)
    app.include_router(desk_pages)
