"""Fixtures for the service tests: the app over the repository's own regions, and a client."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from mednet.models import Capability, Community, Institution, Link, Location, Membership, Region, Source
from mednet.places import data_dir
from mednet.regions import save_region
from service.app import create_app
from service.config import Settings

REGIONS_DIR = data_dir() / "regions"


@pytest.fixture(scope="session")
def app():
    return create_app(Settings(regions_dir=REGIONS_DIR))


@pytest.fixture(scope="session")
def client(app):
    """A started app (lifespan run): the regions are loaded."""
    with TestClient(app) as client:
        app.state.loader.thread.join()
        yield client


@pytest.fixture(scope="session")
def problem():
    """``problem(response, status, field=, kind=)``: check an error answer, return its body."""
    return _check_problem


def _check_problem(response, status: int, *, field: str | None = None, kind: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    if field is not None:
        assert body["field"] == field, body
    if kind is not None:
        assert body["type"] == f"urn:mednet:problem:{kind}", body
    return body


@pytest.fixture(scope="session")
def tiny_regions_dir(tmp_path_factory):
    """A folder with one small region built from the models: a county hospital and two township
    centres that share an alias (an ambiguous name: a validation error, so it is served with
    ``allow_invalid``), in one community."""
    source = {"source": "test"}
    where = {"county": "开化县", "location": Location(kind="town_seat", source="test"), **source}
    region = Region(
        id="tiny", name="测试县", sources={"test": Source(title="built in tests/service/conftest.py")},
        institutions=(
            Institution(id="hospital", name="测试县人民医院", tier="county_hospital", lat=29.14, lon=118.41,
                        capabilities=(Capability(specialty="paediatrics", **source),), **where),
            Institution(id="east", name="东镇卫生院", aliases=("卫生院",), tier="township_centre",
                        lat=29.01, lon=118.35, **where),
            Institution(id="west", name="西镇卫生院", aliases=("卫生院",), tier="township_centre",
                        lat=29.20, lon=118.30, **where),
        ),
        communities=(Community(id="ygt", name="测试县医共体", kind="county", counties=("开化县",), members=(
            Membership(institution="hospital", role="lead", **source),
            Membership(institution="east", role="branch", **source),
            Membership(institution="west", role="branch", **source),
        ), **source),),
        links=tuple(Link(a=a, b="hospital", kind="branch_lead", distance_km=km, distance_basis="road", **source)
                    for a, km in (("east", 16.0), ("west", 14.0))),
    )
    folder = tmp_path_factory.mktemp("regions")
    save_region(region, folder / "tiny.json")
    return folder
