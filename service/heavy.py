"""Slow work (coverage, validation) off the event loop: a bounded thread pool and a cache by parameters.

A planner's coverage request must not stall the referral desk: its work runs
in a small pool of threads, at most ``queue`` requests wait for one (more
are answered 503 with ``Retry-After``), identical requests in flight share
one computation, and answers are kept by their parameters (the regions are
read-only, so an answer never goes stale). On Linux, where a nice value
belongs to a thread, each pool thread may lower its own priority by ``nice``
when it starts (off by default: a lowered thread holding Python's global
lock can hold up the event loop on a busy machine). A kept
answer is cheap but its request is not (parsing, checks, sending): kept
answers are handed out one per event-loop turn, so sixteen planners asking
again and again take one desk request's share of the loop, not sixteen.

    >>> import asyncio
    >>> heavy = HeavyWork(threads=1, queue=2, cache_entries=4, nice=0)
    >>> calls = []
    >>> def work():
    ...     calls.append(1)
    ...     return b"{}"
    >>> asyncio.run(heavy.run(("coverage", "quzhou"), work)), asyncio.run(heavy.run(("coverage", "quzhou"), work))
    (b'{}', b'{}')
    >>> len(calls)
    1
    >>> heavy.close()
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor

from starlette.exceptions import HTTPException

logger = logging.getLogger(__name__)


class HeavyWork:
    """A bounded pool of ``threads`` (each ``nice`` steps below the process's priority) with ``queue`` waiting
    places and an LRU cache of ``cache_entries``."""

    def __init__(self, *, threads: int, queue: int, cache_entries: int, nice: int = 0) -> None:
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mednet-heavy",
                                       initializer=lower_thread_priority, initargs=(nice,))
        self.capacity = threads + queue
        self.cache_entries = cache_entries
        self.cache: OrderedDict[Hashable, bytes] = OrderedDict()
        self.running: dict[Hashable, asyncio.Future[bytes]] = {}
        self.turn = asyncio.Lock()

    async def run(self, key: Hashable, work: Callable[[], bytes]) -> bytes:
        """``work()``'s answer for ``key``: from the cache, from the same computation in flight, or computed
        in the pool. 503 when the pool and its queue are full."""
        if key in self.cache:
            async with self.turn:  # one kept answer per turn of the loop: the desk's requests go first
                await asyncio.sleep(0)
            if key in self.cache:
                self.cache.move_to_end(key)
                return self.cache[key]
        running = self.running.get(key)
        if running is None:
            if len(self.running) >= self.capacity:
                raise HTTPException(503, f"{len(self.running)} slow requests are being worked on; retry shortly",
                                    headers={"Retry-After": "2"})
            running = asyncio.get_running_loop().run_in_executor(self.pool, work)
            self.running[key] = running
            running.add_done_callback(lambda done: self._keep(key, done))
        return await asyncio.shield(running)

    def _keep(self, key: Hashable, done: asyncio.Future[bytes]) -> None:
        del self.running[key]
        if done.cancelled() or done.exception() is not None or not self.cache_entries:
            return
        self.cache[key] = done.result()
        while len(self.cache) > self.cache_entries:
            self.cache.popitem(last=False)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def lower_thread_priority(nice: int) -> None:
    """Lower the calling thread's priority by ``nice`` (Linux only: elsewhere a nice value is the whole
    process's, and the desk's thread must keep its own). A refusal is logged, not raised: the work still runs.

    >>> lower_thread_priority(0)  # nothing to lower
    """
    if nice <= 0 or sys.platform != "linux":
        return
    thread = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + nice))
    except OSError as error:
        logger.warning("slow-work thread keeps its priority: cannot lower it by %d (%s)", nice, error)
