"""The referral ledger at five times a province's peak, with routing traffic beside it: ``mednet bench --area ledger``.

A province's peak is about 10 new referrals a second (docs: the ledger's
speed target); the bench offers 5× that. For each engine, ``run`` starts
``mednet serve`` on a free 127.0.0.1 port over a fresh database (a
throwaway PostgreSQL server with ``fsync`` on and 2 workers, or a SQLite
file in WAL mode with ``synchronous=FULL`` and 1 worker) and drives it with
an open-loop asyncio load generator: a new referral every 1/50 s, each
created → accepted → booked (three requests, three commits, on keep-alive
connections), and beside them 200 route requests a second, for 60 s. The
offered load does not wait for answers, so a slow service shows as latency,
not as a lower offered rate.

Figures, per engine: the referrals and routes completed per second beside
those offered, failed requests, request p50/p99 (all, ledger, routes), and
CPU per referral: the service's (the server and its workers) and the
database server's own, each counting processes that exited during the run
(a backend's CPU is added to the server's account when it exits), from a
second phase of the same run with the referrals alone (so that the routes'
CPU is not charged to the ledger); the PostgreSQL sessions opened per
referral (0 when the pool holds a connection for each of a worker's
threads). Targets: 0 errors, request p99 ≤ 100 ms, and on PostgreSQL the
service's CPU per referral ≤ 1.5× the database's.

:class:`LedgerService` (start, SIGKILL, restart) also serves the
concurrency and crash tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mednet.bench import BenchRow
from mednet.bench.local import free_port, process_tree_cpu_seconds, wait_ready
from mednet.bench.postgres import ThrowawayPostgres
from mednet.ledger import Ledger, LedgerRegion, QuotaIn, create_key, open_ledger_engine
from mednet.regions import load_region, save_region

AREA = "ledger"
REGION = "minhang"
#: The offered load: new referrals (each created, accepted, booked) and route requests per second.
REFERRALS_PER_S, ROUTES_PER_S = 50.0, 200.0
#: The variants: (name, workers).
VARIANTS = (("postgresql", 2), ("sqlite", 1))
ROUTE = {"origin": "mh-hongqiao", "specialty": "paediatrics"}
#: Sessions the workers' pools may open during the measured phases as they grow to their peak (a pool that
#: opened one per request would open thousands).
POOL_GROWTH = 50
#: Keep-alive connections the load generator opens at most (more flows wait for one).
MAX_CONNECTIONS = 64


def serving_regions(folder: Path) -> Path:
    """A regions folder holding Minhang alone with a 7-day booking window (so that its Tuesday session is
    always in the window); the service starts faster with one small region."""
    folder.mkdir(parents=True, exist_ok=True)
    save_region(load_region(REGION).model_copy(update={"booking_days": 7}), folder / f"{REGION}.json")
    return folder


class LedgerService:
    """``mednet serve --workers 2`` over a ledger database, in its own process group."""

    def __init__(self, database_url: str | None, data_dir: Path, regions_dir: Path, *, workers: int = 2):
        self.env = {**os.environ, "MEDNET_DATA_DIR": str(data_dir), "MEDNET_REGIONS_DIR": str(regions_dir)}
        self.env.pop("MEDNET_DATABASE_URL", None)
        if database_url:
            self.env["MEDNET_DATABASE_URL"] = database_url
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - kept open for the server's life, closed on exit

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LedgerService:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mednet.cli", "serve", "--port", str(self.port), "--workers", str(self.workers),
             "--no-access-log", "--regions-dir", self.env["MEDNET_REGIONS_DIR"]],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_ready(self.port, self.process, self.log, workers=self.workers)  # each worker loads its regions
        return self

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the server and its workers (Linux /proc)."""
        return process_tree_cpu_seconds(self.process.pid) if self.process else 0.0

    def kill(self) -> None:
        """SIGKILL the server and its workers at once (a crash: nothing is flushed or closed)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None

    def __enter__(self) -> LedgerService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.log.close()


def prepare(database_url: str | None, data_dir: Path) -> dict[str, str]:
    """Migrate the database and make the keys the load uses: the centre's desk, Xinhua's desk, an admin;
    Xinhua's paediatric referral quota set large enough for the run. Returns the clear keys."""
    engine = open_ledger_engine(database_url, data_dir=data_dir)
    keys = {"centre": create_key(engine, role="desk", label="bench centre", region=REGION, institution="mh-hongqiao"),
            "xinhua": create_key(engine, role="desk", label="bench xinhua", region=REGION, institution="sh-xinhua"),
            "admin": create_key(engine, role="admin", label="bench admin")}
    ledger = Ledger(engine, {REGION: LedgerRegion.from_region(load_region(REGION))})
    ledger.set_quota(keys["admin"][0], REGION, QuotaIn(institution="sh-xinhua", specialty="paediatrics",
                                                        per_day=10_000, release_days=5))
    engine.dispose()
    return {name: text for name, (_, text) in keys.items()}


# --------------------------------------------------------------------------- the load generator


class _Connections:
    """Keep-alive connections to the service, taken and given back; a new one only while none is free."""

    def __init__(self, port: int, limit: int = MAX_CONNECTIONS):
        self.port, self.free = port, asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]()
        self.open, self.limit = 0, limit
        self.slots = asyncio.Semaphore(limit)

    async def exchange(self, method: str, path: str, body: dict[str, Any] | None,
                       key: str | None) -> tuple[int, dict[str, Any]]:
        async with self.slots:
            if self.free.empty():
                self.open += 1
                pair = await asyncio.open_connection("127.0.0.1", self.port)
            else:
                pair = self.free.get_nowait()
            try:
                answer = await _exchange(*pair, method, path, body, key, self.port)
            except BaseException:
                pair[1].close()
                raise
            self.free.put_nowait(pair)
            return answer

    def close(self) -> None:
        while not self.free.empty():
            self.free.get_nowait()[1].close()


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, method: str, path: str,
                    body: dict[str, Any] | None, key: str | None, port: int) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else b""
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    writer.write((f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}"
                  f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    found = re.search(rb"(?i)content-length: *(\d+)", head)
    length = int(found.group(1)) if found else 0
    return status, json.loads(await reader.readexactly(length)) if length else {}


@dataclass
class Load:
    """What one paced run saw: latencies (s) of ledger and route requests, completed flows, failures."""

    ledger: list[float] = field(default_factory=list)
    routes: list[float] = field(default_factory=list)
    referrals: int = 0
    routed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    late: list[float] = field(default_factory=list)  # how late the generator started each flow (s)

    def fail(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def _paced(rate: float, seconds: float, start: Callable[[int], Awaitable[None]], late: list[float]) -> None:
    """Start ``start(i)`` at ``rate`` per second for ``seconds`` without waiting for it (open loop)."""
    t0, tasks = time.perf_counter(), set()
    for i in range(int(rate * seconds)):
        wait = t0 + i / rate - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        else:
            late.append(-wait)
        task = asyncio.ensure_future(start(i))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks)


async def _run_load(port: int, keys: dict[str, str], slots: list[str], *, seconds: float, referrals_per_s: float,
                    routes_per_s: float) -> Load:
    load, pool = Load(), _Connections(port)

    async def referral(i: int) -> None:
        steps: list[tuple[str, str, dict[str, Any] | None, str]] = [("POST", "/referrals", {
            "specialty": "paediatrics", "reason": "bench", "route": False, "destination": "sh-xinhua",
            "patient": {"ref": f"B{i}"}}, "centre")]
        for k, (method, path, body, who) in enumerate(steps):
            t = time.perf_counter()
            try:
                status, answer = await pool.exchange(method, path, body, keys[who])
            except (OSError, asyncio.IncompleteReadError, ValueError):
                status, answer = 0, {}
            load.ledger.append(time.perf_counter() - t)
            if status >= 300 or status == 0:
                load.fail(f"{path.rsplit('/', 1)[-1] if k else 'create'} {status}")
                return
            if k == 0:
                number = answer["number"]
                steps += [("POST", f"/referrals/{number}/accept", None, "xinhua"),
                          ("POST", f"/referrals/{number}/book", {"slot": slots[i % len(slots)]}, "xinhua")]
        load.referrals += 1

    async def route(_: int) -> None:
        t = time.perf_counter()
        try:
            status, _answer = await pool.exchange("POST", f"/regions/{REGION}/routes", ROUTE, None)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = 0
        load.routes.append(time.perf_counter() - t)
        if status != 200:
            load.fail(f"route {status}")
        else:
            load.routed += 1

    start = time.perf_counter()
    runs = [_paced(referrals_per_s, seconds, referral, load.late)]
    if routes_per_s:
        runs.append(_paced(routes_per_s, seconds, route, load.late))
    await asyncio.gather(*runs)
    load.elapsed = time.perf_counter() - start
    pool.close()
    return load


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) >= 2 else float("nan")


def _sessions(url: str | None) -> int:
    """Sessions ever opened on the database (PostgreSQL 14+ counts them), 0 for SQLite."""
    if not url:
        return 0
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        row = conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class Phase:
    """One paced phase: its load and the CPU seconds of the service, the database server and the generator."""

    load: Load
    service_cpu: float
    db_cpu: float
    client_cpu: float
    sessions: int


def _phase(service: LedgerService, database: ThrowawayPostgres | None, url: str | None, keys: dict[str, str],
           slots: list[str], *, seconds: float, routes_per_s: float) -> Phase:
    cpu, db_cpu = service.cpu_seconds(), database.cpu_seconds() if database else 0.0
    own, sessions = time.process_time(), _sessions(url)
    load = asyncio.run(_run_load(service.port, keys, slots, seconds=seconds, referrals_per_s=REFERRALS_PER_S,
                                 routes_per_s=routes_per_s))
    return Phase(load, service.cpu_seconds() - cpu, (database.cpu_seconds() - db_cpu) if database else 0.0,
                 time.process_time() - own, _sessions(url) - sessions)


def measure(engine: str, workers: int, folder: Path, *, seconds: float) -> tuple[Phase, Phase]:
    """The mixed phase (referrals and routes, ``seconds``) and the referrals alone (half as long)."""
    with contextlib.ExitStack() as stack:
        url, database = None, None
        if engine == "postgresql":
            database = stack.enter_context(ThrowawayPostgres(durable=True))
            url = database.new_database()
        data = folder / engine
        keys = prepare(url, data)
        service = stack.enter_context(LedgerService(url, data, serving_regions(folder / "regions"), workers=workers))
        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
        slots = [f"quota/sh-xinhua/paediatrics/{today + dt.timedelta(days=d)}" for d in range(1, 5)]
        asyncio.run(_run_load(service.port, keys, slots, seconds=3, referrals_per_s=REFERRALS_PER_S,
                              routes_per_s=ROUTES_PER_S))  # warm up
        mixed = _phase(service, database, url, keys, slots, seconds=seconds, routes_per_s=ROUTES_PER_S)
        alone = _phase(service, database, url, keys, slots, seconds=seconds / 2, routes_per_s=0)
    return mixed, alone


def _listed(*counts: dict[str, int]) -> str:
    """``create 503: 2, route 0: 1`` (or ``none``): the failures by kind, over the phases."""
    total: dict[str, int] = {}
    for found in counts:
        for kind, n in found.items():
            total[kind] = total.get(kind, 0) + n
    return ", ".join(f"{k}: {v}" for k, v in total.items()) or "none"


def run(*, quick: bool = False) -> list[BenchRow]:
    seconds = 10.0 if quick else 60.0
    rows: list[BenchRow] = []
    load_average = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="mednet-bench-ledger-") as tmp:
        for engine, workers in VARIANTS:
            mixed, alone = measure(engine, workers, Path(tmp), seconds=seconds)
            m, name = mixed.load, f"{engine}, {workers} worker{'s' if workers > 1 else ''}"
            errors = sum(m.errors.values()) + sum(alone.load.errors.values())
            p99 = _p(m.ledger + m.routes, 99)
            done = max(alone.load.referrals, 1)
            service_ms, db_ms = alone.service_cpu / done * 1000, alone.db_cpu / done * 1000
            rows += [
                BenchRow(AREA, f"{name}: referrals created+accepted+booked /s, routes beside", m.referrals / m.elapsed,
                         "/s", "offered", REFERRALS_PER_S, "≥ 0.98× offered",
                         m.referrals / m.elapsed >= 0.98 * REFERRALS_PER_S),
                BenchRow(AREA, f"{name}: routes /s beside the referrals", m.routed / m.elapsed, "/s", "offered",
                         ROUTES_PER_S),
                BenchRow(AREA, f"{name}: failed requests ({_listed(m.errors, alone.load.errors)})", errors, "n",
                         target="0", met=errors == 0),
                BenchRow(AREA, f"{name}: request p99, all", p99, "ms", target="≤ 100 ms", met=p99 <= 100),
                BenchRow(AREA, f"{name}: request p99, ledger / p50", _p(m.ledger, 99), "ms", "p50", _p(m.ledger, 50)),
                BenchRow(AREA, f"{name}: request p99, routes / p50", _p(m.routes, 99), "ms", "p50", _p(m.routes, 50)),
                BenchRow(AREA, f"{name}: generator late starts p99", _p(m.late, 99) if len(m.late) > 1 else 0.0, "ms"),
                BenchRow(AREA, f"{name}: service CPU per referral (routes included)",
                         mixed.service_cpu / max(m.referrals, 1) * 1000, "ms"),
            ]
            if engine == "postgresql":
                opened = mixed.sessions + alone.sessions
                rows += [
                    BenchRow(AREA, f"{name}: service CPU per referral, referrals alone", service_ms, "ms",
                             "database server CPU per referral (exited backends counted)", db_ms, "≤ 1.5×",
                             service_ms <= 1.5 * db_ms, multiple=True),
                    BenchRow(AREA, f"{name}: database sessions opened per referral ({opened} in all)",
                             opened / max(m.referrals + alone.load.referrals, 1), "n",
                             target=f"≤ {POOL_GROWTH} in all (the pools grow to their peak, no backend per "
                                    "request)", met=opened <= POOL_GROWTH),
                ]
            else:
                rows.append(BenchRow(AREA, f"{name}: service CPU per referral, referrals alone (the database "
                                           "in-process)", service_ms, "ms"))
            rows.append(BenchRow(AREA, f"{name}: load generator CPU per referral (routes included)",
                                 mixed.client_cpu / max(m.referrals, 1) * 1000, "ms"))
    rows.append(BenchRow(AREA, "load average (1 min) at the start", load_average, ""))
    return rows
