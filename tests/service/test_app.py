import json
import shutil

from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings, get_settings
from service.deps import compile_lock


def test_create_app_loads_nothing_until_started(tiny_regions_dir, problem):
    app = create_app(Settings(regions_dir=tiny_regions_dir, allow_invalid=True))
    assert getattr(app.state, "loader", None) is None
    with compile_lock(), TestClient(app) as client:  # the loader waits for the kernel: still loading
        assert app.state.ledger is not None  # the ledger's database is open (migrated) before any request
        for path in ("/ready", "/regions/tiny/institutions/east", "/referrals/whoami", "/referrals"):
            response = client.get(path)
            assert problem(response, 503, kind="not-ready")["detail"] == "regions are loading; retry shortly"
            assert response.headers["retry-after"] == "1"
        assert client.get("/health").status_code == 200  # alive while loading
    with TestClient(app) as client:
        app.state.loader.thread.join()
        assert client.get("/ready").json()["regions"] == ["tiny"]
        assert client.get("/referrals/whoami").status_code == 401  # loaded: the ledger asks for a key
    assert app.state.loader is None and app.state.ledger is None  # released at shutdown


def test_regions_dir_comes_from_the_environment(tiny_regions_dir, monkeypatch):
    monkeypatch.setenv("MEDNET_REGIONS_DIR", str(tiny_regions_dir))
    monkeypatch.setenv("MEDNET_ALLOW_INVALID", "1")
    get_settings.cache_clear()
    try:
        with TestClient(app := create_app()) as client:
            app.state.loader.thread.join()
            assert client.get("/ready").json()["regions"] == ["tiny"]
    finally:
        get_settings.cache_clear()


def test_a_broken_region_file_is_refused_saying_why(tiny_regions_dir, tmp_path):
    shutil.copy(tiny_regions_dir / "tiny.json", tmp_path / "tiny.json")
    (tmp_path / "broken.json").write_text(json.dumps({"id": "broken", "institutions": []}), encoding="utf-8")
    with TestClient(app := create_app(Settings(regions_dir=tmp_path, allow_invalid=True))) as client:
        app.state.loader.thread.join()
        ready = client.get("/ready").json()
    assert ready["regions"] == ["tiny"] and ready["invalid"] == {"tiny": ["duplicate-name"]}
    assert list(ready["refused"]) == ["broken.json"] and ready["refused"]["broken.json"][0].startswith("[unreadable]")


def test_an_ambiguous_institution_name_is_422_listing_the_ids(tiny_regions_dir, problem):
    with TestClient(app := create_app(Settings(regions_dir=tiny_regions_dir, allow_invalid=True))) as client:
        app.state.loader.thread.join()
        body = problem(client.get("/regions/tiny/institutions/卫生院"), 422, field="institution")
        assert "ambiguous" in body["detail"] and "east" in body["detail"] and "west" in body["detail"]
        assert client.get("/regions/tiny/institutions/东镇卫生院").json()["institution"]["id"] == "east"


def test_openapi_documents_problem_bodies(client):
    document = client.get("/openapi.json").json()
    assert "ProblemDetails" in document["components"]["schemas"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    route = document["paths"]["/regions/{region}/routes"]["post"]["responses"]
    assert set(route) == {"200", "400", "404", "409", "413", "415", "422", "503"}
    assert set(route["404"]["content"]) == {"application/problem+json"}
    assert client.get("/docs").status_code == 200
