"""Slow work (coverage, validation) off the event loop: a bounded thread pool and a cache by parameters.

A planner's coverage request must not stall the referral desk: its work runs
in a small pool of threads, at most ``queue`` requests wait for one (more
are answered 503 with ``Retry-After``), identical requests in flight share
one computation, and answers are kept by their parameters (the regions are
read-only, so an answer never goes stale).

    >>> import asyncio
    >>> heavy = HeavyWork(threads=1, queue=2, cache_entries=4)
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
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor

from starlette.exceptions import HTTPException


class HeavyWork:
    """A bounded pool of ``threads`` with ``queue`` waiting places and an LRU cache of ``cache_entries``."""

    def __init__(self, *, threads: int, queue: int, cache_entries: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mednet-heavy")
        self.capacity = threads + queue
        self.cache_entries = cache_entries
        self.cache: OrderedDict[Hashable, bytes] = OrderedDict()
        self.running: dict[Hashable, asyncio.Future[bytes]] = {}

    async def run(self, key: Hashable, work: Callable[[], bytes]) -> bytes:
        """``work()``'s answer for ``key``: from the cache, from the same computation in flight, or computed
        in the pool. 503 when the pool and its queue are full."""
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
