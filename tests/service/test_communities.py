from urllib.parse import quote


def test_communities_list_leads_and_member_counts(client):
    body = client.get("/regions/quzhou/communities").json()
    assert len(body) == 6
    assert all(c["lead"] and c["member_count"] >= 1 for c in body)


def test_community_by_id_or_chinese_name_names_its_members(client):
    by_id = client.get("/regions/quzhou/communities/kh-ygt-tcm").json()
    by_name = client.get(f"/regions/quzhou/communities/{quote('开化县中医院医共体')}").json()
    assert by_id == by_name
    assert by_id["community"]["id"] == "kh-ygt-tcm"
    lead = next(m for m in by_id["members"] if m["role"] == "lead")
    assert (lead["id"], lead["name"]) == ("kh-tcm", "开化县中医院")
    assert len(by_id["members"]) == len(by_id["community"]["members"])


def test_unknown_community_is_404_with_suggestions(client, problem):
    body = problem(client.get(f"/regions/quzhou/communities/{quote('开化县中医医共体')}"), 404,
                   field="community", kind="unknown-community")
    assert "开化县中医院医共体" in body["suggestions"]


def test_communities_of_an_unknown_region_is_404(client, problem):
    problem(client.get("/regions/nowhere/communities"), 404, field="region")
