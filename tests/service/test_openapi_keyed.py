"""The referral ledger's operations against the document with a desk's key (schemathesis, in-process, bounded):
valid requests are accepted (2xx, or 404/409/412 where a name, a state or a version says no), invalid ones
refused with a documented problem, never a server error. Without a key, ``test_openapi.py`` covers them."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from mednet.ledger import create_key
from mednet.places import data_dir
from service.app import create_app
from service.config import Settings

CONFIG = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {
    "enabled": True, "expected-statuses": ["2xx", "403", "404", "409", "412"]}}})
DOCUMENT = create_app().openapi()
CASES = sorted(
    (path, method.upper(), mode)
    for path, item in DOCUMENT["paths"].items() if path.startswith("/referrals")
    for method, operation in item.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or "requestBody" in operation
    or any(p["in"] == "query" or (p["in"] == "header" and p["name"] != "authorization")
           for p in operation.get("parameters", ()))
)
#: The desk: the hospital leading a community, so that a referral up, down (to its community) or urgent routes.
DESK = "mh-hospital"
SPECIALTIES = ["儿科", "paediatrics", "cardiology", "普通外科", "rehabilitation"]


@pytest.fixture
def keyed(tmp_path):
    """The app (started by schemathesis, which ends it with each test), a desk's key and a referral of that
    desk."""
    app = create_app(Settings(regions_dir=data_dir() / "regions", data_dir=tmp_path))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    schema["/health"]["GET"].Case().call()
    app.state.loader.thread.join()
    key = create_key(app.state.ledger.engine, role="desk", label="desk", region="minhang",
                     institution=DESK)[1]
    headers = {"Authorization": f"Bearer {key}"}
    created = schema["/referrals"]["POST"].Case(body={"specialty": "儿科", "reason": "发热", "patient": {"ref": "P-1"},
                                                      "route": False, "destination": "mh-hongqiao"},
                                                headers=headers).call()
    assert created.status_code == 201, created.text
    return schema, headers, created.json()["number"]


def known(case, draw) -> None:
    """Valid requests name real things: the desk's referral, its region, known specialties, whole-number years."""
    if case.path_parameters and "number" in case.path_parameters:
        case.path_parameters["number"] = draw.number
    body = case.body
    if isinstance(body, dict):
        if isinstance(body.get("specialty"), str):
            body["specialty"] = draw.data.draw(st.sampled_from(SPECIALTIES))
        patient = body.get("patient")
        if isinstance(patient, dict) and isinstance(patient.get("birth_year"), float):
            patient["birth_year"] = int(patient["birth_year"])
    if isinstance(case.query, dict) and "region" in case.query:
        case.query["region"] = "minhang"


@pytest.mark.parametrize(("path", "method", "mode"), CASES, ids=[f"{m} {p} {g.value}" for p, m, g in CASES])
def test_with_a_desk_key_every_answer_is_documented(keyed, path, method, mode):
    schema, headers, number = keyed
    operation = schema[path][method]

    class Draw:
        pass

    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    @settings(max_examples=10, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    def answer_conforms(case, data):
        draw = Draw()
        draw.number, draw.data = number, data  # type: ignore[attr-defined]
        if mode is GenerationMode.POSITIVE:
            known(case, draw)
        case.headers = {**(case.headers or {}), **headers}
        case.call_and_validate()

    answer_conforms()
