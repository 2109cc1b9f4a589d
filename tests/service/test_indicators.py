"""``GET /indicators``: planner and admin keys read a region's indicators (this period and the previous one);
desk keys, keys of another region and missing keys are refused; bad input is a 422 naming the parameter."""

from __future__ import annotations

import datetime as dt

import pytest

from mednet.ledger import create_key

CST = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(scope="module")
def keys(client):
    engine = client.app.state.ledger.engine

    def key(role, region=None, institution=None):
        return {"Authorization": "Bearer " + create_key(engine, role=role, label=f"indicators {role}", region=region,
                                                          institution=institution)[1]}

    return {"huabu": key("desk", "quzhou", "kh-huabu"), "people": key("desk", "quzhou", "kh-people"),
            "planner": key("planner"), "admin": key("admin"), "other": key("planner", "minhang")}


def figures(client, keys, period):
    response = client.get("/indicators", params={"region": "quzhou", "period": period, "by": "community"},
                          headers=keys["planner"])
    assert response.status_code == 200, response.text
    body = response.json()
    return body, {(r["group"], r["indicator"]): r for r in body["rows"]}


def test_indicators_count_what_the_desks_did(client, keys):
    month = dt.datetime.now(CST).strftime("%Y-%m")
    _, before = figures(client, keys, month)
    created = client.post("/referrals", headers=keys["huabu"], json={
        "specialty": "普外科", "reason": "腹痛待查", "patient": {"ref": "IND-1"}})
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["destination"]["id"] == "kh-people"
    accepted = client.post(f"/referrals/{record['number']}/accept", headers={**keys["people"], "If-Match": '"1"'})
    assert accepted.status_code == 200, accepted.text
    body, after = figures(client, keys, month)
    group = "kh-ygt-people"
    assert after[group, "referrals"]["value"] == before[group, "referrals"]["value"] + 1
    assert after[group, "up"]["value"] == before[group, "up"]["value"] + 1
    assert after[group, "acceptance_rate"]["numerator"] == \
        before[group, "acceptance_rate"]["numerator"] + 1
    assert after[group, "response_median"]["status"] == "ok"
    assert body["previous_period"] < body["period"] and body["previous"]
    assert {d["key"] for d in body["definitions"]} >= {"down_share", "bypass", "county_visit_share"}
    county = after[group, "county_visit_share"]
    assert county["value"] is None and county["status"] == "未采集"
    assert client.get("/indicators", params={"region": "quzhou", "period": month},
                      headers=keys["admin"]).status_code == 200


def test_who_may_read(client, keys, problem):
    params = {"region": "quzhou", "period": "2026"}
    problem(client.get("/indicators", params=params), 401)
    problem(client.get("/indicators", params=params, headers=keys["huabu"]), 403)
    problem(client.get("/indicators", params=params, headers=keys["other"]), 403)


def test_bad_input_names_the_parameter(client, keys, problem):
    body = problem(client.get("/indicators", params={"region": "quzhou", "period": "2026-Q7"},
                              headers=keys["planner"]), 422)
    assert "period" in str(body)
    problem(client.get("/indicators", params={"region": "quzhou", "period": "2026", "by": "planet"},
                       headers=keys["planner"]), 422)
    problem(client.get("/indicators", params={"region": "nowhere", "period": "2026"}, headers=keys["planner"]), 404)


def test_in_the_openapi_document(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "get" in paths["/indicators"]
    assert set(paths["/indicators"]["get"]["responses"]) >= {"200", "401", "403", "422"}
