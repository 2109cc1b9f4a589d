"""Limits, strict input, headers, logs and metrics of the service, in-process (TestClient)."""

import asyncio
import json
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mednet.errors import InvalidRequest
from service.app import create_app
from service.config import Settings
from service.heavy import HeavyWork, forking_works
from service.routers import coverage

ROUTE = "/regions/quzhou/routes"
GOOD = {"origin": "华埠", "specialty": "儿科"}


# ----------------------------------------------------------------- names are capped, suggestions bounded


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/regions/quzhou/institutions/" + "华" * 7000, {}, "institution"),
    ("/regions/quzhou/communities/" + "x" * 101, {}, "community"),
    ("/regions/" + "q" * 200, {}, "region"),
    ("/regions/quzhou/institutions", {"specialty": "儿" * 7000}, "specialty"),
    ("/regions/quzhou/institutions", {"specialty": ""}, "specialty"),
    ("/regions/quzhou/institutions", {"community": "   "}, "community"),
    ("/regions/quzhou/coverage", {"specialty": "x" * 101}, "specialty[0]"),
])
def test_names_longer_than_the_cap_or_blank_are_422_before_any_lookup(client, problem, path, params, field):
    body = problem(client.get(path, params=params), 422, field=field)
    assert len(body["detail"]) <= 500 and body["suggestions"] == []


@pytest.mark.parametrize("body", [
    {"origin": "华" * 101, "specialty": "儿科"},
    {"origin": "华埠", "specialty": "儿" * 101},
    {"origin": "华埠", "specialty": "儿科", "direction": "down", "home": "x" * 101},
])
def test_names_in_the_body_are_capped(client, problem, body):
    problem(client.post(ROUTE, json=body), 422)


# ----------------------------------------------------------------- slow work off the event loop


FORK = multiprocessing.get_context("fork")
needs_fork = pytest.mark.skipif(not forking_works(), reason="slow work runs in forked processes on Linux only")


def threads_only(tiny_regions_dir, **settings):
    """An app whose slow work runs in threads of the worker (where a test holds it with a thread's event)."""
    return create_app(Settings(regions_dir=tiny_regions_dir, allow_invalid=True, heavy_processes=0, **settings))


def held_until(started, release, record=None):
    """A coverage computation that says it started (recording its process id and priority), then waits for
    ``release``; events of ``threading`` or of ``multiprocessing``."""
    def held(*args: object) -> bytes:
        if record is not None:
            record.put((os.getpid(), threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, 0)))
        started.set()
        release.wait(30)
        return b"{}"
    return held


def _in_background(func):
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.setdefault("response", func()))
    thread.start()
    return thread, result


def _desk_keeps_answering_while_coverage_is_held(client, started, release) -> dict[str, Any]:
    thread, result = _in_background(lambda: client.get("/regions/tiny/coverage", params={"max_km": 7.5}))
    try:
        assert started.wait(30)
        # the computation is under way (and blocked): the event loop still answers the desk
        assert client.get("/health").status_code == 200
        assert client.get("/regions/tiny/institutions").status_code == 200
    finally:
        release.set()
        thread.join(30)
    assert result["response"].status_code == 200
    return result


@needs_fork
def test_coverage_runs_in_a_niced_process_while_the_desk_keeps_answering(tiny_regions_dir, monkeypatch):
    started, release, record = FORK.Event(), FORK.Event(), FORK.SimpleQueue()
    monkeypatch.setattr(coverage, "coverage_json", held_until(started, release, record))
    app = create_app(Settings(regions_dir=tiny_regions_dir, allow_invalid=True, heavy_nice=7))
    with TestClient(app) as client:
        app.state.loader.thread.join()
        desk = os.getpriority(os.PRIO_PROCESS, 0)
        result = _desk_keeps_answering_while_coverage_is_held(client, started, release)
        pid, _, priority = record.get()
        assert pid != os.getpid() and priority == min(19, desk + 7)  # another process, 7 steps below the desk
        again = client.get("/regions/tiny/coverage", params={"max_km": 7.5})  # kept by its parameters
        assert again.content == result["response"].content and record.empty()
    assert os.getpriority(os.PRIO_PROCESS, 0) == desk
    with pytest.raises(ProcessLookupError):  # the app's end ended its slow-work process
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.05)


def test_with_no_processes_coverage_runs_in_a_thread_at_the_desks_priority(tiny_regions_dir, monkeypatch):
    started, release = threading.Event(), threading.Event()
    record: queue.SimpleQueue[tuple[int, str, int]] = queue.SimpleQueue()
    monkeypatch.setattr(coverage, "coverage_json", held_until(started, release, record))
    app = threads_only(tiny_regions_dir)
    with TestClient(app) as client:
        app.state.loader.thread.join()
        _desk_keeps_answering_while_coverage_is_held(client, started, release)
    pid, thread, priority = record.get()
    assert (pid, thread, priority) == (os.getpid(), "mednet-heavy_0", os.getpriority(os.PRIO_PROCESS, 0))


@needs_fork
def test_a_slow_work_process_that_dies_is_503_and_the_next_request_gets_a_new_one(tiny_regions_dir, monkeypatch,
                                                                                    problem, tmp_path):
    flag = tmp_path / "die-once"
    flag.touch()
    real = coverage.coverage_json

    def dies_once(*args: object) -> bytes:
        if flag.exists():
            flag.unlink()
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args)
    monkeypatch.setattr(coverage, "coverage_json", dies_once)
    app = create_app(Settings(regions_dir=tiny_regions_dir, allow_invalid=True))
    with TestClient(app) as client:
        app.state.loader.thread.join()
        response = client.get("/regions/tiny/coverage")
        assert response.headers["retry-after"] == "2"
        assert "stopped" in problem(response, 503)["detail"]
        assert client.get("/regions/tiny/coverage").status_code == 200


@needs_fork
def test_an_error_raised_in_a_slow_work_process_is_answered_as_in_the_worker(tiny_regions_dir, monkeypatch,
                                                                             problem):
    def refuses(*args: object) -> bytes:
        raise InvalidRequest("max_km", 7.5, "is refused here", rule_zh="此处不接受")
    monkeypatch.setattr(coverage, "coverage_json", refuses)
    app = create_app(Settings(regions_dir=tiny_regions_dir, allow_invalid=True))
    with TestClient(app) as client:
        app.state.loader.thread.join()
        body = problem(client.get("/regions/tiny/coverage", params={"max_km": 7.5}), 422, field="max_km")
    assert "is refused here" in body["detail"]


def _empty(context: object) -> bytes:
    return b"{}"


def test_kept_answers_wait_for_a_turn_of_the_loop_behind_the_desks_requests():
    heavy = HeavyWork(processes=0, threads=1, queue=0, cache_entries=4, nice=0, context=None)
    order: list[str] = []

    async def planner(i: int) -> None:
        assert await heavy.run("coverage", _empty) == b"{}"
        order.append(f"planner {i}")

    async def desk(i: int) -> None:
        order.append(f"desk {i}")

    async def scenario() -> None:
        await heavy.run("coverage", _empty)  # computed once, then kept
        await asyncio.gather(*[planner(i) for i in range(3)], *[desk(i) for i in range(3)])

    asyncio.run(scenario())
    heavy.close()
    assert order == ["desk 0", "desk 1", "desk 2", "planner 0", "planner 1", "planner 2"]


def test_slow_work_beyond_the_pool_and_its_queue_is_503_with_retry_after(tiny_regions_dir, problem, monkeypatch):
    release, started = threading.Event(), threading.Event()
    monkeypatch.setattr(coverage, "coverage_json", held_until(started, release))
    app = threads_only(tiny_regions_dir, heavy_threads=1, heavy_queue=0)
    with TestClient(app) as client:
        app.state.loader.thread.join()
        thread, _ = _in_background(lambda: client.get("/regions/tiny/coverage"))
        try:
            assert started.wait(30)
            response = client.get("/regions/tiny/coverage", params={"max_km": 3})
            problem(response, 503)
            assert response.headers["retry-after"] == "2"
        finally:
            release.set()
            thread.join(30)


def test_requests_beyond_the_concurrency_cap_are_503(tiny_regions_dir, problem, monkeypatch):
    release, started = threading.Event(), threading.Event()
    monkeypatch.setattr(coverage, "coverage_json", held_until(started, release))
    app = threads_only(tiny_regions_dir, max_concurrency=1)
    with TestClient(app) as client:
        app.state.loader.thread.join()
        thread, _ = _in_background(lambda: client.get("/regions/tiny/coverage"))
        try:
            assert started.wait(30)
            response = client.get("/health")
            assert "more than 1 requests at once" in problem(response, 503, kind="busy")["detail"]
            assert response.headers["retry-after"] == "1"
        finally:
            release.set()
            thread.join(30)
        assert client.get("/health").status_code == 200


# ----------------------------------------------------------------- body size and media type


def test_a_large_body_is_413_by_its_length(client, problem):
    response = client.post(ROUTE, content=b"{" + b" " * (2 << 20) + b"}", headers={"content-type": "application/json"})
    assert "larger than 65536 bytes" in problem(response, 413, field="body", kind="body-too-large")["detail"]


def test_a_large_body_without_a_length_is_413_while_it_streams(client, problem):
    chunks = (b" " * 16384 for _ in range(16))  # chunked: no Content-Length
    response = client.post(ROUTE, content=chunks, headers={"content-type": "application/json"})
    problem(response, 413, kind="body-too-large")


@pytest.mark.parametrize("headers", [
    {"content-type": "text/plain"},
    {"content-type": "application/x-www-form-urlencoded"},
    {"content-type": "multipart/form-data; boundary=x"},
    {},
])
def test_a_body_not_sent_as_json_is_415(client, problem, headers):
    response = client.post(ROUTE, content=json.dumps(GOOD).encode(), headers=headers)
    problem(response, 415, field="body", kind="unsupported-media-type")


def test_a_post_without_a_body_needs_no_content_type(client, problem):
    # Nothing to read as JSON or otherwise: not 415; the endpoint itself says a JSON object is expected.
    problem(client.post(ROUTE), 400, field="body", kind="malformed-json")
    problem(client.post(ROUTE, headers={"content-length": "0"}), 400, field="body", kind="malformed-json")


def test_json_with_parameters_or_a_json_suffix_is_accepted(client):
    for media in ("application/json; charset=utf-8", "application/merge-patch+json"):
        assert client.post(ROUTE, content=json.dumps(GOOD).encode(), headers={"content-type": media}).status_code == 200


# ----------------------------------------------------------------- strict numbers


@pytest.mark.parametrize(("extra", "field"), [
    ({"max_km": True}, "max_km"),
    ({"max_km": "30"}, "max_km"),
    ({"alternatives": 2.0}, "alternatives"),
    ({"alternatives": "2"}, "alternatives"),
    ({"origin": {"lat": "29.05", "lon": 118.4}}, "origin.lat"),
    ({"origin": {"lat": 48.85, "lon": 2.35}}, "origin"),  # Paris: outside mainland China's bounds
])
def test_numbers_must_be_json_numbers_and_points_in_china(client, problem, extra, field):
    body = problem(client.post(ROUTE, json=GOOD | extra), 422)
    assert body["field"].startswith(field), body


def test_integers_and_numbers_are_taken_as_they_are(client):
    assert client.post(ROUTE, json=GOOD | {"max_km": 30, "alternatives": 2}).status_code == 200


# ----------------------------------------------------------------- headers, ids, detail, logs, metrics


def test_answers_carry_security_headers_and_a_request_id(client):
    for response in (client.get("/health"), client.post(ROUTE, json=GOOD), client.get("/regions/nowhere")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert response.headers["x-request-id"]
        assert "server" not in response.headers
    assert client.get("/health", headers={"x-request-id": "desk-7.42"}).headers["x-request-id"] == "desk-7.42"
    assert client.get("/health", headers={"x-request-id": "no spaces; please"}).headers["x-request-id"] != (
        "no spaces; please")


def test_detail_never_echoes_kilobytes_of_input(client, problem):
    body = problem(client.post(ROUTE, json={"origin": "华埠", "specialty": "儿科", "when": "x" * 5000}), 422)
    assert len(body["detail"]) <= 500 and len(json.dumps(body, ensure_ascii=False)) < 2000


def test_one_structured_access_line_per_request(client, caplog):
    client.app.state.access_log.flush()  # the lines of earlier requests
    with caplog.at_level(logging.INFO, "service.access"):
        client.post(ROUTE, json=GOOD, headers={"x-request-id": "abc-1"})
        client.app.state.access_log.flush()  # written off the request's path, in batches
    lines = [json.loads(text) for r in caplog.records if r.name == "service.access"
             for text in r.getMessage().splitlines()]  # a batch is one record, one JSON line per request
    [line] = [x for x in lines if x["request_id"] == "abc-1"]
    assert line["request_id"] == "abc-1" and line["status"] == 200 and line["route"] == "/regions/{region}/routes"
    assert line["method"] == "POST" and line["path"] == ROUTE and line["duration_ms"] > 0


def test_metrics_count_requests_by_route_and_status_in_prometheus_text(client):
    client.get("/regions/quzhou/institutions/kh-huabu")
    client.get("/regions/quzhou/institutions/no-such-place")
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert ('mednet_http_requests_total{method="GET",route="/regions/{region}/institutions/{institution}",'
            'status="404"}') in text
    assert ('mednet_http_request_duration_seconds_count{method="GET",'
            'route="/regions/{region}/institutions/{institution}"}') in text
    assert "no-such-place" not in text  # routes by template: the raw paths never become labels


def test_a_client_hanging_up_mid_upload_is_one_info_line(app, client, caplog):
    import asyncio

    messages = iter([{"type": "http.request", "body": b'{"origin": "hua', "more_body": True},
                     {"type": "http.disconnect"}])
    sent = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": ROUTE, "raw_path": ROUTE.encode(), "query_string": b"",
             "root_path": "", "headers": [(b"content-type", b"application/json")], "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 80), "scheme": "http", "http_version": "1.1", "app": app,
             "state": {}}
    with caplog.at_level(logging.DEBUG):
        asyncio.run(app.middleware_stack(scope, receive, send))
    problems = [r for r in caplog.records if r.name == "service"]
    assert [r.levelname for r in problems] == ["INFO"] and "disconnected" in problems[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)


# ----------------------------------------------------------------- documentation offline


def test_docs_and_redoc_load_every_asset_from_the_service(client):
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200 and "script-src 'self'" in response.headers["content-security-policy"]
        urls = [u for u in __import__("re").findall(r'(?:src|href)="([^"]+)"', response.text)]
        assert urls and all(u.startswith("/docs/assets/") for u in urls), urls
        for url in urls:
            asset = client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 1000
            assert asset.headers["cache-control"].startswith("public")
    assert client.get("/docs/assets/../../etc/passwd").status_code == 404
