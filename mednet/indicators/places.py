"""The region's institutions as a small table the database joins: county, community, primary care or not.

The ledger stores institution ids only; what a referral's origin and destination *are* (their county, their
community) lives in the region. Indicators join a temporary table made from the region in the same
connection, so the grouping happens in SQL on both engines.

    >>> from mednet.regions import load_region
    >>> rows = {row["name"]: row for row in place_rows(load_region("quzhou"))}
    >>> rows["开化县人民医院"]["county"], rows["开化县人民医院"]["primary_care"]
    ('开化县', 0)
"""

from __future__ import annotations

import itertools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mednet.models import Region, Role

_NAMES = itertools.count()


def place_rows(region: Region) -> list[dict[str, Any]]:
    """One row per institution: its county, the community it leads or is a branch of (else None)."""
    home: dict[str, tuple[str, str]] = {}
    for community in region.communities:
        for member in community.ids(Role.LEAD, Role.BRANCH):
            home.setdefault(member, (community.id, community.name))
    return [dict(id=inst.id, name=inst.name, county=inst.county, community=home.get(inst.id, (None, None))[0],
                 community_name=home.get(inst.id, (None, None))[1], primary_care=int(inst.tier.is_primary_care))
            for inst in region.institutions]


def places_table(conn: Connection, region: Region) -> sa.Table:
    """A temporary table of :func:`place_rows` in ``conn`` (dropped with the connection)."""
    table = sa.Table(
        f"mednet_places_{next(_NAMES)}", sa.MetaData(),
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("name", sa.String(200)),
        sa.Column("county", sa.String(120)),
        sa.Column("community", sa.String(120)),
        sa.Column("community_name", sa.String(200)),
        sa.Column("primary_care", sa.Integer),
        prefixes=["TEMPORARY"],
    )
    table.create(conn)
    rows = place_rows(region)
    if rows:
        conn.execute(table.insert(), rows)
    return table

