"""Small charts drawn on the server as SVG text: no script, no font file, no external reference.

Every chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that says in words what it shows
(a screen reader reads the figures in the table beside it); colours are attributes, not styles, so a strict
``Content-Security-Policy`` holds.

    >>> svg = trend_chart("下转占比", [("2026-01", 0.2), ("2026-02", None), ("2026-03", 0.3)], unit="share")
    >>> svg.startswith('<svg') and "<title" in svg and "未采集" in svg
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import pandas as pd

from mednet.indicators.render import format_value

INK, MUTED, ACCENT, ALERT, GRID = "#1a1a1a", "#595959", "#0b5cad", "#b3261e", "#d9d9d9"
_IDS = iter(range(1, 1 << 30))


def _open(width: int, height: int, title: str, desc: str) -> tuple[str, str]:
    n = next(_IDS)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-labelledby="chart-t{n} chart-d{n}" class="chart">'
            f'<title id="chart-t{n}">{escape(title)}</title><desc id="chart-d{n}">{escape(desc)}</desc>')
    return head, "</svg>"


def _text(x: float, y: float, text: str, *, size: int = 11, anchor: str = "start", fill: str = INK) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}">'
            f"{escape(text)}</text>")


def trend_chart(label: str, points: Sequence[tuple[str, float | None]], *, unit: str, width: int = 320,
                height: int = 120) -> str:
    """A line over the months (gaps where a month is 未采集), its lowest and highest values marked."""
    known = [v for _, v in points if v is not None and not (isinstance(v, float) and math.isnan(v))]
    said = "；".join(f"{m} {format_value(v, unit)}" for m, v in points)
    head, tail = _open(width, height, f"{label}：逐月趋势", said or "无数据")
    left, right, top, bottom = 44, 8, 10, 22
    inner_w, inner_h = width - left - right, height - top - bottom
    parts = [head, f'<line x1="{left}" y1="{top + inner_h}" x2="{left + inner_w}" y2="{top + inner_h}" '
             f'stroke="{GRID}"/>']
    if not known:
        parts.append(_text(width / 2, height / 2, "未采集", anchor="middle", fill=MUTED))
        return "".join(parts) + tail
    low, high = min(*known, 0.0), max(known)
    span = (high - low) or 1.0
    step = inner_w / max(len(points) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + inner_h - (v - low) / span * inner_h

    parts.append(_text(left - 4, top + 8, format_value(high, unit), size=10, anchor="end", fill=MUTED))
    parts.append(_text(left - 4, top + inner_h, format_value(low, unit), size=10, anchor="end", fill=MUTED))
    run: list[str] = []
    for i, (_, v) in enumerate(points):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            if len(run) > 1:
                parts.append(f'<polyline fill="none" stroke="{ACCENT}" stroke-width="2" points="{" ".join(run)}"/>')
            run = []
            continue
        x, y = xy(i, v)
        run.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{ACCENT}"/>')
    if len(run) > 1:
        parts.append(f'<polyline fill="none" stroke="{ACCENT}" stroke-width="2" points="{" ".join(run)}"/>')
    parts.append(_text(left, height - 6, points[0][0], size=10, fill=MUTED))
    parts.append(_text(left + inner_w, height - 6, points[-1][0], size=10, anchor="end", fill=MUTED))
    return "".join(parts) + tail


def matrix_chart(matrix: pd.DataFrame, *, cell: int = 34, label_w: int = 190) -> str:
    """The flow matrix as shaded cells (darker: more referrals), each with its count; rows are where referrals
    came from, columns where they went."""
    rows, cols = list(matrix.index), list(matrix.columns)
    width, height = label_w + cell * len(cols) + 10, 24 + cell * len(rows) + 10 + 14 * len(cols)
    total = int(matrix.to_numpy().sum()) if len(rows) else 0
    head, tail = _open(width, height, "医共体与层级之间的转诊流向", f"共 {total} 人次；行为转出方，列为接收方，"
                       "数值见下表")
    parts = [head]
    peak = max(int(matrix.to_numpy().max()), 1) if len(rows) else 1
    for j in range(len(cols)):
        parts.append(_text(label_w + j * cell + cell / 2, 16, str(j + 1), size=10, anchor="middle", fill=MUTED))
    for i, row in enumerate(rows):
        y = 24 + i * cell
        parts.append(_text(label_w - 6, y + cell / 2 + 4, f"{row}", size=10, anchor="end"))
        for j, col in enumerate(cols):
            n = int(matrix.loc[row, col])
            shade = 0.08 + 0.92 * n / peak if n else 0.0
            parts.append(f'<rect x="{label_w + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                         f'fill="{ACCENT}" fill-opacity="{shade:.2f}" stroke="{GRID}"/>')
            if n:
                ink = "#ffffff" if shade > 0.5 else INK
                parts.append(_text(label_w + j * cell + (cell - 2) / 2, y + cell / 2 + 3, str(n), size=10,
                                   anchor="middle", fill=ink))
    y0 = 24 + cell * len(rows) + 14
    for j, col in enumerate(cols):
        parts.append(_text(8, y0 + j * 14, f"{j + 1}：{col}", size=10, fill=MUTED))
    return "".join(parts) + tail


def bypass_map(points: dict[str, tuple[float, float, str]], bypass: pd.DataFrame, *, width: int = 420,
               height: int = 320) -> str:
    """Institutions as dots (lon, lat in a plain equirectangular frame), each bypass as a red line from the
    origin to where the patient went and a dashed line to the proposal; thicker for more referrals."""
    head, tail = _open(width, height, "绕转地图", f"{len(bypass)} 组绕转：红线为实际去向，虚线为系统推荐去向；"
                       "详见下表")
    if not points:
        return head + _text(width / 2, height / 2, "无坐标", anchor="middle", fill=MUTED) + tail
    lats = [p[0] for p in points.values()]
    lons = [p[1] for p in points.values()]
    pad = 16
    mid = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = (max(lons) - min(lons)) * mid or 0.01
    span_y = (max(lats) - min(lats)) or 0.01
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)

    def xy(inst: str) -> tuple[float, float] | None:
        found = points.get(inst)
        if found is None:
            return None
        return pad + (found[1] - min(lons)) * mid * scale, height - pad - (found[0] - min(lats)) * scale

    parts = [head]
    peak = max([int(n) for n in bypass["referrals"]] + [1])
    for row in bypass.itertuples():
        a, b, q = xy(row.origin), xy(row.destination), xy(row.proposed)
        if a is None:
            continue
        widthpx = 1 + 3 * int(row.referrals) / peak
        if q is not None:
            parts.append(f'<line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{q[0]:.1f}" y2="{q[1]:.1f}" stroke="{MUTED}" '
                         'stroke-width="1" stroke-dasharray="3 3"/>')
        if b is not None:
            parts.append(f'<line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{b[0]:.1f}" y2="{b[1]:.1f}" stroke="{ALERT}" '
                         f'stroke-width="{widthpx:.1f}" stroke-opacity="0.7"/>')
    for inst in points:
        x, y = xy(inst)  # type: ignore[misc]
        hospital = points[inst][2] == "hospital"
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{4 if hospital else 2.5}" '
                     f'fill="{INK if hospital else MUTED}"/>')
    return "".join(parts) + tail
