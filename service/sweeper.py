"""The ledger's expiry sweep, run by the service every ``MEDNET_SWEEP_SECONDS`` (0: never).

Every worker runs the loop; the sweep's own lock (:func:`mednet.ledger.sweep.expire_overdue`) lets one
of them sweep at a time and the others skip. A sweep that fails (the database away for a moment) is
logged and tried again at the next tick; it never stops the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool

from mednet.ledger import Ledger
from mednet.ledger.sessions import end_idle_sessions
from mednet.ledger.sweep import SweepResult, expire_overdue

logger = logging.getLogger("service.sweep")


async def sweep_once(ledger: Ledger, *, idle_minutes: float | None = None) -> SweepResult | None:
    """One sweep in the thread pool, and desk sessions idle past ``idle_minutes`` deleted; None (logged) when it
    failed."""
    try:
        result = await run_in_threadpool(expire_overdue, ledger)
        if idle_minutes is not None:
            await run_in_threadpool(lambda: end_idle_sessions(ledger.engine, idle=dt.timedelta(minutes=idle_minutes)))
    except Exception as err:  # a background task: log it and try again next time
        logger.warning("the expiry sweep failed (%s: %s); trying again later", type(err).__name__, err)
        return None
    if result.expired or result.released:
        logger.info("expiry sweep: expired %d referral(s), released %d lapsed hold(s)", len(result.expired),
                    len(result.released))
    return result


async def _every(ledger: Ledger, seconds: float, idle_minutes: float | None) -> None:
    while True:
        await asyncio.sleep(seconds)
        await sweep_once(ledger, idle_minutes=idle_minutes)


@contextlib.asynccontextmanager
async def sweeping(ledger: Ledger, seconds: float, *, idle_minutes: float | None = None) -> AsyncIterator[None]:
    """Sweep every ``seconds`` while the block runs (not at all when ``seconds`` is 0), ending desk sessions idle
    past ``idle_minutes`` too."""
    task = asyncio.create_task(_every(ledger, seconds, idle_minutes), name="mednet-sweep") if seconds > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
