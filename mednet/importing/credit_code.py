"""统一社会信用代码 (unified social credit code): the GB 32100-2015 check character.

An 18-character code: registration authority, organisation kind, 6-digit
administrative division, 9-character organisation code, and a check
character computed modulo 31 over the first 17 (weights ``3^i mod 31``).

    >>> credit_code_problem("91350100M000100Y43") is None
    True
    >>> credit_code_problem("91350100M000100Y44")
    'check character is 4, expected 3 (GB 32100-2015)'
"""

from __future__ import annotations

from functools import lru_cache

#: The 31 characters of the code, in the order of their values 0–30 (no I, O, S, V, Z).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28


def check_character(first17: str) -> str:
    """The check character for the first 17 characters of a code.

    >>> check_character("91350100M000100Y4")
    '3'
    """
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


@lru_cache(maxsize=16384)  # a row's code is checked by its cell and again by the model: once is enough
def credit_code_problem(code: str) -> str | None:
    """What is wrong with a credit code (None when it is well formed and its check character holds).

    >>> credit_code_problem("9135010OM000100Y43")
    "must be 18 characters of 0-9 and A-Y without I, O, S, V, Z; 'O' at position 8 is not allowed"
    """
    text = str(code).strip().upper()
    if len(text) != 18:
        return f"must be 18 characters (GB 32100-2015), has {len(text)}"
    for i, c in enumerate(text, start=1):
        if c not in _VALUE:
            return f"must be 18 characters of 0-9 and A-Y without I, O, S, V, Z; {c!r} at position {i} is not allowed"
    expected = check_character(text[:17])
    if text[17] != expected:
        return f"check character is {text[17]}, expected {expected} (GB 32100-2015)"
    return None


__all__ = ["ALPHABET", "check_character", "credit_code_problem"]
