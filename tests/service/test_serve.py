"""``mednet serve`` and a real served instance (uvicorn on a free loopback port, stopped after)."""

import os

import pytest

from mednet.cli import main
from service.bench import drive, http_request, route_requests, serving


@pytest.fixture
def serve_calls(monkeypatch):
    calls = []
    def serve(**options: object) -> int:
        calls.append(options)
        return 0

    monkeypatch.setattr("service.server.serve", serve)
    monkeypatch.setenv("MEDNET_REGIONS_DIR", "restored after the test")
    monkeypatch.setenv("MEDNET_ALLOW_INVALID", "restored after the test")
    return calls


def test_serve_runs_the_server_with_the_options(serve_calls, tiny_regions_dir):
    args = ["serve", "--port", "8123", "--workers", "2", "--regions-dir", str(tiny_regions_dir), "--allow-invalid"]
    assert main(args) == 0
    (call,) = serve_calls
    assert call.pop("interrupted")() is False  # how the server learns of a Ctrl-C it did not see
    assert call == {"host": "127.0.0.1", "port": 8123, "workers": 2}
    assert os.environ["MEDNET_REGIONS_DIR"] == str(tiny_regions_dir.resolve())  # the server's settings
    assert os.environ["MEDNET_ALLOW_INVALID"] == "1"


@pytest.mark.parametrize(("make", "words"), [
    (lambda tmp: tmp / "missing", "must be an existing folder"),
    (lambda tmp: tmp, "must hold at least one region file"),
])
def test_serve_refuses_a_bad_regions_dir_in_one_line(serve_calls, tmp_path, capsys, make, words):
    assert main(["serve", "--regions-dir", str(make(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert serve_calls == []


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_serve_refuses_a_bad_port(serve_calls, port, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--port", port])
    assert exit_.value.code == 2
    assert "--port" in capsys.readouterr().err


def test_a_served_instance_answers_referrals_under_load():
    with serving() as (port, server):
        load = drive(port, server.pid, [*route_requests(port)[:4], http_request("GET", "/health", port=port)],
                     n=200, concurrency=8, seconds=30)
    assert (load.requests, load.errors) == (200, 0)
    assert load.p50_ms <= load.p99_ms
