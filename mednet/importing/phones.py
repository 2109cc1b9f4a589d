"""Telephone numbers as a registry lists them: landlines with their area code and an extension, 11-digit mobiles,
400/800 service numbers and short public numbers.

:func:`parse_phone` checks each number of a cell (several may be separated
by ``;`` ``；`` ``、`` ``/`` or ``,``) and gives the cell back in one
spelling: ``0570-7012345``, ``0570-7012345-8001`` (extension),
``13800000000``, ``400-123-4567``. Letters are refused (an extension may be
written 转, 分机, ext or #). A landline without its area code is accepted
with a warning: a caller from another county cannot dial it.

    >>> parse_phone("０５７０－７０１２３４５转８００１").text
    '0570-7012345-8001'
    >>> parse_phone("(0570)7012345; 13800000000").text
    '0570-7012345；13800000000'
    >>> parse_phone("7012345").warning_en
    'no area code: callers outside the county cannot dial 7012345 (write it as 0xxx-7012345)'
    >>> parse_phone("0570-70l2345")
    Traceback (most recent call last):
    ...
    mednet.importing.problems.CellError: '0570-70l2345' has letters: a phone number is digits (...)
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from mednet.importing.problems import CellError

_SPLIT = re.compile(r"\s*(?:[;；、/／,，]|\s{2,})\s*")
_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x|#|-)\s*(\d{1,6})$", re.IGNORECASE)
_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_SERVICE = re.compile(r"^([48]00)(\d{3})(\d{4})$")
_SHORT = re.compile(r"^(?:1\d{2,4}|9\d{4})$")  # 120, 12320, 95xxx


class Phone(NamedTuple):
    """A cell's numbers in one spelling, and a warning (English and Chinese) when one lacks its area code."""

    text: str
    warning_en: str | None = None
    warning_zh: str | None = None


def parse_phone(text: str) -> Phone:
    """Every number of a cell, checked (see the module)."""
    value = unicodedata.normalize("NFKC", str(text)).strip()
    numbers, warn_en, warn_zh = [], None, None
    for part in (p for p in _SPLIT.split(value) if p):
        number, local = _one(part)
        numbers.append(number)
        if local and warn_en is None:
            warn_en = (f"no area code: callers outside the county cannot dial {number} (write it as "
                       f"0xxx-{number})")
            warn_zh = f"缺少区号：县外来电无法拨打 {number}（请写成 0xxx-{number}）"
    if not numbers:
        raise CellError("no phone number", "没有电话号码")
    return Phone("；".join(numbers), warn_en, warn_zh)


def _one(part: str) -> tuple[str, bool]:
    """One number in its spelling, and whether it is a landline without an area code."""
    if re.search(r"[A-Za-z]", _EXTENSION.sub("", part)):
        raise CellError(f"{part!r} has letters: a phone number is digits (an area code, the number, an extension "
                        "after 转 or ext)", f"“{part}”含有字母：电话号码只能是数字（区号、号码，分机号写在“转”之后）")
    extension = ""
    found = _EXTENSION.search(part)
    digits_before = re.sub(r"\D", "", part[:found.start()]) if found else ""
    if found and len(digits_before) >= 7:
        extension, part = found.group(1), part[:found.start()]
    digits = re.sub(r"[\s()（）\-－—.+]", "", part)
    if part.strip().startswith("+") and not digits.startswith("86"):
        raise CellError(f"{part!r}: not a number in China (+86)", f"“{part}”不是中国大陆号码（+86）")
    if not digits.isdigit():
        raise CellError(f"{part!r} is not a phone number", f"“{part}”不是电话号码")
    if (mobile := _MOBILE.match(digits)) and not extension:
        return mobile.group(1), False
    if (service := _SERVICE.match(digits)) and not extension:
        return "-".join(service.groups()), False
    if _SHORT.match(digits) and not extension:
        return digits, False
    if digits.startswith("86") and len(digits) > 11:
        digits = "0" + digits[2:]
    if digits.startswith("0"):
        area_len = 3 if digits[1] in "12" else 4  # 010, 02x; else 0xxx
        area, number = digits[:area_len], digits[area_len:]
        if len(number) in (7, 8) and number[0] not in "01":
            return f"{area}-{number}" + (f"-{extension}" if extension else ""), False
        if len(number) in (7, 8):
            raise CellError(f"{part!r}: a landline number does not start with 0 or 1",
                            f"“{part}”：固定电话号码不以 0 或 1 开头")
        raise CellError(f"{part!r}: after the area code {area} a landline has 7 or 8 digits, not {len(number)}",
                        f"“{part}”：区号 {area} 之后应为 7 或 8 位号码，实为 {len(number)} 位")
    if len(digits) in (7, 8) and digits[0] not in "01":
        return digits + (f"-{extension}" if extension else ""), True
    if digits.startswith("1"):
        raise CellError(f"{part!r}: a mobile number has 11 digits starting 13–19, not {len(digits)}",
                        f"“{part}”：手机号码应为 11 位、以 13–19 开头，实为 {len(digits)} 位")
    raise CellError(f"{part!r} is not a phone number (0570-7012345, 13800000000, 400-123-4567)",
                    f"“{part}”不是电话号码（应如 0570-7012345、13800000000、400-123-4567）")


__all__ = ["Phone", "parse_phone"]
