"""``mednet serve``: a pre-fork server over uvicorn.

1. The parent binds the port at once; until the workers run, a thread answers
   it (``/health`` 200, anything else 503 with ``Retry-After``, see
   :mod:`service.starting`).
2. The parent imports the service, reads and validates the region files
   (refusing to start if any is refused, unless ``allow_invalid``), compiles
   the routing kernel (or loads it from numba's cache), builds every region's
   router, creates or migrates the ledger's database (and closes it), and
   creates the app: all once.
3. It stops answering, moves everything it built out of the garbage
   collector's sight (``gc.freeze``: the workers' collections neither walk nor
   copy those pages) and forks the workers. Each runs uvicorn's ``Server`` on
   the shared socket with the service's protocol and limits; its lifespan
   opens the ledger (a database connection is never shared across a fork).
4. The parent supervises: a worker that dies is replaced; one that fails
   within :data:`START_FAILURE_S` of its start stops the server. SIGTERM,
   SIGINT (Ctrl-C) and SIGHUP stop every worker gracefully (killed after
   :data:`STOP_S`). Ctrl-C at any moment ends the server without a traceback.

Nothing heavy is imported at module level: the port answers before the
service is imported.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import logging.config
import os
import signal
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from service.starting import StartingAnswers

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

    from service.config import Settings
    from service.deps import RegionLoader

    AppFactory = Callable[..., FastAPI]

logger = logging.getLogger("service")

#: Seconds the workers get to finish their requests after SIGTERM, before they are killed.
STOP_S = 30.0
#: A worker that exits with an error this soon after it was forked failed to start: the server stops.
START_FAILURE_S = 5.0
#: What the parent waits for while the workers run (SIGCHLD: a worker ended).
SIGNALS = {signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def log_config() -> dict[str, Any]:
    """uvicorn's logging, plus the service's own loggers (start-up, problems, the access line)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["service"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    # the access lines as they are (JSON, one per line, written in batches): no level prefix; their level is the
    # service's (NOTSET: inherited)
    config["formatters"]["access_json"] = {"format": "%(message)s"}
    config["handlers"]["access_json"] = {"class": "logging.StreamHandler", "formatter": "access_json",
                                         "stream": "ext://sys.stderr"}
    config["loggers"]["service.access"] = {"handlers": ["access_json"], "level": "NOTSET", "propagate": False}
    return config


def bind(host: str, port: int) -> socket.socket:
    """The listening socket (``SO_REUSEADDR``, inherited by the workers); an ``OSError`` if the port is taken."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def serve(*, host: str, port: int, workers: int, app_factory: AppFactory | None = None,
          log_level: str = "info", interrupted: Callable[[], bool] = lambda: False) -> int:
    """Run the service until stopped; the exit code (0, or 1 when workers failed to start).

    ``app_factory(settings, regions=loader)`` makes the app (default :func:`service.app.create_app`).
    ``interrupted()`` says whether Ctrl-C came while loading, in code that swallowed it (a library's
    callback, a finalizer during a collection): then no worker starts and ``KeyboardInterrupt`` is raised.
    Raises the library's errors (a refused region file, an unreachable ledger database) and ``OSError``
    (the port is taken) before any worker starts.
    """
    sock = bind(host, port)
    try:
        starting = StartingAnswers(sock).start()
        try:
            config = prepare(app_factory, log_level=log_level)
        finally:
            starting.stop()
        logger.info("serving on http://%s:%d with %d worker(s)", host, port, workers)
        gc.collect()
        gc.freeze()  # what the parent built stays shared: the workers' collections neither walk nor copy it
        return Supervisor(sock, config, workers).run(interrupted)
    finally:
        sock.close()


def prepare(app_factory: AppFactory | None, *, log_level: str = "info") -> uvicorn.Config:
    """Everything the workers share, built once: the regions, the kernel, the ledger's schema, the app."""
    logging.config.dictConfig(log_config())
    logging.getLogger("service").setLevel(log_level.upper())
    import uvicorn

    from mednet.ledger import open_ledger_engine
    from service.config import get_settings
    from service.deps import RegionLoader
    from service.protocol import GuardedHttp

    get_settings.cache_clear()  # read now: ``mednet serve`` has just set the environment
    settings = get_settings()
    loader = RegionLoader(folder=settings.region_folder(), allow_invalid=settings.allow_invalid)
    check_regions(loader, settings)
    loader.build()
    # Created or migrated once here (and closed: no connection crosses the fork); each worker opens its own.
    open_ledger_engine(settings.database_url, data_dir=settings.data_folder()).dispose()
    if app_factory is None:
        from service.app import create_app

        app_factory = create_app
    app = app_factory(settings, regions=loader)
    config = uvicorn.Config(app, http=GuardedHttp, lifespan="on", timeout_keep_alive=settings.idle_timeout_s,
                            server_header=False, access_log=False, log_config=None, log_level=log_level,
                            timeout_graceful_shutdown=int(STOP_S) - 5)
    config.load()
    return config


def check_regions(loader: RegionLoader, settings: Settings) -> None:
    """Read the region files; raise naming every refused file (one line per file and error code) unless
    ``allow_invalid``, and even then when none can be served."""
    from mednet.errors import RegionDataError

    found = loader.read()
    if not settings.allow_invalid:
        found.require_all()
    if not found.usable(allow_invalid=True):
        raise RegionDataError(str(loader.folder), "", "no region file can be served:\n" + "\n".join(
            f"  {line}" for line in found.problem_lines(allow_invalid=True)))
    loader.log_refusals()


class Supervisor:
    """Forks the workers and keeps their number; stops them all on SIGTERM, SIGINT or SIGHUP."""

    def __init__(self, sock: socket.socket, config: uvicorn.Config, workers: int) -> None:
        self.sock, self.config, self.count = sock, config, workers
        self.workers: dict[int, float] = {}  # pid → when forked (monotonic)

    def run(self, interrupted: Callable[[], bool] = lambda: False) -> int:
        """Fork the workers and supervise them until a signal stops them; ``interrupted()``: whether Ctrl-C came
        before the signals were blocked, in code that swallowed it (then no worker starts)."""
        signal.signal(signal.SIGCHLD, _ignore)  # a handler, so that SIGCHLD stays pending while blocked
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        try:
            if interrupted():  # from here on a Ctrl-C waits for sigtimedwait below
                raise KeyboardInterrupt
            for _ in range(self.count):
                self.spawn()
            failure = None
            while failure is None:
                info = signal.sigtimedwait(SIGNALS, 1.0)
                if info is not None and info.si_signo != signal.SIGCHLD:
                    logger.info("stopping the workers (%s)", signal.Signals(info.si_signo).name)
                    break
                failure = self.reap()
            self.stop()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
        if failure is not None:
            logger.error("%s; the server stops (the log above says why)", failure)
            return 1
        return 0

    def spawn(self) -> None:
        pid = os.fork()
        if pid == 0:
            _work(self.sock, self.config)
        self.workers[pid] = time.monotonic()

    def reap(self) -> str | None:
        """Replace each worker that ended; what went wrong when one failed to start."""
        while self.workers:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return None
            started = self.workers.pop(pid, None)
            if started is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if code > 0 and time.monotonic() - started < START_FAILURE_S:
                return f"worker {pid} failed to start (exit {code})"
            how = f"exit {code}" if code >= 0 else f"killed by {signal.Signals(-code).name}"
            logger.warning("worker %d ended (%s); starting another", pid, how)
            self.spawn()
        return None

    def stop(self) -> None:
        """SIGTERM to every worker; SIGKILL to those still running after :data:`STOP_S`."""
        for pid in self.workers:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_S
        while self.workers:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid:
                self.workers.pop(pid, None)
            elif time.monotonic() > deadline:
                for late in self.workers:
                    logger.warning("worker %d did not stop within %g s: killed", late, STOP_S)
                    _signal(late, signal.SIGKILL)
                deadline = float("inf")
            else:
                signal.sigtimedwait({signal.SIGCHLD}, 0.1)


def _work(sock: socket.socket, config: uvicorn.Config) -> NoReturn:
    """A worker: uvicorn's server on the shared socket until SIGTERM or SIGINT; never returns."""
    import uvicorn

    server = uvicorn.Server(config)

    def leave(signum: int, frame: object) -> None:  # a flag uvicorn reads, not an exception at a random place
        server.should_exit = True

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the parent stops the workers
    for sig in (signal.SIGINT, signal.SIGTERM):  # until uvicorn takes them; raised again after its shutdown
        signal.signal(sig, leave)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
    code = 0
    try:
        server.run(sockets=[sock])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        logger.exception("worker %d failed", os.getpid())
        code = 1
    finally:
        logging.shutdown()
        os._exit(code)


def _ignore(signum: int, frame: object) -> None:
    pass


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
