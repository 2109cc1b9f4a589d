"""The service as ``mednet serve`` runs it (uvicorn on a free loopback port, stopped after): what only a real
server shows — header limits and timeouts, parser errors, the server banner, start-up and Ctrl-C."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from mednet.bench.local import free_port, ready_worker, wait_ready
from service.bench import serving


@pytest.fixture(scope="module")
def server(tiny_regions_dir):
    env = {"MEDNET_REGIONS_DIR": str(tiny_regions_dir), "MEDNET_ALLOW_INVALID": "1", "MEDNET_HEADER_TIMEOUT_S": "0.5",
           "MEDNET_BODY_TIMEOUT_S": "0.5", "MEDNET_MAX_HEADER_BYTES": "4096"}
    with serving(app="service.app:create_app", env=env) as (port, _):
        yield port


def exchange(port: int, *parts: bytes, pause: float = 0.0) -> bytes:
    """Send ``parts`` (pausing between them), return everything the server sends until it closes (≤ 10 s)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        for part in parts:
            conn.sendall(part)
            time.sleep(pause)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_and_body(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower(), head
    return int(head.split()[1]), json.loads(body)


def test_headers_larger_than_the_limit_are_431(server):
    status, body = status_and_body(exchange(server, b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: "
                                            + b"a" * 5000 + b"\r\nConnection: close\r\n\r\n"))
    assert status == 431 and "4096 bytes" in body["detail"]


def test_endless_headers_are_cut_off_with_431(server):
    status, _ = status_and_body(exchange(server, b"GET /health HTTP/1.1\r\nHost: localhost\r\n" + b"X-A: b\r\n" * 2000))
    assert status == 431


def test_slow_headers_are_408_and_closed(server):
    start = time.monotonic()
    status, body = status_and_body(exchange(server, b"GET /health HTTP/1.1\r\n", pause=2.0))
    assert status == 408 and "headers" in body["detail"] and time.monotonic() - start < 5


def test_a_silent_connection_is_closed_with_408(server):
    status, _ = status_and_body(exchange(server))
    assert status == 408


def test_a_stalled_body_is_408_and_closed(server):
    status, body = status_and_body(exchange(
        server, b"POST /regions/tiny/routes HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100\r\n\r\n{\"origin\"", pause=2.0))
    assert status == 408 and "body" in body["detail"]


def test_a_request_the_parser_rejects_is_a_problem_answer(server):
    status, body = status_and_body(exchange(server, b"GET /health HTTP/1.1\r\nHost x\r\n\r\n"))
    assert status == 400 and body["type"] == "urn:mednet:problem:malformed-request"


def test_answers_name_no_server(server):
    answer = exchange(server, b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    head = answer.partition(b"\r\n\r\n")[0].lower()
    assert head.startswith(b"http/1.1 200") and b"\r\nserver:" not in head and b"x-content-type-options" in head


def test_ctrl_c_during_start_up_prints_no_traceback(tiny_regions_dir, tmp_path):
    """``mednet serve`` interrupted while its workers start: a clean exit, nothing but log lines."""
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    number = port.getsockname()[1]
    port.close()
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}  # a cold cache: the workers would compile
    mednet = [sys.executable, "-c", "import sys; from mednet.cli import main; sys.exit(main())"]
    serve = subprocess.Popen([*mednet, "serve", "--port", str(number), "--workers", "2",
                              "--regions-dir", str(tiny_regions_dir), "--allow-invalid"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the port answers (the workers are then loading)
            try:
                with socket.create_connection(("127.0.0.1", number), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        time.sleep(0.5)
        os.killpg(serve.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
        output = serve.communicate(timeout=180)[0].decode()
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert serve.returncode in (0, 130), output


def ready_workers(port: int, want: int, *, timeout_s: float = 60) -> set[int]:
    """The pids of ``want`` distinct workers answering ``/ready`` 200."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout_s
    while len(seen) < want and time.monotonic() < deadline:
        worker = ready_worker(port)[1]
        if worker is not None:
            seen.add(worker)
    assert len(seen) >= want, seen
    return seen


def test_workers_share_what_the_parent_built_are_replaced_and_stop_on_sigterm(tiny_regions_dir):
    env = {"MEDNET_REGIONS_DIR": str(tiny_regions_dir), "MEDNET_ALLOW_INVALID": "1"}
    with serving(app="service.app:create_app", workers=2, env=env) as (port, server):
        first = ready_workers(port, 2)
        assert all(Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[1] == str(server.pid)
                   for pid in first)  # forked by the server process
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (ready_workers(port, 2) - first):
            time.sleep(0.1)
        now = ready_workers(port, 2)
        assert victim not in now and len(now - first) >= 1  # replaced, ready at once
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        for pid in now:
            assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_the_port_answers_while_the_parent_loads(tiny_regions_dir, tmp_path):
    """Before any worker exists, the parent answers: /health 200, anything else 503 with Retry-After."""
    env = {"MEDNET_REGIONS_DIR": str(tiny_regions_dir), "MEDNET_ALLOW_INVALID": "1",
           "NUMBA_CACHE_DIR": str(tmp_path)}  # a cold cache: the parent compiles the kernel for seconds
    with serving(app="service.app:create_app", env=env, wait=False) as (port, server):
        deadline = time.monotonic() + 60
        while ready_worker(port)[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        answer = exchange(port, b"POST /regions/tiny/routes HTTP/1.1\r\nHost: localhost\r\n"
                                b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        head = answer.partition(b"\r\n\r\n")[0].lower()
        status, body = status_and_body(answer)
        assert status == 503 and body["type"] == "urn:mednet:problem:not-ready" and b"retry-after: 1" in head
        assert exchange(port, b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n").startswith(b"HTTP/1.1 200")
        workers = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(p) == server.pid]
        assert workers == []  # still loading in the parent: nothing forked yet
        ready_workers(port, 1, timeout_s=120)


def _ppid(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


def test_the_kernel_and_regions_are_built_once_for_every_worker(tiny_regions_dir):
    env = {"MEDNET_REGIONS_DIR": str(tiny_regions_dir), "MEDNET_ALLOW_INVALID": "1"}
    with tempfile.TemporaryFile("w+") as log:
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "mednet.cli", "serve", "--port", str(port), "--workers", "2",
                                   "--regions-dir", str(tiny_regions_dir), "--allow-invalid", "--no-access-log"],
                                  stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env})
        try:
            wait_ready(port, server, log, workers=2)
        finally:
            server.send_signal(signal.SIGINT)
            code = server.wait(timeout=60)
        log.seek(0)
        output = log.read()
    assert output.count("ready: 1 region(s)") == 1, output  # built by the parent only
    assert output.count("Application startup complete") == 2 and "Traceback" not in output
    assert code in (0, 130), output


def _children(pid: int) -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(p) == pid]


def _gone(pid: int) -> bool:
    """No such process, or only its zombie left for its new parent to reap."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.skipif(sys.platform != "linux", reason="slow work runs in forked processes on Linux only")
def test_coverage_is_computed_in_a_child_of_the_worker_that_ends_with_it(tiny_regions_dir):
    env = {"MEDNET_REGIONS_DIR": str(tiny_regions_dir), "MEDNET_ALLOW_INVALID": "1"}
    with serving(app="service.app:create_app", env=env) as (port, server):
        # read until the server closes: the slow-work process holds no copy of the connection open
        answer = exchange(port, b"GET /regions/tiny/coverage HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
        (worker,) = _children(server.pid)
        (heavy,) = _children(worker)  # the slow-work process, forked by the worker
        os.kill(worker, signal.SIGKILL)  # a worker killed outright takes its slow-work process with it
        deadline = time.monotonic() + 30
        while not _gone(heavy) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(heavy)


def test_a_ctrl_c_swallowed_while_loading_starts_no_worker():
    """Ctrl-C that reached the parent in code that swallowed it (a library's callback, a finalizer) is found
    once the signals are blocked: no worker is forked, and the signals are unblocked again."""
    from service.server import SIGNALS, Supervisor

    with socket.socket() as sock:
        supervisor = Supervisor(sock, config=None, workers=2)  # no config: it never reaches a worker
        with pytest.raises(KeyboardInterrupt):
            supervisor.run(interrupted=lambda: True)
    assert supervisor.workers == {} and not SIGNALS & signal.pthread_sigmask(signal.SIG_BLOCK, set())
