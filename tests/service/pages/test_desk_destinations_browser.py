"""In a real headless Chromium (see conftest.py): a desk sees which of its destinations publish no bookable care
(no referral quota, no dated sessions) and whom to ask; axe-core finds nothing on the page."""

from __future__ import annotations

import pytest

from mednet.ledger import QuotaIn, create_key
from tests.service.pages.conftest import axe_violations
from tests.service.pages.test_desk_day_browser import expect, sign_in


@pytest.fixture(scope="module")
def people(live_app):
    ledger = live_app[1].state.ledger
    admin = create_key(ledger.engine, role="admin", label="去向 管理员（测试）")
    desk = create_key(ledger.engine, role="desk", label="去向 华埠", region="quzhou", institution="kh-huabu")
    return ledger, admin, desk


def test_a_desk_sees_which_destinations_publish_no_bookable_care_and_whom_to_ask(desk, people):
    ledger, admin, huabu = people
    ledger.set_quota(admin[0], "quzhou", QuotaIn(institution="kh-people", specialty="心血管内科", per_day=2))
    page = desk.page
    sign_in(desk, huabu[1])
    desk.go("/desk/quzhou/worklist")
    page.get_by_role("link", name="去向号源").click()
    expect(page.locator("h1")).to_have_text("去向号源（华埠卫生院）")
    expect(page.locator("#bookable")).to_contain_text("开化县人民医院")
    expect(page.locator("#bookable")).to_contain_text("每日 2 个，提前 5 天放号")
    expect(page.locator("#missing")).to_contain_text("常设门诊，可直接到诊")
    expect(page.locator("#whom")).to_contain_text("去向 管理员（测试）")
    assert page.locator("#missing tr", has_text="心血管内科").filter(has_text="开化县人民医院").count() == 0
    assert axe_violations(page) == []
