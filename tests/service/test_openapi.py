"""Property-based run against the app's own OpenAPI document (schemathesis, in-process over ASGI).

Every operation gets generated requests, valid and invalid; each answer must
not be a 5xx and must conform to what the document promises: status code,
content type, headers and body schema. Derandomised and bounded, so the run
is the same every time and takes a few seconds.

``positive_data_acceptance`` is left out on purpose: strings the schema
allows (a specialty, an institution name) are answered 404/422 when they
name nothing, which JSON Schema cannot express.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from mednet.places import data_dir
from service.app import create_app
from service.config import Settings

CONFIG = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {"enabled": False}}})
#: (path, METHOD, generation mode) for every documented operation: valid requests for all, invalid ones
#: where the document constrains a query or body (path segments are free strings: nothing is invalid).
#: Building the document does not start the app.
CASES = sorted(
    (path, method.upper(), mode)
    for path, item in create_app().openapi()["paths"].items()
    for method, operation in item.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or "requestBody" in operation
    or any(p["in"] == "query" for p in operation.get("parameters", ()))
)


@pytest.fixture(scope="module")
def api_schema():
    """The schema of an app of its own, started by schemathesis (its lifespan loads the regions)."""
    app = create_app(Settings(regions_dir=data_dir() / "regions"))
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)


#: Names that exist, so that generated requests reach the answers behind the 404s, not only the 404s.
#: Quzhou has permanent capabilities only; Huzhou has visiting experts' sessions (dates matter there).
KNOWN = {
    "region": ["quzhou", "huzhou"],
    "institution": ["kh-huabu", "华埠", "开化县人民医院", "qz-people", "环渚龙泉街道社区卫生服务中心", "wx-people"],
    "community": ["kh-ygt-tcm", "开化县人民医院医共体"],
    "specialty": ["儿科", "paediatrics", "cardiology", "风湿科", "rehabilitation", "急诊", "nursing", "tuberculosis"],
}


def use_known_names(case, draw, *, body: bool) -> None:
    """Swap generated free strings for known names (in the body too, for valid requests only)."""
    for name, _value in (case.path_parameters or {}).items():
        if name in KNOWN:
            case.path_parameters[name] = draw(st.sampled_from(KNOWN[name]))
    if body and isinstance(case.body, dict):
        if isinstance(case.body.get("origin"), str):
            case.body["origin"] = draw(st.sampled_from(KNOWN["institution"]))
        case.body["specialty"] = draw(st.sampled_from(KNOWN["specialty"]))
        case.body.pop("home", None)


@pytest.mark.parametrize(("path", "method", "mode"), CASES, ids=[f"{m} {p} {g.value}" for p, m, g in CASES])
def test_every_answer_is_documented_and_never_a_server_error(api_schema, path, method, mode):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    @settings(max_examples=25, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    def answer_conforms(case, data):
        if data.draw(st.booleans(), label="use known names"):
            use_known_names(case, data.draw, body=mode is GenerationMode.POSITIVE)
        case.call_and_validate()

    answer_conforms()
