"""HTTP load: the referral route endpoint beside trivial endpoints of the same app, on loopback only.

``run`` starts the service (``mednet serve``'s server, one worker, no access log) on a free
127.0.0.1 port in a subprocess, waits for ``/ready``, and drives it from a
second process: a bounded load generator (asyncio on uvloop, plain HTTP/1.1
keep-alive, 32 connections, a fixed number of requests and a time cap). It
measures, in the same run:

- ``POST /regions/quzhou/routes`` (referrals rotating over origins and
  specialties) and ``GET /health``, the trivial endpoint the target refers
  to: requests/s, p50/p99 latency, and the server's CPU time per request
  (from ``/proc``; the rate is only the server's when the server is busy,
  which the "server busy" row shows);
- a reference that does no work but the same I/O: a trivial ``POST`` with
  the same body answering the same bytes (``/bench/same-io``, added to the
  app for the benchmark only), which separates the cost of the HTTP exchange
  from the cost of routing;
- unloaded latency: one connection, one request at a time;
- the price of the protections (:func:`price_rows`): the service with its
  access log on, ``GET /health`` and the route, against a bare FastAPI app
  answering ``/health`` on the same server, protocol and limits
  (:func:`bare_app`), started beside it; targets ≥ 0.85× and ≥ 0.8×.

The server is always stopped. The load generator is this module run as a
script (``python -m service.bench`` with a JSON job on stdin). It lives in the service package, which
is installed with mednet, so that the library never imports the service: ``mednet bench --area http``
imports it only when asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mednet.bench import BenchRow
from mednet.bench.local import free_port, process_tree_cpu_seconds, wait_ready
from service.app import create_app
from service.config import Settings
from service.deps import RegionLoader

AREA = "http"
REGION = "quzhou"
CONCURRENCY = 32
ROUTE_PATH = f"/regions/{REGION}/routes"
SAME_IO_PATH = "/bench/same-io"
#: Referrals the load rotates through: township centres of three counties, common specialties.
ORIGINS = ("华埠", "池淮(张湾)", "杜泽", "廿里", "上方", "kh-majin", "js-qinghu", "js-hecun")
SPECIALTIES = ("儿科", "心内科", "骨科", "普外科")
#: Connections asking for coverage beside the referral load (planners).
PLANNERS = 16


@dataclass(frozen=True)
class Load:
    """What one load phase measured."""

    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    server_cpu_s: float | None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def server_us(self) -> float | None:
        return None if self.server_cpu_s is None else self.server_cpu_s / self.requests * 1e6

    @property
    def server_busy(self) -> float | None:
        return None if self.server_cpu_s is None else self.server_cpu_s / self.seconds


# --------------------------------------------------------------------------- the app under test


def bench_app(settings: Settings | None = None, *, regions: RegionLoader | None = None) -> FastAPI:
    """The service's app plus the same-I/O reference endpoint (benchmark only).

    ``PUT`` stores the answer; ``POST`` reads its body and answers it. The
    endpoint is a plain request → response function placed first, as the
    route endpoint is (see :mod:`service.fastpath`).
    """
    app = create_app(settings, regions=regions)
    answer = [b"{}"]

    async def same_io(request: Request) -> Response:
        body = await request.body()
        if request.method == "PUT":
            answer[0] = body
        return Response(answer[0], media_type="application/json")

    app.router.routes.insert(0, Route(SAME_IO_PATH, same_io, methods=["POST", "PUT"], include_in_schema=False))
    return app


def bare_app(settings: Settings | None = None, *, regions: RegionLoader | None = None) -> FastAPI:
    """The reference: a bare FastAPI app answering ``GET /health`` as the service does, with nothing else (no
    middleware, no routers); served by the same server, protocol and limits (``settings`` and ``regions``, given
    by the server, are not used)."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready() -> dict[str, object]:  # what the bench waits for
        return {"worker": os.getpid()}

    return app


@contextlib.contextmanager
def serving(*, app: str = "service.bench:bench_app", workers: int = 1, env: dict[str, str] | None = None,
            wait: bool = True, log_level: str = "warning") -> Iterator[tuple[int, subprocess.Popen]]:
    """Start ``app`` as ``mednet serve`` runs it (same protocol and limits, no access log) on a free loopback
    port, its ledger in a folder of its own (never the user's); yields (port, server process) once it is ready
    (unless ``wait`` is false); always stops it."""
    port = free_port()
    with tempfile.TemporaryFile("w+") as log, tempfile.TemporaryDirectory(prefix="mednet-bench-") as data:
        server = subprocess.Popen(
            [sys.executable, "-m", "service.bench", "serve", app, str(port), str(workers), log_level],
            stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "MEDNET_ACCESS_LOG": "false", "MEDNET_DATA_DIR": data, **(env or {})},
        )
        try:
            if wait:
                wait_ready(port, server, log)
            yield port, server
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def start_up(workers: int, cache_dir: str | None) -> tuple[float, float, float]:
    """(seconds to the first answer, seconds until every worker is ready, CPU seconds the server's processes
    used until then) of ``mednet serve`` with the routing kernel's numba cache in ``cache_dir`` (empty: a cold
    start that compiles; None: numba's default). Ready ÷ CPU above 1 is time the machine gave to other work."""
    with tempfile.TemporaryFile("w+") as log, tempfile.TemporaryDirectory(prefix="mednet-data-") as data:
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "mednet.cli", "serve", "--port", str(port), "--workers", str(workers),
             "--no-access-log", "--data-dir", data],
            stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, **({"NUMBA_CACHE_DIR": cache_dir} if cache_dir else {})},
        )
        try:
            answered, ready = wait_ready(port, server, log, workers=workers)
            return answered, ready, process_tree_cpu_seconds(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)


# --------------------------------------------------------------------------- the load generator


def http_request(method: str, path: str, body: bytes = b"", *, port: int) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if body or method in ("POST", "PUT"):
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


def drive(port: int, server_pid: int, requests: list[bytes], *, n: int, concurrency: int, seconds: float) -> Load:
    """Send ``n`` requests (cycling through ``requests``) from a separate process; at most ``seconds``."""
    job = {"port": port, "requests": [r.decode("latin-1") for r in requests], "n": n,
           "concurrency": concurrency, "seconds": seconds}
    before = process_tree_cpu_seconds(server_pid)  # the server's workers are its children
    done = subprocess.run([sys.executable, "-m", "service.bench"], input=json.dumps(job), text=True,
                          capture_output=True, timeout=seconds + 60, check=False)
    after = process_tree_cpu_seconds(server_pid)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{done.stderr[-2000:]}")
    out = json.loads(done.stdout)
    # The server's CPU is read around the whole child run; the child's own start-up adds nothing to it.
    cpu = after - before
    return Load(requests=out["requests"], errors=out["errors"], seconds=out["seconds"], p50_ms=out["p50_ms"],
                p99_ms=out["p99_ms"], server_cpu_s=cpu)


async def _generate(job: dict) -> dict:
    port, n, deadline = job["port"], job["n"], time.perf_counter() + job["seconds"]
    payloads = [r.encode("latin-1") for r in job["requests"]]
    counter = iter(range(n))
    latencies: list[float] = []
    errors = 0

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in counter:
                if time.perf_counter() > deadline:
                    break
                start = time.perf_counter()
                writer.write(payloads[i % len(payloads)])
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - start)
                if not head.startswith(b"HTTP/1.1 200"):
                    errors += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(job["concurrency"])))
    elapsed = time.perf_counter() - start
    latencies.sort()
    count = len(latencies)
    return {
        "requests": count, "errors": errors, "seconds": elapsed,
        "p50_ms": statistics.median(latencies) * 1e3 if count else float("nan"),
        "p99_ms": latencies[min(count - 1, int(0.99 * count))] * 1e3 if count else float("nan"),
    }


def _main() -> None:
    if sys.argv[1:2] == ["serve"]:  # python -m service.bench serve APP PORT WORKERS
        from uvicorn.importer import import_from_string

        from service.server import serve

        app, port, workers = import_from_string(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
        level = sys.argv[5] if len(sys.argv) > 5 else "warning"
        sys.exit(serve(host="127.0.0.1", port=port, workers=workers, app_factory=app, log_level=level))
    job = json.loads(sys.stdin.read())
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(_generate(job))
    else:
        result = uvloop.run(_generate(job))
    print(json.dumps(result))


# --------------------------------------------------------------------------- the benchmark


def route_requests(port: int) -> list[bytes]:
    return [http_request("POST", ROUTE_PATH, json.dumps({"origin": o, "specialty": s}, ensure_ascii=False).encode(),
                         port=port) for o in ORIGINS for s in SPECIALTIES]


def run(*, quick: bool) -> list[BenchRow]:
    n, cap_s, rounds, unloaded_n = (4_000, 10.0, 1, 300) if quick else (20_000, 30.0, 5, 2_000)
    with serving() as (port, server):
        pid = server.pid
        routes = route_requests(port)
        _check_answers(port, routes)
        health = [http_request("GET", "/health", port=port)]
        same_io = [http_request("POST", SAME_IO_PATH, r.split(b"\r\n\r\n", 1)[1], port=port) for r in routes]
        drive(port, pid, routes + health + same_io, n=500, concurrency=CONCURRENCY, seconds=cap_s)  # warm up
        unloaded = drive(port, pid, routes, n=unloaded_n, concurrency=1, seconds=cap_s)
        planners = coverage_requests(port)
        drive(port, pid, planners, n=len(planners), concurrency=1, seconds=cap_s)  # each answer computed once
        best: dict[str, Load] = {}
        planners_served: dict[str, float] = {}
        for round_ in range(rounds):  # interleaved; the best round of each (the machine is shared)
            asking = {"route_beside": planners, "route_beside_new": new_coverage_requests(port, round_)}
            for name, requests in (("health", health), ("route", routes), ("same_io", same_io),
                                   ("route_beside", routes), ("route_beside_new", routes)):
                side: contextlib.AbstractContextManager[dict[str, float]] = (
                    planners_asking(port, asking[name], seconds=cap_s) if name in asking
                    else contextlib.nullcontext({}))
                with side as served:
                    load = drive(port, pid, requests, n=n, concurrency=CONCURRENCY, seconds=cap_s)
                if name not in best or load.rate > best[name].rate:
                    best[name] = load
                    if name == "route_beside_new":
                        planners_served = served
    route, health_load, io, beside = best["route"], best["health"], best["same_io"], best["route_beside"]
    beside_new = best["route_beside_new"]
    errors = sum(x.errors for x in (route, health_load, io, unloaded, beside, beside_new))
    rows = [
        BenchRow(AREA, f"POST {ROUTE_PATH} ({CONCURRENCY} conns)", route.rate, "req/s", "GET /health",
                 health_load.rate, "≥ 90 % of /health", route.rate >= 0.9 * health_load.rate),
        BenchRow(AREA, "  the same, beside same-I/O trivial POST", route.rate, "req/s", "POST same body/answer",
                 io.rate),
        BenchRow(AREA, "  p50 under load", route.p50_ms, "ms", "GET /health", health_load.p50_ms),
        BenchRow(AREA, "  p99 under load", route.p99_ms, "ms", "GET /health", health_load.p99_ms),
        BenchRow(AREA, "  unloaded p50 (one connection)", unloaded.p50_ms, "ms", target="≤ 1 ms",
                 met=unloaded.p50_ms <= 1.0),
        BenchRow(AREA, f"  the same, {PLANNERS} planners asking /coverage", beside.rate, "req/s",
                 "without them", route.rate, "≥ 80 % of without", beside.rate >= 0.8 * route.rate),
        BenchRow(AREA, "  p99 beside the planners", beside.p99_ms, "ms", "without them", route.p99_ms),
        BenchRow(AREA, f"  the same, {PLANNERS} planners asking new questions (computed)", beside_new.rate, "req/s",
                 "without them", route.rate, "≥ 80 % of without", beside_new.rate >= 0.8 * route.rate),
        BenchRow(AREA, "  p99 beside them", beside_new.p99_ms, "ms", "without them", route.p99_ms),
        BenchRow(AREA, "  their coverage answers meanwhile", planners_served.get("answered", 0.0), "/s",
                 "answered other than 200 (busy: 503)", planners_served.get("refused", 0.0)),
    ]
    if route.server_us is not None and route.server_busy is not None:
        rows += [
            BenchRow(AREA, "  server CPU per request", route.server_us, "µs", "GET /health", health_load.server_us),
            BenchRow(AREA, "  server CPU per request vs same I/O", route.server_us, "µs", "POST same body/answer",
                     io.server_us),
            BenchRow(AREA, "  server busy (1.0: the rate is the server's)", route.server_busy, "cores", "GET /health",
                     health_load.server_busy),
        ]
    if errors:
        rows.append(BenchRow(AREA, "non-200 answers (should be 0)", errors, "count"))
    return rows + price_rows(quick=quick) + start_up_rows(quick=quick)


def price_rows(*, quick: bool) -> list[BenchRow]:
    """The price of the protections: the service with its access log on (the default), against a bare FastAPI app
    on the same server (:func:`bare_app`), both up at once and driven in interleaved rounds, the best of each."""
    n, cap_s, rounds = (4_000, 10.0, 2) if quick else (20_000, 30.0, 5)
    with serving(app="service.bench:bare_app") as (bare_port, bare), \
            serving(env={"MEDNET_ACCESS_LOG": "true"}, log_level="info") as (port, server):
        loads = {"bare": (bare_port, bare.pid, [http_request("GET", "/health", port=bare_port)]),
                 "health": (port, server.pid, [http_request("GET", "/health", port=port)]),
                 "route": (port, server.pid, route_requests(port))}
        for port_, pid, requests in loads.values():
            drive(port_, pid, requests, n=500, concurrency=CONCURRENCY, seconds=cap_s)  # warm up
        best: dict[str, Load] = {}
        for _ in range(rounds):
            for name, (port_, pid, requests) in loads.items():
                load = drive(port_, pid, requests, n=n, concurrency=CONCURRENCY, seconds=cap_s)
                if name not in best or load.rate > best[name].rate:
                    best[name] = load
    reference = best["bare"].rate
    rows = [
        BenchRow(AREA, f"GET /health, bare FastAPI on the same server ({CONCURRENCY} conns)", reference, "req/s"),
        BenchRow(AREA, "GET /health, mednet with its access log", best["health"].rate, "req/s", "bare FastAPI",
                 reference, "≥ 0.85× bare", best["health"].rate >= 0.85 * reference),
        BenchRow(AREA, f"POST {ROUTE_PATH}, mednet with its access log", best["route"].rate, "req/s",
                 "bare FastAPI /health", reference, "≥ 0.8× bare", best["route"].rate >= 0.8 * reference),
    ]
    health_us, route_us = best["health"].server_us, best["route"].server_us
    if health_us is not None and route_us is not None:
        rows.append(BenchRow(AREA, "  server CPU per /health, mednet with its access log", health_us, "µs",
                             "bare FastAPI", best["bare"].server_us))
        rows.append(BenchRow(AREA, "  server CPU per route, mednet with its access log", route_us, "µs",
                             "bare FastAPI /health", best["bare"].server_us))
    errors = sum(load.errors for load in best.values())
    if errors:
        rows.append(BenchRow(AREA, "non-200 answers beside the bare app (should be 0)", errors, "count"))
    return rows


def start_up_rows(*, quick: bool) -> list[BenchRow]:
    """Start-up of the real app to ready, 1 and 2 workers, with the kernel's numba cache cold (a fresh cache
    folder: the kernel is compiled) and warm (the same folder again)."""
    if quick:  # the installed package's own cache, warm after the server above
        return start_up_row(1, None, "warm")
    rows = []
    for workers in (1, 2):
        with tempfile.TemporaryDirectory(prefix="mednet-numba-") as cache:
            for state in ("cold", "warm"):
                rows += start_up_row(workers, cache, state)
    return rows


def start_up_row(workers: int, cache: str | None, state: str) -> list[BenchRow]:
    """One start-up measured: time to ready (the target's figure, for 2 workers warm) and the CPU it took."""
    answered, ready, cpu = start_up(workers, cache)
    target = "≤ 3 s" if state == "warm" and workers == 2 else None
    return [BenchRow(AREA, f"start-up to ready, {workers} worker(s), {state}", ready, "s",
                     "first answer (/ready 503)", answered, target, None if target is None else ready <= 3.0),
            BenchRow(AREA, "  CPU the server's processes used until ready", cpu, "s", "time to ready", ready)]


def coverage_requests(port: int) -> list[bytes]:
    """Planners' coverage questions: a few specialties and limits, each asked again and again (answers kept)."""
    return [http_request("GET", f"/regions/{REGION}/coverage?specialty={s}&max_km={km}", port=port)
            for s in ("paediatrics", "cardiology", "orthopaedics", "general_surgery") for km in (15, 20, 30, 45)]


def new_coverage_requests(port: int, round_: int) -> list[bytes]:
    """Planners' coverage questions never asked before in this run (a new limit each: computed in the pool)."""
    limits = (10 + (round_ * 2_500 + i) / 100 for i in range(2_500))
    return [http_request("GET", f"/regions/{REGION}/coverage?specialty={s}&max_km={km:.2f}", port=port)
            for km in limits for s in ("paediatrics", "cardiology", "orthopaedics", "general_surgery")]


@contextlib.contextmanager
def planners_asking(port: int, requests: list[bytes], *, seconds: float) -> Iterator[dict[str, float]]:
    """``PLANNERS`` connections asking ``requests`` over and over from a separate process for about
    ``seconds`` from the start of the block; yields a dict that afterwards holds the planners' own
    ``answered`` (200s) and ``refused`` (any other status: the pool's 503 when it is full) per second."""
    job = {"port": port, "requests": [r.decode("latin-1") for r in requests], "n": 10**9,
           "concurrency": PLANNERS, "seconds": seconds + 1.0}
    side = subprocess.Popen([sys.executable, "-m", "service.bench"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    figures: dict[str, float] = {}
    try:
        assert side.stdin is not None  # stdin=PIPE
        side.stdin.write(json.dumps(job))
        side.stdin.close()
        time.sleep(1.0)  # the planners' connections are open and asking
        yield figures
        assert side.stdout is not None  # stdout=PIPE; the planners stop by themselves, after ``seconds``
        done = json.loads(side.stdout.read())
        side.wait(timeout=60)
        figures.update(answered=(done["requests"] - done["errors"]) / done["seconds"],
                       refused=done["errors"] / done["seconds"])
    finally:
        if side.poll() is None:
            side.terminate()
            side.wait(timeout=30)


def _check_answers(port: int, routes: list[bytes]) -> None:
    """Each referral of the load answers 200; the same-I/O endpoint is given a real answer to echo."""
    answers = []
    for raw in routes:
        body = raw.split(b"\r\n\r\n", 1)[1]
        request = urllib.request.Request(f"http://127.0.0.1:{port}{ROUTE_PATH}", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            answers.append(response.read())
    typical = sorted(answers, key=len)[len(answers) // 2]
    request = urllib.request.Request(f"http://127.0.0.1:{port}{SAME_IO_PATH}", data=typical, method="PUT",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()


if __name__ == "__main__":
    _main()
