import os

from fastapi.testclient import TestClient

from mednet.places import data_dir
from mednet.regions import list_regions
from service.app import create_app
from service.config import Settings


def test_health_answers(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_ready_lists_the_loaded_regions(client):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "regions": list_regions(data_dir() / "regions"),
                               "worker": os.getpid(), "invalid": {}, "refused": {}}


def test_not_ready_before_the_regions_are_loaded(problem):
    unstarted = TestClient(create_app(Settings(regions_dir=data_dir() / "regions")))  # no `with`: no lifespan run
    body = problem(unstarted.get("/ready"), 503, kind="not-ready")
    assert "loading" in body["detail"]
    assert unstarted.get("/health").status_code == 200  # alive all the same
