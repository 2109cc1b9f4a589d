from mednet.specialties import SPECIALTIES


def test_the_whole_vocabulary_with_labels_and_aliases(client):
    body = client.get("/specialties").json()
    assert [s["code"] for s in body] == [s.code for s in SPECIALTIES]
    paediatrics = next(s for s in body if s["code"] == "paediatrics")
    assert paediatrics["label_zh"] == "儿科"
    assert "pediatrics" in paediatrics["aliases"]
