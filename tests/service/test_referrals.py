"""The /referrals endpoints: keys (401/403), create with routing, ETag/If-Match (412), 409 naming the allowed
actions, idempotent retries, slots, quotas, events, FHIR; every error problem+json."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mednet.ledger import create_key


@pytest.fixture(scope="module")
def keys(client):
    engine = client.app.state.ledger.engine

    def key(role, region=None, institution=None):
        return {"Authorization": "Bearer " + create_key(engine, role=role, label=f"test {role}", region=region,
                                                          institution=institution)[1]}

    return {"centre": key("desk", "minhang", "mh-hongqiao"), "xinhua": key("desk", "minhang", "sh-xinhua"),
            "huashan": key("desk", "minhang", "sh-huashan"), "planner": key("planner"), "admin": key("admin")}


BODY = {"specialty": "儿科", "reason": "反复高热三天", "patient": {"ref": "HQ-1", "sex": "female", "birth_year": 2019}}


def create(client, keys, **fields):
    response = client.post("/referrals", json=BODY | fields, headers=keys["centre"])
    assert response.status_code == 201, response.text
    return response


def test_writes_and_reads_need_a_key(client, problem):
    body = problem(client.post("/referrals", json=BODY), 401, kind="not-authenticated")
    assert "Bearer" in body["detail"]
    assert client.post("/referrals", json=BODY).headers["www-authenticate"] == "Bearer"
    problem(client.get("/referrals", headers={"Authorization": "Bearer mk_0000000000_nope"}), 401)
    problem(client.get("/referrals", headers={"Authorization": "Bearer nonsense"}), 401)


def test_a_revoked_key_is_refused(client, problem):
    from mednet.ledger import revoke_key

    engine = client.app.state.ledger.engine
    key, text = create_key(engine, role="planner", label="short-lived")
    assert client.get("/referrals/whoami", headers={"Authorization": f"Bearer {text}"}).json()["role"] == "planner"
    revoke_key(engine, key.id)
    problem(client.get("/referrals/whoami", headers={"Authorization": f"Bearer {text}"}), 401)


def test_create_routes_and_records_in_one_call(client, keys):
    response = create(client, keys)
    record = response.json()
    assert response.headers["location"] == f"/referrals/{record['number']}"
    assert response.headers["etag"] == '"1"'
    assert record["state"] == "requested" and record["origin"]["id"] == "mh-hongqiao"
    assert record["routing"]["destination"]["id"] == record["destination"]["id"]
    assert record["routing"]["specialty"]["code"] == "paediatrics"
    assert record["allowed_actions"] == ["accept", "reject", "redirect", "cancel", "expire"]


def test_the_closed_loop_over_http(client, keys, problem):
    number = create(client, keys, destination="sh-xinhua", destination_why="患者要求", route=False).json()["number"]
    url = f"/referrals/{number}"
    problem(client.post(f"{url}/accept", headers=keys["centre"]), 403, kind="forbidden")
    problem(client.post(f"{url}/accept", headers=keys["planner"]), 403)
    problem(client.post(f"{url}/accept", headers=keys["huashan"]), 403)
    accepted = client.post(f"{url}/accept", headers=keys["xinhua"] | {"If-Match": '"1"'})
    assert accepted.status_code == 200 and accepted.headers["etag"] == '"2"'
    body = problem(client.post(f"{url}/cancel", headers=keys["centre"] | {"If-Match": '"1"'}), 412,
                   kind="stale-version", field="If-Match")
    assert "version 2" in body["detail"]
    body = problem(client.post(f"{url}/complete", headers=keys["xinhua"]), 409, kind="illegal-transition")
    assert body["allowed"] == ["hold", "book", "arrive", "cancel", "expire"]  # arrive: 新华医院's standing clinic
    problem(client.put("/referrals/quotas?region=minhang", headers=keys["xinhua"],
                       json={"institution": "新华医院", "specialty": "儿科", "per_day": 3}), 403)
    assert client.put("/referrals/quotas?region=minhang", headers=keys["admin"],
                      json={"institution": "新华医院", "specialty": "儿科", "per_day": 3}).status_code == 204
    slots = client.get("/referrals/slots", params={"region": "minhang", "institution": "sh-xinhua",
                                                   "specialty": "儿科"}, headers=keys["xinhua"]).json()
    assert slots and all(s["kind"] == "quota" and s["capacity"] == 3 for s in slots)
    assert {(s["assumed"], s["basis"]) for s in slots} == {
        (False, "referral quota (号源) set by an admin: 3 a day, released 5 day(s) ahead")}
    sessions = client.get("/referrals/slots", params={"region": "minhang", "institution": "mh-hongqiao",
                                                      "specialty": "中医儿科"}, headers=keys["xinhua"]).json()
    assert sessions and all(s["kind"] == "session" and s["assumed"] for s in sessions)  # no weekly_slots in Minhang
    assert all(s["basis"].startswith("assumed: 4 units a session (MEDNET_SESSION_SLOTS)") for s in sessions)
    problem(client.post(f"{url}/book", headers=keys["xinhua"], json={"slot": "nonsense"}), 422, field="slot")
    booked = client.post(f"{url}/book", headers=keys["xinhua"] | {"Idempotency-Key": "b-1"},
                         json={"slot": slots[1]["slot"]})
    assert booked.status_code == 200 and booked.json()["claim"]["status"] == "booked"
    again = client.post(f"{url}/book", headers=keys["xinhua"] | {"Idempotency-Key": "b-1"},
                        json={"slot": slots[1]["slot"]})
    assert again.headers["idempotent-replayed"] == "true" and again.json() == booked.json()
    early = problem(client.post(f"{url}/arrive", headers=keys["xinhua"]), 422, field="reason")  # booked: tomorrow
    assert "before the booked day" in early["detail"]
    arrived = client.post(f"{url}/arrive", headers=keys["xinhua"], json={"reason": "病情变化，提前就诊"})
    assert arrived.status_code == 200
    assert client.post(f"{url}/complete", headers=keys["xinhua"]).status_code == 200
    home = client.post(f"{url}/send-home", headers=keys["xinhua"], json={"reason": "康复回社区"})
    assert home.status_code == 201 and home.json()["parent"] == number and home.json()["direction"] == "down"
    twice = problem(client.post(f"{url}/send-home", headers=keys["xinhua"], json={"reason": "再次"}), 409,
                    kind="already-sent-home")
    assert home.json()["number"] in twice["detail"]
    events = client.get(f"{url}/events", headers=keys["centre"]).json()
    assert [e["action"] for e in events] == ["create", "accept", "book", "arrive", "complete", "send_home"]
    assert all(e["at"].endswith("Z") for e in events) and booked.json()["created_at"].endswith("Z")  # UTC, offset
    fhir = client.get(f"{url}/fhir", headers=keys["planner"])
    assert fhir.headers["content-type"] == "application/fhir+json"
    assert fhir.json()["entry"][1]["resource"]["status"] == "completed"
    assert fhir.json()["entry"][0]["resource"]["authoredOn"].endswith("Z")
    worklist = client.get("/referrals", params={"status": "completed"}, headers=keys["xinhua"]).json()
    assert number in [r["number"] for r in worklist["items"]]
    problem(client.get(url, headers=keys["huashan"]), 403)
    problem(client.get("/referrals/R19990101-000001", headers=keys["admin"]), 404, kind="unknown-referral")


def test_invalid_bodies_name_their_field(client, keys, problem):
    problem(client.post("/referrals", json=BODY | {"patient": {"ref": "11010519491231002X"}}, headers=keys["centre"]),
            422, field="patient.ref")
    problem(client.post("/referrals", json=BODY | {"specialty": "儿课"}, headers=keys["centre"]), 422,
            kind="unknown-specialty")
    problem(client.post("/referrals", json=BODY | {"route": False}, headers=keys["centre"]), 422, field="destination")
    number = create(client, keys, destination="sh-xinhua", route=False).json()["number"]
    problem(client.post(f"/referrals/{number}/cancel", headers=keys["centre"] | {"If-Match": "yesterday"}), 422,
            field="If-Match")
    problem(client.post(f"/referrals/{number}/reject", headers=keys["xinhua"], json={}), 422, field="reason")
    problem(client.post("/referrals", content=b"{", headers=keys["centre"] | {"Content-Type": "application/json"}),
            400)
    slots = {"region": "minhang", "institution": "mh-hongqiao", "specialty": "tcm_paediatrics"}
    for query, field in ((slots | {"from": "9999-12-31"}, "from"), (slots | {"from": "0001-01-01"}, "from"),
                         ({"to": "9999-12-31"}, "to"), ({"from": "0001-01-01"}, "from")):
        path = "/referrals/slots" if "region" in query else "/referrals"
        problem(client.get(path, params=query, headers=keys["admin"]), 422, field=field)
    assert client.post(f"/referrals/{number}/accept", headers=keys["xinhua"]).status_code == 200
    problem(client.post(f"/referrals/{number}/hold", headers=keys["xinhua"],
                        json={"slot": "session/sh-xinhua/paediatrics/9999-12-31/morning/1"}), 422, field="slot")


def test_the_api_is_documented_for_a_desk_page(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/referrals", "/referrals/{number}", "/referrals/{number}/book", "/referrals/{number}/send-home",
                 "/referrals/slots", "/referrals/whoami", "/referrals/{number}/events"):
        assert path in paths
    book = paths["/referrals/{number}/book"]["post"]
    assert {"401", "403", "409", "412"} <= set(book["responses"])
    headers = {p["name"] for p in book["parameters"] if p["in"] == "header"}
    assert {"If-Match", "Idempotency-Key", "authorization"} <= headers


def test_reads_stay_open_unless_configured_otherwise(client, tmp_path, problem):
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.config import Settings
    from tests.service.conftest import REGIONS_DIR

    assert client.get("/regions").status_code == 200  # the default: open
    closed = create_app(Settings(regions_dir=REGIONS_DIR, data_dir=tmp_path, reads_need_key=True))
    with TestClient(closed) as guarded:
        closed.state.loader.thread.join()
        problem(guarded.get("/regions"), 401, kind="not-authenticated")
        problem(guarded.post("/regions/quzhou/routes", json={"origin": "华埠", "specialty": "儿科"}), 401)
        assert guarded.get("/health").status_code == 200
        text = create_key(closed.state.ledger.engine, role="planner", label="reader")[1]
        assert guarded.get("/regions", headers={"Authorization": f"Bearer {text}"}).status_code == 200


@pytest.mark.parametrize("error", [
    sa.exc.OperationalError("INSERT …", {}, Exception("database is locked")),
    sa.exc.TimeoutError("QueuePool limit of size 42 overflow 0 reached, connection timed out, timeout 30.00"),
])
def test_a_database_busy_or_away_is_503_with_retry_after(client, keys, problem, monkeypatch, error):
    def fail(*args, **kwargs):
        raise error
    monkeypatch.setattr(client.app.state.ledger, "create", fail)
    body = problem(client.post("/referrals", json=BODY | {"destination": "sh-xinhua", "route": False},
                               headers=keys["centre"]), 503, kind="ledger-unavailable")
    assert "retry shortly" in body["detail"]
    assert client.post("/referrals", json=BODY, headers=keys["centre"]).headers["retry-after"] == "1"
