"""Indicator values as people read them: shares in per cent, counts whole, minutes to 0.1, 未采集 for none.

    >>> format_value(0.12345, "share"), format_value(12.0, "count"), format_value(None, "share")
    ('12.3%', '12', '未采集')
    >>> format_value(95.25, "minutes")
    '95.2'
"""

from __future__ import annotations

import pandas as pd

from mednet.indicators.definitions import DIMENSIONS, NOT_COLLECTED


def format_value(value: float | None, unit: str) -> str:
    """One value in its unit."""
    if value is None or (isinstance(value, float) and value != value):
        return NOT_COLLECTED
    if unit == "share":
        return f"{value * 100:.1f}%"
    if unit == "count":
        return f"{value:.0f}"
    return f"{value:.1f}"


def wide_tables(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """One table per dimension: a row per indicator, a column per group, values formatted."""
    out = []
    shown = frame.assign(shown=[format_value(v, u) for v, u in zip(frame["value"], frame["unit"], strict=True)])
    for dim in DIMENSIONS:
        part = shown[shown["dimension"] == dim.key]
        if part.empty:
            continue
        order = list(dict.fromkeys(part["label_zh"]))
        groups = list(dict.fromkeys(part["group_label"]))
        table = part.pivot_table(index="label_zh", columns="group_label", values="shown", aggfunc="first")
        out.append((dim.label_zh, table.reindex(index=order, columns=groups)))
    return out


def to_text(frame: pd.DataFrame, *, title: str) -> str:
    """Plain-text tables, one per dimension, under ``title``."""
    parts = [title]
    for label, table in wide_tables(frame):
        table = table.rename_axis(index=None, columns=None)
        parts += ["", f"## {label}", table.to_string()]
    return "\n".join(parts) + "\n"
