"""The edge of the service: reads behind a key, allowed hosts (sign-in included), OPTIONS and 405 naming every
method, the body limit for every method, no encoded bodies."""

from __future__ import annotations

import contextlib
import socket

import pytest
from fastapi.testclient import TestClient

from mednet.ledger import create_key
from service.app import create_app
from service.config import Settings
from tests.service.conftest import REGIONS_DIR
from tests.service.test_server import server  # noqa: F401  (the module's real server)


@pytest.fixture(scope="module")
def closed(tmp_path_factory):
    """An app whose reads need a key, and a planner's key."""
    app = create_app(Settings(regions_dir=REGIONS_DIR, data_dir=tmp_path_factory.mktemp("data"), reads_need_key=True,
                              allowed_hosts="mednet.example.org"))
    with TestClient(app) as client:
        app.state.loader.thread.join()
        text = create_key(app.state.ledger.engine, role="planner", label="reader")[1]
        yield client, {"Authorization": f"Bearer {text}"}


@pytest.mark.parametrize("path", ["/metrics", "/docs", "/redoc", "/openapi.json", "/regions"])
def test_with_reads_behind_a_key_only_health_and_ready_stay_open(closed, problem, path):
    client, key = closed
    problem(client.get(path), 401, kind="not-authenticated")
    assert client.get(path, headers=key).status_code == 200
    assert client.get("/health").status_code == 200 and client.get("/ready").status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "mednet.example.org.evil.example"])
def test_a_host_not_allowed_is_400_even_for_the_sign_in(closed, problem, host):
    client, key = closed
    problem(client.get("/regions", headers={**key, "Host": host}), 400, field="Host", kind="host-not-allowed")
    form = {"Host": host, "Origin": f"http://{host}", "Content-Type": "application/x-www-form-urlencoded"}
    key_text = key["Authorization"].removeprefix("Bearer ")
    response = client.post("/desk/signin", content=f"key={key_text}", headers=form, follow_redirects=False)
    problem(response, 400, field="Host")
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("host", ["mednet.example.org", "MEDNET.example.org:443", "localhost:8000", "127.0.0.1",
                                  "[::1]:8000", "testserver"])
def test_the_allowed_hosts_are_answered(closed, host):
    client, key = closed
    assert client.get("/regions", headers={**key, "Host": host}).status_code == 200


def test_options_and_405_name_every_method_of_the_path(client, problem):
    response = client.options("/referrals")
    assert response.status_code == 204
    assert {"GET", "POST", "OPTIONS"} <= set(response.headers["allow"].split(", "))
    assert response.headers["x-content-type-options"] == "nosniff"
    response = client.delete("/referrals")
    problem(response, 405, kind="method-not-allowed")
    assert {"GET", "POST", "OPTIONS"} <= set(response.headers["allow"].split(", "))
    problem(client.options("/no/such/path"), 404)


@pytest.mark.parametrize("method", ["GET", "DELETE", "OPTIONS", "POST"])
def test_the_body_limit_holds_for_every_method(client, problem, method):
    response = client.request(method, "/regions", content=b"x" * 70_000, headers={"Content-Type": "application/json"})
    problem(response, 413, field="body")
    assert response.headers["connection"] == "close"


@pytest.mark.parametrize(("method", "path"), [("POST", "/regions/quzhou/routes"), ("GET", "/regions")])
def test_an_encoded_body_is_415(client, problem, method, path):
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    problem(client.request(method, path, content=b"\x1f\x8b", headers=headers), 415, field="Content-Encoding")
    identity = client.post("/regions/quzhou/routes", json={"origin": "华埠", "specialty": "儿科"},
                           headers={"Content-Encoding": "identity"})
    assert identity.status_code == 200


def received(port: int, data: bytes) -> bytes:
    """Send ``data`` at once; what the server answers until it closes (a reset after the answer ends it too)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(data)
        chunks = []
        with contextlib.suppress(ConnectionResetError):
            while chunk := conn.recv(65536):
                chunks.append(chunk)
    return b"".join(chunks)


def test_a_get_body_over_the_limit_is_413_and_not_read(server):  # noqa: F811
    declared = received(server, b"GET /health HTTP/1.1\r\nHost: localhost\r\nContent-Length: 20000000\r\n\r\n")
    assert declared.startswith(b"HTTP/1.1 413") and b"connection: close" in declared.lower()
    size = 65 * 1024 + 1  # over the 64 KiB limit, sent in a chunk: no length said beforehand
    streamed = received(server, b"GET /health HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + f"{size:x}\r\n".encode() + b"x" * size + b"\r\n0\r\n\r\n")
    assert streamed.startswith(b"HTTP/1.1 413"), streamed[:200]
    assert b"content-security-policy" in streamed.lower()
