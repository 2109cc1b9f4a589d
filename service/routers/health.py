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
    regions: list[str]
    worker: int = Field(description="process id of the worker that answered (one of `--workers`)")


@router.get("/health", response_model=Health)
async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/ready", response_model=Readiness, responses=problem_responses(503))
async def ready(request: Request) -> Readiness:
    """Readiness: 200 with the region ids once every region is loaded; 503 with `Retry-After` while they load."""
    return Readiness(regions=list(served_regions(request)), worker=os.getpid())


@router.get("/metrics", response_class=Response, responses={200: {
    "description": "Prometheus text format: requests by method, route and status; latency histogram by route",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}})
async def metrics(request: Request) -> Response:
    """Request counts, latencies and statuses of this worker, in the Prometheus text format."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)
