"""The one rule for text a stranger sends: no control characters, no national ID numbers.

Shared by the ledger's write models (every text field of a referral, an
action, a quota), the ledger's own writes (a last guard before a row is
written) and the service's edge (path, query, header, cookie and form values
of every request), so that SQLite and PostgreSQL see the same text and none
of it can break a statement (PostgreSQL refuses ``NUL`` in text; SQLite
would store it).

- **Control characters** (C0, ``U+0000``–``U+001F``, and ``DEL``) are
  refused; tab and line breaks only where several lines are expected (a
  reason, a summary, a note).
- **National ID numbers** (居民身份证号) are refused wherever text is stored:
  the text is normalised first (NFKC, so full-width digits count; separators
  such as spaces, hyphens, dots and slashes removed) and then searched for an
  18-digit number with a valid GB 11643 check digit or a 15-digit first
  generation number, each with a province code and a real month and day.

    >>> find_control("胸痛\\n三天", multiline=True), find_control("胸痛\\n三天"), find_control("a\\x00b")
    (None, 2, 1)
    >>> contains_id_number("110105-19491231-002X"), contains_id_number("１１０１０５１９４９１２３１００２Ｘ")
    (True, True)
    >>> [contains_id_number(t) for t in ("110105491231002", "HB-2024-0192", "110105194912310021")]
    [True, False, False]
    >>> check_text("reason", "胸痛\\x00")
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `reason` must not contain control characters (U+0000 at position 2), got '胸痛\\x00'
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from mednet.errors import InvalidRequest

#: C0 control characters and DEL; tab, line feed and carriage return are allowed in multi-line text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = re.compile(rb"[\x00-\x1f\x7f]")
#: The rule as JSON Schema patterns (ECMA regex), for the documents that state it: single-line text, text of
#: several lines, a header value (tab allowed), a name (single-line, something besides spaces).
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"
MULTILINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
HEADER_PATTERN = r"^[^\x00-\x08\x0a-\x1f\x7f]*$"
NAME_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
#: What may separate the digits of a written ID number (after NFKC: full-width forms are plain already).
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−_.·/\\]+")
#: Province codes (GB/T 2260's first two digits).
_PROVINCE = r"(?:1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[1-3]|91)"
_MONTH_DAY = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_ID_18 = re.compile(rf"(?<!\d){_PROVINCE}\d{{4}}(?:18|19|20)\d{{2}}{_MONTH_DAY}\d{{3}}[\dX](?!\d)", re.ASCII)
_ID_15 = re.compile(rf"(?<!\d){_PROVINCE}\d{{4}}\d{{2}}{_MONTH_DAY}\d{{3}}(?!\d)", re.ASCII)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
#: What a refusal of an ID number says (the ledger never stores one, hashed or not).
ID_RULE = ("looks like a national ID number (居民身份证号); the ledger does not store them: use the desk's own "
           "pseudonymous patient id")
#: What a refusal shows instead of the text that holds an ID number.
NOT_REPEATED = "(not repeated)"
ID_RULE_ZH = "像是居民身份证号；转诊台账不保存身份证号，请使用本机构自己的患者编号"


def state_text_rule(schema: dict[str, Any], pattern: str = TEXT_PATTERN) -> None:
    """Give a JSON Schema of text (or each text branch of an ``anyOf``) ``pattern`` where it states none: a
    value with a choice (``enum``, ``const``), a ``format`` or its own pattern already says what it takes.

    >>> schema = {"anyOf": [{"type": "string", "maxLength": 9}, {"type": "null"}]}
    >>> state_text_rule(schema); schema["anyOf"][0]["pattern"] == TEXT_PATTERN
    True
    """
    for branch in (schema, *schema.get("anyOf", ())):
        if branch.get("type") == "string" and not {"pattern", "enum", "const", "format"} & branch.keys():
            branch["pattern"] = pattern


def find_control(text: str, *, multiline: bool = False) -> int | None:
    """Position of the first control character ``text`` may not hold, or None."""
    found = (_CONTROL_MULTILINE if multiline else _CONTROL).search(text)
    return None if found is None else found.start()


def has_control_bytes(data: bytes) -> bool:
    """Whether raw bytes hold a C0 control character or DEL (a cheap first look before decoding).

    >>> has_control_bytes(b"/regions/quzhou"), has_control_bytes(b"a\\x00")
    (False, True)
    """
    return _CONTROL_BYTES.search(data) is not None


def control_rule(text: str, position: int) -> str:
    """The rule broken by the control character at ``position`` of ``text``."""
    return f"must not contain control characters (U+{ord(text[position]):04X} at position {position})"


def check_text(field: str, text: str, *, multiline: bool = False) -> str:
    """``text`` if it holds no control character it may not hold; else :class:`InvalidRequest` naming ``field``."""
    position = find_control(text, multiline=multiline)
    if position is not None:
        raise InvalidRequest(field, text[:80], control_rule(text, position),
                             rule_zh=f"含有控制字符（位置 {position}，U+{ord(text[position]):04X}），请删除后重试")
    return text


def normalise_for_id(text: str) -> str:
    """``text`` as an ID number search sees it: NFKC, upper case, separators removed.

    >>> normalise_for_id("１１０１０５ 1949-1231.002ｘ")
    '11010519491231002X'
    """
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def contains_id_number(text: str) -> bool:
    """True when ``text`` holds a resident ID number, either generation, however written (see the module)."""
    if sum(c.isdigit() for c in text) < 15:
        return False  # the common case, cheaply: no number long enough
    flat = normalise_for_id(text)
    for match in _ID_18.finditer(flat):
        digits = match.group()
        if digits[17] == "10X98765432"[sum(int(d) * w for d, w in zip(digits[:17], _WEIGHTS, strict=True)) % 11]:
            return True
    return _ID_15.search(flat) is not None


def check_no_id_number(field: str, text: str) -> str:
    """``text`` unless it holds a national ID number; else :class:`InvalidRequest` naming ``field``."""
    if contains_id_number(text):
        raise InvalidRequest(field, NOT_REPEATED, ID_RULE, rule_zh=ID_RULE_ZH)  # the number is not echoed back
    return text


def check_stored_text(field: str, text: str, *, multiline: bool = False) -> str:
    """The whole rule for text the ledger stores: no control character it may not hold, no ID number."""
    return check_no_id_number(field, check_text(field, text, multiline=multiline))
