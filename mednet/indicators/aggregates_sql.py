"""Facts from the imported monthly aggregates (``monthly_aggregates``): visits, inpatients and insurance spending
per institution and month, summed by the database per group key.

A column nobody reported stays NULL and its sum is NULL: the indicator over it shows as 未采集, never as 0.
Only the institution dimensions and ``month`` (and the whole region) apply; by specialty, direction or
priority the aggregates have nothing to say.

    >>> APPLIES_TO
    ('region', 'county', 'community', 'institution', 'month')
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mednet.indicators.places import Places
from mednet.ledger.store import monthly_aggregates

APPLIES_TO = ("region", "county", "community", "institution", "month")


def aggregate_facts(conn: Connection, places: Places, region: str, months: list[str],
                    by: str) -> dict[str, dict[str, float | None]]:
    """Facts per group key over ``months`` (``YYYY-MM``); empty where ``by`` does not apply."""
    if by not in APPLIES_TO:
        return {}
    a, p = monthly_aggregates, places.alias("p")
    key: Any = {"region": sa.literal(region, sa.String()), "county": p.c.county, "community": p.c.community,
                "institution": a.c.institution, "month": a.c.month}[by]
    total = sa.func.sum
    sums = {
        "visits_all": total(a.c.visits),
        "visits_primary": total(sa.case((p.c.primary_care == 1, a.c.visits), else_=sa.case((a.c.visits.is_(None),
                                                                                           None), else_=0))),
        "visits_in_county": total(a.c.visits),
        "visits_with_outside": total(a.c.visits) + total(a.c.visits_outside),
        "inpatient_in_county": total(a.c.inpatients),
        "inpatient_all": total(a.c.inpatients) + total(a.c.inpatients_outside),
        "inpatient_outside": total(a.c.inpatients_outside),
        "insurance_in_county": total(a.c.insurance),
        "insurance_all": total(a.c.insurance) + total(a.c.insurance_outside),
    }
    statement = sa.select(key.label("key"), *(v.label(k) for k, v in sums.items())) \
        .select_from(a.outerjoin(p, p.c.id == a.c.institution)) \
        .where(a.c.region == region, a.c.month.in_(months)).group_by(key)
    return {("" if row["key"] is None else str(row["key"])): {k: None if row[k] is None else float(row[k])
                                                             for k in sums}
            for row in conn.execute(statement).mappings()}
