"""Reading cells: one parser per kind of value, every problem collected with its place.

A :class:`Collector` gathers :class:`CellProblem` values (file, sheet, row,
column, value, rule, message) and never raises; import raises once at the
end, with all of them. :class:`Row` reads one row's cells by column key.

    >>> problems = Collector()
    >>> row = Row(problems, file="t.csv", sheet="机构", row=2, cells={"beds": "12x"}, headers={"beds": "床位"})
    >>> row.integer("beds", minimum=0) is None, str(problems.problems[0])
    (True, "t.csv [机构] row 2, 床位 = '12x': integer: must be a whole number")
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")

TRUE = {"true", "yes", "y", "1", "是", "有", "√", "对"}
FALSE = {"false", "no", "n", "0", "否", "无", "×", "不"}
DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]00:00(?::00)?)?")
LIST_SEPARATORS = re.compile(r"\s*[;；、,，|]\s*")


class CellProblem(BaseModel):
    """One unusable cell (or a missing sheet or column: then ``row`` is None or 1)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    sheet: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    rule: str
    message: str

    def __str__(self) -> str:
        place = f"{self.file} [{self.sheet}]" if self.sheet else self.file
        if self.row is not None:
            place += f" row {self.row}"
        if self.column is not None:
            place += f", {self.column}"
            if self.value is not None:
                place += f" = {self.value!r}"
        return f"{place}: {self.rule}: {self.message}"


@dataclass
class Collector:
    """Every problem found, in the order found."""

    problems: list[CellProblem] = field(default_factory=list)

    def add(self, **fields: Any) -> None:
        self.problems.append(CellProblem(**fields))

    def __bool__(self) -> bool:
        return bool(self.problems)


@dataclass(frozen=True)
class Row:
    """One row's cells (text, keyed by column key) and where it stands."""

    problems: Collector
    file: str
    sheet: str
    row: int
    cells: Mapping[str, str]
    headers: Mapping[str, str]

    def place(self, key: str | None = None) -> dict:
        """The row's place, for a problem about column ``key``."""
        place = {"file": self.file, "sheet": self.sheet, "row": self.row}
        if key is not None:
            place.update(column=self.headers.get(key, key), value=self.cells.get(key, ""))
        return place

    def problem(self, key: str | None, rule: str, message: str) -> None:
        self.problems.add(**self.place(key), rule=rule, message=message)

    def text(self, key: str) -> str | None:
        """The stripped text of a cell, None when empty or absent."""
        value = str(self.cells.get(key, "") or "").strip()
        return value or None

    def required(self, key: str) -> str | None:
        value = self.text(key)
        if value is None:
            self.problem(key, "required", "must not be empty")
        return value

    def parse(self, key: str, parser: Callable[[str], T], rule: str) -> T | None:
        """``parser(text)`` for a non-empty cell; its ValueError/KeyError becomes a problem."""
        value = self.text(key)
        if value is None:
            return None
        try:
            return parser(value)
        except (ValueError, KeyError) as err:
            self.problem(key, rule, str(err).strip("'\""))
            return None

    def number(self, key: str, *, minimum: float | None = None, exclusive: bool = False) -> float | None:
        return self.parse(key, lambda v: _number(v, minimum, exclusive), "number")

    def integer(self, key: str, *, minimum: int | None = None) -> int | None:
        return self.parse(key, lambda v: _integer(v, minimum), "integer")

    def boolean(self, key: str) -> bool | None:
        return self.parse(key, parse_bool, "yes-no")

    def date(self, key: str) -> dt.date | None:
        return self.parse(key, parse_date, "date")

    def items(self, key: str) -> tuple[str, ...]:
        """A list cell: values separated by ; ， 、 , or |."""
        value = self.text(key)
        return tuple(v for v in LIST_SEPARATORS.split(value) if v) if value else ()

    def choice(self, key: str, choices: Mapping[str, str], *, rule: str) -> str | None:
        """A cell that must name one of ``choices`` (spelling, case-folded → value)."""
        def pick(text: str) -> str:
            found = choices.get(text.casefold())
            if found is None:
                expected = ", ".join(dict.fromkeys(choices.values()))
                raise ValueError(f"must be one of {expected}")
            return found
        return self.parse(key, pick, rule)


def _number(text: str, minimum: float | None, exclusive: bool) -> float:
    try:
        value = float(text.replace("，", ".").replace(",", "."))
    except ValueError:
        raise ValueError("must be a number") from None
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    if minimum is not None and (value <= minimum if exclusive else value < minimum):
        raise ValueError(f"must be {'>' if exclusive else '>='} {minimum:g}")
    return value


def _integer(text: str, minimum: int | None) -> int:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("must be a whole number") from None
    if not value.is_integer():
        raise ValueError("must be a whole number")
    if minimum is not None and value < minimum:
        raise ValueError(f"must be >= {minimum}")
    return int(value)


def parse_bool(text: str) -> bool:
    """是/否, yes/no, true/false, 1/0.

    >>> parse_bool("是"), parse_bool("FALSE")
    (True, False)
    """
    key = text.strip().casefold()
    if key in TRUE:
        return True
    if key in FALSE:
        return False
    raise ValueError("must be yes or no (是/否, true/false, 1/0)")


def parse_date(text: str) -> dt.date:
    """ISO dates, 2019年4月3日, 2019/4/3, and spreadsheet date-times at midnight.

    >>> parse_date("2019年4月3日"), parse_date("2019-04-03 00:00:00")
    (datetime.date(2019, 4, 3), datetime.date(2019, 4, 3))
    """
    found = DATE.fullmatch(text.strip())
    if not found:
        raise ValueError("must be a date such as 2019-04-03")
    try:
        return dt.date(*(int(g) for g in found.groups()))
    except ValueError as err:
        raise ValueError(f"must be a real date ({err})") from None


__all__ = ["CellProblem", "Collector", "Row", "parse_bool", "parse_date"]
