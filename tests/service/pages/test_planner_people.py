"""The planner page: population coverage of the specialty, and the exact best new sites on the map."""

from __future__ import annotations

import re


def test_planner_counts_people_and_names_the_new_sites(client):
    page = client.get("/desk/quzhou/planner", params={"specialty": "儿科", "max_km": "30", "k": "2"})
    assert page.status_code == 200
    # Quzhou's region gives no population: counted by centres, said so, and equal to the centres within reach
    assert "区域数据未提供人口，按基层机构计" in page.text
    assert re.search(r"人口覆盖：44 / 56（79%）在 30 公里以内", page.text)
    chosen = re.search(r'<p class="chosen">新增 2 处（精确解，最优）：<strong>(.+?)</strong>', page.text)
    assert chosen and len(chosen.group(1).split("、")) == 2
    assert page.text.count('class="chosen-site"') == 2


def test_planner_without_k_shows_coverage_only_and_refuses_a_bad_k(client):
    page = client.get("/desk/quzhou/planner", params={"specialty": "儿科", "max_km": "30"})
    assert page.status_code == 200 and "人口覆盖" in page.text and 'class="chosen"' not in page.text
    bad = client.get("/desk/quzhou/planner", params={"specialty": "儿科", "max_km": "30", "k": "99"})
    assert bad.status_code == 422 and "新增站点数须为 0 到 10 之间的整数" in bad.text
