"""Reading cells: one parser per kind of value, every problem reported at its cell, in Chinese and English.

A :class:`Row` reads one row's cells by column key; its parsers never
raise: an unusable cell becomes a problem in the row's
:class:`~mednet.importing.problems.Collector` (with the cell's place and the
rule in both languages) and the parser returns None. Numbers, dates and
codes are read after Unicode NFKC normalisation (full-width digits and
punctuation, as Chinese input methods type them), with a note when that
changed the cell.

    >>> problems = Collector()
    >>> row = Row(problems, file="t.csv", sheet="机构", row=2, cells={"beds": "12x", "lat": "２９．１"},
    ...           headers={"beds": "床位", "lat": "纬度"}, columns={"beds": 3, "lat": 4})
    >>> row.integer("beds", minimum=0) is None, row.number("lat")
    (True, 29.1)
    >>> [p.text("zh") for p in problems.problems]  # doctest: +NORMALIZE_WHITESPACE
    ['t.csv［机构］第 2 行，床位（D2）=“12x”：必须是整数〔integer〕',
     't.csv［机构］第 2 行，纬度（E2）=“２９．１”：全角或特殊字符已规范化，读作“29.1”〔normalised〕']
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from mednet.importing.problems import CellError, CellProblem, Collector, Severity

T = TypeVar("T")

TRUE = {"true", "yes", "y", "1", "是", "有", "√", "对"}
FALSE = {"false", "no", "n", "0", "否", "无", "×", "不"}
DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]00:00(?::00)?)?")
LIST_SEPARATORS = re.compile(r"\s*[;；、,，|]\s*")


def column_letter(index: int) -> str:
    """The spreadsheet letters of a 0-based column index.

    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(702)
    ('A', 'Z', 'AA', 'AAA')
    """
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def nfkc(text: str) -> str:
    """``text`` in NFKC form (full-width digits, letters and punctuation as ASCII), spaces collapsed.

    >>> nfkc("０５７０－７０１２３４５"), nfkc("C２１０")
    ('0570-7012345', 'C210')
    """
    if text.isascii():
        return text
    return " ".join(unicodedata.normalize("NFKC", text).split())


@dataclass(frozen=True)
class Row:
    """One row's cells (text, keyed by column key) and where it stands.

    ``headers`` gives each key's header as written, ``columns`` its 0-based column (for the cell's
    reference, ``D7``), ``extras`` the cells of columns the sheet does not declare (kept aside, by header).
    A column the sheet lacks is reported once for the sheet, never again at each row: :meth:`required` is
    silent for it.
    """

    problems: Collector
    file: str
    sheet: str
    row: int
    cells: Mapping[str, str]
    headers: Mapping[str, str]
    columns: Mapping[str, int] = field(default_factory=dict)
    extras: Mapping[str, str] = field(default_factory=dict)

    def cell_ref(self, key: str) -> str | None:
        """The cell's reference (``D7``), None when the sheet has no such column."""
        index = self.columns.get(key)
        return None if index is None else f"{column_letter(index)}{self.row}"

    def place(self, key: str | None = None) -> dict:
        """The row's place, for a problem about column ``key``."""
        place: dict = {"file": self.file, "sheet": self.sheet, "row": self.row}
        if key is not None:
            place.update(column=self.headers.get(key, key), cell=self.cell_ref(key), value=self.cells.get(key, ""))
        return place

    def problem(self, key: str | None, rule: str, en: str, zh: str, *, severity: Severity = "error") -> None:
        """A problem about column ``key`` of this row (``None``: the whole row)."""
        self.problems.add(**self.place(key), rule=rule, message=en, message_zh=zh, severity=severity)

    def error(self, key: str | None, rule: str, en: str, zh: str) -> None:
        self.problem(key, rule, en, zh)

    def warning(self, key: str | None, rule: str, en: str, zh: str) -> None:
        self.problem(key, rule, en, zh, severity="warning")

    def note(self, key: str | None, rule: str, en: str, zh: str) -> None:
        self.problem(key, rule, en, zh, severity="note")

    def has(self, key: str) -> bool:
        """Whether the sheet has the column (filled or not)."""
        return key in self.headers

    def text(self, key: str) -> str | None:
        """The stripped text of a cell, None when empty or absent."""
        value = self.cells.get(key)
        return value or None

    def required(self, key: str) -> str | None:
        """The cell's text; an empty cell is a problem (a missing column was reported for the sheet)."""
        value = self.text(key)
        if value is None and key in self.headers:
            self.error(key, "required", "must not be empty", "不能为空")
        return value

    def normal(self, key: str) -> str | None:
        """The cell in NFKC form (:func:`nfkc`), with a note when that changed it."""
        value = self.text(key)
        if value is None or value.isascii():
            return value
        clean = nfkc(value)
        if clean != value:
            self._normalised(key, clean)
        return clean

    def _normalised(self, key: str, clean: str) -> None:
        self.note(key, "normalised", f"full-width or special characters normalised: read as {clean!r}",
                  f"全角或特殊字符已规范化，读作“{clean}”")

    def parse(self, key: str, parser: Callable[[str], T], rule: str) -> T | None:
        """``parser(text)`` for a non-empty cell; its ValueError/KeyError becomes a problem. The cell is read in
        NFKC form first (with a note when that changed it and served), then as written (a name whose official
        form has full-width brackets)."""
        value = self.text(key)
        if value is None:
            return None
        clean = value if value.isascii() else nfkc(value)
        try:
            found = parser(clean)
        except (ValueError, KeyError) as err:
            if clean != value:
                try:
                    return parser(value)
                except (ValueError, KeyError):
                    pass
            en = str(err.args[0]) if err.args else str(err)
            zh = getattr(err, "rule_zh", None) or getattr(err, "zh", None) or en
            self.error(key, rule, en, zh)
            return None
        if clean != value:
            self._normalised(key, clean)
        return found

    def number(self, key: str, *, minimum: float | None = None, exclusive: bool = False) -> float | None:
        return self.parse(key, lambda v: parse_number(v, minimum=minimum, exclusive=exclusive), "number")

    def integer(self, key: str, *, minimum: int | None = None) -> int | None:
        return self.parse(key, lambda v: parse_integer(v, minimum=minimum), "integer")

    def boolean(self, key: str) -> bool | None:
        return self.parse(key, parse_bool, "yes-no")

    def date(self, key: str) -> dt.date | None:
        return self.parse(key, parse_date, "date")

    def items(self, key: str) -> tuple[str, ...]:
        """A list cell: values separated by ; ； 、 , ， or |."""
        value = self.text(key)
        return tuple(v for v in LIST_SEPARATORS.split(value) if v) if value else ()

    def choice(self, key: str, choices: Mapping[str, str], *, rule: str, shown: str | None = None) -> str | None:
        """A cell that must name one of ``choices`` (spelling, case-folded → value); the closest spelling
        suggested. ``shown`` says the choices in Chinese (default: each value's first Chinese spelling)."""
        return self.parse(key, lambda text: pick(text, choices, shown=shown), rule)


def pick(text: str, choices: Mapping[str, str], *, shown: str | None = None) -> str:
    """The value ``text`` names among ``choices`` (case-folded spelling → value); :class:`CellError` else, with
    the spelling it most likely meant (a close whole-word match: 牵头单住 → 牵头单位).

    >>> pick("周二", {"周一": "mon", "周二": "tue"})
    'tue'
    >>> pick("礼拜8", {"周一": "mon", "周二": "tue"})
    Traceback (most recent call last):
    ...
    mednet.importing.problems.CellError: must be one of mon, tue
    """
    import difflib

    found = choices.get(text.casefold())
    if found is not None:
        return found
    values = list(dict.fromkeys(choices.values()))
    spellings = [k for k in choices if not k.isascii()] if not text.isascii() else list(choices)
    near = difflib.get_close_matches(text.casefold(), spellings, n=1, cutoff=0.6)
    first_zh = {v: k for k, v in reversed(list(choices.items())) if not k.isascii()}
    zh_options = shown or "、".join(dict.fromkeys(first_zh.get(v, v) for v in values))
    raise CellError(f"must be one of {', '.join(values)}" + (f"; did you mean {near[0]!r}?" if near else ""),
                    f"应为以下之一：{zh_options}" + (f"；是否要写“{near[0]}”？" if near else ""))


def parse_number(text: str, *, minimum: float | None = None, exclusive: bool = False) -> float:
    """A decimal number (a decimal comma is read as a point).

    >>> parse_number("29,5"), parse_number("3", minimum=0, exclusive=True)
    (29.5, 3.0)
    """
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise CellError("must be a number", "必须是数字") from None
    if not math.isfinite(value):
        raise CellError("must be a finite number", "必须是有限的数字")
    if minimum is not None and (value <= minimum if exclusive else value < minimum):
        raise CellError(f"must be {'>' if exclusive else '>='} {minimum:g}",
                        f"必须{'大于' if exclusive else '大于或等于'} {minimum:g}")
    return value


def parse_integer(text: str, *, minimum: int | None = None) -> int:
    """A whole number (``12.0`` as a spreadsheet stores it is 12).

    >>> parse_integer("12.0")
    12
    """
    try:
        value = float(text)
    except ValueError:
        raise CellError("must be a whole number", "必须是整数") from None
    if not value.is_integer():
        raise CellError("must be a whole number", "必须是整数")
    if minimum is not None and value < minimum:
        raise CellError(f"must be >= {minimum}", f"必须大于或等于 {minimum}")
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
    raise CellError("must be yes or no (是/否, true/false, 1/0)", "必须是“是”或“否”（也可写 true/false、1/0）")


def parse_date(text: str) -> dt.date:
    """ISO dates, 2019年4月3日, 2019/4/3, and spreadsheet date-times at midnight.

    >>> parse_date("2019年4月3日"), parse_date("2019-04-03 00:00:00")
    (datetime.date(2019, 4, 3), datetime.date(2019, 4, 3))
    """
    found = DATE.fullmatch(text.strip())
    if not found:
        raise CellError("must be a date such as 2019-04-03", "必须是日期，例如 2019-04-03 或 2019年4月3日")
    try:
        return dt.date(*(int(g) for g in found.groups()))
    except ValueError as err:
        raise CellError(f"must be a real date ({err})", "不是实际存在的日期") from None


__all__ = ["CellError", "CellProblem", "Collector", "Row", "column_letter", "nfkc", "parse_bool", "parse_date",
           "parse_integer", "parse_number", "pick"]
