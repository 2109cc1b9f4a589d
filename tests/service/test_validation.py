from service.routers import validation


def test_validation_report_of_a_region(client):
    body = client.get("/regions/quzhou/validation").json()
    assert body["region"] == "quzhou"
    assert not [p for p in body["problems"] if p["severity"] == "error"]
    assert len(body["communities"]) == 6


def test_validation_is_computed_once_per_region(client, monkeypatch):
    calls = []
    real = validation.validate_membership
    monkeypatch.setattr(validation, "validate_membership", lambda region: calls.append(region.id) or real(region))
    first = client.get("/regions/luqiao/validation").content
    assert client.get("/regions/luqiao/validation").content == first
    assert calls == ["luqiao"]


def test_validation_of_an_unknown_region_is_404(client, problem):
    problem(client.get("/regions/nowhere/validation"), 404, field="region", kind="unknown-region")
