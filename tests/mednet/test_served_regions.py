"""A region with validation errors is not routed, analysed or served (unless --allow-invalid); a file's name is
its region's id; a folder's every broken file is reported."""

from __future__ import annotations

import json
import shutil
import urllib.request

import pytest
from fastapi.testclient import TestClient

from mednet.bench.local import free_port
from mednet.cli import main
from mednet.errors import InvalidRegion, RegionDataError
from mednet.regions import regions_dir
from mednet.valid_regions import load_valid_region, load_valid_regions
from service.app import create_app
from service.bench import serving
from service.config import Settings

QUZHOU = regions_dir() / "quzhou.json"


def _two_leads(path):
    """quzhou with a second lead in its first community (a lead-count error) and an unknown member."""
    doc = json.loads(QUZHOU.read_text(encoding="utf-8"))
    members = doc["communities"][0]["members"]
    members[1] = {**members[1], "role": "lead"}
    members.append({"institution": "no-such-place", "role": "branch", "source": members[0]["source"]})
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def invalid(tmp_path):
    return _two_leads(tmp_path / "quzhou.json")


@pytest.mark.parametrize("argv", [
    ["route", "{path}", "--from", "华埠", "--specialty", "普外科"],
    ["coverage", "{path}", "-s", "儿科", "--max-km", "30"],
])
def test_route_and_coverage_refuse_a_region_with_errors_one_line_per_code(invalid, capsys, argv):
    args = [a.format(path=invalid) for a in argv]
    for lang, said in (("en", "region 'quzhou' has validation errors"), ("zh", "区域“quzhou”未通过校验")):
        assert main([*args, "--lang", lang]) == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err
        lines = err.strip().splitlines()
        codes = [line.strip().split("]")[0] + "]" for line in lines[1:]]
        assert {"[unknown-id]", "[lead-count]"} <= set(codes) and len(codes) == len(set(codes))  # one line per code
    assert main([*args, "--allow-invalid"]) == 0
    capsys.readouterr()


def test_a_file_named_other_than_its_region_is_refused(tmp_path, capsys):
    other = tmp_path / "other.json"
    shutil.copy(QUZHOU, other)
    with pytest.raises(InvalidRegion, match=r"\[file-name-id\] the file other.json holds region 'quzhou'"):
        load_valid_region(other)
    assert main(["validate", str(other)]) == 1
    assert "[file-name-id]" in capsys.readouterr().out
    assert main(["route", str(other), "--from", "华埠", "--specialty", "普外科"]) == 2
    assert "file-name-id" in capsys.readouterr().err


@pytest.fixture
def mixed(tmp_path):
    """A folder with one valid region (minhang), one with validation errors (quzhou), a copy of minhang under
    another name, and an unreadable file."""
    shutil.copy(regions_dir() / "minhang.json", tmp_path / "minhang.json")
    shutil.copy(regions_dir() / "minhang.json", tmp_path / "other.json")
    (tmp_path / "broken.json").write_text("{oops", encoding="utf-8")
    _two_leads(tmp_path / "quzhou.json")
    return tmp_path


@pytest.fixture
def serve_env(monkeypatch):
    """``mednet serve`` run in-process sets its settings in the environment: restored after the test."""
    for name in ("MEDNET_REGIONS_DIR", "MEDNET_ALLOW_INVALID", "MEDNET_DATA_DIR"):
        monkeypatch.setenv(name, "restored after the test")
    monkeypatch.delenv("MEDNET_REGIONS_DIR")


def test_serve_reports_every_refused_file_one_line_per_file_and_code(mixed, capsys, serve_env):
    assert main(["serve", "--port", str(free_port()), "--regions-dir", str(mixed), "--data-dir", str(mixed)]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert "3 of 4 region files cannot be served" in lines[0] and "Traceback" not in err
    pairs = [line.split("]")[0].strip() + "]" for line in lines[1:]]
    assert len(pairs) == len(set(pairs))  # one line per file and code
    assert {"broken.json: [unreadable]", "other.json: [file-name-id]", "quzhou.json: [lead-count]",
            "quzhou.json: [unknown-id]"} <= set(pairs)
    assert {pair.split(":")[0] for pair in pairs} == {"broken.json", "other.json", "quzhou.json"}


def test_serve_refuses_to_start_when_nothing_can_be_served_even_allowing_invalid(tmp_path, capsys, serve_env):
    (tmp_path / "broken.json").write_text("{oops", encoding="utf-8")
    assert main(["serve", "--port", str(free_port()), "--regions-dir", str(tmp_path), "--allow-invalid"]) == 2
    err = capsys.readouterr().err
    assert "no region file can be served" in err and "broken.json: [unreadable]" in err


def test_serve_allowing_invalid_serves_them_marked_and_lists_the_refused(mixed):
    with serving(app="service.app:create_app", env={"MEDNET_REGIONS_DIR": str(mixed), "MEDNET_ALLOW_INVALID": "1"}) \
            as (port, _):
        ready = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=10).read())
        regions = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/regions", timeout=10).read())
    assert ready["regions"] == ["minhang", "quzhou"]
    assert {"lead-count", "unknown-id"} <= set(ready["invalid"]["quzhou"])
    assert sorted(ready["refused"]) == ["broken.json", "other.json"]
    assert ready["refused"]["other.json"][0].startswith("[file-name-id] the file other.json holds region 'minhang'")
    assert {r["id"]: r["validation_errors"] for r in regions} == {"minhang": [], "quzhou": ready["invalid"]["quzhou"]}


def test_an_app_serves_the_valid_regions_and_says_why_it_refuses_the_others(mixed):
    with TestClient(app := create_app(Settings(regions_dir=mixed))) as client:
        app.state.loader.thread.join()
        ready = client.get("/ready").json()
        assert ready["regions"] == ["minhang"] and ready["invalid"] == {}
        assert sorted(ready["refused"]) == ["broken.json", "other.json", "quzhou.json"]
        codes = {line.split("]")[0] + "]" for line in ready["refused"]["quzhou.json"]}
        assert {"[lead-count]", "[unknown-id]"} <= codes
        assert [r["id"] for r in client.get("/regions").json()] == ["minhang"]  # never a region twice
        refused = client.post("/regions/quzhou/routes", json={"origin": "华埠", "specialty": "普外科"})
        assert refused.status_code == 503 and "quzhou.json is not served: [" in refused.json()["detail"]
        assert "retry-after" not in client.get("/regions/quzhou").headers  # retrying does not help
        assert client.get("/regions/minhang").status_code == 200


def test_an_app_with_no_region_to_serve_stays_unready_saying_why(invalid):
    with TestClient(app := create_app(Settings(regions_dir=invalid.parent))) as client:
        app.state.loader.thread.join()
        response = client.get("/ready")
        assert response.status_code == 503 and "retry-after" not in response.headers
        assert "no region can be served: quzhou.json: [" in response.json()["detail"]
    with TestClient(app := create_app(Settings(regions_dir=invalid.parent, allow_invalid=True))) as client:
        app.state.loader.thread.join()
        assert client.get("/ready").json()["regions"] == ["quzhou"]


def test_the_bundled_regions_are_served(tmp_path):
    assert set(load_valid_regions(regions_dir())) == {"huzhou", "luqiao", "minhang", "quzhou"}
    with pytest.raises(RegionDataError, match="no such file"):
        load_valid_region(tmp_path / "absent.json")
