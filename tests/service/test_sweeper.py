"""The service's expiry sweep: one sweep through the thread pool, failures logged (never raised), and the
background loop off when ``MEDNET_SWEEP_SECONDS`` is 0."""

from __future__ import annotations

import asyncio
import logging

from mednet.ledger import Ledger, create_ledger_engine
from service.sweeper import sweep_once, sweeping


def test_a_sweep_that_fails_is_logged_and_tried_again_later(caplog):
    unreachable = create_ledger_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    ledger = Ledger(unreachable, {})
    with caplog.at_level(logging.WARNING, logger="service.sweep"):
        assert asyncio.run(sweep_once(ledger)) is None
    assert "the expiry sweep failed (OperationalError" in caplog.text


def test_the_sweep_runs_in_the_background_only_when_asked(tmp_path):
    engine = create_ledger_engine(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    ledger = Ledger(engine, {})

    async def tasks(seconds: float) -> list[str]:
        async with sweeping(ledger, seconds):
            return [t.get_name() for t in asyncio.all_tasks()]

    assert "mednet-sweep" not in asyncio.run(tasks(0))
    assert "mednet-sweep" in asyncio.run(tasks(3600))
