from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from service.routers import validation


def test_validation_report_of_a_region(client):
    body = client.get("/regions/quzhou/validation").json()
    assert body["region"] == "quzhou"
    assert not [p for p in body["problems"] if p["severity"] == "error"]
    assert len(body["communities"]) == 6


def test_validation_is_computed_once_per_region(tiny_regions_dir, monkeypatch, tmp_path):
    """Counted in a file: the computation runs in the app's slow-work process, forked after the patch."""
    calls = tmp_path / "calls"
    validate = validation.validate_membership

    def counted(region):
        with calls.open("a") as f:
            f.write(f"{region.id}\n")
        return validate(region)

    monkeypatch.setattr(validation, "validate_membership", counted)
    app = create_app(Settings(regions_dir=tiny_regions_dir, allow_invalid=True))
    with TestClient(app) as client:
        app.state.loader.thread.join()
        bodies = [client.get("/regions/tiny/validation").json() for _ in range(3)]
    assert calls.read_text().split() == ["tiny"] and bodies[0] == bodies[2] and bodies[0]["region"] == "tiny"


def test_validation_of_an_unknown_region_is_404(client, problem):
    problem(client.get("/regions/nowhere/validation"), 404, field="region", kind="unknown-region")
