"""The desk tutorial (docs/tutorials/desk.md), walked step by step in a real headless Chromium (see conftest.py).

Every step the tutorial describes is performed here, in its order, and each step's screenshot is the one the
tutorial shows: they are written into ``artifacts/docs/`` (not committed), where the manual's build picks them
up. The test fails when the tutorial's list of pictures and the steps performed here differ.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mednet.ledger import QuotaIn, create_key

TUTORIAL = Path(__file__).resolve().parents[3] / "docs" / "tutorials" / "desk.md"
SHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "docs"
SPECIALTY = "普外科"


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def tutorial_shots() -> list[str]:
    """The screenshots the tutorial shows, in its order."""
    return re.findall(r"img/shots/(tutorial-desk-[\w-]+)\.png", TUTORIAL.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def desks(live_app):
    """The keys the tutorial's two desks were given by their admin (华埠卫生院, 开化县人民医院), and the county
    hospital's 普外科 referral quota (set by the admin beforehand, as the tutorial says)."""
    ledger = live_app[1].state.ledger
    keys = {name: create_key(ledger.engine, role="desk", label=f"教程 {name}", region="quzhou", institution=inst)[1]
            for name, inst in (("huabu", "kh-huabu"), ("people", "kh-people"))}
    admin = create_key(ledger.engine, role="admin", label="教程 管理")[0]
    # several a day: other browser modules on the same service book this quota's units too
    ledger.set_quota(admin, "quzhou", QuotaIn(institution="kh-people", specialty=SPECIALTY, per_day=20))
    return keys


class Steps:
    """Takes each step's screenshot under the tutorial's name for it, and remembers the order."""

    def __init__(self) -> None:
        self.taken: list[str] = []

    def shot(self, watched, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        watched.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
        self.taken.append(name)


def sign_in(watched, key: str) -> None:
    watched.go("/desk/")
    page = watched.page
    page.get_by_role("link", name="登录").click()
    expect(page.get_by_label("服务台密钥")).to_be_visible()
    page.get_by_label("服务台密钥").fill(key)


def test_the_desk_tutorial_step_by_step(desk, other_desk, desks):
    steps = Steps()
    page = desk.page
    # 1. sign in at /desk/ with the desk's key
    sign_in(desk, desks["huabu"])
    steps.shot(desk, "tutorial-desk-01-signin")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#signed-in")).to_contain_text("华埠卫生院")
    expect(page.locator("#signed-in")).to_contain_text("转诊服务台")
    expect(page.get_by_role("heading", name=re.compile("转诊工作台"))).to_be_visible()
    # 2. the route form: 华埠 completed to 华埠卫生院, 普外科
    page.get_by_role("link", name="转诊去向").first.click()
    page.get_by_label("出发机构").press_sequentially("华埠", delay=30)
    expect(page.locator("#origin-names option").first).to_have_attribute("value", "华埠卫生院")
    page.get_by_label("出发机构").fill("华埠卫生院")
    page.get_by_label("所需专科").fill(SPECIALTY)
    steps.shot(desk, "tutorial-desk-02-route-form")
    # 3. Enter: the answer and why
    page.get_by_label("所需专科").press("Enter")
    answer = page.locator("#answer")
    expect(answer.locator("h2")).to_contain_text("华埠卫生院 → 开化县人民医院")
    expect(answer.locator(".why")).to_contain_text("开化县人民医院是其中最近的、级别高于华埠卫生院且提供普通外科的机构")
    steps.shot(desk, "tutorial-desk-03-route")
    # 4. create the referral: a pseudonymous id, 加急, the reason
    page.get_by_label("患者编号").fill("HB-2026-0001")
    page.get_by_label("紧急程度").select_option(label="加急")
    page.get_by_label("转诊原因").fill("右下腹痛一天，疑阑尾炎，需外科诊治")
    page.get_by_role("button", name="创建转诊单").click()
    expect(page.locator("#done")).to_have_text("已创建转诊单。")
    number = page.locator("#referral-title").inner_text().split()[1]
    assert re.fullmatch(r"R\d{8}-\d{6}", number), number
    steps.shot(desk, "tutorial-desk-04-created")
    # 5. the printable slip
    page.get_by_role("link", name="打印转诊单").click()
    expect(page.locator(".slip")).to_contain_text(number)
    expect(page.locator(".slip")).to_contain_text("HB-2026-0001")
    steps.shot(desk, "tutorial-desk-05-slip")

    hospital = other_desk.page
    # 6. the county hospital signs in: its worklist shows the referral
    sign_in(other_desk, desks["people"])
    hospital.get_by_role("button", name="登录").click()
    expect(hospital.locator("#signed-in")).to_contain_text("开化县人民医院")
    expect(hospital.locator("#incoming")).to_contain_text("转入本机构")
    expect(hospital.locator("#incoming")).to_contain_text(number)
    steps.shot(other_desk, "tutorial-desk-06-worklist")
    hospital.locator("#incoming").get_by_role("link", name=number).click()
    # 7. accept
    hospital.get_by_role("button", name="接收").click()
    expect(hospital.locator("#state")).to_have_text("已接收")
    steps.shot(other_desk, "tutorial-desk-07-accepted")
    # 8. book the earliest free slot (checked by default)
    expect(hospital.locator("input[name=slot]").first).to_be_checked()
    hospital.get_by_role("button", name="预约号源").click()
    expect(hospital.locator("#state")).to_have_text("已预约")
    steps.shot(other_desk, "tutorial-desk-08-booked")
    # 9. arrival: identity checked; a reason when the patient comes before the booked day
    hospital.get_by_label("已核对患者身份，确认患者已到诊").check()
    early = hospital.get_by_label("提前到诊理由", exact=False)
    if early.count():
        early.fill("患者疼痛加重，提前来院")
    hospital.get_by_role("button", name="登记到诊").click()
    expect(hospital.locator("#state")).to_have_text("已到诊")
    steps.shot(other_desk, "tutorial-desk-09-arrived")
    # 10. completed: the page proposes the patient's home institution
    hospital.get_by_label("确认本次诊疗已完成").check()
    hospital.get_by_role("button", name="诊疗完成").click()
    expect(hospital.locator("#state")).to_have_text("已完成")
    expect(hospital.locator("#home-proposal")).to_contain_text("华埠卫生院")
    steps.shot(other_desk, "tutorial-desk-10-completed")
    # 11. send home: a new down-referral to 华埠卫生院, linked to its parent
    hospital.get_by_role("button", name="康复回社区（下转）").click()
    expect(hospital.locator("#done")).to_contain_text("这是新建的下转单")
    expect(hospital.locator("#destination")).to_have_text("华埠卫生院")
    expect(hospital.locator("#parent-link")).to_have_text(number)
    down = hospital.locator("#referral-title").inner_text().split()[1]
    steps.shot(other_desk, "tutorial-desk-11-sent-home")

    # 12. back at 华埠: the down-referral in its worklist
    desk.go("/desk/quzhou/worklist")
    expect(page.locator("#incoming")).to_contain_text(down)
    steps.shot(desk, "tutorial-desk-12-home-worklist")
    # 13. sign out: back at the sign-in page
    page.get_by_role("button", name="签退").click()
    expect(page.get_by_label("服务台密钥")).to_be_visible()
    expect(page.locator("#signed-in")).to_have_count(0)
    steps.shot(desk, "tutorial-desk-13-signed-out")

    assert steps.taken == tutorial_shots(), "docs/tutorials/desk.md shows other steps than the test performs"
