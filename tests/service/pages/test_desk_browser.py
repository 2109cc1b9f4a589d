"""The desk page in a real headless Chromium against the running service (see conftest.py)."""

from __future__ import annotations

import csv
import io
import re

import pytest

from mednet.regions import load_region


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def test_a_clerk_routes_a_general_surgery_patient_from_huabu(desk):
    page = desk.page
    desk.go("/desk/quzhou/route")
    page.get_by_label("出发机构").press_sequentially("华埠", delay=30)
    # completion comes from the directory: the datalist fills with the matching institutions
    expect(page.locator("#origin-names option").first).to_have_attribute("value", "华埠卫生院")
    assert any("/desk/quzhou/names?q=" in u for u in desk.requests)
    page.get_by_label("所需专科").fill("普外科")
    page.get_by_label("所需专科").press("Enter")
    answer = page.locator("#answer")
    expect(answer.locator("h2")).to_contain_text("上转：华埠卫生院 → 开化县人民医院")
    expect(answer.locator("h2")).to_be_focused()
    expect(answer).to_contain_text("20.0 公里")
    expect(answer.locator(".why")).to_have_text(
        "上转至本医共体开化县人民医院医共体：开化县人民医院是其中最近的、级别高于华埠卫生院且提供普通外科的机构")
    expect(answer.locator("table.alternatives")).to_contain_text("开化县第二人民医院")
    expect(answer.locator(".passed-over")).to_contain_text("本步骤范围外：开化县第二人民医院（0.0 公里）")
    expect(answer.locator(".passed-over")).to_contain_text("无此专科")
    # the route drawn on the region's own map: a path from 华埠 to the county hospital, both ringed
    expect(page.locator("svg.map polyline.route-path")).to_have_count(1)
    expect(page.locator("svg.map .destination-ring title")).to_have_text("去向：开化县人民医院")
    assert page.locator("svg.map .nodes > *").count() == len(load_region("quzhou").institutions)
    desk.screenshot("desk-route-1280x800")


def test_an_unknown_name_shows_suggestions_that_route_when_chosen(desk):
    page = desk.page
    desk.go("/desk/quzhou/route")
    page.get_by_label("出发机构").fill("华铺")
    page.get_by_label("所需专科").fill("普外科")
    page.get_by_role("button", name="查找去向").click()
    expect(page.locator(".error-summary")).to_contain_text("找不到机构“华铺”")
    expect(page.get_by_label("出发机构")).to_have_attribute("aria-invalid", "true")
    suggestion = page.locator("#suggestions a.suggestion", has_text="华埠卫生院")
    expect(suggestion).to_be_visible()
    desk.screenshot("desk-unknown-name")
    suggestion.click()
    expect(page.locator("#answer h2")).to_contain_text("开化县人民医院")


def test_an_unknown_specialty_suggests_the_closest(desk):
    page = desk.page
    desk.go("/desk/quzhou/route?origin=华埠&specialty=儿可")
    expect(page.locator(".field-error#specialty-error")).to_contain_text("找不到专科“儿可”")
    page.locator("#suggestions a.suggestion").first.click()
    expect(page.locator("#answer")).to_be_visible()


def test_the_patients_home_picked_on_the_map(desk):
    page = desk.page
    desk.go("/desk/quzhou/route")
    huabu = load_region("quzhou").institution("kh-huabu")
    node = page.locator("svg.map .nodes circle", has=page.locator("title", has_text="华埠卫生院")).first
    box = node.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2 + 2, box["y"] + box["height"] / 2 + 2)
    expect(page.locator("#origin_kind-point")).to_be_checked()
    lat, lon = float(page.get_by_label("纬度").input_value()), float(page.get_by_label("经度").input_value())
    assert abs(lat - huabu.lat) < 0.02 and abs(lon - huabu.lon) < 0.02
    expect(page.locator("svg.map #picked circle")).to_have_count(1)
    page.get_by_label("所需专科").fill("儿科")
    page.get_by_role("button", name="查找去向").click()
    answer = page.locator("#answer")
    expect(answer.locator("dt", has_text="住址")).to_be_visible()
    expect(answer).to_contain_text("居住地卫生院 华埠卫生院")
    expect(page.locator("svg.map #picked circle")).to_have_count(1)


def test_the_form_is_usable_with_the_keyboard_alone(desk):
    page = desk.page
    desk.go("/desk/quzhou/route")
    reached = []
    for _ in range(14):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
        if reached[-1] == "origin":
            page.keyboard.type("池淮")
        if reached[-1] == "specialty":
            page.keyboard.type("骨科")
    assert reached.index("origin") < reached.index("specialty") < reached.index("direction") < reached.index("when")
    page.locator("#when").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#answer h2")).to_contain_text("池淮(张湾)卫生院 → 开化县人民医院")


def test_every_field_has_a_label(desk):
    page = desk.page
    for path in ("/desk/quzhou/route", "/desk/quzhou/planner"):
        desk.go(path)
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
            .filter(e => e.type !== 'hidden' && e.labels.length === 0).map(e => e.id || e.name)""")
        assert unlabelled == [], path


def test_no_capable_institution_is_said_in_words(desk):
    page = desk.page
    desk.go("/desk/quzhou/route?origin=杨林&specialty=普外科&max_km=0.5")
    expect(page.locator(".error-summary")).to_contain_text("距离上限内没有提供该专科的机构")
    expect(page.locator(".error-summary")).to_contain_text("最近的是 开化县第二人民医院，27.7 公里")


def test_phone_width_has_no_sideways_scrolling(phone):
    page = phone.page
    phone.go("/desk/quzhou/route?origin=华埠&specialty=普外科")
    expect(page.locator("#answer h2")).to_contain_text("开化县人民医院")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    map_box = page.locator("svg.map").bounding_box()
    assert map_box["width"] <= 390
    phone.screenshot("desk-route-phone")


def test_planner_sees_gaps_as_table_map_and_csv(desk):
    page = desk.page
    desk.go("/desk/quzhou/planner")
    page.get_by_label("专科").fill("儿科")
    page.get_by_label("距离（公里）").fill("30")
    page.get_by_role("button", name="查看").click()
    expect(page.locator(".summary")).to_contain_text("56 家基层机构中，12 家超过 30 公里")
    first = page.locator("table.coverage tbody tr").first
    expect(first).to_contain_text("廿八都镇卫生院")
    expect(first).to_contain_text("65.9")
    expect(page.locator("table.coverage tbody tr.gap")).to_have_count(12)
    expect(page.locator("svg.map .gap-ring")).to_have_count(12)
    desk.screenshot("desk-planner-1280x800")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载表格（CSV）").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 56
    assert rows[0]["名称"] == "廿八都镇卫生院" and rows[0]["超过30公里"] == "是"
    assert sum(r["超过30公里"] == "是" for r in rows) == 12
    assert re.fullmatch(r"coverage-quzhou-paediatrics-30km\.csv", download.value.suggested_filename)


@pytest.mark.parametrize("path", ["/desk/", "/desk/quzhou/route?origin=华埠&specialty=普外科",
                                  "/desk/quzhou/planner?specialty=儿科&max_km=30"])
def test_pages_load_only_their_own_files(desk, path):
    desk.go(path)
    desk.page.wait_for_load_state("networkidle")
    own = [u for u in desk.requests if "/desk/static/" in u]
    assert {u.rsplit("/", 1)[1] for u in own} >= {"desk.css", "desk.js"}
