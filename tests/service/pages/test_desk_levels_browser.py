"""In a real headless Chromium (see conftest.py): an admin sets a region's service level on its page (and a
wrong one is refused in Chinese), then goes back to the default; axe-core finds nothing on the page."""

from __future__ import annotations

import pytest

from mednet.ledger import create_key
from tests.service.pages.conftest import axe_violations
from tests.service.pages.test_desk_day_browser import expect, sign_in


@pytest.fixture(scope="module")
def people(live_app):
    ledger = live_app[1].state.ledger
    admin = create_key(ledger.engine, role="admin", label="时限 管理员（测试）")
    return ledger, admin


def test_an_admin_sets_a_service_level_and_goes_back_to_the_default(desk, people):
    ledger, admin = people
    page = desk.page
    sign_in(desk, admin[1])
    desk.go("/desk/quzhou/worklist")
    page.get_by_role("link", name="服务时限").click()
    expect(page.locator("#level-urgent")).to_contain_text("2 小时")
    page.get_by_label("紧急程度").select_option(label="加急")
    page.get_by_label("时限", exact=True).select_option(label="应答（接收、拒绝或改转）")
    page.get_by_label("时长", exact=True).fill("0")
    page.get_by_role("button", name="保存时限").click()
    expect(page.locator(".error-summary")).to_contain_text("须在 1 到 720 小时之间")
    assert "must be" not in page.locator("main").inner_text()
    page.get_by_label("时长", exact=True).fill("1")
    page.get_by_label("单位", exact=True).select_option(label="小时")
    page.get_by_label("依据（可不填）").fill("示例：测试用时限")
    page.get_by_role("button", name="保存时限").click()
    expect(page.locator("#done")).to_contain_text("已将加急转诊的“应答（接收、拒绝或改转）”时限设置为 1 小时")
    expect(page.locator("#level-urgent")).to_contain_text("1 小时（默认 2 小时）")
    expect(page.locator("#level-urgent")).to_contain_text("本区域设置")
    assert ledger.service_levels("quzhou")["urgent"].respond.text == "1 hours"
    assert axe_violations(page) == []
    page.get_by_label("紧急程度").select_option(label="加急")
    page.get_by_label("恢复为默认").check()
    page.get_by_role("button", name="保存时限").click()
    expect(page.locator("#done")).to_contain_text("恢复为默认 2 小时")
    assert ledger.service_levels("quzhou")["urgent"].source == "default"
