"""The desk pages as HTML (no browser): answers, errors in Chinese, static files, CSV, and no inline code."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from urllib.parse import quote

import pytest

ROUTE = "/desk/quzhou/route"


class InlineCode(HTMLParser):
    """Collects what a strict Content-Security-Policy would block: inline scripts, styles and handlers."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = {k for k, _ in attrs}
        if tag == "style":
            self.found.append("<style>")
        if tag == "script":
            self._in_script = "src" not in names
        if "style" in names:
            self.found.append(f"style= on <{tag}>")
        self.found += [f"{k}= on <{tag}>" for k in names if k.startswith("on")]
        self.found += [f"{k}={v!r}" for k, v in attrs if v and v.strip().lower().startswith("javascript:")]

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append("inline <script>")


@pytest.mark.parametrize("path", [
    "/desk/", "/desk/quzou/route", ROUTE, f"{ROUTE}?origin=华埠&specialty=普外科",
    f"{ROUTE}?origin=华铺&specialty=儿科",
    f"{ROUTE}?origin_kind=point&lat=29.05&lon=118.4&specialty=儿科", "/desk/quzhou/planner",
    "/desk/quzhou/planner?specialty=儿可", "/desk/minhang/route?origin=虹桥社区卫生服务中心&specialty=中医儿科",
])
def test_no_page_has_inline_script_or_style(client, path):
    response = client.get(path)
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"].startswith("default-src 'self';")
    parser = InlineCode()
    parser.feed(response.text)
    assert parser.found == []
    assert "http://" not in response.text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in response.text


def test_the_route_answer_is_the_routers(client, quzhou_router):
    page = client.get(ROUTE, params={"origin": "华埠", "specialty": "普外科"})
    assert page.status_code == 200
    referral = quzhou_router.route("华埠", "普外科", alternatives=5)
    assert f"{referral.origin.name} → <span class=\"destination\">{referral.destination.name}</span>" in page.text
    assert f"{referral.distance_km:.1f} 公里" in page.text
    for alt in referral.alternatives:
        assert alt.institution.name in page.text
    assert 'class="route-path" points="' in page.text


def test_region_home_goes_to_the_route_screen(client):
    response = client.get("/desk/quzhou", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == ROUTE


def test_unknown_region_is_a_page_with_the_closest_ids(client):
    page = client.get("/desk/quzou/route")
    assert page.status_code == 404
    assert "找不到区域“quzou”" in page.text and 'href="/desk/quzhou/route"' in page.text


def test_unknown_origin_links_each_suggestion_back_to_the_route(client):
    page = client.get(ROUTE, params={"origin": "华铺", "specialty": "普外科"})
    assert page.status_code == 422
    assert "找不到机构“华铺”" in page.text
    assert f'href="?origin={quote("华埠卫生院")}&amp;specialty={quote("普外科")}"' in page.text
    assert 'id="origin" name="origin" value="华铺"' in page.text and 'aria-invalid="true"' in page.text


def test_an_ambiguous_name_offers_each_institution_it_names(tiny_regions_dir):
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.config import Settings

    # The tiny region's shared alias is a validation error on purpose: serve it anyway.
    app = create_app(Settings(regions_dir=tiny_regions_dir, allow_invalid=True))
    with TestClient(app) as tiny:
        app.state.loader.thread.join()  # the regions load in the background
        page = tiny.get("/desk/tiny/route", params={"origin": "卫生院", "specialty": "儿科"})
    assert page.status_code == 422
    assert "名称“卫生院”同时指向几家机构" in page.text
    for name in ("东镇卫生院", "西镇卫生院"):
        assert f'href="?origin={quote(name)}&amp;specialty={quote("儿科")}"' in page.text


@pytest.mark.parametrize(("params", "field", "words"), [
    ({"origin": "", "specialty": "儿科"}, "origin", "请填写出发机构"),
    ({"origin_kind": "point", "lat": "北纬", "lon": "118.4", "specialty": "儿科"}, "lat", "纬度须为数字"),
    ({"origin_kind": "point", "specialty": "儿科"}, "lat", "请在地图上点选患者住址"),
    ({"origin_kind": "point", "lat": "118.4", "lon": "29.05", "specialty": "儿科"}, "lat", "纬度和经度似乎填反了"),
    ({"origin_kind": "point", "lat": "31.2", "lon": "121.4", "specialty": "儿科"}, "lat", "太远（超过 50 公里）"),
    ({"origin": "华埠", "specialty": "普外科", "max_km": "-3"}, "max_km", "距离上限须为大于 0 的公里数"),
    ({"origin": "华埠", "specialty": "普外科", "when": "明天"}, "when", "就诊时间须为日期和时间"),
    ({"origin": "华埠", "specialty": "普外科", "when": "1999-01-01T09:00"}, "when", "2000 至 2100 年"),
    ({"origin": "华埠", "specialty": "普外科", "direction": "sideways"}, "direction", "转诊方向须为"),
    ({"origin": "华埠"}, "specialty", "请填写所需专科"),
    ({"origin": "华埠", "specialty": "消毒供应"}, "specialty", "不是转诊的专科"),
    ({"origin": "华埠", "specialty": "儿科", "home": "华埠"}, "home", "只在下转时使用"),
    ({"origin": "开化县人民医院", "direction": "down", "home": "不存在"}, "home", "找不到医共体或机构“不存在”"),
])
def test_bad_input_is_said_in_chinese_at_its_field(client, params, field, words):
    page = client.get(ROUTE, params=params)
    assert page.status_code == 422
    assert f'<p class="field-error" id="{field}-error">' in page.text
    error = page.text.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert words in error
    assert 'role="alert"' in page.text and f'href="#{field}"' in page.text


def test_nothing_capable_is_409_with_the_nearest_beyond_the_limit(client):
    page = client.get(ROUTE, params={"origin": "杨林", "specialty": "普外科", "max_km": "0.5"})
    assert page.status_code == 409
    assert "最近的是 开化县第二人民医院，27.7 公里" in page.text


def test_a_visiting_session_is_shown_with_its_date(client):
    page = client.get("/desk/minhang/route", params={"origin": "虹桥社区卫生服务中心", "specialty": "中医儿科",
                                                   "when": "2024-10-28T09:00"})
    assert page.status_code == 200
    assert "2024-10-29 周二下午" in page.text and "上下联动" in page.text


def test_a_point_origin_names_the_home_centre(client):
    page = client.get(ROUTE, params={"origin_kind": "point", "lat": "29.0105", "lon": "118.3543", "specialty": "骨科"})
    assert page.status_code == 200
    assert "居住地卫生院 华埠卫生院" in page.text and 'class="picked"' in page.text


def test_planner_table_and_csv_agree(client):
    page = client.get("/desk/quzhou/planner", params={"specialty": "儿科", "max_km": "30"})
    assert page.status_code == 200
    assert page.text.count('<tr class="gap">') == 12 and page.text.count('class="gap-ring"') == 12
    response = client.get("/desk/quzhou/planner.csv", params={"specialty": "儿科", "max_km": "30"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="coverage-quzhou-paediatrics-30km.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 56 and sum(r["超过30公里"] == "是" for r in rows) == 12
    assert rows[0]["名称"] == "廿八都镇卫生院" and rows[0]["距离_km"] == "65.933"


@pytest.mark.parametrize(("params", "words"), [
    ({"specialty": "儿可"}, "找不到专科“儿可”"),
    ({"specialty": "儿科", "max_km": "0"}, "距离须为大于 0 的公里数"),
])
def test_planner_bad_input(client, params, words):
    page = client.get("/desk/quzhou/planner", params=params)
    assert page.status_code == 422 and words in page.text
    csv_answer = client.get("/desk/quzhou/planner.csv", params=params)
    assert csv_answer.status_code == 422 and words in csv_answer.text


@pytest.mark.parametrize(("name", "kind"), [("desk.css", "text/css"), ("desk.js", "text/javascript"),
                                            ("icon.svg", "image/svg+xml")])
def test_static_files_are_served(client, name, kind):
    response = client.get(f"/desk/static/{name}")
    assert response.status_code == 200 and response.headers["content-type"].startswith(kind)


@pytest.mark.parametrize("name", ["views.py", "..%2Fviews.py", "%2Fetc%2Fpasswd", "nothing.css"])
def test_only_the_static_files_are_served(client, name):
    assert client.get(f"/desk/static/{name}").status_code == 404


def test_pages_are_not_in_the_api_document(client):
    assert not [p for p in client.get("/openapi.json").json()["paths"] if p.startswith("/desk")]
