"""Control characters and national ID numbers are refused at the edge and by the write models, on SQLite and
PostgreSQL alike: 422 naming the field (400 for a header or a cookie), problem+json, one log line, nothing
stored."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mednet.errors import InvalidRequest
from mednet.inputs import contains_id_number
from mednet.ledger import create_key
from mednet.ledger.records import THIS_YEAR
from mednet.ledger.store import referrals
from service.app import create_app
from service.config import Settings
from tests.service.conftest import REGIONS_DIR

BODY = {"specialty": "儿科", "reason": "反复高热三天", "patient": {"ref": "HQ-1", "sex": "female", "birth_year": 2019}}
ID_18 = "11010519491231002X"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request, tmp_path_factory):
    """A started app on each engine, with a desk key and an admin key."""
    url = request.getfixturevalue("pg_server").new_database() if request.param == "postgresql" else None
    app = create_app(Settings(regions_dir=REGIONS_DIR, data_dir=tmp_path_factory.mktemp("data"), database_url=url))
    with TestClient(app) as client:
        app.state.loader.thread.join()
        engine = app.state.ledger.engine
        desk = create_key(engine, role="desk", label="desk", region="minhang", institution="mh-hongqiao")[1]
        admin = create_key(engine, role="admin", label="admin")[1]
        yield client, {"Authorization": f"Bearer {desk}"}, {"Authorization": f"Bearer {admin}"}, desk


def stored(client) -> int:
    with client.app.state.ledger.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(referrals)).scalar_one()


@pytest.mark.parametrize(("fields", "field"), [
    ({"reason": "胸痛\x00三天"}, "reason"),
    ({"reason": "胸痛\x1b[31m"}, "reason"),
    ({"destination_why": "近\x00"}, "destination_why"),
    ({"specialty": "儿科\n"}, "specialty"),
    ({"patient": {"ref": "HQ\x00-1"}}, "patient.ref"),
    ({"patient": {"ref": "110105-19491231-002X"}}, "patient.ref"),
    ({"patient": {"ref": "１１０１０５１９４９１２３１００２Ｘ"}}, "patient.ref"),
    ({"reason": "身份证 １１０１０５１９４９１２３１００２Ｘ"}, "reason"),
    ({"reason": "老证 110105 491231 002"}, "reason"),
    ({"summary": {"history": f"身份证号 {ID_18[:6]}-{ID_18[6:]}"}}, "summary.history"),
])
def test_a_control_character_or_an_id_number_in_a_referral_is_422_and_nothing_is_stored(served, problem, caplog,
                                                                                          fields, field):
    client, desk, _, _ = served
    before = stored(client)
    with caplog.at_level(logging.INFO):
        body = problem(client.post("/referrals", json=BODY | fields, headers=desk), 422, field=field)
    assert stored(client) == before
    assert ID_18 not in body["detail"] and "１１０１０５" not in body["detail"]
    assert not [r for r in caplog.records if r.exc_info], "no traceback"


def test_tab_and_line_breaks_are_kept_where_several_lines_are_expected(served):
    client, desk, _, _ = served
    response = client.post("/referrals", json=BODY | {"reason": "发热\t三天\r\n咳嗽"}, headers=desk)
    assert response.status_code == 201, response.text
    assert response.json()["reason"] == "发热\t三天\r\n咳嗽"


def test_the_reject_reason_and_the_quota_note_are_checked(served, problem):
    client, desk, admin, _ = served
    number = client.post("/referrals", json=BODY, headers=desk).json()["number"]
    problem(client.post(f"/referrals/{number}/reject", json={"reason": "不收\x00"}, headers=desk), 422,
            field="reason")
    problem(client.post(f"/referrals/{number}/reject", json={"reason": f"患者 {ID_18}"}, headers=desk), 422,
            field="reason")
    assert client.get(f"/referrals/{number}", headers=desk).json()["state"] == "requested"
    quota = {"institution": "sh-xinhua", "specialty": "儿科", "per_day": 2, "note": "院办\x00"}
    problem(client.put("/referrals/quotas", params={"region": "minhang"}, json=quota, headers=admin), 422,
            field="note")


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/referrals", {"institution": "\x00"}, "institution"),
    ("/referrals", {"after": "\x00"}, "after"),
    ("/referrals/R%00", {}, "path"),
    ("/regions/quzhou/institutions", {"specialty": "儿科\x07"}, "specialty"),
])
def test_a_control_character_in_the_path_or_the_query_is_422_naming_it(served, problem, caplog, path, params,
                                                                         field):
    client, desk, _, _ = served
    with caplog.at_level(logging.INFO, logger="service"):
        problem(client.get(path, params=params, headers=desk), 422, field=field)
    lines = [r for r in caplog.records if r.name == "service" and "refused" in r.getMessage()]
    assert len(lines) == 1 and not lines[0].exc_info


def test_the_desk_cookie_and_the_sign_in_form_need_no_key_and_are_refused(served, problem):
    client, _, _, desk_text = served
    client.cookies.clear()
    response = client.get("/desk/", headers={"Cookie": 'mednet_desk="mk_a\\000b_c"'})
    problem(response, 400, field="mednet_desk")
    form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://testserver"}
    problem(client.post("/desk/signin", content="key=mk_a%00b_c", headers=form), 422, field="key")
    problem(client.post("/desk/signin", content=f"key={desk_text}&next=%1b", headers=form), 422, field="next")
    # a form's several lines stay allowed: the field is refused by the page for what it is, not by the edge
    assert client.post("/desk/signin", content="key=mk_wrong%0D%0A", headers=form).status_code == 401


def test_a_control_character_in_a_header_is_400_naming_it():
    from service.middleware import refused_text

    scope = {"type": "http", "method": "GET", "path": "/regions", "query_string": b"", "headers": []}
    assert refused_text(scope, None, []) is None
    answer = refused_text(scope, b"x-forwarded-for", [])
    assert answer is not None and answer.status_code == 400 and b'"field":"x-forwarded-for"' in answer.body
    answer = refused_text(scope, None, [b'a=b; mednet_desk="x\\001y"'])
    assert answer is not None and answer.status_code == 400 and b'"field":"mednet_desk"' in answer.body


def test_the_ledger_s_writes_refuse_a_control_character_before_any_statement():
    from mednet.ledger.writes import insert_with_event

    engine = sa.create_engine("sqlite://")
    with engine.connect() as conn, pytest.raises(InvalidRequest, match="reason"):
        insert_with_event(conn, {"id": 1, "reason": "a\x00b"}, {"seq": 1})


@pytest.mark.parametrize(("text", "found"), [
    (ID_18, True), (ID_18.lower(), True), ("110105-19491231-002X", True), ("110105 1949 1231 002X", True),
    ("１１０１０５１９４９１２３１００２Ｘ", True), ("110105491231002", True), ("１１０１０５４９１２３１００２", True),
    ("110105194912310021", False),  # wrong check digit
    ("HB-2024-0192", False), ("电话 13812345678", False), ("20261206233219", False),
    ("990105491231002", False),  # no such province
    ("1101054912310021", False),  # 16 digits: neither generation
])
def test_id_numbers_of_both_generations_however_written(text, found):
    assert contains_id_number(text) is found


def test_the_document_states_the_text_rules(client):
    from mednet.inputs import HEADER_PATTERN, MULTILINE_PATTERN, TEXT_PATTERN
    from service.limits import DATE_PATTERN, ETAG_PATTERN

    document = client.app.openapi()
    schemas = document["components"]["schemas"]
    reason = next(b for b in schemas["ActionIn"]["properties"]["reason"]["anyOf"] if b.get("type") == "string")
    assert reason["pattern"] == MULTILINE_PATTERN
    assert schemas["QuotaIn"]["properties"]["institution"]["pattern"] == TEXT_PATTERN
    birth = schemas["PatientIn"]["properties"]["birth_year"]
    assert birth["x-mednet-integer-literal"] is True and birth["anyOf"][0]["minimum"] == 1900
    listing = {p["name"]: p["schema"] for p in document["paths"]["/referrals"]["get"]["parameters"]}
    assert listing["from"]["anyOf"][0]["pattern"] == DATE_PATTERN
    assert listing["institution"]["anyOf"][0]["pattern"] == TEXT_PATTERN
    accept = {p["name"]: p["schema"] for p in document["paths"]["/referrals/{number}/accept"]["post"]["parameters"]}
    assert accept["If-Match"]["anyOf"][0]["pattern"] == ETAG_PATTERN
    assert accept["Idempotency-Key"]["anyOf"][0]["pattern"] == HEADER_PATTERN


@pytest.mark.parametrize(("value", "status"), [("null", 422), ('"1"', 200), ("*", 200)])
def test_if_match_takes_what_the_document_says(served, value, status):
    import re

    from service.limits import ETAG_PATTERN

    client, desk, _, _ = served
    number = client.post("/referrals", json=BODY, headers=desk).json()["number"]
    assert bool(re.fullmatch(ETAG_PATTERN, value)) is (status == 200)
    response = client.get(f"/referrals/{number}", headers=desk)
    assert response.status_code == 200
    answer = client.post(f"/referrals/{number}/cancel", json={"reason_code": "patient_declined"},
                         headers={**desk, "If-Match": value})
    assert answer.status_code in ((422,) if status == 422 else (200, 409)), answer.text


@pytest.mark.parametrize("year", ["1980", 1980.0, THIS_YEAR + 1, 1899])
def test_a_birth_year_the_document_refuses_is_refused(served, problem, year):
    client, desk, _, _ = served
    problem(client.post("/referrals", json=BODY | {"patient": {"ref": "HQ-2", "birth_year": year}}, headers=desk),
            422, field="patient.birth_year")
