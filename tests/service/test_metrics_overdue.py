"""``/metrics`` counts the ledger's overdue referrals (read from the database when scraped, the same on every
worker)."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from mednet.ledger import Ledger, NewReferral, create_key
from service.app import create_app
from service.config import Settings
from tests.service.conftest import REGIONS_DIR


def test_metrics_count_overdue_referrals_by_region_measure_and_priority(tmp_path):
    app = create_app(Settings(regions_dir=REGIONS_DIR, data_dir=tmp_path, sweep_seconds=0))
    with TestClient(app) as client:
        app.state.loader.thread.join()
        ledger = app.state.ledger
        desk = create_key(ledger.engine, role="desk", label="华埠", region="quzhou", institution="kh-huabu")[0]
        earlier = Ledger(ledger.engine, ledger.regions, now=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
        for ref, priority in (("M1", "urgent"), ("M2", "urgent"), ("M3", "routine")):
            earlier.create(desk, NewReferral(specialty="普外科", reason="腹痛", patient={"ref": ref}, priority=priority,
                                             destination="kh-people", route=False))
        text = client.get("/metrics").text
    line = 'mednet_referrals_overdue{measure="respond",priority="urgent",region="quzhou"} 2.0'
    assert line in text, [t for t in text.splitlines() if "overdue" in t]
    assert 'priority="routine"' not in "".join(t for t in text.splitlines() if t.startswith("mednet_referrals_"))
