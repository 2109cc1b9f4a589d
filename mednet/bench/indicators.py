"""``mednet bench --area indicators``: the full indicator set over a year of 1,000,000 referrals on PostgreSQL,
beside one ``GROUP BY`` pass over the same table in the same run.

The referrals are synthetic (labelled ``bench`` and illustrative): a year over the Quzhou region's three
counties, drawn with a fixed seed — up-referrals from every primary-care centre to its community's lead as
the router's proposal, 15 % sent elsewhere (bypass), a few emergencies, down-referrals sent home after an
up-referral, answers, bookings (half on quota units), arrivals and closures with their events (about 3.8
events a referral) — and loaded with ``COPY`` into a throwaway server (durable; triggers and foreign-key
checks off for the load), then analysed.

The figure is the wall time of :func:`mednet.indicators.compute_indicators` by community (every ledger fact,
the nearest-rank medians and 90th percentiles, quotas, rejections, monthly aggregates); the reference is
``SELECT origin_id, state, count(*) FROM referrals GROUP BY origin_id, state`` (one pass over the table), each
the median of alternating rounds. Targets: ≤ 2 s, and ≤ 3× the reference.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mednet.bench import BenchRow
from mednet.models import Role
from mednet.regions import load_region

AREA = "indicators"
REFERRALS, QUICK_REFERRALS = 1_000_000, 100_000
TARGET_S, TARGET_RATIO = 2.0, 3.0
YEAR = 2026
REFERENCE_SQL = "SELECT origin_id, state, count(*) FROM referrals GROUP BY origin_id, state"
_REFERRAL_COLUMNS = ("id", "number", "region", "origin_id", "origin_desk", "destination_id", "proposed_id",
                     "destination_why", "specialty", "direction", "priority", "reason", "patient_ref", "state",
                     "version", "slot", "created_at", "updated_at", "state_since", "due_at", "parent_id",
                     "answered_at", "booked_at")
_EVENT_COLUMNS = ("referral_id", "seq", "action", "from_state", "to_state", "actor_key", "at", "reason_code")


def synthetic_year(n: int, *, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` referrals of a year over Quzhou and their events, as frames in the ledger's columns."""
    region = load_region("quzhou")
    rng = np.random.default_rng(seed)
    lead_of = {m: c.lead for c in region.communities for m in c.ids(Role.BRANCH) if c.lead}
    centres = np.array(sorted(lead_of))
    leads = np.array([lead_of[c] for c in centres])
    hospitals = np.array(sorted(i.id for i in region.institutions if i.tier.is_hospital))
    pick = rng.integers(0, len(centres), n)
    origin, lead = centres[pick], leads[pick]
    u = rng.random((6, n))
    direction = np.where(u[0] < 0.05, "emergency", np.where(u[0] < 0.80, "up", "down"))
    down = direction == "down"
    bypass = (~down) & (u[1] < 0.15)
    destination = np.where(bypass, hospitals[rng.integers(0, len(hospitals), n)], lead)
    destination = np.where(bypass & (destination == lead), hospitals[0], destination)
    origin, destination = np.where(down, lead, origin), np.where(down, origin, destination)
    ids = np.arange(1, n + 1)
    parent = np.where(down & np.roll(direction == "up", 1) & (ids > 1), ids - 1, 0)
    start = dt.datetime(YEAR, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()
    created = np.sort(rng.uniform(start, start + 364 * 86400, n)).round()
    responded = created + 60 + rng.exponential(3 * 3600, n).round()
    accepted, rejected = u[2] < 0.8, (u[2] >= 0.8) & (u[2] < 0.92)
    cancelled, expired = (u[2] >= 0.92) & (u[2] < 0.96), (u[2] >= 0.96) & (u[2] < 0.98)
    booked = accepted & (u[3] < 0.9)
    booked_at = responded + 60 + rng.exponential(20 * 3600, n).round()
    arrived = booked & (u[4] < 0.85)
    no_show = booked & ~arrived
    state = np.select([arrived, no_show, booked, accepted, rejected, cancelled, expired],
                      ["completed", "expired", "booked", "accepted", "rejected", "cancelled", "expired"], "requested")
    stamp = lambda s: pd.to_datetime(s, unit="s", utc=True).strftime("%Y-%m-%d %H:%M:%S+00")  # noqa: E731
    created_text = stamp(created)
    specialty = np.array(["general_surgery", "cardiology", "paediatrics", "rehabilitation"])[rng.integers(0, 4, n)]
    referrals = pd.DataFrame({
        "id": ids, "number": [f"B{i:08d}" for i in ids], "region": region.id, "origin_id": origin,
        "origin_desk": "bench", "destination_id": destination, "proposed_id": _where(~down, lead),
        "destination_why": _where(bypass, np.full(n, "患者要求（合成）")), "specialty": specialty,
        "direction": direction, "priority": np.where(direction == "emergency", "emergency", "routine"),
        "reason": "bench", "patient_ref": [f"B{i}" for i in ids], "state": state, "version": 1,
        "slot": _where(booked & (u[5] < 0.5), np.array([f"quota/{d}/{s}/{YEAR}-06-01" for d, s in
                                                         zip(destination, specialty, strict=True)])),
        "created_at": created_text, "updated_at": created_text, "state_since": created_text,
        "due_at": _where(u[5] < 0.5, np.asarray(stamp(created + 86400))),
        "parent_id": _where(parent > 0, parent),
        "answered_at": _where(accepted | rejected, np.asarray(stamp(responded))),
        "booked_at": _where(booked, np.asarray(stamp(booked_at)))})
    parts = [pd.DataFrame({"referral_id": ids, "seq": 1, "action": "create", "from_state": None,
                           "to_state": "requested", "at": created_text, "reason_code": None})]

    def add(mask: np.ndarray, seq: int, action: str, before: str, after: str, at: np.ndarray,
            code: str | None = None) -> None:
        parts.append(pd.DataFrame({"referral_id": ids[mask], "seq": seq, "action": action, "from_state": before,
                                   "to_state": after, "at": stamp(at[mask]), "reason_code": code}))

    add(accepted, 2, "accept", "requested", "accepted", responded)
    add(rejected, 2, "reject", "requested", "rejected", responded, "no_bed")
    add(cancelled, 2, "cancel", "requested", "cancelled", responded)
    add(expired, 2, "expire", "requested", "expired", responded)
    add(booked, 3, "book", "accepted", "booked", booked_at)
    add(arrived, 4, "arrive", "booked", "arrived", booked_at + 3 * 86400)
    add(arrived, 5, "complete", "arrived", "completed", booked_at + 4 * 86400)
    add(no_show, 4, "expire", "booked", "expired", booked_at + 5 * 86400)
    events = pd.concat(parts, ignore_index=True).assign(actor_key="bench")
    return referrals, events[list(_EVENT_COLUMNS)]


def _where(mask: np.ndarray, values: np.ndarray) -> pd.Series:
    """``values`` where ``mask``, empty (NULL once copied) elsewhere."""
    series = pd.Series(values, dtype="Int64" if values.dtype.kind in "iu" else None)
    return series.where(mask)


def load(url: str, referrals: pd.DataFrame, events: pd.DataFrame) -> None:
    """The frames into the ledger's tables at ``url`` with ``COPY``, then ``ANALYZE``."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        # a bulk load of rows made consistent above: no per-row foreign-key checks nor the ledger's per-event
        # notification trigger (the server's owner may; the setting ends with this session)
        conn.execute("SET session_replication_role = replica")
        for table, frame, columns in (("referrals", referrals, _REFERRAL_COLUMNS), ("events", events,
                                                                                    _EVENT_COLUMNS)):
            buffer = io.StringIO()
            frame[list(columns)].to_csv(buffer, index=False, header=False)
            with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
        conn.execute("SELECT setval(pg_get_serial_sequence('referrals', 'id'), (SELECT max(id) FROM referrals))")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def run(*, quick: bool = False) -> list[BenchRow]:
    from mednet.bench.postgres import ThrowawayPostgres, find_postgres_bin

    n = QUICK_REFERRALS if quick else REFERRALS
    if find_postgres_bin() is None:
        return [BenchRow(AREA, "indicators over PostgreSQL: not measured (no PostgreSQL server programs here; "
                         "Debian: apt-get install postgresql)", 0.0, "s")]
    from mednet.indicators import compute_indicators
    from mednet.ledger import open_ledger_engine

    region = load_region("quzhou")
    referrals, events = synthetic_year(n)
    with ThrowawayPostgres(durable=True) as server:
        url = server.new_database()
        engine = open_ledger_engine(url)
        load(url, referrals, events)
        del referrals, events
        now = dt.datetime(YEAR + 1, 1, 1, tzinfo=dt.UTC)

        def full() -> None:
            compute_indicators(engine, region, str(YEAR), by="community", now=now)

        def reference() -> None:
            with engine.connect() as conn:
                conn.exec_driver_sql(REFERENCE_SQL).fetchall()

        full()
        reference()  # warm both: the table and indexes in the server's cache
        ours: list[Sample] = []
        theirs: list[Sample] = []
        for _ in range(1 if quick else 5):
            for func, into in ((full, ours), (reference, theirs)):
                into.append(measure(func, server.cpu_seconds))
        engine.dispose()
    return rows(n, ours, theirs, os.getloadavg()[0])


@dataclass(frozen=True)
class Sample:
    """One timed call: wall seconds, the database server's CPU seconds (its backend and any parallel workers),
    and this process's CPU seconds (the driver and the indicators' Python)."""

    wall: float
    db_cpu: float
    client_cpu: float

    @property
    def cpu(self) -> float:
        return self.db_cpu + self.client_cpu


def measure(func: Callable[[], object], db_cpu: Callable[[], float]) -> Sample:
    """Time one call of ``func``: wall clock, ``db_cpu()`` before and after, and this process's CPU.

    >>> sample = measure(lambda: sum(range(1000)), lambda: 0.0)
    >>> sample.wall >= 0 and sample.db_cpu == 0.0 and sample.cpu == sample.client_cpu
    True
    """
    db, client, started = db_cpu(), time.process_time(), time.perf_counter()
    func()
    wall = time.perf_counter() - started
    return Sample(wall, db_cpu() - db, time.process_time() - client)


def rows(n: int, ours: list[Sample], theirs: list[Sample], load_avg: float) -> list[BenchRow]:
    """The figures: medians of the wall time against the targets, and beside them the CPU seconds (the
    database server's and ours), which a loaded machine stretches less than the wall time.

    >>> out = rows(10, [Sample(1.0, 0.8, 0.1)], [Sample(0.5, 0.6, 0.0)], 1.0)
    >>> [(r.value, r.met) for r in out]
    [(1.0, True), (1.0, True), (0.9, None), (0.9, True)]
    """
    value, ref = statistics.median(s.wall for s in ours), statistics.median(s.wall for s in theirs)
    cpu, ref_cpu = statistics.median(s.cpu for s in ours), statistics.median(s.cpu for s in theirs)
    db_cpu = statistics.median(s.db_cpu for s in ours)
    name = f"full indicator set by community, {n:,} referrals, PostgreSQL (load {load_avg:.1f})"
    return [
        BenchRow(AREA, name, value, "s", target=f"≤ {TARGET_S:g} s", met=value <= TARGET_S),
        BenchRow(AREA, f"{name} / one GROUP BY pass", value, "s", "GROUP BY origin_id, state over the table", ref,
                 f"≤ {TARGET_RATIO:g}× the GROUP BY", value <= TARGET_RATIO * ref, multiple=True),
        BenchRow(AREA, f"{name}: CPU s (database server {db_cpu:.2f} + client)", cpu, "s"),
        BenchRow(AREA, f"{name}: CPU s / the GROUP BY pass's CPU s", cpu, "s",
                 "GROUP BY origin_id, state: CPU s (database server + client)", ref_cpu,
                 f"≤ {TARGET_RATIO:g}× the GROUP BY", cpu <= TARGET_RATIO * ref_cpu, multiple=True),
    ]
