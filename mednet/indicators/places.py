"""The region's institutions as a small table the database joins: county, community, primary care or not.

The ledger stores institution ids only; what a referral's origin and destination *are* (their county, their
community) lives in the region. Indicators join a small relation made from the region and written into the
statement (:class:`Places`), so the grouping happens in SQL on both engines.

    >>> from mednet.regions import load_region
    >>> rows = {row["name"]: row for row in place_rows(load_region("quzhou"))}
    >>> rows["开化县人民医院"]["county"], rows["开化县人民医院"]["primary_care"]
    ('开化县', 0)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mednet.models import Region, Role


def place_rows(region: Region) -> list[dict[str, Any]]:
    """One row per institution: its county, the community it leads or is a branch of (else None)."""
    home: dict[str, tuple[str, str]] = {}
    for community in region.communities:
        for member in community.ids(Role.LEAD, Role.BRANCH):
            home.setdefault(member, (community.id, community.name))
    return [dict(id=inst.id, name=inst.name, county=inst.county, community=home.get(inst.id, (None, None))[0],
                 community_name=home.get(inst.id, (None, None))[1], primary_care=int(inst.tier.is_primary_care))
            for inst in region.institutions]


@dataclass(frozen=True)
class Places:
    """The region's institutions as a relation written into the statement itself (a ``UNION ALL`` of one-row
    ``SELECT``s of literals): nothing is created in the database, and PostgreSQL may scan the referrals in
    parallel workers beside it (a temporary table keeps a whole plan in one process).

    >>> from mednet.regions import load_region
    >>> import sqlalchemy as sa
    >>> o = places_relation(load_region("quzhou")).alias("o")
    >>> with sa.create_engine("sqlite://").connect() as conn:
    ...     conn.execute(sa.select(o.c.county).where(o.c.name == "开化县人民医院")).scalar()
    '开化县'
    """

    rows: tuple[tuple[Any, ...], ...]

    def alias(self, name: str) -> sa.Subquery:
        """The relation under ``name``, with the columns of :data:`PLACE_COLUMNS`."""
        return self._relation.subquery(name)

    @functools.cached_property
    def _relation(self) -> sa.Select | sa.CompoundSelect:
        """The rows as one ``SELECT`` (built once: a statement names it under several aliases)."""
        if not self.rows:  # no institution: one row of NULLs that no id matches
            return sa.select(*(sa.cast(sa.null(), t).label(c) for c, t in PLACE_COLUMNS.items()))
        # the values written into the statement's text when it runs, not as parameters: a few hundred
        # parameters would be parsed again by the driver at every call (measured: half the client's CPU)
        selects = [sa.select(*(sa.literal(v, t, literal_execute=True).label(c)
                               for v, (c, t) in zip(row, PLACE_COLUMNS.items(), strict=True)))
                   for row in self.rows]
        return selects[0] if len(selects) == 1 else sa.union_all(*selects)


#: The columns of :class:`Places` and their types.
PLACE_COLUMNS: dict[str, Any] = {"id": sa.String(), "name": sa.String(), "county": sa.String(),
                                 "community": sa.String(), "community_name": sa.String(),
                                 "primary_care": sa.Integer()}


def places_relation(region: Region) -> Places:
    """:func:`place_rows` as a :class:`Places` relation."""
    return Places(tuple(tuple(row[c] for c in PLACE_COLUMNS) for row in place_rows(region)))
