"""Servers the benchmarks and tests start on this machine: a free loopback port, waiting for ``/ready``,
CPU time of a process.

Plain sockets, ``urllib`` and ``/proc``: nothing here imports the service,
so the library's benchmarks (the ledger's, the throwaway PostgreSQL server)
and the service's (:mod:`service.bench`) share them.

    >>> 1024 <= free_port() <= 65535
    True
    >>> ready_worker(free_port())  # nothing listens there
    (0, None)
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

#: Seconds to wait for a server to become ready (the first start compiles the routing kernel).
READY_TIMEOUT_S = 120.0


def free_port() -> int:
    """A TCP port of 127.0.0.1 free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ready_worker(port: int) -> tuple[int, int | None]:
    """(HTTP status of ``/ready``, the worker pid when ready); status 0 when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as response:
            return response.status, json.loads(response.read())["worker"]
    except urllib.error.HTTPError as err:
        return err.code, None
    except OSError:
        return 0, None


def wait_ready(port: int, server: subprocess.Popen, log: IO[str], *, workers: int = 1,
               timeout_s: float = READY_TIMEOUT_S) -> tuple[float, float]:
    """Seconds until the port first answers, and until ``workers`` distinct workers answered ready.

    Raises :class:`RuntimeError` with the end of ``log`` if the server exits first, or after ``timeout_s``.
    """
    start = time.monotonic()
    deadline, answered, ready = start + timeout_s, None, set()
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the server exited ({server.returncode}) before it was ready:\n{log.read()[-2000:]}")
        status, worker = ready_worker(port)
        if status and answered is None:
            answered = time.monotonic() - start
        if worker is not None:
            ready.add(worker)
            if len(ready) >= workers:
                return answered or 0.0, time.monotonic() - start
            continue  # ask again at once: the next connection may reach another worker
        time.sleep(0.02)
    raise RuntimeError(f"the server was not ready within {timeout_s:g} s")


def cpu_seconds(pid: int, *, reaped: bool = False) -> float | None:
    """User + system CPU seconds of a process so far (Linux /proc), or None elsewhere; with ``reaped``, also
    those of its children that exited and were waited for (the kernel adds them to their parent's account).

    >>> (cpu_seconds(os.getpid()) or 0.0) >= 0.0
    True
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def process_tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and all its descendants: the live ones, and those that exited meanwhile (a
    database server's backends come and go: each one's CPU is counted in its parent's once it exits), so the
    difference of two readings is all the CPU the tree used between them (Linux /proc; 0 elsewhere)."""
    pids, seen = [pid], 0.0
    while pids:
        current = pids.pop()
        seen += cpu_seconds(current, reaped=True) or 0.0
        try:
            pids += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except OSError:
            continue
    return seen
