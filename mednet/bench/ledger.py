"""The referral ledger under load: referrals created and booked per second, two workers, on PostgreSQL
and on SQLite, beside the disk's fsync rate (``pg_test_fsync``).

For each engine, ``run`` starts ``mednet serve --workers 2`` on a free
127.0.0.1 port over a fresh database (a throwaway PostgreSQL server with
``fsync`` on, or a SQLite file in WAL mode with ``synchronous=FULL``) and
drives it with a bounded asyncio load generator: each of 16 connections
repeats create → accept → book (three requests, three commits) on one
referral until a fixed count or a time cap. Figures: flows (created and
booked) per second, p50/p99 of a whole flow and of a single request, and
the CPU time per flow of the service (both workers), of the database server
and of the load generator itself. Two references: the disk,
``pg_test_fsync``'s ``fdatasync`` rate (one 8 kB write and flush per call),
since every answered write waits for a flush; and the CPU bound, the
machine's cores divided by all the CPU one flow takes (what the rate could
be with every core busy on this work alone). PostgreSQL is measured twice:
as configured by default, and with group commit (``commit_delay`` of half a
measured flush), which lets one flush serve several commits without
answering any of them before it is on disk.

:class:`LedgerService` (start, SIGKILL, restart) also serves the
concurrency and crash tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mednet.bench import BenchRow
from mednet.bench.local import free_port, process_tree_cpu_seconds, wait_ready
from mednet.bench.postgres import ThrowawayPostgres, find_postgres_bin
from mednet.ledger import Ledger, LedgerRegion, QuotaIn, create_key, open_ledger_engine
from mednet.regions import load_region, save_region

AREA = "ledger"
REGION = "minhang"
CONCURRENCY = 16


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


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, method: str, path: str,
                    body: dict[str, Any] | None, key: str, port: int) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else b""
    writer.write((f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n"
                  f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    found = re.search(rb"(?i)content-length: *(\d+)", head)
    length = int(found.group(1)) if found else 0
    return status, json.loads(await reader.readexactly(length)) if length else {}


async def _flows(port: int, keys: dict[str, str], slots: list[str], *, n: int, seconds: float,
                 concurrency: int) -> tuple[list[float], list[float], int, float]:
    flows: list[float] = []
    requests: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    remaining = [n]

    async def connection(i: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while remaining[0] > 0 and time.perf_counter() < deadline:
                remaining[0] -= 1
                start = time.perf_counter()
                steps: list[tuple[str, str, dict[str, Any] | None, str]] = [("POST", "/referrals", {
                    "specialty": "paediatrics", "reason": "bench", "route": False, "destination": "sh-xinhua",
                    "patient": {"ref": f"B{i}"}}, "centre")]
                ok = True
                for k, (method, path, body, who) in enumerate(steps):
                    t = time.perf_counter()
                    status, answer = await _exchange(reader, writer, method, path, body, keys[who], port)
                    requests.append(time.perf_counter() - t)
                    if status >= 300:
                        ok = False
                        break
                    if k == 0:
                        number = answer["number"]
                        steps += [("POST", f"/referrals/{number}/accept", None, "xinhua"),
                                  ("POST", f"/referrals/{number}/book", {"slot": slots[i % len(slots)]},
                                   "xinhua")]
                if ok:
                    flows.append(time.perf_counter() - start)
                else:
                    errors += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection(i) for i in range(concurrency)))
    return flows, requests, errors, time.perf_counter() - start


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) >= 2 else float("nan")


def fsync_rate(folder: Path) -> float | None:
    """``pg_test_fsync``'s fdatasync rate (ops/s) on ``folder``'s disk, or None without the program."""
    found = find_postgres_bin()
    if found is None or not (found / "pg_test_fsync").exists():
        return None
    out = subprocess.run([str(found / "pg_test_fsync"), "-s", "2", "-f", str(folder / "fsync.test")],
                         capture_output=True, text=True, check=False).stdout
    return parse_fsync_rate(out)


def parse_fsync_rate(out: str) -> float | None:
    """The ``fdatasync`` ops/sec of ``pg_test_fsync``'s one-8kB-write comparison.

    >>> parse_fsync_rate('''Compare file sync methods using one 8kB write:
    ...         open_datasync                       301.5 ops/sec    3317 usecs/op
    ...         fdatasync                         1,302.9 ops/sec     767 usecs/op''')
    1302.9
    """
    section = out.split("Compare file sync methods using one 8kB write", 1)[-1]
    match = re.search(r"fdatasync\s+([\d,.]+) ops/sec", section)
    return float(match.group(1).replace(",", "")) if match else None


#: The variants measured: the engine, and PostgreSQL's group commit (``commit_delay``) on or off.
VARIANTS = ("postgresql", "postgresql, group commit", "sqlite")


def group_commit_delay_us(fsync: float | None) -> int:
    """``commit_delay`` for group commit: half of one measured flush (1 ms when not measured).

    >>> group_commit_delay_us(300.0), group_commit_delay_us(None)
    (1666, 1000)
    """
    return 1000 if not fsync else max(10, min(int(0.5e6 / fsync), 100_000))


def measure(variant: str, folder: Path, *, n: int, seconds: float, fsync: float | None = None) -> dict[str, float]:
    """Flows per second, latencies and CPU per flow (service, database server, load generator) for one variant."""
    import datetime as dt

    with contextlib.ExitStack() as stack:
        url, database = None, None
        if variant.startswith("postgresql"):
            delay = group_commit_delay_us(fsync) if "group commit" in variant else 0
            database = stack.enter_context(ThrowawayPostgres(durable=True, commit_delay_us=delay))
            url = database.new_database()
        data = folder / variant.replace(", ", "-").replace(" ", "-")
        keys = prepare(url, data)
        service = stack.enter_context(LedgerService(url, data, serving_regions(folder / "regions")))
        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
        slots = [f"quota/sh-xinhua/paediatrics/{today + dt.timedelta(days=d)}" for d in range(1, 5)]
        asyncio.run(_flows(service.port, keys, slots, n=50, seconds=10, concurrency=4))  # warm up
        cpu, db_cpu, own_cpu = service.cpu_seconds(), database.cpu_seconds() if database else 0.0, time.process_time()
        flows, requests, errors, elapsed = asyncio.run(
            _flows(service.port, keys, slots, n=n, seconds=seconds, concurrency=CONCURRENCY))
        cpu, own_cpu = service.cpu_seconds() - cpu, time.process_time() - own_cpu
        db_cpu = database.cpu_seconds() - db_cpu if database else 0.0
    done = max(len(flows), 1)
    per_flow = [cpu / done * 1000, db_cpu / done * 1000, own_cpu / done * 1000]
    return {"rate": len(flows) / elapsed, "cpu_ms": per_flow[0], "db_cpu_ms": per_flow[1],
            "client_cpu_ms": per_flow[2], "cpu_bound": (os.cpu_count() or 1) * 1000 / sum(per_flow),
            "errors": errors, "flow_p50": _p(flows, 50), "flow_p99": _p(flows, 99),
            "request_p50": _p(requests, 50), "request_p99": _p(requests, 99), "flows": len(flows)}


def run(*, quick: bool = False) -> list[BenchRow]:
    n, seconds = (300, 10.0) if quick else (4000, 30.0)
    rows: list[BenchRow] = []
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="mednet-bench-ledger-") as tmp:
        folder = Path(tmp)
        fsync = fsync_rate(folder)
        for variant in VARIANTS:
            m = measure(variant, folder, n=n, seconds=seconds, fsync=fsync)
            target = "≥ 500/s" if variant.startswith("postgresql") else None
            name = variant + (f" ({group_commit_delay_us(fsync)} µs)" if "group" in variant else "")
            rows += [
                BenchRow(AREA, f"{name}: created+booked /s (2 workers)", m["rate"], "/s",
                         "pg_test_fsync fdatasync" if fsync else None, fsync, target,
                         m["rate"] >= 500 if target else None),
                BenchRow(AREA, f"{name}: created+booked /s", m["rate"], "/s",
                         f"CPU bound: {cores} cores / all CPU per flow", m["cpu_bound"]),
                BenchRow(AREA, f"{name}: service CPU per flow", m["cpu_ms"], "ms"),
                BenchRow(AREA, f"{name}: database server CPU per flow", m["db_cpu_ms"], "ms"),
                BenchRow(AREA, f"{name}: load generator CPU per flow", m["client_cpu_ms"], "ms"),
                BenchRow(AREA, f"{name}: flow p99 (3 requests)", m["flow_p99"], "ms"),
                BenchRow(AREA, f"{name}: request p99", m["request_p99"], "ms", target="≤ 50 ms" if target else None,
                         met=m["request_p99"] <= 50 if target else None),
                BenchRow(AREA, f"{name}: request p50", m["request_p50"], "ms"),
                BenchRow(AREA, f"{name}: failed flows", m["errors"], "n"),
            ]
    return rows
