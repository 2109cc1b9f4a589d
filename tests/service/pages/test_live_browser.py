"""Live worklists across workers: ``mednet serve --workers 2`` on SQLite and on PostgreSQL, two browser contexts —
a desk refers, the receiving desk's open worklist shows each new referral without a reload (whichever worker
wrote it), marked new, with the count badge; a plain reload shows the same."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from mednet.bench.ledger import LedgerService, prepare, serving_regions
from tests.service.pages.conftest import _open


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def two_workers(request, tmp_path_factory):
    """The service with two workers over one ledger, and the clear keys of 虹桥 (refers) and 新华医院 (receives)."""
    folder = tmp_path_factory.mktemp(f"live-{request.param}")
    url = request.getfixturevalue("pg_server").new_database() if request.param == "postgresql" else None
    keys = prepare(url, folder)
    service = LedgerService(url, folder, serving_regions(folder / "regions"), workers=2)
    service.env["MEDNET_LIVE_POLL_SECONDS"] = "0.5"
    with service:
        yield service.base, keys


def refer(base: str, key: str, ref: str) -> str:
    """A referral from 虹桥 to 新华医院 over the API, on a connection of its own (either worker may take it)."""
    body = json.dumps({"specialty": "儿科", "reason": "反复高热三天", "patient": {"ref": ref}, "route": False,
                       "destination": "sh-xinhua"}).encode()
    request = urllib.request.Request(f"{base}/referrals", data=body, method="POST", headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json", "Connection": "close"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["number"]


NEW = re.compile(r"\bnew\b")


def open_worklist(chromium, base: str, key: str):
    opened = _open(chromium, base, {"width": 1280, "height": 800})
    watched = next(opened)
    watched.go("/desk/signin?next=/desk/minhang/route")  # lands on a page without a stream: only the worklist's count
    watched.page.get_by_label("服务台密钥").fill(key)
    watched.page.get_by_role("button", name="登录").click()
    expect(watched.page.locator("#signed-in")).to_be_visible()
    watched.go("/desk/minhang/worklist")
    return opened, watched


def test_a_new_referral_reaches_the_open_worklists_without_a_reload(chromium, two_workers):
    base, keys = two_workers
    opened_b, hospital = open_worklist(chromium, base, keys["xinhua"])
    opened_a, centre = open_worklist(chromium, base, keys["centre"])
    expect(hospital.page.locator("#incoming-empty")).to_be_visible()
    hospital.page.wait_for_timeout(1500)  # both streams are open
    numbers = [refer(base, keys["centre"], f"LIVE-{n}") for n in range(4)]
    for watched, side in ((hospital, "incoming"), (centre, "outgoing")):
        for number in numbers:
            row = watched.page.locator(f"#rows-{side} #row-{number}")
            expect(row).to_be_visible(timeout=15_000)
            expect(row).to_have_class(NEW)
        expect(watched.page.locator("#live-count")).to_have_text("4 条新变化")
    hospital.go("/desk/minhang/worklist")  # a plain reload shows the same rows, not marked
    for number in numbers:
        expect(hospital.page.locator(f"#rows-incoming #row-{number}")).not_to_have_class(NEW)
    streams = sum(1 for u in hospital.requests if u.endswith("/worklist/events"))
    assert streams == 2, streams  # exactly one stream per load of the worklist (two), none stray
    next(opened_a, None)
    next(opened_b, None)
