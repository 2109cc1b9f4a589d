"""What a referral desk reads in a route answer: China time, sessions, what travels, language, contacts."""

from __future__ import annotations

MINHANG = "/regions/minhang/routes"


def test_a_when_with_an_offset_is_read_in_china_standard_time(client):
    # 2024-10-29T10:00Z is Tuesday 18:00 in China: the Tuesday-afternoon 中医儿科 clinic (ended 17:30) is over.
    body = {"origin": "虹桥社区卫生服务中心", "specialty": "中医儿科", "when": "2024-10-29T10:00:00Z"}
    answer = client.post(MINHANG, json=body).json()
    assert answer["when"] == "2024-10-29T18:00:00+08:00"
    assert answer["destination"]["id"] != "mh-hongqiao"
    offered = [answer["session"], *(a["session"] for a in answer["alternatives"])]
    assert not any(s and s["weekday"] == "tue" for s in offered)
    # The same instant written in China's time, and the morning before (still bookable), for contrast.
    same = client.post(MINHANG, json={**body, "when": "2024-10-29T18:00:00+08:00"}).json()
    assert same["destination"]["id"] == answer["destination"]["id"]
    morning = client.post(MINHANG, json={**body, "when": "2024-10-29T01:00:00Z"}).json()
    assert (morning["destination"]["id"], morning["session"]["weekday"]) == ("mh-hongqiao", "tue")


def test_undated_visiting_clinics_are_offered_marked(client):
    body = {"origin": "虹桥社区卫生服务中心", "specialty": "泌尿外科", "when": "2024-10-28T09:00:00+08:00"}
    answer = client.post(MINHANG, json=body).json()
    assert answer["destination"]["id"] != "mh-hongqiao"
    marked = [a for a in answer["alternatives"] if a["session"] and a["session"]["day_unknown"]]
    assert [(a["institution"]["id"], a["session"]["provider"]["id"]) for a in marked] == [("mh-hongqiao",
                                                                                           "sh-huashan")]


def test_sterile_supply_is_no_referral_422(client, problem):
    response = client.post("/regions/luqiao/routes",
                           json={"origin": "金清", "specialty": "消毒供应", "direction": "emergency"})
    assert "消毒供应是机构之间的服务，不接受转诊" in problem(response, 422, field="specialty")["detail"]
    response = client.post("/regions/luqiao/routes", headers={"Accept-Language": "en"},
                           json={"origin": "金清", "specialty": "消毒供应", "direction": "emergency"})
    assert "not a referral service" in problem(response, 422, field="specialty")["detail"]


def test_the_specialties_say_what_travels(client):
    travels = {s["code"]: s["travels"] for s in client.get("/specialties").json()}
    assert (travels["laboratory"], travels["ecg"], travels["sterile_supply"], travels["paediatrics"]) == (
        "specimen", "trace", "nothing", "patient")


def test_the_explanation_is_chinese_unless_english_is_asked_for(client):
    body = {"origin": "华埠", "specialty": "普外科"}
    url = "/regions/quzhou/routes"
    zh = client.post(url, json=body).json()
    assert zh["lang"] == "zh" and zh["explanation"].startswith("上转至本医共体")
    assert client.post(url, json={**body, "lang": "en"}).json()["explanation"].startswith("up within")
    header = {"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"}
    assert client.post(url, json=body, headers=header).json()["lang"] == "en"
    # The body's `lang` wins over the header; a language of neither kind leaves Chinese.
    assert client.post(url, json={**body, "lang": "zh"}, headers=header).json()["lang"] == "zh"
    assert client.post(url, json=body, headers={"Accept-Language": "fr"}).json()["lang"] == "zh"


def test_an_unknown_lang_is_422(client, problem):
    problem(client.post("/regions/quzhou/routes", json={"origin": "华埠", "specialty": "普外科", "lang": "fr"}), 422,
            field="lang")
