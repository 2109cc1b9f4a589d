"""Every answer carries the security headers (CSP, nosniff, a request id, Cache-Control): the app's own, a
500, the protocol's 431/408/400 and the 503 answered while the server starts."""

from __future__ import annotations

import logging
import socket

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from service.starting import StartingAnswers, answer
from tests.service.test_server import exchange, server  # noqa: F401  (the module's real server)

NEEDED = (b"content-security-policy", b"x-content-type-options", b"x-request-id", b"cache-control")


def headers_of(raw: bytes) -> dict[bytes, bytes]:
    head = raw.partition(b"\r\n\r\n")[0]
    return {name.strip().lower(): value.strip() for name, _, value in
            (line.partition(b":") for line in head.split(b"\r\n")[1:])}


def header_names(raw: bytes) -> set[bytes]:
    return set(headers_of(raw))


def test_a_500_carries_the_security_headers_and_logs_one_error(tiny_regions_dir, caplog, problem):
    app = create_app(Settings(regions_dir=tiny_regions_dir, allow_invalid=True))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        response = client.get("/boom", headers={"X-Request-ID": "trace-1"})
    problem(response, 500, kind="internal-error")
    assert response.headers["x-request-id"] == "trace-1"
    assert response.headers["x-content-type-options"] == "nosniff" and response.headers["cache-control"] == "no-store"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert len([r for r in caplog.records if r.exc_info]) == 1


@pytest.mark.parametrize("request_bytes", [
    b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n",  # 431 (whole headers too large)
    b"GET /health HTTP/1.1\r\nHost: localhost\r\n" + b"X-A: b\r\n" * 2000,  # 431 (endless headers)
    b"GET /health HTTP/1.1\r\nHost x\r\n\r\n",  # 400 from the parser
])
def test_the_protocol_s_own_refusals_carry_the_security_headers(server, request_bytes):  # noqa: F811
    raw = exchange(server, request_bytes)
    assert raw.split()[1] in (b"400", b"431")
    assert set(NEEDED) <= header_names(raw), raw[:400]


@pytest.mark.parametrize("line", ["GET /ready HTTP/1.1", "GET /health HTTP/1.1", "POST /referrals HTTP/1.1"])
def test_the_answers_while_starting_carry_the_security_headers(line):
    raw = answer(line)
    assert set(NEEDED) <= header_names(raw)
    assert headers_of(answer(line))[b"x-request-id"] != headers_of(answer(line))[b"x-request-id"]


def test_the_starting_socket_answers_503_with_the_headers():
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(8)
    listening.setblocking(False)
    starting = StartingAnswers(listening).start()
    try:
        with socket.create_connection(listening.getsockname(), timeout=5) as conn:
            conn.sendall(b"GET /regions HTTP/1.1\r\nHost: localhost\r\n\r\n")
            raw = b""
            while chunk := conn.recv(65536):
                raw += chunk
    finally:
        starting.stop()
        listening.close()
    assert raw.startswith(b"HTTP/1.1 503") and set(NEEDED) <= header_names(raw)
