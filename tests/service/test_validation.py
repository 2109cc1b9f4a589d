def test_validation_report_of_a_region(client):
    body = client.get("/regions/quzhou/validation").json()
    assert body["region"] == "quzhou"
    assert not [p for p in body["problems"] if p["severity"] == "error"]
    assert len(body["communities"]) == 6


def test_validation_is_computed_once_per_region(app, client):
    client.get("/regions/quzhou/validation")
    first = app.state.regions["quzhou"].validation()
    client.get("/regions/quzhou/validation")
    assert app.state.regions["quzhou"].validation() is first


def test_validation_of_an_unknown_region_is_404(client, problem):
    problem(client.get("/regions/nowhere/validation"), 404, field="region", kind="unknown-region")
