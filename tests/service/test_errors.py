import json
import logging

import pytest
from fastapi.testclient import TestClient

from mednet.errors import (
    InvalidCoordinates,
    InvalidRequest,
    NoCapableInstitution,
    RegionDataError,
    UnknownCommunity,
    UnknownInstitution,
    UnknownRegion,
    UnknownSpecialty,
)
from service.app import create_app
from service.config import Settings
from service.errors import problem_from_error


@pytest.mark.parametrize(("err", "status", "kind", "field"), [
    (UnknownRegion("quzou", known=["quzhou"]), 404, "unknown-region", "region"),
    (UnknownInstitution("华铺", known=["华埠"]), 404, "unknown-institution", "institution"),
    (UnknownInstitution("华铺", known=["华埠"], field="origin"), 404, "unknown-institution", "origin"),
    (UnknownCommunity("x", known=[]), 404, "unknown-community", "community"),
    (UnknownSpecialty("paediatric", known=["paediatrics"]), 422, "unknown-specialty", "specialty"),
    (InvalidRequest("max_km", -5.0, "must be > 0"), 422, "invalid-value", "max_km"),
    (InvalidCoordinates("lat", 118.0, "must be within [-90, 90]"), 422, "invalid-value", "lat"),
    (NoCapableInstitution("no institution offers tuberculosis"), 409, "no-capable-institution", None),
    (RegionDataError("x.json", "top level", "bad"), 500, "internal-error", None),
])
def test_each_library_error_has_one_status(err, status, kind, field):
    response = problem_from_error(err)
    assert response.status_code == status
    assert response.media_type == "application/problem+json"
    body = json.loads(response.body)
    assert (body["status"], body["type"], body["field"]) == (status, f"urn:mednet:problem:{kind}", field)
    if status == 500:
        assert str(err) not in body["detail"]  # internals stay in the log
    else:
        assert body["detail"] == str(err)


def test_suggestions_travel_with_unknown_names():
    response = problem_from_error(UnknownInstitution("华铺", known=["华埠", "华埠镇卫生院"]))
    assert json.loads(response.body)["suggestions"] == ["华埠", "华埠镇卫生院"]


def test_unknown_paths_and_methods_answer_problem_bodies(client, problem):
    problem(client.get("/no/such/path"), 404, kind="not-found")
    response = client.delete("/regions")
    problem(response, 405, kind="method-not-allowed")
    assert response.headers["allow"] == "GET, OPTIONS"


def test_the_last_resort_handler_logs_and_answers_a_problem(tiny_regions_dir, caplog, problem):
    app = create_app(Settings(regions_dir=tiny_regions_dir, allow_invalid=True))

    @app.get("/boom")
    async def boom():
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR, "service"):
        body = problem(client.get("/boom"), 500, kind="internal-error")
    assert "a bug" not in body["detail"]  # internals stay in the log
    assert "unhandled error on GET /boom" in caplog.text
