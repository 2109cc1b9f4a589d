"""A region with validation errors is not routed, analysed or served (unless --allow-invalid); a file's name is
its region's id; a folder's every broken file is reported."""

from __future__ import annotations

import json
import shutil

import pytest
from fastapi.testclient import TestClient

from mednet.cli import main
from mednet.errors import InvalidRegion, RegionDataError
from mednet.regions import regions_dir
from mednet.validate import load_valid_region, load_valid_regions
from service.app import create_app
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
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "region 'quzhou' has validation errors" in err and "Traceback" not in err
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


def test_serve_reports_every_broken_file_of_the_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("must not start"))
    monkeypatch.setenv("MEDNET_REGIONS_DIR", "restored after the test")
    monkeypatch.setenv("MEDNET_ALLOW_INVALID", "restored after the test")
    shutil.copy(QUZHOU, tmp_path / "quzhou.json")
    shutil.copy(QUZHOU, tmp_path / "other.json")
    (tmp_path / "broken.json").write_text("{oops", encoding="utf-8")
    _two_leads(tmp_path / "quzhou.json")
    assert main(["serve", "--regions-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "3 of 3 region files cannot be served" in err
    assert "broken.json" in err and "other.json holds region 'quzhou'" in err and "[lead-count]" in err
    # --allow-invalid serves the region with errors, never a file under another region's name.
    assert main(["serve", "--regions-dir", str(tmp_path), "--allow-invalid"]) == 2
    err = capsys.readouterr().err
    assert "2 of 3" in err and "[lead-count]" not in err


def test_the_service_does_not_list_a_region_twice(tmp_path):
    shutil.copy(QUZHOU, tmp_path / "quzhou.json")
    shutil.copy(QUZHOU, tmp_path / "other.json")
    with pytest.raises(InvalidRegion, match=r"other\.json holds region 'quzhou'"), \
            TestClient(create_app(Settings(regions_dir=tmp_path))):
        pass
    (tmp_path / "other.json").unlink()
    with TestClient(app := create_app(Settings(regions_dir=tmp_path))) as client:
        app.state.loader.thread.join()
        assert [r["id"] for r in client.get("/regions").json()] == ["quzhou"]


def test_a_service_with_an_invalid_region_stays_unready_saying_why(invalid):
    with TestClient(app := create_app(Settings(regions_dir=invalid.parent))) as client:
        app.state.loader.thread.join()
        response = client.get("/ready")
        assert response.status_code == 503 and "[lead-count]" in response.json()["detail"]
        assert client.post("/regions/quzhou/routes", json={"origin": "华埠", "specialty": "普外科"}).status_code == 503
    with TestClient(app := create_app(Settings(regions_dir=invalid.parent, allow_invalid=True))) as client:
        app.state.loader.thread.join()
        assert client.get("/ready").json()["regions"] == ["quzhou"]


def test_the_bundled_regions_are_served(tmp_path):
    assert set(load_valid_regions(regions_dir())) == {"huzhou", "luqiao", "minhang", "quzhou"}
    with pytest.raises(RegionDataError, match="no such file"):
        load_valid_region(tmp_path / "absent.json")
