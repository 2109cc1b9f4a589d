"""Liveness, readiness and metrics."""

from __future__ import annotations

import os
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from service.deps import served_regions
from service.errors import problem_responses
from service.metrics import CONTENT_TYPE

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    regions: list[str] = Field(description="the regions served")
    worker: int = Field(description="process id of the worker that answered (one of `--workers`)")
    invalid: dict[str, list[str]] = Field(
        default_factory=dict, description="regions served although their validation has errors (allow_invalid), "
        "with the error codes (`mednet validate` lists them all)")
    refused: dict[str, list[str]] = Field(
        default_factory=dict, description="region files not served, each with one line per error code: "
        "unreadable, named other than their region's id, or with validation errors (unless allow_invalid)")


@router.get("/health", response_model=Health)
async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/ready", response_model=Readiness, responses=problem_responses(503))
async def ready(request: Request) -> Readiness:
    """Readiness: 200 with the regions served once loaded, and the region files refused (with why);
    503 with `Retry-After` while they load, 503 without it when no region can be served."""
    regions = served_regions(request)
    loader = request.app.state.loader
    return Readiness(regions=list(regions), worker=os.getpid(),
                     invalid={name: list(codes) for name, codes in loader.invalid.items()}, refused=loader.refused)


@router.get("/metrics", response_class=Response, responses={200: {
    "description": "Prometheus text format: requests by method, route and status; latency histogram by route",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}})
async def metrics(request: Request) -> Response:
    """Request counts, latencies and statuses of this worker, in the Prometheus text format."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)
