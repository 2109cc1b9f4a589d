"""Attachments over HTTP: a raw PDF/PNG/JPEG body with its type, a larger body limit for uploads only, refusals
as problem+json, the file always served as a download, and listed in the FHIR export."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from mednet.ledger import NewReferral, create_key
from service.app import create_app
from service.config import Settings
from tests.mednet.ledger.test_attachments import pdf, png
from tests.service.conftest import REGIONS_DIR


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    app = create_app(Settings(regions_dir=REGIONS_DIR, data_dir=tmp_path_factory.mktemp("ledger"),
                              max_attachment_bytes=200_000))
    with TestClient(app) as client:
        app.state.loader.thread.join()
        engine = app.state.ledger.engine
        keys = {name: create_key(engine, role=role, label=f"附件 {name}", region="quzhou" if inst else None,
                                 institution=inst)
                for name, role, inst in (("huabu", "desk", "kh-huabu"), ("people", "desk", "kh-people"),
                                         ("planner", "planner", None))}
        number = app.state.ledger.create(keys["huabu"][0], NewReferral(
            specialty="普外科", reason="右下腹痛", patient={"ref": "API-ATT"}, route=False,
            destination="kh-people")).record.number
        yield client, {k: {"Authorization": f"Bearer {v[1]}"} for k, v in keys.items()}, number


def test_a_desk_uploads_and_the_other_desk_downloads(served):
    client, auth, number = served
    sent = client.post(f"/referrals/{number}/attachments", params={"name": "胸片.png"}, content=png(),
                       headers={**auth["huabu"], "Content-Type": "image/png"})
    assert sent.status_code == 201, sent.text
    info = sent.json()
    assert (info["name"], info["media_type"], info["size"]) == ("胸片.png", "image/png", len(png()))
    listed = client.get(f"/referrals/{number}/attachments", headers=auth["people"]).json()
    assert [f["id"] for f in listed] == [info["id"]]
    got = client.get(f"/referrals/{number}/attachments/{info['id']}", headers=auth["people"])
    assert got.status_code == 200 and got.content == png() and got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"].startswith('attachment; filename="attachment-')
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert client.get(f"/referrals/{number}/attachments/{info['id']}", headers=auth["planner"]).status_code == 403
    bundle = client.get(f"/referrals/{number}/fhir", headers=auth["people"]).json()
    documents = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"]
    assert documents[-1]["content"][0]["attachment"]["title"] == "胸片.png"


@pytest.mark.parametrize(("body", "content_type", "status", "words"), [
    (pdf(), "image/png", 422, "declared image/png but its content is application/pdf"),
    (b"<script>alert(1)</script>", "application/pdf", 422, "must be a PDF, PNG or JPEG file"),
    (b"<script>alert(1)</script>", "text/html", 415, "Unsupported media type"),
    (pdf(b"x" * 300_000), "application/pdf", 413, "MEDNET_MAX_ATTACHMENT_BYTES"),
])
def test_a_wrong_upload_is_refused_with_a_problem(served, body, content_type, status, words):
    client, auth, number = served
    answer = client.post(f"/referrals/{number}/attachments", params={"name": "x.pdf"}, content=body,
                         headers={**auth["huabu"], "Content-Type": content_type})
    assert answer.status_code == status and words in answer.text, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


def test_the_body_limit_stays_small_everywhere_else(served):
    client, auth, _ = served
    answer = client.post("/referrals", content=b"{" + b" " * 70_000 + b"}",
                         headers={**auth["huabu"], "Content-Type": "application/json"})
    assert answer.status_code == 413


def test_a_file_named_with_a_national_id_number_is_refused_without_echoing_it(served):
    client, auth, number = served
    answer = client.post(f"/referrals/{number}/attachments", params={"name": "11010519491231002X.png"},
                         content=png(2, 2), headers={**auth["huabu"], "Content-Type": "image/png"})
    assert answer.status_code == 422 and "national ID" in answer.text and "11010519491231002X" not in answer.text


def test_the_same_file_twice_is_a_conflict_with_what_the_referral_holds(served):
    client, auth, number = served
    send = {"params": {"name": "scan.png"}, "content": png(3, 3),
            "headers": {**auth["huabu"], "Content-Type": "image/png"}}
    assert client.post(f"/referrals/{number}/attachments", **send).status_code == 201
    again = client.post(f"/referrals/{number}/attachments", **send)
    assert again.status_code == 409 and again.json()["type"].endswith("attachment-refused"), again.text
    assert "already attached" in again.json()["detail"]
