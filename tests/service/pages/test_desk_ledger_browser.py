"""The ledger's screens in a real headless Chromium (see conftest.py): the desk's whole loop from 华埠 to 开化县人民医院
and home again, a slot taken meanwhile, and the screens at phone width."""

from __future__ import annotations

import pytest

from mednet.ledger import ActionIn, NewReferral, QuotaIn, create_key


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.fixture(scope="module")
def keys(live_app):
    """Desk keys of 华埠, 开化县人民医院 and 池淮 (and their clear text); 开化县人民医院 keeps one 普通外科 referral
    unit a day (a quota an admin sets: the region's data gives it no dated sessions to book)."""
    ledger = live_app[1].state.ledger
    made = {name: create_key(ledger.engine, role="desk", label=name, region="quzhou", institution=inst)
            for name, inst in (("huabu", "kh-huabu"), ("people", "kh-people"), ("chihuai", "kh-chihuai"))}
    admin = create_key(ledger.engine, role="admin", label="管理")[0]
    ledger.set_quota(admin, "quzhou", QuotaIn(institution="kh-people", specialty="普外科", per_day=1))
    return made


def sign_in(watched, text: str) -> None:
    watched.go("/desk/signin")
    watched.page.get_by_label("服务台密钥").fill(text)
    watched.page.get_by_role("button", name="登录").click()


def test_the_loop_from_huabu_to_the_county_hospital_and_home(desk, other_desk, keys, live_app):
    page = desk.page
    sign_in(desk, keys["huabu"][1])
    expect(page.locator("#signed-in")).to_contain_text("华埠卫生院")
    expect(page.locator("#signed-in")).to_contain_text("转诊服务台")
    # the clerk routes a 普通外科 patient and sees the county hospital and why
    desk.go("/desk/quzhou/route")
    page.get_by_label("出发机构").press_sequentially("华埠", delay=30)
    expect(page.locator("#origin-names option").first).to_have_attribute("value", "华埠卫生院")
    page.get_by_label("所需专科").fill("普外科")
    page.get_by_label("所需专科").press("Enter")
    answer = page.locator("#answer")
    expect(answer.locator("h2")).to_contain_text("华埠卫生院 → 开化县人民医院")
    expect(answer.locator(".why")).to_contain_text("开化县人民医院是其中最近的、级别高于华埠卫生院且提供普通外科的机构")
    # a national ID number is refused, in Chinese, at its field
    page.get_by_label("患者编号").fill("11010519491231002X")
    page.get_by_label("转诊原因").fill("右下腹痛一天，疑阑尾炎，需外科诊治")
    page.get_by_role("button", name="创建转诊单").click()
    expect(page.locator("#patient_ref-error")).to_contain_text("像是居民身份证号")
    # the refusal, below the answer, takes the focus (and so the view), not the answer's heading above it
    expect(page.locator("#refer-errors-title")).to_be_focused()
    page.get_by_label("患者编号").fill("HB-2024-0192")
    page.get_by_label("紧急程度").select_option("urgent")
    page.get_by_role("button", name="创建转诊单").click()
    expect(page.locator("#done")).to_have_text("已创建转诊单。")
    number = page.locator("#referral-title").inner_text().split()[1]
    desk.screenshot("desk-referral-created")
    page.locator("#print-link").click()
    expect(page.locator(".slip")).to_contain_text(number)
    expect(page.locator(".slip .why")).to_contain_text("上转至本医共体开化县人民医院医共体")
    desk.screenshot("desk-slip")

    # the county hospital's desk sees it in its worklist, accepts and books
    hospital = other_desk.page
    sign_in(other_desk, keys["people"][1])
    expect(hospital.locator("#incoming")).to_contain_text(number)
    other_desk.screenshot("desk-worklist")
    hospital.locator("#incoming").get_by_role("link", name=number).click()
    hospital.get_by_role("button", name="接收").click()
    expect(hospital.locator("#state")).to_have_text("已接收")
    first = hospital.locator("input[name=slot]").first
    expect(first).to_be_checked()
    taken = first.get_attribute("value")
    # meanwhile another desk's referral takes that day's one unit, through the ledger
    ledger, people = live_app[1].state.ledger, keys["people"][0]
    other = ledger.create(keys["chihuai"][0], NewReferral(specialty="普外科", reason="腹痛", patient={"ref": "CH-7"},
                                                          route=False, destination="kh-people")).record.number
    ledger.act(people, other, "accept")
    ledger.act(people, other, "book", ActionIn(slot=taken))
    hospital.get_by_role("button", name="预约号源").click()
    expect(hospital.locator("#refusal")).to_contain_text("当天的转诊号源已用完（刚被其他转诊单约走）。请另选一个号源")
    expect(hospital.locator(f"input[name=slot][value='{taken}']")).to_have_count(0)
    other_desk.screenshot("desk-slot-taken")
    hospital.get_by_role("button", name="预约号源").click()
    expect(hospital.locator("#state")).to_have_text("已预约")
    hospital.get_by_label("已核对患者身份，确认患者已到诊").check()
    hospital.get_by_label("提前到诊理由", exact=False).fill("患者疼痛加重，提前来院")  # booked for tomorrow
    hospital.get_by_role("button", name="登记到诊").click()
    expect(hospital.locator("#state")).to_have_text("已到诊")
    hospital.get_by_label("确认本次诊疗已完成").check()
    hospital.get_by_role("button", name="诊疗完成").click()
    expect(hospital.locator("#state")).to_have_text("已完成")
    expect(hospital.locator("#home-proposal")).to_contain_text("华埠卫生院")
    hospital.get_by_role("button", name="康复回社区（下转）").click()
    # the down-referral, routed home to 华埠 and linked to its parent
    expect(hospital.locator("#done")).to_contain_text("这是新建的下转单")
    expect(hospital.locator("#destination")).to_have_text("华埠卫生院")
    expect(hospital.locator("#parent-link")).to_have_text(number)
    other_desk.screenshot("desk-sent-home")
    hospital.locator("#parent-link").click()
    expect(hospital.locator("#history")).to_contain_text("康复回社区（下转）")
    # and 华埠 sees the patient coming home
    desk.go("/desk/quzhou/worklist")
    expect(page.locator("#incoming")).to_contain_text("下转")


def test_the_ledger_screens_at_phone_width_with_labelled_fields(phone, keys):
    page = phone.page
    sign_in(phone, keys["huabu"][1])
    phone.go("/desk/quzhou/route?origin=华埠&specialty=普外科")
    expect(page.locator("#refer-title")).to_be_visible()
    for path in ("/desk/quzhou/route?origin=华埠&specialty=普外科", "/desk/quzhou/worklist", "/desk/signin"):
        phone.go(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
            .filter(e => e.type !== 'hidden' && e.labels.length === 0).map(e => e.id || e.name)""")
        assert unlabelled == [], path
    phone.go("/desk/quzhou/worklist")
    phone.screenshot("desk-worklist-phone")


def test_sign_in_and_out_with_the_keyboard(desk, keys):
    page = desk.page
    desk.go("/desk/signin")
    page.locator("#key").focus()
    page.keyboard.type(keys["people"][1])
    page.keyboard.press("Enter")
    expect(page.locator("#signed-in")).to_contain_text("开化县人民医院")
    assert not [c for c in page.context.cookies() if c["name"] == "mednet_desk" and not
                (c["httpOnly"] and c["sameSite"] == "Strict" and c["path"] == "/desk")]
    # the browser holds a session id, never the key
    assert [c["value"][:3] for c in page.context.cookies() if c["name"] == "mednet_desk"] == ["ms_"]
    assert keys["people"][1] not in str(page.context.cookies())
    page.get_by_role("button", name="签退").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("服务台密钥")).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "mednet_desk"]


def test_a_session_idle_too_long_is_asked_to_sign_in_again(desk, keys, live_app):
    import datetime as dt

    from mednet.ledger.store import desk_sessions

    page = desk.page
    sign_in(desk, keys["chihuai"][1])
    expect(page.locator("#signed-in")).to_contain_text("池淮")
    desk.go("/desk/quzhou/worklist")  # the clerk leaves the worklist open, its live stream connected
    idle = dt.timedelta(minutes=live_app[1].state.settings.desk_idle_minutes + 1)
    with live_app[1].state.ledger.engine.begin() as conn:  # the clerk left the desk for longer than the idle time
        conn.execute(desk_sessions.update().where(desk_sessions.c.key_id == keys["chihuai"][0].id)
                     .values(last_used_at=dt.datetime.now(dt.UTC) - idle))
    answered = page.evaluate("""() => new Promise((done) => {  // the stream reconnecting by itself meanwhile
        const stream = new EventSource("/desk/quzhou/worklist/events");
        stream.onerror = () => { stream.close(); done("refused"); };
        stream.onopen = () => { stream.close(); done("open"); };
    })""")
    assert answered == "refused"
    page.get_by_role("link", name="转诊工作台").click()  # the clerk is back
    expect(page.locator("body")).to_contain_text("登录已超时")  # not "signed out": the reconnect ended nothing
    expect(page.get_by_label("服务台密钥")).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "mednet_desk"]
    sign_in(desk, keys["chihuai"][1])  # signing in again works
    expect(page.locator("#signed-in")).to_contain_text("池淮")
