"""The access log: one JSON line per request, formatted and written off the request's path, in batches.

A request only appends a tuple to a queue (:meth:`AccessLog.record`); a
thread of the worker takes what has queued every :data:`INTERVAL_S`,
formats each line once and hands the batch to the ``service.access`` logger
as one record (one line per request, one write per batch). The thread runs
only while the app is started (:meth:`AccessLog.open` in its lifespan, until
:meth:`AccessLog.close` writes what is left); outside that, a line is written
at once, so no thread outlives the app and its log stream.

    >>> import json, logging
    >>> log = AccessLog(logging.getLogger("doctest.access"))
    >>> log.pending.append((b"1-1", "GET", "/health", "/health", 200, 0.0001, ("127.0.0.1", 5000)))
    >>> line = json.loads(log.lines()[0])
    >>> line["request_id"], line["status"], line["duration_ms"], line["client"]
    ('1-1', 200, 0.1, '127.0.0.1')
"""

from __future__ import annotations

import collections
import logging
import threading
from typing import Any

import orjson

#: Seconds between the writer's looks at the queue.
INTERVAL_S = 0.05


class AccessLog:
    """The queue of access lines and the thread that writes them (started by the first line, in the worker)."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.pending: collections.deque[tuple[Any, ...]] = collections.deque()
        self.thread: threading.Thread | None = None
        self.background = False
        self.stopped = threading.Event()
        self.lock = threading.Lock()  # one writer at a time (the thread, or a flush)

    def record(self, request_id: bytes, method: str, path: str, route: str, status: int, seconds: float,
               client: tuple[str, int] | None) -> None:
        """Queue one request's line (cheap: no formatting, no I/O)."""
        self.pending.append((request_id, method, path, route, status, seconds, client))
        if not self.background:
            self.flush()
        elif self.thread is None:
            self._start()

    def open(self) -> None:
        """Write in batches from a thread of this process (started by the first line) until :meth:`close`."""
        self.background = True

    def _start(self) -> None:
        self.stopped.clear()
        self.thread = threading.Thread(target=self._run, name="mednet-access-log", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(INTERVAL_S):
            self.flush()

    def lines(self) -> list[str]:
        """Take every queued line, formatted."""
        taken = []
        pending = self.pending
        while pending:
            request_id, method, path, route, status, seconds, client = pending.popleft()
            taken.append(orjson.dumps({
                "request_id": request_id.decode(), "method": method, "path": path, "route": route,
                "status": status, "duration_ms": round(seconds * 1e3, 3), "client": client[0] if client else None,
            }).decode())
        return taken

    def flush(self) -> None:
        """Write what has queued, as one record."""
        with self.lock:
            lines = self.lines()
            if lines:
                self.logger.info("\n".join(lines))

    def close(self) -> None:
        """Stop the thread and write what is left; later lines are written at once."""
        self.background = False
        self.stopped.set()
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        self.flush()
