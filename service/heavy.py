"""Slow work (coverage, validation) off the event loop: a bounded pool, niced below the desk, and a cache by
parameters.

A planner's coverage request must not stall the referral desk. Its work runs
in a pool: by default in separate processes forked from the worker once its
regions are loaded (they share the worker's memory, copy-on-write), each
``nice`` steps below the worker's priority, so that the operating system
gives the desk's process the CPU first and the work holds no lock the event
loop needs (Python's global lock is per process); or, with ``processes=0``,
in threads of the worker, at its priority (the only choice off Linux; a
thread niced below the event loop's, tried before, showed no gain and can
hold up the loop while it holds the global lock). At most ``queue``
requests wait for the pool (more are answered 503 with ``Retry-After``),
identical requests in flight share one computation, and answers are kept by
their parameters (the regions are read-only, so an answer never goes stale).
A kept answer, or a refusal, is cheap but its request is not (parsing,
checks, sending): slow requests are taken one per event-loop turn, so
sixteen planners asking again and again take one desk request's share of
the loop, not sixteen.

Work is a module-level function called as ``work(context, *args)``: the
function goes to the process by name and its arguments by value (small
ones: a region id, parameters), while ``context`` (the served regions) is
the one the process was forked with. A process that dies (killed, out of
memory) fails only the requests it was working on, with 503; the next
request gets a new process.

    >>> import asyncio
    >>> heavy = HeavyWork(processes=0, threads=1, queue=2, cache_entries=4, nice=0, context={"a": b"{}"})
    >>> def answer_of(context, name):
    ...     return context[name]
    >>> asyncio.run(heavy.run(("answer", "a"), answer_of, "a"))
    b'{}'
    >>> heavy.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import stat
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from starlette.exceptions import HTTPException

logger = logging.getLogger(__name__)

#: What a slow-work process was forked with (set in the process, by :func:`_start_process`).
_CONTEXT: Any = None


class HeavyWork:
    """A bounded pool of ``processes`` running ``nice`` steps below the worker (or, with 0, of ``threads`` at
    the worker's priority), with ``queue`` waiting places and an LRU cache of ``cache_entries``; work is called
    with ``context``."""

    def __init__(self, *, processes: int, threads: int, queue: int, cache_entries: int, nice: int,
                 context: Any) -> None:
        self.processes = processes if processes > 0 and forking_works() else 0
        self.threads, self.nice, self.context = threads, nice, context
        self.capacity = (self.processes or threads) + queue
        self.cache_entries = cache_entries
        self.cache: OrderedDict[Hashable, bytes] = OrderedDict()
        self.running: dict[Hashable, asyncio.Future[bytes]] = {}
        self.turn = asyncio.Lock()
        self._pool: Executor | None = None

    async def run(self, key: Hashable, work: Callable[..., bytes], *args: Any) -> bytes:
        """``work(context, *args)``'s answer for ``key``: from the cache, from the same computation in
        flight, or computed in the pool. 503 when the pool and its queue are full, or its process died."""
        async with self.turn:  # one slow request per turn of the loop, whatever its answer: the desk's go first
            await asyncio.sleep(0)
        if key in self.cache:
            self.cache.move_to_end(key)
            return self.cache[key]
        running = self.running.get(key)
        if running is None:
            if len(self.running) >= self.capacity:
                raise HTTPException(503, f"{len(self.running)} slow requests are being worked on; retry shortly",
                                    headers={"Retry-After": "2"})
            running = asyncio.get_running_loop().run_in_executor(self.pool(), _call, work, args)
            self.running[key] = running
            running.add_done_callback(lambda done: self._keep(key, done))
        try:
            return await asyncio.shield(running)
        except BrokenProcessPool:
            broken = self._pool
            if broken is not None and getattr(broken, "_broken", False):  # not a new pool another request made
                self._pool = None  # a new process for the next request
                broken.shutdown(wait=False, cancel_futures=True)
            logger.error("a slow-work process stopped before answering (killed, or out of memory)")
            raise HTTPException(503, "the process computing this answer stopped; retry shortly",
                                headers={"Retry-After": "2"}) from None

    def pool(self) -> Executor:
        """The pool, started on first use: processes are forked then, from a worker whose regions are loaded."""
        if self._pool is None:
            if self.processes:
                self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("fork"),
                                                 initializer=_start_process, initargs=(self.context, self.nice))
            else:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="mednet-heavy",
                                                initializer=_start_thread, initargs=(self.context,))
        return self._pool

    def _keep(self, key: Hashable, done: asyncio.Future[bytes]) -> None:
        del self.running[key]
        if done.cancelled() or done.exception() is not None or not self.cache_entries:
            return
        self.cache[key] = done.result()
        while len(self.cache) > self.cache_entries:
            self.cache.popitem(last=False)

    def close(self) -> None:
        """Stop the pool: work under way is dropped, processes end."""
        if self._pool is None:
            return
        processes = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # a computation in a process is not waited for
            process.terminate()
        self._pool = None


def forking_works() -> bool:
    """Whether slow work can go to forked processes (Linux: fork, and the parent's death reaches them)."""
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def _call(work: Callable[..., bytes], args: tuple[Any, ...]) -> bytes:
    """Run ``work`` with the pool's context (in a slow-work process or thread)."""
    context = getattr(_THREAD_CONTEXT, "value", _CONTEXT)
    return work(context, *args)


_THREAD_CONTEXT = threading.local()


def _start_thread(context: Any) -> None:
    _THREAD_CONTEXT.value = context


def _start_process(context: Any, nice: int) -> None:
    """In a new slow-work process: keep the context, end with the worker, leave signals to the worker, and
    lower the priority by ``nice``."""
    global _CONTEXT
    _CONTEXT = context
    with_parent()
    close_inherited_sockets()
    signal.set_wakeup_fd(-1)  # the worker's event loop is not here
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the worker stops this process
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    if nice > 0:
        try:
            os.nice(nice)
        except OSError as error:
            logger.warning("slow-work process keeps its priority: cannot lower it by %d (%s)", nice, error)


def close_inherited_sockets() -> None:
    """Close every socket this process inherited from the worker: the listening one, clients' connections
    (else a connection the worker closes stays open for its client), the ledger's database connection and
    the event loop's own. The pool talks through pipes, which stay."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.close(fd)


def with_parent() -> None:
    """Ask Linux to end this process when the process that forked it ends (``PR_SET_PDEATHSIG``)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        logger.warning("a slow-work process may outlive its worker: prctl is not available")
