"""A map of catchments (matplotlib, no tiles, no network): each centre joined to its nearest capable institution.

Capable institutions are stars labelled by id, each centre a dot in the
colour of its catchment with a thin line to the institution, and a centre
that reaches none a red cross. Needs the ``planning`` extra.

    >>> from mednet.travel import load_travel
    >>> from mednet.travel.catchments import find_catchments
    >>> fig = draw_catchment_map(find_catchments(load_travel("quzhou"), ["儿科"]), "儿科")
    >>> fig.axes[0].get_title()
    'quzhou — paediatrics: catchments by minutes (56 centres, 0 reach none)'
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from mednet.travel.catchments import CatchmentReport

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def draw_catchment_map(report: CatchmentReport, specialty: str) -> Figure:
    """The catchments of one specialty as a matplotlib Figure (lon east, lat north, equal scale at the centre)."""
    from mednet.extras import require_extra

    matplotlib = require_extra("matplotlib", "planning")
    from matplotlib.figure import Figure  # a Figure without pyplot: no GUI backend, no global state

    s = report.column(specialty)
    code = report.specialties[s]
    insts = report.layer.region.institutions
    fig = Figure(figsize=(8, 8))
    ax = fig.add_subplot()
    capable = sorted({int(j) for j in report.nearest[:, s] if j >= 0})
    colour = {j: matplotlib.colormaps["tab20"](k % 20) for k, j in enumerate(capable)}
    for d, row in enumerate(report.demand_rows):
        centre, j = insts[row], int(report.nearest[d, s])
        if j < 0:
            ax.plot(centre.lon, centre.lat, "x", color="red", markersize=8)
            continue
        ax.plot([centre.lon, insts[j].lon], [centre.lat, insts[j].lat], "-", color=colour[j], linewidth=0.6)
        ax.plot(centre.lon, centre.lat, "o", color=colour[j], markersize=4)
    for j in capable:
        ax.plot(insts[j].lon, insts[j].lat, "*", color=colour[j], markeredgecolor="black", markersize=14)
        ax.annotate(insts[j].id, (insts[j].lon, insts[j].lat), fontsize=7, xytext=(4, 4), textcoords="offset points")
    lat = np.mean([i.lat for i in insts])
    ax.set_aspect(1 / math.cos(math.radians(lat)))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    unserved = int((report.nearest[:, s] < 0).sum())
    ax.set_title(
        f"{report.layer.region.id} — {code}: catchments by {report.cost} "
        f"({len(report.demand_rows)} centres, {unserved} reach none)"
    )
    return fig
