"""The ledger on both engines: a real SQLite file and a real, throwaway PostgreSQL server.

``db_url`` is parametrised over ``sqlite`` and ``postgresql``; the PostgreSQL
case skips with "needs-system:" where the server programs are not installed
(mandatory in CI); the server is ``pg_server`` of tests/conftest.py.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from mednet.ledger import Ledger, LedgerRegion, NewReferral, create_key, open_ledger_engine
from mednet.ledger.records import ActionIn, QuotaIn
from mednet.regions import load_region

ENGINES = ("sqlite", "postgresql")
def make_url(engine: str, request, folder) -> str:
    if engine == "sqlite":
        return f"sqlite:///{folder / 'ledger.sqlite3'}"
    return request.getfixturevalue("pg_server").new_database()


@pytest.fixture(params=ENGINES)
def db_url(request, tmp_path):
    """A new, empty database for one test."""
    return make_url(request.param, request, tmp_path)


@pytest.fixture(scope="module", params=ENGINES)
def module_db_url(request, tmp_path_factory):
    """A database shared by a module's tests (each works on referrals of its own)."""
    return make_url(request.param, request, tmp_path_factory.mktemp("ledger"))


@pytest.fixture(scope="session")
def minhang_data():
    return {"minhang": LedgerRegion.from_region(load_region("minhang"))}


class Clock:
    """A fake clock (UTC) that tests move forward."""

    def __init__(self, start: dt.datetime):
        self.time = start

    def __call__(self) -> dt.datetime:
        return self.time

    def advance(self, **delta: float) -> None:
        self.time += dt.timedelta(**delta)


#: A Monday morning in Shanghai (01:00 UTC); the Tuesday-afternoon TCM paediatric session is the next day.
MONDAY = dt.datetime(2024, 10, 28, 1, 0, tzinfo=dt.UTC)


class Desks:
    """A ledger with keys: the community centre's desk (refers up), two hospital desks, a planner, an admin."""

    def __init__(self, url: str, regions):
        self.engine = open_ledger_engine(url)
        self.clock = Clock(MONDAY)
        self.ledger = Ledger(self.engine, regions, now=self.clock)
        key = lambda role, inst=None: create_key(self.engine, role=role, label=f"{role} {inst}",  # noqa: E731
                                                 region="minhang" if inst else None, institution=inst)[0]
        self.centre = key("desk", "mh-hongqiao")
        self.xinhua = key("desk", "sh-xinhua")
        self.huashan = key("desk", "sh-huashan")
        self.planner = key("planner")
        self.admin = key("admin")
        self.ledger.set_quota(self.admin, "minhang", QuotaIn(institution="sh-xinhua", specialty="paediatrics",
                                                             per_day=500, release_days=5))
        self._n = itertools.count()

    def new(self, **fields):
        body = dict(specialty="paediatrics", reason="反复高热三天", patient={"ref": f"P{next(self._n)}"},
                    destination="sh-xinhua", route=False) | fields
        return self.ledger.create(self.centre, NewReferral(**body)).record

    def quota_slot(self, days_ahead: int = 1) -> str:
        day = (MONDAY + dt.timedelta(hours=8, days=days_ahead)).date()
        return f"quota/sh-xinhua/paediatrics/{day}"

    def drive(self, state: str):
        """A new referral brought to ``state`` by its owners; returns its number."""
        number = self.new().number
        path = {"requested": [], "accepted": ["accept"], "rejected": ["reject"], "redirected": ["redirect"],
                "booked": ["accept", "book"], "arrived": ["accept", "book", "arrive"],
                "completed": ["accept", "book", "arrive", "complete"], "cancelled": ["cancel"],
                "expired": ["expire"]}[state]
        for action in path:
            body = self.body_for(action)
            if action == "redirect":
                body = ActionIn(reason="转华山", destination="sh-huashan")
            self.ledger.act(self.actor_for(action, number), number, action, body)
        return number

    def actor_for(self, action: str, number: str):
        record = self.ledger.get(self.admin, number)
        if action == "cancel":
            return self.centre
        if action == "expire":
            return self.admin
        return self.xinhua if record.destination.id == "sh-xinhua" else self.huashan

    def body_for(self, action: str) -> ActionIn:
        """What each action needs: a reason, another destination, a slot (a unit of Xinhua's quota)."""
        bodies = {"reject": ActionIn(reason="本院该专科满员"),
                  "redirect": ActionIn(reason="转六院", destination="sh-sixth"),
                  "book": ActionIn(slot=self.quota_slot()), "hold": ActionIn(slot=self.quota_slot()),
                  "arrive": ActionIn(reason="病情变化，提前来院")}  # the slot is tomorrow's: an early arrival
        return bodies.get(action, ActionIn())


@pytest.fixture(scope="module")
def desks(module_db_url, minhang_data):
    d = Desks(module_db_url, minhang_data)
    yield d
    d.engine.dispose()
