"""A year of referrals over Quzhou with known rates, written into a real ledger database (SQLite file and
throwaway PostgreSQL), and every referral's truth kept in Python for the independent computation.

The simulator draws, per primary-care centre and month, Poisson arrivals of up-referrals (a few emergencies)
to the community's lead as the router's proposal, with a known share sent elsewhere (bypass, with a stated
reason); each is accepted, rejected (coded reasons), cancelled, expired or left waiting with known
probabilities and exponential delays; accepted ones are booked (some on a quota unit), arrive or miss the
booking (expired: a no-show), complete, and some are sent home (a down-referral child). Rows are written
with SQLAlchemy Core in the ledger's own shape (referrals + their events), all figures illustrative.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import numpy as np
import pytest
import sqlalchemy as sa

from mednet.ledger import open_ledger_engine
from mednet.ledger.store import events, quotas, referrals
from mednet.models import Role
from mednet.regions import load_region

ENGINES = ("sqlite", "postgresql")
CST = dt.timezone(dt.timedelta(hours=8))
YEAR = 2026
RATES = dict(arrivals_per_centre_month=1.6, emergency=0.06, bypass=0.15, accept=0.78, reject=0.12, cancel=0.04,
             expire=0.03, book=0.9, quota=0.5, arrive=0.85, send_home=0.55, service_level=0.5)
REJECT_CODES = ("no_bed", "no_slot", "out_of_scope", None)
WHY = ("患者要求", "家属在该院附近", "专家指定")
SPECIALTIES = ("general_surgery", "cardiology", "paediatrics")


@dataclass
class Truth:
    """One simulated referral as the test knows it."""

    id: int
    origin: str
    destination: str
    proposed: str | None
    direction: str
    priority: str
    specialty: str
    created: dt.datetime
    state: str = "requested"
    parent: int | None = None
    responded: dt.datetime | None = None
    accepted: bool = False
    booked: dt.datetime | None = None
    arrived: bool = False
    reject_code: str | None = None
    slot: str | None = None
    due_at: dt.datetime | None = None
    why: str | None = None
    children: list[int] = field(default_factory=list)


def _at(rng: np.random.Generator, start: dt.datetime, mean_hours: float) -> dt.datetime:
    return start + dt.timedelta(seconds=int(rng.exponential(mean_hours * 3600)) + 60)


def simulate(region, *, seed: int = 7) -> list[Truth]:
    """The year's referrals (truth only; :func:`write` puts them in a database)."""
    rng = np.random.default_rng(seed)
    lead_of: dict[str, str | None] = {}
    for community in region.communities:
        for member in community.ids(Role.BRANCH):
            lead_of.setdefault(member, community.lead)
    hospitals = sorted(i.id for i in region.institutions if i.tier.is_hospital)
    centres = sorted(i for i in lead_of if lead_of[i] is not None)
    ids = itertools.count(1)
    out: list[Truth] = []
    for month in range(1, 13):
        first = dt.datetime(YEAR, month, 1, tzinfo=CST)
        days = ((first.replace(month=month % 12 + 1, year=YEAR + month // 12)) - first).days
        for centre in centres:
            for _ in range(rng.poisson(RATES["arrivals_per_centre_month"])):
                created = (first + dt.timedelta(seconds=int(rng.integers(0, days * 86400 - 600)))).astimezone(dt.UTC)
                lead = lead_of[centre]
                destination = lead
                why = None
                if rng.random() < RATES["bypass"]:
                    destination = str(rng.choice([h for h in hospitals if h != lead]))
                    why = str(rng.choice(WHY))
                emergency = rng.random() < RATES["emergency"]
                t = Truth(next(ids), centre, destination, lead, "emergency" if emergency else "up",
                          "emergency" if emergency else str(rng.choice(["routine", "urgent"])),
                          str(rng.choice(SPECIALTIES)), created, why=why)
                if rng.random() < RATES["service_level"]:
                    t.due_at = created + dt.timedelta(hours=24)
                _outcome(rng, t, out, ids)
                out.append(t)
    return out


def _outcome(rng: np.random.Generator, t: Truth, out: list[Truth], ids: itertools.count) -> None:
    u = rng.random()
    if u < RATES["accept"]:
        t.responded, t.accepted, t.state = _at(rng, t.created, 3), True, "accepted"
        if rng.random() < RATES["book"]:
            t.booked, t.state = _at(rng, t.responded, 20), "booked"
            if rng.random() < RATES["quota"]:
                t.slot = f"quota/{t.destination}/{t.specialty}/{t.booked.astimezone(CST).date() + dt.timedelta(3)}"
            if rng.random() < RATES["arrive"]:
                t.arrived, t.state = True, "completed"
                if rng.random() < RATES["send_home"]:
                    home = _at(rng, t.booked, 120)
                    child = Truth(next(ids), t.destination, t.origin, None, "down", "routine", "rehabilitation",
                                  home, parent=t.id)
                    child.responded, child.accepted, child.state = _at(rng, home, 5), True, "accepted"
                    t.children.append(child.id)
                    out.append(child)
            else:
                t.state = "expired"  # the booking was missed
    elif u < RATES["accept"] + RATES["reject"]:
        t.responded, t.state = _at(rng, t.created, 5), "rejected"
        t.reject_code = REJECT_CODES[int(rng.integers(0, len(REJECT_CODES)))]
    elif u < RATES["accept"] + RATES["reject"] + RATES["cancel"]:
        t.state = "cancelled"
    elif u < RATES["accept"] + RATES["reject"] + RATES["cancel"] + RATES["expire"]:
        t.state = "expired"
    # else: still waiting (requested)


def write(engine: sa.engine.Engine, truths: list[Truth], region_id: str = "quzhou") -> None:
    """The referrals and their events, in the ledger's shape (ids as simulated: parents before children)."""
    rows, evs = [], []
    for t in sorted(truths, key=lambda x: x.id):
        rows.append(dict(id=t.id, number=f"S{t.id:07d}", region=region_id, origin_id=t.origin, origin_desk="sim",
                         destination_id=t.destination, proposed_id=t.proposed, destination_why=t.why,
                         specialty=t.specialty, direction=t.direction, priority=t.priority, reason="模拟",
                         patient_ref=f"P{t.id}", state=t.state, version=1, slot=t.slot, created_at=t.created,
                         updated_at=t.created, state_since=t.created, due_at=t.due_at, parent_id=t.parent,
                         answered_at=t.responded, booked_at=t.booked))
        steps: list[tuple[str, str | None, str, dt.datetime, str | None]] = [
            ("create", None, "requested", t.created, None)]
        if t.responded is not None:
            steps.append(("accept", "requested", "accepted", t.responded, None) if t.accepted else
                         ("reject", "requested", "rejected", t.responded, t.reject_code))
        if t.booked is not None:
            steps.append(("book", "accepted", "booked", t.booked, None))
            if t.arrived:
                steps += [("arrive", "booked", "arrived", t.booked + dt.timedelta(days=3), None),
                          ("complete", "arrived", "completed", t.booked + dt.timedelta(days=4), None)]
            elif t.state == "expired":
                steps.append(("expire", "booked", "expired", t.booked + dt.timedelta(days=5), "patient_lost"))
        if t.state in ("cancelled", "expired") and t.booked is None:
            steps.append(("cancel" if t.state == "cancelled" else "expire", "requested", t.state,
                          t.created + dt.timedelta(days=2), None))
        evs += [dict(referral_id=t.id, seq=k, action=a, from_state=f, to_state=to, actor_key="sim", at=at,
                     reason_code=code) for k, (a, f, to, at, code) in enumerate(steps, 1)]
    with engine.begin() as conn:
        conn.execute(referrals.insert(), rows)
        conn.execute(events.insert(), evs)
        conn.execute(quotas.insert(), [dict(region=region_id, institution=h, specialty="cardiology", per_day=2,
                                            release_days=5, note="illustrative", updated_at=dt.datetime(YEAR, 1, 1,
                                                                                                        tzinfo=dt.UTC))
                                       for h in sorted({t.destination for t in truths if t.direction == "up"})[:3]])
        if engine.dialect.name == "postgresql":  # ids were given: move the sequence past them
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('referrals', 'id'), "
                                 "(SELECT max(id) FROM referrals))"))


@pytest.fixture(scope="session")
def quzhou_region():
    return load_region("quzhou")


@pytest.fixture(scope="session")
def simulated(quzhou_region):
    return simulate(quzhou_region)


@pytest.fixture(scope="module", params=ENGINES)
def sim_engine(request, tmp_path_factory, simulated):
    """A ledger database holding the simulated year (SQLite file, or a new database on the throwaway server)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('indicators') / 'ledger.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_server").new_database()
    engine = open_ledger_engine(url)
    write(engine, simulated)
    yield engine
    engine.dispose()
