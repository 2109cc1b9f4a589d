from service.routers import validation


def test_validation_report_of_a_region(client):
    body = client.get("/regions/quzhou/validation").json()
    assert body["region"] == "quzhou"
    assert not [p for p in body["problems"] if p["severity"] == "error"]
    assert len(body["communities"]) == 6


def test_validation_is_computed_once_per_region(client, monkeypatch):
    calls = []
    validate = validation.validate_membership

    def counted(region):
        calls.append(region.id)
        return validate(region)

    monkeypatch.setattr(validation, "validate_membership", counted)
    bodies = [client.get("/regions/luqiao/validation").json() for _ in range(3)]
    assert calls == ["luqiao"] and bodies[0] == bodies[2]


def test_validation_of_an_unknown_region_is_404(client, problem):
    problem(client.get("/regions/nowhere/validation"), 404, field="region", kind="unknown-region")
