"""Generated requests with real keys against every /referrals operation (schemathesis, in-process): each
answer conforms to the OpenAPI document and none is a server error, whatever the body, query or headers."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from mednet.bench.ledger import serving_regions
from mednet.ledger import create_key, open_ledger_engine
from service.app import create_app
from service.config import Settings

CONFIG = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {"enabled": False}}})
#: (path, METHOD, mode, role): valid requests for every operation, invalid ones where a body or query can be
#: invalid; an admin key where only admins act (quotas, expire), a desk's key elsewhere.
CASES = sorted(
    (path, method.upper(), mode, "admin" if path.endswith(("/quotas", "/expire")) else "desk")
    for path, item in create_app().openapi()["paths"].items() if path.startswith("/referrals")
    for method, operation in item.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or "requestBody" in operation
    or any(p["in"] == "query" for p in operation.get("parameters", ()))
)


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ledger-schema")
    engine = open_ledger_engine(data_dir=folder)
    keys = {"desk": create_key(engine, role="desk", label="d", region="minhang", institution="mh-hongqiao")[1],
            "admin": create_key(engine, role="admin", label="a")[1]}
    engine.dispose()
    app = create_app(Settings(regions_dir=serving_regions(folder / "regions"), data_dir=folder))
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG), keys, app


@pytest.fixture
def started(setting):
    """The schema and keys, the app started by schemathesis and its regions built (in the background)."""
    schema, keys, app = setting
    schema["/health"]["GET"].Case().call()  # starts the app's lifespan, kept running by schemathesis
    app.state.loader.thread.join()
    return schema, keys


@pytest.mark.parametrize(("path", "method", "mode", "role"), CASES,
                         ids=[f"{m} {p} {g.value} {r}" for p, m, g, r in CASES])
def test_no_server_error_with_a_real_key(started, path, method, mode, role):
    schema, keys = started

    @given(case=schema[path][method].as_strategy(generation_mode=mode))
    @settings(max_examples=8, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    def answer_conforms(case):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {keys[role]}"}
        case.call_and_validate()

    answer_conforms()
