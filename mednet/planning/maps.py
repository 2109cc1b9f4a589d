"""Coverage maps: where a specialty is out of reach (matplotlib, no tiles, no network).

Institutions are drawn by tier (marker) and community (colour), links as
thin lines, the institutions offering the specialty outlined, and the gap
points ringed in red and labelled. Needs the ``planning`` extra;
:func:`draw_coverage_html` draws an interactive map with folium (``maps`` extra).

    >>> import mednet
    >>> from mednet.planning import find_coverage_gaps
    >>> report = find_coverage_gaps(mednet.build_network(mednet.load_region("quzhou")), max_km=30)
    >>> import warnings
    >>> with warnings.catch_warnings():  # the warning when no CJK font is installed
    ...     warnings.simplefilter("ignore")
    ...     fig = draw_coverage_map(report, "儿科")
    >>> fig.axes[0].get_title().splitlines()[0].endswith("Paediatrics: coverage within 30 km")
    True

Chinese text needs a CJK font (Noto Sans CJK, Source Han Sans, WenQuanYi,
SimHei, Microsoft YaHei, PingFang); without one, the map is drawn with ids
and English labels and a warning says which fonts to install.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mednet.extras import require_extra
from mednet.models import Tier
from mednet.specialties import resolve_specialty

if TYPE_CHECKING:  # types only: a map takes a report and computes nothing
    import folium
    from matplotlib.figure import Figure

    from mednet.planning.report import CoverageReport

#: Font families with Chinese glyphs, preferred first.
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Sarasa Gothic SC",
    "Droid Sans Fallback", "AR PL UMing CN", "Arial Unicode MS",
)
_CJK_FILES = ("notosanscjk", "notosanssc", "sourcehansans", "wqy-zenhei", "wqy-microhei", "msyh", "simhei",
              "pingfang", "droidsansfallback", "uming")

#: (marker, size in points², label) per tier; primary care small, hospitals large.
TIER_STYLE = {  # drawn in this order: co-located county-seat hospitals keep the leads on top
    Tier.SPECIALTY_HOSPITAL: ("D", 60, "specialty hospital 专科医院"),
    Tier.MATERNAL_CHILD_HOSPITAL: ("D", 60, "maternal-child 妇幼保健院"),
    Tier.SHARED_CENTRE: ("P", 60, "shared centre 区域共享中心"),
    Tier.COUNTY_HOSPITAL: ("^", 90, "county hospital 县级医院"),
    Tier.CITY_HOSPITAL: ("s", 110, "city hospital 市级医院"),
    Tier.TOWNSHIP_CENTRE: ("o", 30, "township centre 乡镇卫生院"),
    Tier.COMMUNITY_CENTRE: ("h", 34, "community centre 社区卫生服务中心"),
}
MAX_LEGEND_COMMUNITIES = 12
GAP_COLOUR, CAPABLE_COLOUR, SESSION_COLOUR, NO_COMMUNITY = "#d62728", "#111111", "#1f5fbf", "#9a9a9a"


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first installed font family with Chinese glyphs, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    for path in font_manager.findSystemFonts():  # installed after matplotlib built its cache
        if any(key in Path(path).name.lower().replace("_", "") for key in _CJK_FILES):
            try:
                font_manager.fontManager.addfont(path)
                return font_manager.FontProperties(fname=path).get_name()
            except (OSError, RuntimeError):
                continue
    return None


def draw_coverage_map(
    report: CoverageReport,
    specialty: str,
    path: str | os.PathLike[str] | None = None,
    *,
    label_gaps: int = 40,
    catchments: bool | None = None,
) -> Figure:
    """Draw one specialty's coverage from a report; returns the matplotlib Figure, also saved to ``path`` if given.

    The map computes nothing: what it shows is the report's. Gap points are
    named when there are at most ``label_gaps`` of them. ``catchments``
    (default: when the report is by travel cost) joins each demand point to
    its nearest capable institution, one colour per institution
    (:meth:`CoverageReport.catchment_links`). The format follows the file's
    suffix (``.png``, ``.svg``, ``.pdf``).
    """
    matplotlib = require_extra("matplotlib", "planning")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    spec = resolve_specialty(specialty)
    s = report.column(spec.code)
    net, G = report.network, report.network.G
    font = cjk_font()
    if font is None:
        warnings.warn("no CJK font found: the map uses ids and English labels; install e.g. fonts-noto-cjk "
                      "or fonts-wqy-zenhei for Chinese names", stacklevel=2)
    zh = font is not None

    with matplotlib.rc_context({"font.family": [font, "DejaVu Sans"] if zh else ["DejaVu Sans"],
                                "axes.unicode_minus": False}), quiet_font_lookup():
        fig = Figure(figsize=(10, 9), dpi=150, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        n = net.n
        small = n > 2000  # national scale: smaller marks, no per-point labels

        coo = net.csr.tocoo()
        upper = coo.row < coo.col
        a, b = coo.row[upper], coo.col[upper]
        segments = np.stack((np.column_stack((net.lon[a], net.lat[a])), np.column_stack((net.lon[b], net.lat[b]))), 1)
        ax.add_collection(LineCollection(segments, colors="#b8b8b8", linewidths=0.3 if small else 0.6, zorder=1))  # type: ignore[arg-type]

        if report.travel is not None if catchments is None else catchments:
            centre, nearest = report.catchment_links(spec.code)
            tones = matplotlib.colormaps["tab20"]
            lines = np.stack((np.column_stack((net.lon[centre], net.lat[centre])),
                              np.column_stack((net.lon[nearest], net.lat[nearest]))), 1)
            ax.add_collection(LineCollection(lines, colors=[tones(j % tones.N) for j in nearest],  # type: ignore[arg-type]
                                             linewidths=0.5 if small else 1.2, alpha=0.8, zorder=2,
                                             label="catchment"))

        communities = G.graph.get("communities", {})
        palette = matplotlib.colormaps["tab10" if len(net.community_ids) <= 10 else "tab20"]
        colour = np.array([palette(h % palette.N) if h >= 0 else matplotlib.colors.to_rgba(NO_COMMUNITY)
                           for h in net.home])
        col = net.column(spec.code)
        permanent = net.capable[:, col]
        session = net.in_session[:, col] & ~permanent & report.include_sessions
        tiers = np.array([Tier(G.nodes[i]["tier"]) for i in net.ids], dtype=object)
        scale = 0.15 if small else 1.0
        for tier, (marker, size, _) in TIER_STYLE.items():
            rows = np.flatnonzero(tiers == tier)
            if not len(rows):
                continue
            edge = np.where(permanent[rows, None], matplotlib.colors.to_rgba(CAPABLE_COLOUR),
                            np.where(session[rows, None], matplotlib.colors.to_rgba(SESSION_COLOUR), (1, 1, 1, 1)))
            width = np.where(permanent[rows] | session[rows], 1.8, 0.5) * (0.5 if small else 1)
            ax.scatter(net.lon[rows], net.lat[rows], s=size * scale, marker=marker, c=colour[rows],
                       edgecolors=edge, linewidths=width, zorder=3 if tier.is_primary_care else 4)  # type: ignore[arg-type]

        gap_rows = np.flatnonzero(report.gap[:, s])
        demand = report.demand_rows[gap_rows]
        ax.scatter(net.lon[demand], net.lat[demand], s=(40 if small else 230), facecolors="none",
                   edgecolors=GAP_COLOUR, linewidths=1.0 if small else 2.0, zorder=5)
        if len(gap_rows) <= label_gaps:
            for d, row in zip(gap_rows, demand, strict=True):
                km, minutes = report.distance_km[d, s], report.minutes[d, s]
                name = _short_name(G.nodes[net.ids[row]]["name"]) if zh else net.ids[row]
                far = f"{minutes:.0f} min" if report.cost == "minutes" else f"{km:.1f} km"
                text = f"{name} {far}" if math.isfinite(km) else f"{name} (unreachable)"
                ax.annotate(text, (net.lon[row], net.lat[row]), xytext=(7, 6), textcoords="offset points",
                            fontsize=8, color=GAP_COLOUR, zorder=6,
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75})

        mid_lat = float(np.mean(net.lat)) if n else 0.0
        ax.set_aspect(1 / max(math.cos(math.radians(mid_lat)), 0.1))
        ax.autoscale_view()
        ax.margins(0.06)
        ax.set_xlabel("longitude (°E)")
        ax.set_ylabel("latitude (°N)")
        ax.grid(True, color="#eeeeee", linewidth=0.6, zorder=0)

        limit = _limit_text(report)
        label = f"{spec.label_zh} {spec.label_en}" if zh else spec.label_en
        region = G.graph.get("name", report.region) if zh else report.region
        offered = f"{int(permanent.sum())} institutions offer it" + (
            f", {int(session.sum())} more in visiting sessions" if session.any() else "")
        travel = f" by travel {report.cost} ({_basis_kinds(report, spec.code)})" if report.travel is not None else ""
        ax.set_title(
            f"{label}: coverage within {limit}{travel}\n{region}\n"
            f"{len(gap_rows)} of {len(report.demand_rows)} primary-care institutions beyond {limit}; {offered}",
            fontsize=11,
        )

        handles = [Line2D([], [], linestyle="", marker=m, markersize=math.sqrt(sz) * 0.8, color=NO_COMMUNITY,
                          label=lab if zh else lab.split(" 1")[0].rsplit(" ", 1)[0])
                   for tier, (m, sz, lab) in TIER_STYLE.items() if (tiers == tier).any()]
        if len(net.community_ids) <= MAX_LEGEND_COMMUNITIES:
            handles += [Line2D([], [], linestyle="", marker="o", markersize=8, color=palette(c % palette.N),
                               label=communities[cid].name if zh else cid)
                        for c, cid in enumerate(net.community_ids)]
        else:
            handles.append(Line2D([], [], linestyle="", marker="o", markersize=8, color=palette(0),
                                  label=f"colour: one of {len(net.community_ids):,} communities"))
        handles.append(Line2D([], [], linestyle="", marker="o", markersize=8, markerfacecolor="white",
                              markeredgecolor=CAPABLE_COLOUR, markeredgewidth=2,
                              label=f"offers {spec.label_zh if zh else spec.label_en}"))
        if session.any():
            handles.append(Line2D([], [], linestyle="", marker="o", markersize=8, markerfacecolor="white",
                                  markeredgecolor=SESSION_COLOUR, markeredgewidth=2, label="visiting sessions only"))
        handles.append(Line2D([], [], linestyle="", marker="o", markersize=12, markerfacecolor="none",
                              markeredgecolor=GAP_COLOUR, markeredgewidth=2, label=f"gap: beyond {limit}"))
        handles.append(Line2D([], [], color="#b8b8b8", linewidth=1, label="referral link"))
        if any(c.get_label() == "catchment" for c in ax.collections):
            by = f"travel {report.cost}" if report.travel is not None else "network km"
            handles.append(Line2D([], [], color="#1f77b4", linewidth=1.2,
                                  label=f"catchment: centre → its nearest by {by}"))
        fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
        if path is not None:
            fig.savefig(Path(path))
    return fig


@contextmanager
def quiet_font_lookup():
    """CJK fonts often come in one weight only; matplotlib logs each fallback, which is noise here.

    Fonts are looked up when a figure is drawn, so saving a map needs it too.
    """
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _limit_text(report: CoverageReport) -> str:
    parts = []
    if report.max_km is not None:
        parts.append(f"{report.max_km:g} km")
    if report.max_minutes is not None:
        parts.append(f"{report.max_minutes:g} min")
    return " / ".join(parts) or "reach"


def _basis_kinds(report: CoverageReport, code: str) -> str:
    """The kinds of basis of a specialty's minutes, e.g. ``default_model`` (what the report says)."""
    counts = report.bases(code, "minutes") or ()
    return ", ".join(c.kind.replace("_", " ") for c in counts if c.kind != "same_institution") or "none reachable"


def _short_name(name: str) -> str:
    """衢州市第二人民医院医共体上方分院 → 上方分院: the branch part of a community-prefixed name."""
    return name.split("医共体", 1)[1] if "医共体" in name and not name.endswith("医共体") else name


def draw_coverage_html(
    report: CoverageReport,
    specialty: str,
    path: str | os.PathLike[str] | None = None,
    *,
    tiles: str | None = "OpenStreetMap",
    max_links: int = 5000,
) -> folium.Map:
    """An interactive Leaflet map (folium, the ``maps`` extra); returns the ``folium.Map``.

    Every primary-care institution is a dot coloured by community with a
    popup (distance, nearest capable institution); gaps in red; institutions
    offering the specialty outlined in black. Links are drawn up to
    ``max_links``. The page loads Leaflet (and the ``tiles``, if any) in the
    browser when opened; building it needs no network.

    >>> import mednet
    >>> G = mednet.build_network(mednet.load_region("quzhou"))
    >>> from mednet.planning import find_coverage_gaps
    >>> m = draw_coverage_html(find_coverage_gaps(G, specialties=["儿科"], max_km=30), "儿科", tiles=None)
    >>> "齐溪卫生院" in m.get_root().render()
    True
    """
    folium = require_extra("folium", "maps")
    from matplotlib import colormaps, colors

    spec = resolve_specialty(specialty)
    s = report.column(spec.code)
    net, G = report.network, report.network.G
    fmap = folium.Map(location=[float(np.mean(net.lat)), float(np.mean(net.lon))], zoom_start=9, tiles=tiles,
                      control_scale=True)
    fmap.fit_bounds([[float(net.lat.min()), float(net.lon.min())], [float(net.lat.max()), float(net.lon.max())]])
    coo = net.csr.tocoo()
    upper = np.flatnonzero(coo.row < coo.col)[:max_links]
    links = folium.FeatureGroup(name="referral links")
    for a, b in zip(coo.row[upper], coo.col[upper], strict=True):
        folium.PolyLine([[net.lat[a], net.lon[a]], [net.lat[b], net.lon[b]]], color="#999999", weight=1,
                        opacity=0.6).add_to(links)
    links.add_to(fmap)
    if report.travel is not None:  # by travel cost: each centre joined to its nearest (its catchment)
        catchment = folium.FeatureGroup(name=f"catchments (nearest by travel {report.cost})")
        for a, b in zip(*report.catchment_links(spec.code), strict=True):
            folium.PolyLine([[net.lat[a], net.lon[a]], [net.lat[b], net.lon[b]]], color="#1f77b4", weight=2,
                            opacity=0.7).add_to(catchment)
        catchment.add_to(fmap)
    palette = colormaps["tab10" if len(net.community_ids) <= 10 else "tab20"]
    offers = report.offered()[:, s]
    communities = G.graph.get("communities", {})
    demand_of = {int(r): d for d, r in enumerate(report.demand_rows)}
    for group_name, rows in (("institutions", np.flatnonzero(~net.primary_care)),
                             ("primary care", np.flatnonzero(net.primary_care))):
        group = folium.FeatureGroup(name=group_name)
        for row in rows:
            node, home = net.ids[row], net.home[row]
            fill = colors.to_hex(palette(home % palette.N)) if home >= 0 else NO_COMMUNITY
            lines = [f"<b>{G.nodes[node]['name']}</b> ({node})", Tier(G.nodes[node]["tier"]).label_zh]
            if home >= 0:
                lines.append(communities[net.community_ids[home]].name)
            d = demand_of.get(int(row))
            gap = d is not None and bool(report.gap[d, s])
            if d is not None:
                km, near = report.distance_km[d, s], report.nearest_row[d, s]
                minutes = f", {report.minutes[d, s]:.0f} min" if report.travel is not None else ""
                lines.append(f"{spec.label_zh}: {km:.1f} km{minutes} → {G.nodes[net.ids[near]]['name']}" if near >= 0
                             else f"{spec.label_zh}: none reachable")
            folium.CircleMarker(
                [float(net.lat[row]), float(net.lon[row])], radius=9 if gap else (5 if net.primary_care[row] else 7),
                color=GAP_COLOUR if gap else (CAPABLE_COLOUR if offers[row] else "#ffffff"),
                weight=3 if gap or offers[row] else 1, fill=True, fill_color=fill, fill_opacity=0.9,
                popup=folium.Popup("<br>".join(lines), max_width=320),
                tooltip=G.nodes[node]["name"],
            ).add_to(group)
        group.add_to(fmap)
    gaps = int(report.gap[:, s].sum())
    title = (f"{spec.label_zh} {spec.label_en}: {gaps} of {len(report.demand_rows)} primary-care institutions "
             f"beyond {_limit_text(report)}")
    fmap.get_root().html.add_child(folium.Element(
        f'<div style="position:fixed;top:8px;left:60px;z-index:9999;background:white;padding:4px 8px;'
        f'font:14px sans-serif;border-radius:4px">{title}</div>'))
    folium.LayerControl().add_to(fmap)
    if path is not None:
        fmap.save(os.fspath(path))
    return fmap
