"""Attachments on the desk page in a real headless Chromium (see conftest.py): a desk uploads a file on the
referral's page, a file that is not what it says is refused in Chinese, the other desk downloads it (always as a
download, with nosniff), a third desk cannot, the printed 转诊单 lists it; axe-core finds nothing."""

from __future__ import annotations

import pytest

from mednet.ledger import NewReferral, create_key
from tests.mednet.ledger.test_attachments import pdf, png
from tests.service.pages.conftest import axe_violations
from tests.service.pages.test_desk_day_browser import expect, sign_in


@pytest.fixture(scope="module")
def files(live_app):
    """Desk keys of 华埠, 开化县人民医院 and 池淮 (clear text by name), the ledger, and a referral from 华埠 to
    开化县人民医院."""
    ledger = live_app[1].state.ledger
    keys = {name: create_key(ledger.engine, role="desk", label=f"附件 {name}", region="quzhou", institution=inst)
            for name, inst in (("huabu", "kh-huabu"), ("people", "kh-people"), ("chihuai", "kh-chihuai"))}
    number = ledger.create(keys["huabu"][0], NewReferral(
        specialty="普外科", reason="右下腹痛一天", patient={"ref": "HB-ATT-1"}, route=False,
        destination="kh-people")).record.number
    return ledger, keys, number


def test_a_desk_attaches_a_file_and_the_other_desk_downloads_it(desk, other_desk, files):
    ledger, keys, number = files
    page = desk.page
    sign_in(desk, keys["huabu"][1])
    desk.go(f"/desk/quzhou/referrals/{number}")
    expect(page.locator("#no-files")).to_have_text("暂无附件。")
    page.get_by_label("选择附件文件").set_input_files({"name": "血常规.pdf", "mimeType": "application/pdf",
                                                 "buffer": b"<html><script>alert(1)</script></html>"})
    page.get_by_role("button", name="上传附件", exact=True).click()
    expect(page.locator("#file-error")).to_contain_text("内容不是 PDF、PNG 或 JPEG 文件")
    expect(page.locator("#refusal")).to_contain_text("未能上传附件")
    page.get_by_label("选择附件文件").set_input_files({"name": "胸片.png", "mimeType": "image/png", "buffer": png()})
    page.get_by_role("button", name="上传附件", exact=True).click()
    expect(page.locator("#done")).to_have_text("已上传附件。")
    expect(page.locator("#files")).to_contain_text("胸片.png（PNG 图片，")
    assert axe_violations(page) == []
    desk.go(f"/desk/quzhou/referrals/{number}/print")
    expect(page.locator("#slip-files")).to_contain_text("胸片.png（PNG 图片")

    hospital = other_desk.page
    sign_in(other_desk, keys["people"][1])
    other_desk.go(f"/desk/quzhou/referrals/{number}")
    link = hospital.locator(".file-link", has_text="胸片.png")
    with hospital.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "胸片.png"
    assert download.value.path().read_bytes() == png()
    answer = hospital.request.get(other_desk.origin + link.get_attribute("href"))
    assert answer.status == 200 and answer.body() == png()
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in answer.headers["content-security-policy"]
    reads = [r.what for r in ledger.reads(create_key(ledger.engine, role="admin", label="附件 管理")[0])
             if r.referral == number]
    assert reads.count(f"attachment {ledger.attachments(keys['people'][0], number, what=None)[0].id}") == 2


def test_a_third_desk_cannot_download_and_the_same_file_is_taken_once(desk, files):
    ledger, keys, number = files
    info = ledger.attach(keys["people"][0], number, "血常规.pdf", pdf())
    page = desk.page
    sign_in(desk, keys["chihuai"][1])
    answer = page.request.get(f"{desk.origin}/desk/quzhou/referrals/{number}/attachments/{info.id}")
    assert answer.status == 403 and answer.body() != pdf()
    sign_in(desk, keys["people"][1])
    desk.go(f"/desk/quzhou/referrals/{number}")
    page.get_by_label("选择附件文件").set_input_files({"name": "again.pdf", "mimeType": "application/pdf",
                                                 "buffer": pdf()})
    page.get_by_role("button", name="上传附件", exact=True).click()
    expect(page.locator("#file-error")).to_contain_text("已经上传过")
    assert axe_violations(page) == []
