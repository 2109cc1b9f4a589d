"""Property-based run against the app's own OpenAPI document (schemathesis, in-process over ASGI).

Every operation gets generated requests, valid and invalid; each answer must
not be a 5xx and must conform to what the document promises: status code,
content type, headers and body schema. Derandomised and bounded, so the run
is the same every time and takes a few seconds.

``positive_data_acceptance`` is on: every request the document calls valid
must be accepted (2xx), or answered 404 (a name that names nothing) or 409
(no capable institution within the limits). What a schema cannot know —
which names exist, which origin lies near the region — comes from the
region data in valid requests: they always use real names and points.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from mednet.models import Role
from mednet.places import data_dir
from mednet.regions import load_region
from service.app import create_app
from service.config import Settings
from service.limits import INTEGER_LITERAL

CONFIG = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {"enabled": True}}})
DOCUMENT = create_app().openapi()
#: Body fields the document marks as taking only the integer literal (``INTEGER_LITERAL``).
LITERAL_INTEGERS = sorted({name for schema in DOCUMENT["components"]["schemas"].values()
                           for name, prop in schema.get("properties", {}).items() if prop.get(INTEGER_LITERAL)})
#: (path, METHOD, generation mode) for every documented operation: valid requests for all, invalid ones
#: where the document constrains a query or body (path segments are free strings: nothing is invalid).
#: Building the document does not start the app.
CASES = sorted(
    (path, method.upper(), mode)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or "requestBody" in operation
    or any(p["in"] == "query" for p in operation.get("parameters", ()))
)


@pytest.fixture
def api_schema():
    """The schema of an app of its own, started by schemathesis (its lifespan loads the regions; schemathesis
    ends it with each test)."""
    app = create_app(Settings(regions_dir=data_dir() / "regions"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    schema["/health"]["GET"].Case().call()  # starts the app's lifespan, kept running by schemathesis
    app.state.loader.thread.join()  # then the regions are loaded in the background
    return schema


#: Names that exist, per region, so that valid requests reach the answers behind the 404s.
#: Quzhou has permanent capabilities only; Huzhou has visiting experts' sessions (dates matter there).
REGIONS = {name: load_region(data_dir() / "regions" / f"{name}.json") for name in ("quzhou", "huzhou")}
#: Hospitals with a community of their own (lead or branch): a referral down without `home` goes there.
HOSPITALS = {name: [i.id for i in r.institutions if i.tier.is_hospital
                    and any(i.id in c.ids(Role.LEAD, Role.BRANCH) for c in r.communities)]
             for name, r in REGIONS.items()}
KNOWN: dict[str, dict[str, list[str]]] = {
    "institution": {name: [i.id for i in r.institutions[:40]] + [i.name for i in r.institutions[:5]]
                    for name, r in REGIONS.items()},
    "community": {name: [c.id for c in r.communities] + [c.name for c in r.communities] for name, r in REGIONS.items()},
}
SPECIALTIES = ["儿科", "paediatrics", "cardiology", "风湿科", "rehabilitation", "急诊", "nursing", "tuberculosis"]


def use_known_names(case, draw, *, body_too: bool) -> None:
    """Valid requests name real things: a served region, its institutions and communities, known specialties,
    points at its institutions, and a hospital as the origin of a referral down without a home. Invalid requests
    keep their (invalid) query and body: only their path names real things."""
    path = case.path_parameters or {}
    if "region" not in path:
        return
    region = path["region"] = draw(st.sampled_from(sorted(REGIONS)))
    for kind in ("institution", "community"):
        if kind in path:
            path[kind] = draw(st.sampled_from(KNOWN[kind][region]))
    query = (case.query or {}) if body_too else {}
    if isinstance(query.get("specialty"), str):
        query["specialty"] = draw(st.sampled_from(SPECIALTIES))
    elif isinstance(query.get("specialty"), list):
        query["specialty"] = [draw(st.sampled_from(SPECIALTIES)) for _ in query["specialty"]]
    if isinstance(query.get("community"), str):
        query["community"] = draw(st.sampled_from(KNOWN["community"][region]))
    body = case.body
    if body_too and isinstance(body, dict) and "origin" in body:
        if body.get("direction") == "down" and body.get("home") is None:  # down from a hospital, to its community
            body["origin"] = draw(st.sampled_from(HOSPITALS[region]))
        elif isinstance(body["origin"], dict):  # a point where an institution of the region stands
            inst = REGIONS[region].institutions[draw(st.integers(0, len(REGIONS[region].institutions) - 1))]
            body["origin"] = {"lat": inst.lat, "lon": inst.lon}
        else:
            body["origin"] = draw(st.sampled_from(KNOWN["institution"][region]))
        if isinstance(body.get("specialty"), str):
            body["specialty"] = draw(st.sampled_from(SPECIALTIES))
        if isinstance(body.get("home"), str):
            body["home"] = draw(st.sampled_from(KNOWN["community"][region]))
        for name in LITERAL_INTEGERS:
            if isinstance(body.get(name), float):
                # schemathesis draws whole floats (14.0) for JSON integers, which JSON Schema counts as integers;
                # the service, strict, takes only the literal 14, as the field states (INTEGER_LITERAL and its
                # description). No JSON Schema keyword tells the two apart: this is the schema's one gap.
                body[name] = int(body[name])


@pytest.mark.parametrize(("path", "method", "mode"), CASES, ids=[f"{m} {p} {g.value}" for p, m, g in CASES])
def test_every_answer_is_documented_and_never_a_server_error(api_schema, path, method, mode):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    @settings(max_examples=25, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    def answer_conforms(case, data):
        if mode is GenerationMode.POSITIVE or data.draw(st.booleans(), label="use known names"):
            use_known_names(case, data.draw, body_too=mode is GenerationMode.POSITIVE)
        case.call_and_validate()

    answer_conforms()


def test_the_document_states_the_rules_between_values():
    document = create_app().openapi()
    schemas = document["components"]["schemas"]
    route = schemas["RouteRequest"]
    assert route["if"] == {"properties": {"direction": {"const": "down"}}, "required": ["direction"]}
    assert route["else"]["required"] == ["specialty"] and route["else"]["properties"]["home"] == {"type": "null"}
    when = next(b for b in route["properties"]["when"]["anyOf"] if b.get("type") == "string")
    assert when["pattern"].startswith("^") and "2100" in when["pattern"]
    point = schemas["MainlandPoint"]["properties"]
    assert (point["lat"]["minimum"], point["lat"]["maximum"], point["lon"]["minimum"], point["lon"]["maximum"]) == (
        17.5, 54.0, 73.0, 135.5)
    listing = document["paths"]["/regions/{region}/institutions"]["get"]["parameters"]
    place = next(p for p in listing if p["name"] == "place")
    assert place["style"] == "form" and place["explode"] is True
    assert place["schema"]["dependentRequired"] == {"within_km": ["near"]}
    assert "pattern" in place["schema"]["properties"]["near"]
    names = [p for op in ("/regions/{region}/institutions/{institution}", "/regions/{region}/communities/{community}")
             for p in document["paths"][op]["get"]["parameters"]]
    assert all(p["schema"]["maxLength"] == 100 and p["schema"]["minLength"] == 1 for p in names)


def test_the_document_says_which_integers_take_only_the_literal(client):
    """JSON Schema counts 3.0 as an integer; the route body's integer is strict, and its schema says so."""
    assert LITERAL_INTEGERS == ["alternatives", "birth_year"]
    alternatives = DOCUMENT["components"]["schemas"]["RouteRequest"]["properties"]["alternatives"]
    assert "`3.0` is refused" in alternatives["description"]
    body = {"origin": "华埠", "specialty": "儿科"}
    assert client.post("/regions/quzhou/routes", json={**body, "alternatives": 2}).status_code == 200
    assert client.post("/regions/quzhou/routes", json={**body, "alternatives": 2.0}).status_code == 422
