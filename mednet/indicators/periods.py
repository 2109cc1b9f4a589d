"""Reporting periods: a year, a quarter or a month in China Standard Time, and the one before it.

    >>> p = parse_period("2026-Q3")
    >>> p.label, p.start.isoformat(), p.end.isoformat()
    ('2026-Q3', '2026-06-30T16:00:00+00:00', '2026-09-30T16:00:00+00:00')
    >>> p.previous().label, parse_period("2026-01").previous().label, parse_period("2025").previous().label
    ('2026-Q2', '2025-12', '2024')
    >>> [m for m in p.months()]
    ['2026-07', '2026-08', '2026-09']
    >>> parse_period("2026-Q5")
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `period` must be a year (2026), a quarter (2026-Q3) or a month (2026-07), \
got '2026-Q5'
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from mednet.errors import InvalidRequest

#: China Standard Time: a period's days are days there.
CST = dt.timezone(dt.timedelta(hours=8), "CST")
_FORM = re.compile(r"^(\d{4})(?:-Q([1-4])|-(0[1-9]|1[0-2]))?$")


@dataclass(frozen=True)
class Period:
    """``months`` consecutive months from ``year``-``first_month`` (1, 3 or 12 of them)."""

    kind: Literal["year", "quarter", "month"]
    year: int
    first_month: int

    @property
    def months_count(self) -> int:
        return {"year": 12, "quarter": 3, "month": 1}[self.kind]

    @property
    def label(self) -> str:
        if self.kind == "year":
            return str(self.year)
        if self.kind == "quarter":
            return f"{self.year}-Q{(self.first_month - 1) // 3 + 1}"
        return f"{self.year}-{self.first_month:02d}"

    @property
    def start(self) -> dt.datetime:
        """The first moment, in UTC."""
        return dt.datetime(self.year, self.first_month, 1, tzinfo=CST).astimezone(dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """The first moment after the period, in UTC."""
        year, month = divmod(self.first_month - 1 + self.months_count, 12)
        return dt.datetime(self.year + year, month + 1, 1, tzinfo=CST).astimezone(dt.UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def months(self) -> list[str]:
        """The months of the period as ``YYYY-MM``."""
        out = []
        for k in range(self.months_count):
            year, month = divmod(self.first_month - 1 + k, 12)
            out.append(f"{self.year + year}-{month + 1:02d}")
        return out

    def previous(self) -> Period:
        """The period of the same length just before."""
        year, month = divmod(self.first_month - 1 - self.months_count, 12)
        return Period(self.kind, self.year + year, month + 1)


def month_starts(start: dt.datetime, end: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """The months (``YYYY-MM``, China Standard Time) from the one holding ``start`` to the last beginning
    before ``end``, each with its first moment in UTC.

    >>> [(m, t.isoformat()) for m, t in month_starts(parse_period("2026-Q1").start, parse_period("2026-Q1").end)]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('2026-01', '2025-12-31T16:00:00+00:00'), ('2026-02', '2026-01-31T16:00:00+00:00'),
     ('2026-03', '2026-02-28T16:00:00+00:00')]
    """
    local = start.astimezone(CST)
    year, month, out = local.year, local.month, []
    while (first := dt.datetime(year, month, 1, tzinfo=CST)) < end:
        out.append((f"{year}-{month:02d}", first.astimezone(dt.UTC)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def parse_period(text: str) -> Period:
    """``2026``, ``2026-Q3`` or ``2026-07``; :class:`InvalidRequest` naming ``period`` otherwise."""
    found = _FORM.match(str(text).strip())
    if found is None:
        raise InvalidRequest("period", text, "must be a year (2026), a quarter (2026-Q3) or a month (2026-07)")
    year, quarter, month = found.groups()
    if quarter:
        return Period("quarter", int(year), (int(quarter) - 1) * 3 + 1)
    if month:
        return Period("month", int(year), int(month))
    return Period("year", int(year), 1)
