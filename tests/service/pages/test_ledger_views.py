"""The desk's ledger screens as HTML (no browser): sign-in, refer, worklist, actions, the 转诊单, every refusal in
Chinese with its status, cross-site form posts refused, and reads behind a key."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from fastapi.testclient import TestClient

from mednet.ledger import ActionIn, NewReferral, QuotaIn, create_key
from mednet.routing import CST
from service.app import create_app
from service.config import Settings
from tests.service.conftest import REGIONS_DIR

OWN = {"Origin": "http://testserver"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app(Settings(regions_dir=REGIONS_DIR, data_dir=tmp_path_factory.mktemp("ledger")))


@pytest.fixture(scope="module")
def desk_keys(app):
    """A started app (its own ledger) and the clear keys of 华埠, 开化县人民医院, 池淮, a planner and an admin."""
    with TestClient(app):
        app.state.loader.thread.join()
        engine = app.state.ledger.engine
        keys = {name: create_key(engine, role="desk", label=name, region="quzhou", institution=inst)
                for name, inst in (("huabu", "kh-huabu"), ("people", "kh-people"), ("chihuai", "kh-chihuai"))}
        keys["planner"] = create_key(engine, role="planner", label="规划")
        keys["admin"] = create_key(engine, role="admin", label="管理")
        app.state.ledger.set_quota(keys["admin"][0], "quzhou", QuotaIn(institution="kh-people",
                                                                       specialty="普外科", per_day=1))
        yield keys


def signed_in(app, desk_keys, name):
    """A client signed in through the sign-in form as ``name``."""
    client = TestClient(app)  # no lifespan: the module's started app serves it
    answer = client.post("/desk/signin", data={"key": desk_keys[name][1]}, headers=OWN, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def token(page) -> dict[str, str]:
    """The hidden fields of the first form holding a token (version and idempotency token)."""
    return dict(re.findall(r'<input type="hidden" name="(version|token)" value="([^"]*)"', page.text)[:2])


PATIENTS = itertools.count(1)


def refer(client, **fields):
    page = client.get("/desk/quzhou/route", params={"origin": "华埠", "specialty": "普外科"})
    form = {**token(page), "specialty": "普外科", "direction": "up", "patient_ref": f"HB-2024-{next(PATIENTS):04d}",
            "reason": "右下腹痛一天，疑阑尾炎", "priority": "urgent", **fields}
    return client.post("/desk/quzhou/referrals", data=form, headers=OWN, follow_redirects=False)


def number_of(answer) -> str:
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].split("/referrals/")[1].split("?")[0]


def act(client, number, action, **fields):
    page = client.get(f"/desk/quzhou/referrals/{number}")
    return client.post(f"/desk/quzhou/referrals/{number}/{action}", data={**token(page), **fields}, headers=OWN,
                       follow_redirects=False)


def test_sign_in_keeps_the_key_in_a_strict_cookie_for_the_desk_only(app, desk_keys):
    client = TestClient(app)
    wrong = client.post("/desk/signin", data={"key": "mk_0000000000_nope"}, headers=OWN)
    assert wrong.status_code == 401 and "密钥无效或已吊销" in wrong.text
    answer = client.post("/desk/signin", data={"key": desk_keys["huabu"][1]}, headers=OWN,
                         follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/desk/quzhou/worklist"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/desk" in cookie
    page = client.get("/desk/quzhou/worklist")
    assert '<strong>华埠卫生院</strong> · 转诊服务台' in page.text
    out = client.post("/desk/signout", headers=OWN, follow_redirects=False)
    assert out.status_code == 303 and 'mednet_desk=""' in out.headers["set-cookie"]
    client.cookies.clear()
    assert client.get("/desk/quzhou/worklist").status_code == 401


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Referer": "https://evil.example/x"},
                                     {}, {"Origin": "null"}])
def test_a_form_posted_from_another_site_is_refused(app, desk_keys, headers):
    client = signed_in(app, desk_keys, "huabu")
    before = app.state.ledger.list(desk_keys["huabu"][0]).items
    page = client.get("/desk/quzhou/route", params={"origin": "华埠", "specialty": "普外科"})
    answer = client.post("/desk/quzhou/referrals", data={**token(page), "specialty": "普外科", "patient_ref": "X-1",
                                                         "reason": "腹痛"}, headers=headers)
    assert answer.status_code == 403 and "不是从本服务的页面提交的" in answer.text
    assert app.state.ledger.list(desk_keys["huabu"][0]).items == before
    assert client.post("/desk/signin", data={"key": desk_keys["people"][1]}, headers=headers).status_code == 403
    referer = client.post("/desk/signout", headers={"Referer": "http://testserver/desk/quzhou/worklist"},
                          follow_redirects=False)
    assert referer.status_code == 303


def test_only_desk_paths_take_form_posts(app, desk_keys):
    client = TestClient(app)
    answer = client.post("/regions/quzhou/routes", data={"origin": "华埠", "specialty": "儿科"})
    assert answer.status_code == 415
    assert client.post("/referrals", data={"specialty": "儿科"}).status_code == 415


def test_refer_from_the_answer_and_from_an_alternative_with_its_why(app, desk_keys):
    client = signed_in(app, desk_keys, "huabu")
    page = client.get("/desk/quzhou/route", params={"origin": "华埠", "specialty": "普外科"})
    assert 'id="refer-title">创建转诊单' in page.text and 'value="kh-people" checked' in page.text
    created = refer(client)
    shown = client.get(created.headers["location"])
    assert "开化县人民医院" in shown.text and "待接收" in shown.text and "已创建转诊单" in shown.text
    assert "上转至本医共体开化县人民医院医共体" in shown.text  # the router's own why, stored with the referral
    no_why = refer(client, destination="kh-2nd")
    assert no_why.status_code == 422 and "请说明不选建议去向的理由" in no_why.text
    other = number_of(refer(client, destination="kh-2nd", destination_why="患者要求去第二人民医院"))
    record = app.state.ledger.get(desk_keys["huabu"][0], other)
    assert record.destination.id == "kh-2nd" and record.proposed_destination.id == "kh-people"
    assert record.destination_why == "患者要求去第二人民医院"


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"patient_ref": "11010519491231002X"}, "patient_ref", "像是居民身份证号"),
    ({"reason": "患者 11010519491231002X 腹痛"}, "reason", "像是居民身份证号"),
    ({"patient_ref": ""}, "patient_ref", "请填写本服务台的患者编号"),
    ({"reason": ""}, "reason", "请填写转诊原因"),
    ({"birth_year": "五六年"}, "birth_year", "出生年份须为四位数字"),
])
def test_a_bad_referral_is_said_in_chinese_at_its_field(app, desk_keys, fields, field, words):
    client = signed_in(app, desk_keys, "huabu")
    answer = refer(client, **fields)
    assert answer.status_code == 422
    error = answer.text.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert words in error
    assert "11010519491231002X" not in str(app.state.ledger.list(desk_keys["huabu"][0]).items)


def test_only_the_referring_desk_of_the_origin_may_refer_from_an_answer(app, desk_keys):
    client = signed_in(app, desk_keys, "people")
    page = client.get("/desk/quzhou/route", params={"origin": "华埠", "specialty": "普外科"})
    assert "出发机构填本机构，才能从这个结果创建转诊单" in page.text and 'class="refer-form"' not in page.text
    anonymous = TestClient(app)
    assert "登录后，可以在这里直接创建转诊单" in anonymous.get(
        "/desk/quzhou/route", params={"origin": "华埠", "specialty": "普外科"}).text
    planner = signed_in(app, desk_keys, "planner")
    assert "规划人员的密钥只能查看" in planner.get("/desk/quzhou/route", params={"origin": "华埠",
                                                                          "specialty": "普外科"}).text
    refused = refer(planner)
    assert refused.status_code == 403 and "规划人员的密钥只能查看，不能办理转诊" in refused.text


def test_the_worklist_and_the_actions_each_desk_may_take(app, desk_keys):
    huabu, people = signed_in(app, desk_keys, "huabu"), signed_in(app, desk_keys, "people")
    number = number_of(refer(huabu))
    assert number in people.get("/desk/quzhou/worklist").text.split('id="incoming"')[1].split('id="outgoing"')[0]
    assert number in huabu.get("/desk/quzhou/worklist").text.split('id="outgoing"')[1]
    mine = huabu.get(f"/desk/quzhou/referrals/{number}").text
    assert 'id="action-cancel"' in mine and 'id="action-accept"' not in mine
    theirs = people.get(f"/desk/quzhou/referrals/{number}").text
    assert re.findall(r'id="action-(\w+)"', theirs) == ["accept", "reject", "redirect"]
    no_reason = act(people, number, "reject")
    assert no_reason.status_code == 422 and "拒绝、改转都需要说明原因" in no_reason.text
    forbidden = huabu.post(f"/desk/quzhou/referrals/{number}/accept", data=token(
        huabu.get(f"/desk/quzhou/referrals/{number}")), headers=OWN)
    assert forbidden.status_code == 403 and "只有接收方（去向机构）的服务台可以办理" in forbidden.text
    stale = people.get(f"/desk/quzhou/referrals/{number}")
    assert act(people, number, "accept").status_code == 303
    again = people.post(f"/desk/quzhou/referrals/{number}/accept", data=token(stale), headers=OWN)
    assert again.status_code == 412 and "在您打开页面后已被修改（现为第 2 版" in again.text
    illegal = people.post(f"/desk/quzhou/referrals/{number}/complete", data={"confirm": "yes"}, headers=OWN)
    assert illegal.status_code == 409
    assert ("转诊单现在是“已接收”，不能“诊疗完成”。现在可以办理：暂留号源、预约号源、登记到诊、撤销、作过期处理"
            in illegal.text)
    events = people.get(f"/desk/quzhou/referrals/{number}").text.split('id="history"')[1]
    assert "创建转诊单" in events and "接收" in events and "待接收 → 已接收" in events


def test_book_a_slot_taken_meanwhile_then_the_next_arrive_complete_and_send_home(app, desk_keys):
    huabu, people = signed_in(app, desk_keys, "huabu"), signed_in(app, desk_keys, "people")
    number = number_of(refer(huabu))
    assert act(people, number, "accept").status_code == 303
    page = people.get(f"/desk/quzhou/referrals/{number}")
    slots = re.findall(r'name="slot" value="([^"]+)"', page.text)
    assert slots and all(s.startswith("quota/kh-people/general_surgery/") for s in slots)
    # another desk's referral takes the first slot through the ledger, after the page was loaded
    ledger, chihuai, kp = app.state.ledger, desk_keys["chihuai"][0], desk_keys["people"][0]
    other = ledger.create(chihuai, NewReferral(specialty="普外科", reason="腹痛", patient={"ref": "CH-1"},
                                               route=False, destination="kh-people")).record.number
    ledger.act(kp, other, "accept")
    ledger.act(kp, other, "book", ActionIn(slot=slots[0]))
    taken = people.post(f"/desk/quzhou/referrals/{number}/book", data={**token(page), "slot": slots[0]},
                        headers=OWN)
    assert taken.status_code == 409
    assert "当天的转诊号源已用完（刚被其他转诊单约走）。请另选一个号源" in taken.text
    assert f'value="{slots[0]}"' not in taken.text  # the slot list is read again: the full day is gone
    assert act(people, number, "book", slot=slots[1]).status_code == 303
    early = act(people, number, "arrive", confirm="yes")  # the booked day is tomorrow: a reason is needed
    assert early.status_code == 422 and "提前到诊须写明理由" in early.text
    assert act(people, number, "arrive", confirm="yes", reason="病情加重，提前来院").status_code == 303
    assert act(people, number, "complete", confirm="yes").status_code == 303
    page = people.get(f"/desk/quzhou/referrals/{number}")
    assert "路由建议下转到 <strong>华埠卫生院</strong>（全科）" in page.text
    home = act(people, number, "send-home")
    down = number_of(home)
    record = ledger.get(kp, down)
    assert record.parent == number and record.destination.id == "kh-huabu" and record.direction == "down"
    assert record.origin.id == "kh-people" and record.specialty == "general_practice"
    assert f'id="parent-link">{number}' in people.get(f"/desk/quzhou/referrals/{down}").text
    assert down in huabu.get("/desk/quzhou/worklist").text.split('id="incoming"')[1]
    again = act(people, number, "send-home")  # a second click, from another tab: the first is named
    assert again.status_code == 409 and f"已经下转为 {down}" in again.text
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[\d:.]+\+08:00">', page.text)  # times in CST, offset given


def test_the_printable_slip(app, desk_keys):
    huabu = signed_in(app, desk_keys, "huabu")
    number = number_of(refer(huabu, patient_ref="HB-2024-0192"))
    slip = huabu.get(f"/desk/quzhou/referrals/{number}/print")
    assert slip.status_code == 200
    for words in (number, "HB-2024-0192", "华埠卫生院", "开化县人民医院", "普通外科", "上转", "加急", "右下腹痛一天",
                  "上转至本医共体开化县人民医院医共体", "区域数据没有公布该机构的联系方式", "资料来源："):
        assert words in slip.text, words


def test_unknown_and_other_desks_referrals_are_refused_in_words(app, desk_keys):
    huabu, chihuai = signed_in(app, desk_keys, "huabu"), signed_in(app, desk_keys, "chihuai")
    missing = huabu.get("/desk/quzhou/referrals/R20000101-999999")
    assert missing.status_code == 404 and "找不到转诊单“R20000101-999999”" in missing.text
    number = number_of(refer(huabu))
    assert chihuai.get(f"/desk/quzhou/referrals/{number}").status_code == 403
    unknown_action = huabu.post(f"/desk/quzhou/referrals/{number}/fly", data={}, headers=OWN)
    assert unknown_action.status_code == 409 and "现在可以办理" in unknown_action.text


def test_a_planner_reads_but_takes_no_action(app, desk_keys):
    huabu, planner = signed_in(app, desk_keys, "huabu"), signed_in(app, desk_keys, "planner")
    number = number_of(refer(huabu))
    assert number in planner.get("/desk/quzhou/worklist").text
    page = planner.get(f"/desk/quzhou/referrals/{number}")
    assert "规划人员的密钥只能查看" in page.text and 'class="action-form"' not in page.text
    refused = planner.post(f"/desk/quzhou/referrals/{number}/accept", data={}, headers=OWN)
    assert refused.status_code == 403 and "规划人员的密钥只能查看，不能办理转诊" in refused.text


def test_the_route_screen_gives_the_routers_words_and_contact_details(app, desk_keys):
    client = TestClient(app)
    page = client.get("/desk/minhang/route", params={"origin": "虹桥社区卫生服务中心", "specialty": "中医儿科",
                                                   "when": "2024-10-28T09:00"})
    referral = app.state.loader.regions["minhang"].router.route("虹桥社区卫生服务中心", "中医儿科",
                                                                when=dt.datetime(2024, 10, 28, 9, tzinfo=CST))
    why = page.text.split('class="why">', 1)[1].split("</dd>", 1)[0]
    assert why == referral.explanation
    contact = page.text.split('class="contact">', 1)[1].split("</dd>", 1)[0]
    assert contact == "地址：万源路2439号；预约渠道：闵行捷医小程序"


def test_reads_need_a_key_and_the_signed_in_cookie_counts(tmp_path):
    closed = create_app(Settings(regions_dir=REGIONS_DIR, data_dir=tmp_path, reads_need_key=True))
    with TestClient(closed) as client:
        closed.state.loader.thread.join()
        text = create_key(closed.state.ledger.engine, role="desk", label="华埠", region="quzhou",
                          institution="kh-huabu")[1]
        for path in ("/desk/", "/desk/quzhou/route?origin=华埠&specialty=普外科", "/desk/quzhou/planner",
                     "/desk/quzhou/planner.csv", "/desk/quzhou/worklist"):
            refused = client.get(path)
            assert refused.status_code == 401 and "请先用本服务台的密钥登录" in refused.text, path
        assert client.get("/desk/quzhou/names", params={"q": "华埠"}).status_code == 401
        assert client.get("/desk/signin").status_code == 200
        assert client.get("/desk/static/desk.css").status_code == 200
        assert client.post("/desk/signin", data={"key": text}, headers=OWN, follow_redirects=False).status_code == 303
        assert client.get("/desk/quzhou/route", params={"origin": "华埠", "specialty": "普外科"}).status_code == 200
        assert client.get("/desk/quzhou/planner").status_code == 200
        names = client.get("/desk/quzhou/names", params={"q": "华埠"}).json()
        assert names["items"][0]["institution"]["name"] == "华埠卫生院"
        assert client.get("/regions").status_code == 401  # the cookie is the pages' only (Path=/desk)


def test_the_ledger_screens_have_no_inline_code(app, desk_keys):
    from tests.service.pages.test_views import InlineCode

    huabu = signed_in(app, desk_keys, "huabu")
    number = number_of(refer(huabu))
    for path in ("/desk/signin", "/desk/quzhou/worklist", f"/desk/quzhou/referrals/{number}",
                 f"/desk/quzhou/referrals/{number}/print", "/desk/quzhou/route?origin=华埠&specialty=普外科"):
        response = huabu.get(path)
        assert response.headers["content-security-policy"].startswith("default-src 'self';"), path
        parser = InlineCode()
        parser.feed(response.text)
        assert parser.found == [], path


def test_the_root_sends_a_browser_to_the_desk_and_tells_a_client_where_things_are(app, desk_keys):
    client = TestClient(app)
    browser = client.get("/", headers={"Accept": "text/html,application/xhtml+xml"}, follow_redirects=False)
    assert browser.status_code == 303 and browser.headers["location"] == "/desk/"
    api = client.get("/", headers={"Accept": "application/json"})
    assert api.status_code == 200 and api.json()["desk"] == "/desk/" and api.json()["docs"] == "/docs"


def test_the_same_patient_with_the_same_need_is_warned_and_linked(app, desk_keys):
    huabu = signed_in(app, desk_keys, "huabu")
    first = number_of(refer(huabu, patient_ref="HB-SAME-1"))
    again = refer(huabu, patient_ref="HB-SAME-1")
    assert again.status_code == 409 and "已有未结束的同专科转诊单" in again.text
    assert f'href="/desk/quzhou/referrals/{first}" class="duplicate-link"' in again.text
    second = number_of(refer(huabu, patient_ref="HB-SAME-1", duplicate_ok="yes"))
    assert second != first


def test_the_slip_carries_its_number_as_a_qr_code_made_here(app, desk_keys):
    import segno

    huabu = signed_in(app, desk_keys, "huabu")
    number = number_of(refer(huabu))
    slip = huabu.get(f"/desk/quzhou/referrals/{number}/print").text
    svg = slip.split('id="slip-qr">')[1].split("</svg>")[0] + "</svg>"
    assert f'aria-label="转诊单编号 {number} 的二维码"' in svg and "<path" in svg and "http" not in svg
    made = segno.make(number, micro=False, error="m").svg_inline(scale=3, title=f"转诊单编号 {number}",
                                                                 svgclass="qr", lineclass="qr-line")
    assert made.split('d="')[1].split('"')[0] in svg  # the same modules: the number, encoded locally
    assert 'id="print-button"' in slip


def test_the_clinical_summary_from_the_form_to_the_receiving_desk_and_the_record_of_its_reads(app, desk_keys):
    huabu, people = signed_in(app, desk_keys, "huabu"), signed_in(app, desk_keys, "people")
    wrong = refer(huabu, diagnosis_code="阑尾炎")
    assert wrong.status_code == 422 and "ICD-10 编码格式不对" in wrong.text
    number = number_of(refer(huabu, diagnosis_code="K35.8", diagnosis_text="急性阑尾炎", history="右下腹痛一天",
                             findings="麦氏点压痛，白细胞 13.2", treatment="禁食补液", purpose="手术治疗"))
    page = people.get(f"/desk/quzhou/referrals/{number}").text
    assert 'id="summary"' in page and "<code>K35.8</code> 急性阑尾炎" in page and "麦氏点压痛" in page
    planner = signed_in(app, desk_keys, "planner")
    assert 'id="summary"' not in planner.get(f"/desk/quzhou/referrals/{number}").text
    assert "手术治疗" in huabu.get(f"/desk/quzhou/referrals/{number}/print").text
    admin = signed_in(app, desk_keys, "admin")
    reads = admin.get("/desk/admin/reads").text
    assert number in reads and "转诊单页面" in reads and "打印转诊单" in reads
    assert "<td>开化县人民医院</td>" in reads and "<td>kh-people</td>" not in reads  # by name, not by id
    csv_text = admin.get("/desk/admin/reads.csv").text
    assert csv_text.startswith("\ufeff时间,密钥,机构,机构名称,转诊单,查看内容")
    assert f"kh-people,开化县人民医院,{number},转诊单页面" in csv_text
    assert people.get("/desk/admin/reads").status_code == 403
