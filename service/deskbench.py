"""``mednet bench --area desk``: a desk's worklist with 10,000 referrals, and 200 idle live-update streams.

1. **Worklist render.** A SQLite ledger holding 10,000 referrals to one desk
   (开化县人民医院, Quzhou); the worklist page (``GET /desk/quzhou/worklist``,
   through the whole app in this process) against the one SQL statement
   behind it (:func:`mednet.ledger.worklist.worklist_statement`, executed and
   fetched), both timed as CPU seconds of this process in the same run.
   Targets: the page ≤ 100 ms, and ≤ 2× the statement.
2. **Idle streams.** ``mednet serve --workers 1`` with 200 open
   ``/worklist/events`` streams (a desk's signed-in cookie each), the CPU the
   server uses over an idle minute (``--quick``: 10 s), as a share of one
   core, beside the same server idle with no stream over the same time.
   Target: under 1 % of a core.

The service is imported here (this module lives in the service package); the library's benchmarks never do.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mednet.bench import BenchRow
from mednet.bench.local import free_port, process_tree_cpu_seconds, wait_ready

REFERRALS = 10_000
STREAMS = 200


def _cpu_per_call(func, *, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """Median CPU seconds of one call over ``repeat`` calls (after one warm-up)."""
    func()
    times = []
    for _ in range(repeat):
        start = time.process_time()
        func()
        times.append(time.process_time() - start)
    return statistics.median(times)


def _fill(engine, n: int) -> None:  # type: ignore[no-untyped-def]
    from mednet.ledger.store import referrals, writing

    now = dt.datetime.now(dt.UTC)
    rows = [dict(number=f"RB{i:08d}", region="quzhou", origin_id=("kh-huabu", "kh-chihuai", "kh-yanglin")[i % 3],
                 origin_desk="bench", destination_id="kh-people", specialty=("general_surgery", "orthopaedics")[i % 2],
                 direction="up", priority=("routine", "urgent")[i % 2], reason="bench", patient_ref=f"B{i}",
                 state=("requested", "accepted", "booked", "completed")[i % 4], version=1,
                 created_at=now - dt.timedelta(minutes=i), updated_at=now, state_since=now,
                 due_at=now + dt.timedelta(hours=2 - i % 5)) for i in range(n)]
    with writing(engine) as conn:
        conn.execute(referrals.insert(), rows)


def worklist_rows(*, quick: bool) -> list[BenchRow]:
    from fastapi.testclient import TestClient
    from starlette.datastructures import QueryParams

    from mednet.ledger import create_key
    from mednet.ledger.worklist import WorklistQuery, worklist_statement
    from mednet.places import data_dir
    from service.app import create_app
    from service.config import Settings
    from service.pages.worklistviews import worklist_query

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Settings(regions_dir=data_dir() / "regions", data_dir=Path(folder), sweep_seconds=0))
        with TestClient(app) as client:
            app.state.loader.thread.join()
            ledger = app.state.ledger
            key, text = create_key(ledger.engine, role="desk", label="bench", region="quzhou",
                                   institution="kh-people")
            _fill(ledger.engine, REFERRALS)
            signed = client.post("/desk/signin", data={"key": text}, headers={"Origin": "http://testserver"},
                                 follow_redirects=False)
            if signed.status_code != 303:
                raise RuntimeError(f"signing in answered {signed.status_code}")
            query: WorklistQuery = worklist_query(QueryParams(""))  # the page's default
            statement = worklist_statement(key, query, ledger.now(), region="quzhou")

            def sql() -> None:
                with ledger.engine.connect() as conn:
                    conn.execute(statement).all()

            def page() -> None:
                answer = client.get("/desk/quzhou/worklist")
                if answer.status_code != 200:
                    raise RuntimeError(f"worklist answered {answer.status_code}")

            def health() -> None:  # the in-process client's own share of a request, to take off the page's
                client.get("/health")

            repeat = 5 if quick else 30
            sql_s, page_s = _cpu_per_call(sql, repeat=repeat), _cpu_per_call(page, repeat=repeat)
            client_s = _cpu_per_call(health, repeat=repeat)
    server_s = page_s - client_s
    return [
        BenchRow("desk", f"worklist page, {REFERRALS:,} referrals (server CPU: the request's CPU less a /health "
                 f"request's, {client_s * 1e3:.1f} ms, through the same in-process client)", server_s * 1e3, "ms",
                 "its one SQL statement", sql_s * 1e3, "≤ 100 ms and ≤ 2× the statement",
                 server_s <= 0.1 and server_s <= 2 * sql_s, multiple=True),
        BenchRow("desk", "worklist page, whole request in-process (CPU)", page_s * 1e3, "ms",
                 "its one SQL statement", sql_s * 1e3, "≤ 100 ms", page_s <= 0.1),
    ]


def _session_cookie(port: int, key: str) -> str:
    """Sign in once through the page's form; the session cookie (``name=value``) the streams send."""
    import http.client
    import urllib.parse

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/desk/signin", urllib.parse.urlencode({"key": key}),
                 {"Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://127.0.0.1:{port}"})
    answer = conn.getresponse()
    cookie = answer.getheader("set-cookie") or ""
    conn.close()
    if answer.status != 303 or not cookie:
        raise RuntimeError(f"signing in answered {answer.status}")
    return cookie.split(";", 1)[0]


def _open_streams(port: int, cookie: str, n: int) -> list[socket.socket]:
    streams = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall((f"GET /desk/minhang/worklist/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                   f"Cookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n").encode())
        head = s.recv(4096)
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"a stream was refused: {head[:200]!r}")
        streams.append(s)
    return streams


def idle_stream_rows(*, quick: bool) -> list[BenchRow]:
    from mednet.bench.ledger import prepare, serving_regions

    seconds = 10.0 if quick else 60.0
    with tempfile.TemporaryDirectory() as folder:
        keys = prepare(None, Path(folder))
        port = free_port()
        env = {**os.environ, "MEDNET_DATA_DIR": folder, "MEDNET_SWEEP_SECONDS": "0"}
        env.pop("MEDNET_DATABASE_URL", None)
        log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed below
        server = subprocess.Popen([sys.executable, "-m", "mednet.cli", "serve", "--port", str(port), "--workers",
                                   "1", "--no-access-log", "--regions-dir", str(serving_regions(Path(folder) / "r"))],
                                  env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_ready(port, server, log)
            time.sleep(2)
            before = process_tree_cpu_seconds(server.pid)
            time.sleep(seconds)
            idle = process_tree_cpu_seconds(server.pid) - before
            streams = _open_streams(port, _session_cookie(port, keys["xinhua"]), STREAMS)
            time.sleep(2)
            before = process_tree_cpu_seconds(server.pid)
            time.sleep(seconds)
            with_streams = process_tree_cpu_seconds(server.pid) - before
            for s in streams:
                s.close()
        finally:
            server.terminate()
            server.wait(timeout=15)
            log.close()
    share, idle_share = 100 * with_streams / seconds, 100 * idle / seconds
    return [BenchRow("desk", f"{STREAMS} idle live streams, server CPU over {seconds:g} s", share, "% of a core",
                     "the same server idle without streams", idle_share, "< 1 % of a core", share < 1.0)]


def run(*, quick: bool = False) -> list[BenchRow]:
    """The desk's figures (see the module's docstring); the load average is printed beside them."""
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)
    return worklist_rows(quick=quick) + idle_stream_rows(quick=quick)
