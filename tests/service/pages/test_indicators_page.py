"""The indicator page: planner and admin keys see one table per dimension, the trend charts, the flow matrix and
the bypass list with its map, drawn on the server; desk keys are refused; a bad period is a 422 in Chinese.
The browser test opens it in Chromium, offline (nothing leaves the service's origin), with axe-core."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from mednet.ledger import NewReferral, create_key
from mednet.routing import CST
from service.app import create_app
from service.config import Settings
from tests.service.conftest import REGIONS_DIR
from tests.service.pages.conftest import axe_violations
from tests.service.pages.test_desk_day_browser import expect, sign_in

OWN = {"Origin": "http://testserver"}


def seed(ledger) -> dict[str, tuple]:
    """Keys and four referrals from 华埠: three to the proposal (开化县人民医院), one elsewhere with a reason."""
    engine = ledger.engine
    keys = {"huabu": create_key(engine, role="desk", label="指标 华埠", region="quzhou", institution="kh-huabu"),
            "people": create_key(engine, role="desk", label="指标 人民", region="quzhou", institution="kh-people"),
            "planner": create_key(engine, role="planner", label="指标 规划"),
            "admin": create_key(engine, role="admin", label="指标 管理")}
    routing = {"destination": {"id": "kh-people"}}
    for k in range(4):
        other = k == 3
        record = ledger.create(keys["huabu"][0], NewReferral(
            specialty="普外科", reason="腹痛待查", patient={"ref": f"IND-{k}"},
            destination="kh-tcm" if other else None, destination_why="患者要求" if other else None),
            routing=routing).record
        if k < 2:
            ledger.act(keys["people"][0], record.number, "accept")
    return keys


@pytest.fixture(scope="module")
def app_keys(tmp_path_factory):
    app = create_app(Settings(regions_dir=REGIONS_DIR, data_dir=tmp_path_factory.mktemp("ledger")))
    with TestClient(app):
        app.state.loader.thread.join()
        keys = seed(app.state.ledger)
        yield app, keys


def signed_in(app, text: str) -> TestClient:
    client = TestClient(app)
    assert client.post("/desk/signin", data={"key": text}, headers=OWN, follow_redirects=False).status_code == 303
    return client


def this_year() -> str:
    return str(dt.datetime.now(CST).year)


def test_the_page_for_a_planner(app_keys):
    app, keys = app_keys
    page = signed_in(app, keys["planner"][1]).get("/desk/quzhou/indicators", params={"period": this_year(),
                                                                                      "by": "community"})
    assert page.status_code == 200, page.text
    html = page.text
    for dim in ("volume", "outcome", "timeliness", "flow", "quota", "match", "county"):
        assert f'id="dim-{dim}"' in html
    assert html.count('role="img"') >= 8  # six trends, the matrix, the map
    assert "开化县中医院" in html and "患者要求（1）" in html  # the bypass row with its reason
    assert 'id="access"' in html and "按机构计（区域未提供人口）" in html and "60 分钟" in html
    assert "未采集" in html and "90.0%" in html  # no aggregates yet; the stated 90 % goal
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_who_may_see_it_and_bad_input(app_keys):
    app, keys = app_keys
    refused = signed_in(app, keys["huabu"][1]).get("/desk/quzhou/indicators")
    assert refused.status_code == 403 and "无法办理" in refused.text
    assert TestClient(app).get("/desk/quzhou/indicators").status_code == 401
    bad = signed_in(app, keys["admin"][1]).get("/desk/quzhou/indicators", params={"period": "2026-Q5"})
    assert bad.status_code == 422 and "统计期须为年份" in bad.text


def test_the_page_in_chromium_offline_and_accessible(desk, live_app):
    keys = seed(live_app[1].state.ledger)
    sign_in(desk, keys["planner"][1])
    desk.go(f"/desk/quzhou/indicators?period={this_year()}&by=community")
    page = desk.page
    expect(page.locator("#dim-volume caption")).to_have_text("转诊量")
    expect(page.locator("#bypass tbody tr").first).to_contain_text("开化县中医院")
    assert page.locator("svg.chart").count() >= 8
    assert axe_violations(page) == []
    page.get_by_label("统计期").fill("2026-13")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("#period-error")).to_be_visible()
