"""A desk's whole day in a real headless Chromium (see conftest.py), one test per dead end that used to stop it:
a redirect, sending home once, closing a down-referral at a township, an early arrival, the disabled booking
button, a session that ends mid-form, the root address, typos, another institution's referral, confirmations and
dates; and axe-core on every page type."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from mednet.ledger import ActionIn, NewReferral, QuotaIn, create_key
from mednet.ledger.slots import CST
from tests.service.pages.conftest import axe_violations

SPECIALTY = "骨科"  # this module's quota (the other browser modules book 普外科 on the same service)


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.fixture(scope="module")
def day(live_app):
    """Keys of 华埠, 开化县人民医院 and 池淮 (clear text by name), the ledger, and a 骨科 quota of 3 a day at
    开化县人民医院, released 5 days ahead."""
    ledger = live_app[1].state.ledger
    keys = {name: create_key(ledger.engine, role="desk", label=f"日常 {name}", region="quzhou", institution=inst)
            for name, inst in (("huabu", "kh-huabu"), ("people", "kh-people"), ("chihuai", "kh-chihuai"))}
    admin = create_key(ledger.engine, role="admin", label="日常 管理")[0]
    ledger.set_quota(admin, "quzhou", QuotaIn(institution="kh-people", specialty=SPECIALTY, per_day=3))
    return ledger, keys


def refer(day, *, specialty: str = SPECIALTY, ref: str = "HB-DAY-1") -> str:
    ledger, keys = day
    return ledger.create(keys["huabu"][0], NewReferral(specialty=specialty, reason="右膝外伤肿痛，疑骨折",
                                                       patient={"ref": ref}, route=False,
                                                       destination="kh-people")).record.number


def quota_slot(days_ahead: int) -> str:
    day = (dt.datetime.now(CST) + dt.timedelta(days=days_ahead)).date()
    return f"quota/kh-people/orthopaedics/{day}"


def drive(day, number: str, *actions: str, slot_days: int = 0) -> None:
    ledger, keys = day
    for action in actions:
        body = ActionIn(slot=quota_slot(slot_days)) if action == "book" else ActionIn()
        if action == "arrive":
            body = ActionIn(reason="测试：提前到诊") if slot_days else ActionIn()
        ledger.act(keys["people"][0], number, action, body)


def sign_in(watched, text: str) -> None:
    watched.go("/desk/signin")
    watched.page.get_by_label("服务台密钥").fill(text)
    watched.page.get_by_role("button", name="登录").click()
    expect(watched.page.locator("#signed-in")).to_be_visible()


def test_a_redirect_is_shown_as_done_and_the_desk_keeps_sight_of_it(desk, day):
    number = refer(day)
    page = desk.page
    sign_in(desk, day[1]["people"][1])
    desk.go(f"/desk/quzhou/referrals/{number}")
    form = page.locator("#action-redirect")
    form.get_by_label("改转到哪家机构").fill("开化县中医院")
    form.get_by_label("改转他院理由").select_option(label="无床位")
    form.get_by_role("button", name="改转他院").click()
    expect(page.locator("#done")).to_contain_text("已改转他院：转诊单已转给开化县中医院")
    expect(page.locator("#no-actions")).to_contain_text("现由对方办理；这里只读")
    expect(page.locator("#history")).to_contain_text("理由：无床位")
    assert "403" not in page.content() and page.locator(".error-summary").count() == 0
    desk.go("/desk/quzhou/worklist?status=all")
    expect(page.locator("#passed")).to_contain_text(number)
    expect(page.locator("#passed")).to_contain_text("开化县中医院")


def test_send_home_once_and_the_township_closes_the_down_referral_without_a_booking(desk, other_desk, day):
    number = refer(day, ref="HB-DAY-2")
    drive(day, number, "accept", "book", "arrive", "complete")
    hospital = desk.page
    sign_in(desk, day[1]["people"][1])
    desk.go(f"/desk/quzhou/referrals/{number}")
    hospital.get_by_role("button", name="康复回社区（下转）").click()
    expect(hospital.locator("#done")).to_contain_text("这是新建的下转单")
    down = hospital.locator("#referral-title").inner_text().split()[1]
    hospital.locator("#parent-link").click()
    expect(hospital.locator("#follow-ups")).to_contain_text(down)
    expect(hospital.get_by_role("button", name="康复回社区（下转）")).to_have_count(0)
    expect(hospital.locator("#no-actions")).to_contain_text("患者已下转回社区")
    assert "back to the home community" not in day[0].get(day[1]["people"][0], down).reason

    township = other_desk.page
    sign_in(other_desk, day[1]["huabu"][1])
    other_desk.go(f"/desk/quzhou/referrals/{down}")
    township.get_by_role("button", name="接收").click()
    expect(township.locator("#state")).to_have_text("已接收")
    expect(township.locator("#walk-in")).to_contain_text("华埠卫生院的基层全科门诊可以直接到诊")
    township.get_by_role("button", name="登记到诊").click()  # not confirmed: nothing changes
    expect(township.locator("#arrive-error")).to_contain_text("请先勾选")
    expect(township.locator("#state")).to_have_text("已接收")
    township.get_by_label("已核对患者身份，确认患者已到诊").check()
    township.get_by_role("button", name="登记到诊").click()
    expect(township.locator("#state")).to_have_text("已到诊")
    expect(township.locator("#history")).to_contain_text("未预约，基层全科门诊直接到诊")
    township.get_by_label("确认本次诊疗已完成").check()
    township.get_by_role("button", name="诊疗完成").click()
    expect(township.locator("#state")).to_have_text("已完成")


def test_arrival_before_the_booked_day_needs_a_reason(desk, day):
    number = refer(day, ref="HB-DAY-3")
    drive(day, number, "accept", "book", slot_days=2)
    page = desk.page
    sign_in(desk, day[1]["people"][1])
    desk.go(f"/desk/quzhou/referrals/{number}")
    form = page.locator("#action-arrive")
    form.get_by_label("已核对患者身份").check()
    form.get_by_role("button", name="登记到诊").click()
    expect(page.locator("#refusal")).to_contain_text("提前到诊须写明理由")
    expect(page.locator("#state")).to_have_text("已预约")
    page.locator("#action-arrive").get_by_label("已核对患者身份").check()
    page.get_by_label(re.compile("提前到诊理由")).fill("病情加重，提前来院")
    page.get_by_role("button", name="登记到诊").click()
    expect(page.locator("#state")).to_have_text("已到诊")
    expect(page.locator("#history")).to_contain_text("提前到诊")


def test_the_disabled_booking_button_looks_disabled(desk, day):
    number = refer(day, specialty="儿科", ref="HB-DAY-4")  # no quota, no dated sessions: nothing to book
    drive(day, number, "accept")
    page = desk.page
    sign_in(desk, day[1]["people"][1])
    desk.go(f"/desk/quzhou/referrals/{number}")
    book, arrive = page.locator("#do-book"), page.locator("#do-arrive")
    expect(book).to_be_disabled()
    style = "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color, getComputedStyle(e).cursor]"
    assert book.evaluate(style) != arrive.evaluate(style)
    assert book.evaluate(style)[2] == "not-allowed"
    expect(page.locator("#no-slots")).to_contain_text("常设门诊可以不预约直接到诊")


def test_a_session_that_ends_mid_form_comes_back_to_the_form_as_typed(desk, day):
    number = refer(day, ref="HB-DAY-5")
    page = desk.page
    sign_in(desk, day[1]["people"][1])
    desk.go(f"/desk/quzhou/referrals/{number}")
    page.context.clear_cookies()  # the session ends while the clerk types
    form = page.locator("#action-reject")
    form.get_by_label("拒绝理由").select_option(label="其他")
    form.get_by_label("说明").fill("本院骨科医生外出进修，本周无法接诊")
    form.get_by_role("button", name="拒绝").click()
    expect(page.get_by_role("heading", name="请重新登录")).to_be_visible()
    page.get_by_label("服务台密钥").fill(day[1]["people"][1])
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#resumed")).to_contain_text("填写的内容已保留")
    assert "Method Not Allowed" not in page.content()
    expect(page.locator("#reject-reason")).to_have_value("本院骨科医生外出进修，本周无法接诊")
    expect(page.locator("#reject-reason_code")).to_have_value("other")
    page.locator("#action-reject").get_by_role("button", name="拒绝").click()
    expect(page.locator("#state")).to_have_text("已拒绝")

    # the referral form under a route answer, likewise
    sign_in(desk, day[1]["huabu"][1])
    desk.go("/desk/quzhou/route?origin=华埠卫生院&specialty=骨科")
    page.get_by_label("患者编号").fill("HB-DAY-6")
    page.get_by_label("转诊原因").fill("腰痛伴下肢麻木两周")
    page.context.clear_cookies()
    page.get_by_role("button", name="创建转诊单").click()
    page.get_by_label("服务台密钥").fill(day[1]["huabu"][1])
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#resumed")).to_be_visible()
    expect(page.get_by_label("转诊原因")).to_have_value("腰痛伴下肢麻木两周")
    page.get_by_role("button", name="创建转诊单").click()
    expect(page.locator("#done")).to_have_text("已创建转诊单。")


def test_root_typos_another_desks_referral_and_dates_speak_chinese(desk, day):
    page = desk.page
    desk.go("/")  # (the test's request interception follows the redirect itself, so the address stays "/")
    expect(page.locator("h1")).to_have_text("选择区域")
    desk.go("/desk/quzhou/route?origin=华埠卫生院&specialty=普通外")
    suggestions = page.locator(".suggestion").all_inner_texts()
    assert "普通外科" in suggestions and not any(s.isascii() for s in suggestions), suggestions
    desk.go("/desk/quzhou/route?origin=开化县人民医院&direction=down&home=开化县人民医院医共")
    suggestions = page.locator(".suggestion").all_inner_texts()
    assert "开化县人民医院医共体" in suggestions and "kh-ygt-people" not in suggestions, suggestions
    for summary in page.locator(".error-summary").all_inner_texts():
        assert not re.search(r"[A-Za-z]{4,}", summary), summary  # no English line under the Chinese

    number = refer(day, ref="HB-DAY-7")
    sign_in(desk, day[1]["chihuai"][1])
    desk.go(f"/desk/quzhou/referrals/{number}")
    expect(page.locator(".error-summary")).to_contain_text("既不是转给本机构的，也不是本机构转出或改转的")
    assert page.locator("[lang=en]").count() == 0

    sign_in(desk, day[1]["huabu"][1])
    desk.go(f"/desk/quzhou/referrals/{number}")
    stamps = page.locator("#history time")
    assert stamps.count() >= 1
    machine = stamps.first.get_attribute("datetime")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00", machine), machine
    assert re.search(r"周[一二三四五六日]", stamps.first.inner_text())


PAGES = ("/desk/", "/desk/signin", "/desk/quzhou/route?origin=华埠卫生院&specialty=骨科",
         "/desk/quzhou/route?origin=华埠卫生院&specialty=普通外", "/desk/quzhou/planner?specialty=儿科&max_km=30",
         "/desk/quzhou/worklist", "/desk/quzhou/referrals/{number}", "/desk/quzhou/referrals/{number}/print",
         "/desk/quzhou/referrals/R00000000-000000")


def test_every_page_type_passes_axe_core(desk, day):
    number = refer(day, ref="HB-DAY-8")
    sign_in(desk, day[1]["huabu"][1])
    found = {}
    for path in PAGES:
        desk.go(path.format(number=number))
        if violations := axe_violations(desk.page):
            found[path] = violations
    assert found == {}


def test_overdue_referrals_are_marked_on_both_desks_worklists(desk, other_desk, day):
    from mednet.ledger import Ledger

    ledger, keys = day
    earlier = Ledger(ledger.engine, ledger.regions, now=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
    late = earlier.create(keys["huabu"][0], NewReferral(specialty=SPECIALTY, reason="外伤", priority="urgent",
                                                        patient={"ref": "HB-DAY-9"}, route=False,
                                                        destination="kh-people")).record.number
    on_time = refer(day, ref="HB-DAY-10")
    for watched, name, side in ((desk, "huabu", "#outgoing"), (other_desk, "people", "#incoming")):
        sign_in(watched, keys[name][1])
        watched.go("/desk/quzhou/worklist")
        row = watched.page.locator(f"{side} #row-{late}")
        expect(row.locator(".overdue")).to_contain_text("超时：未应答")
        expect(watched.page.locator(f"{side} #row-{on_time} .overdue")).to_have_count(0)
        expect(watched.page.locator("#overdue-count")).to_be_visible()


def test_admin_sets_a_quota_sees_its_days_and_makes_and_revokes_a_key(desk, day, live_app):
    ledger = day[0]
    admin_text = create_key(ledger.engine, role="admin", label="日常 管理员")[1]
    page = desk.page
    sign_in(desk, admin_text)
    desk.go("/desk/quzhou/admin/quotas")
    page.get_by_label("机构").fill("开化县中医院")
    page.get_by_label("专科").fill("康复")
    page.get_by_label("每日号源").fill("-2")
    page.get_by_role("button", name="设置号源").click()
    expect(page.locator(".error-summary")).to_contain_text("每日号源须为 0 到 10000 的整数")
    page.get_by_label("每日号源").fill("4")
    page.get_by_label("提前放号天数").fill("3")
    page.get_by_role("button", name="设置号源").click()
    expect(page.locator("#done")).to_contain_text("已设置开化县中医院的转诊号源")
    table = page.locator("#quota-kh-tcm-rehabilitation")
    expect(table.locator("caption")).to_contain_text("开化县中医院 · 康复：每日 4 个，提前 3 天放号")
    expect(table.locator("tbody tr")).to_have_count(4)
    expect(table.locator("tbody tr").first).to_contain_text("4")

    desk.go("/desk/admin/keys")
    page.get_by_label("持有人").fill("杨林卫生院转诊窗口")
    page.get_by_label("区域（服务台必填）").select_option("quzhou")
    page.get_by_label("机构（服务台必填）").fill("杨林卫生院")
    page.get_by_role("button", name="创建密钥").click()
    new_key = page.locator("#new-key").inner_text()
    assert re.fullmatch(r"mk_[0-9a-f]{10}_\S+", new_key)
    key_id = new_key.split("_")[1]
    expect(page.locator(f"#key-{key_id}")).to_contain_text("杨林卫生院")
    desk.go("/desk/admin/keys")
    assert new_key not in page.content()  # shown once
    page.get_by_role("button", name=re.compile(f"吊销密钥 {key_id}")).click()
    expect(page.locator("#done")).to_contain_text(f"已吊销密钥 {key_id}")
    expect(page.locator(f"#key-{key_id}")).to_contain_text("已吊销")
    assert axe_violations(page) == []
    for path in ("/desk/quzhou/admin/quotas", "/desk/admin/reads"):
        desk.go(path)
        assert axe_violations(page) == [], path
    sign_in(desk, day[1]["huabu"][1])  # a desk is not an admin
    desk.go("/desk/admin/keys")
    expect(page.locator(".error-summary")).to_contain_text("只有管理员的密钥可以办理")


def test_after_a_rejection_the_referring_desk_refers_to_the_next_capable_institution_in_one_step(desk, day):
    ledger, keys = day
    page = desk.page
    sign_in(desk, keys["huabu"][1])
    desk.go("/desk/quzhou/route?origin=华埠卫生院&specialty=骨科")
    page.get_by_label("患者编号").fill("HB-DAY-11")
    page.get_by_label("转诊原因").fill("右腕外伤肿痛")
    page.get_by_role("button", name="创建转诊单").click()
    number = page.locator("#referral-title").inner_text().split()[1]
    first = ledger.get(keys["huabu"][0], number).destination
    desk_of_first = create_key(ledger.engine, role="desk", label="日常 第一家", region="quzhou",
                               institution=first.id)[0]
    ledger.act(desk_of_first, number, "reject", ActionIn(reason_code="no_bed"))
    desk.go(f"/desk/quzhou/referrals/{number}")
    expect(page.locator("#rejected-why")).to_contain_text("理由：无床位")
    choice = page.locator("#action-rerefer input[name=destination]").first
    expect(choice).to_be_checked()
    page.get_by_role("button", name="改转下一家").click()
    expect(page.locator("#done")).to_contain_text("已改转下一家")
    expect(page.locator("#replaces-link")).to_have_text(number)
    assert page.locator("#destination").inner_text() != first.name
    renumber = page.locator("#referral-title").inner_text().split()[1]
    assert ledger.get(keys["huabu"][0], renumber).replaces == number
