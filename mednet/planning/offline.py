"""Interactive maps that work on a machine with no internet: every script and style inline, background from data.

A folium page loads Leaflet, jQuery, Bootstrap and Font Awesome from CDNs
and its background from a tile server, so on an intranet it is blank.
:func:`inline_resources` replaces each such ``<script src>`` and
``<link rel=stylesheet>`` by the file's text, taken from the
``folium-offline`` package (the same files, shipped on PyPI), and refuses a
page that would still load anything from outside; :func:`external_links`
lists what a page would fetch. Without a tile server (``tiles`` None and no
``MEDNET_TILES``, a URL template such as ``http://tiles.example/{z}/{x}/{y}.png``
on the intranet), :func:`data_background` draws the counties the network
covers (the outline of their official township centres, an approximation
said as such) instead. :func:`draw_plan_html` draws people and sites: demand
points shaded by people, red where out of reach, and the sites a plan keeps
and opens.

    >>> html = '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>'
    >>> external_links(html)
    ['https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js']
    >>> offline = inline_resources(html)
    >>> external_links(offline), offline.startswith("<script>")
    ([], True)
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from mednet.errors import InvalidRequest
from mednet.network import CompiledNetwork

#: Environment variable naming a tile server (URL template) reachable from the planners' machines.
TILES_ENV = "MEDNET_TILES"
_SCRIPT = re.compile(r'<script\s+src="(https?://[^"]+)"\s*>\s*</script>', re.IGNORECASE)
_STYLE = re.compile(r'<link\s+rel="stylesheet"\s+href="(https?://[^"]+)"\s*/?>', re.IGNORECASE)
_FETCHED = re.compile(r'<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)="(https?://[^"]+)"', re.IGNORECASE)
_CSS_URL = re.compile(r'url\(\s*["\']?(https?://[^)"\']+)', re.IGNORECASE)


def _resources() -> dict[str, str]:
    from offlinefolium import elements

    return elements._res  # the package's table of embedded files, by the URL folium links them from


def external_links(html: str) -> list[str]:
    """Every URL outside the page that a browser would fetch to show it (scripts, styles, images, CSS url())."""
    return list(dict.fromkeys([*_FETCHED.findall(html), *_CSS_URL.findall(html)]))


def inline_resources(html: str) -> str:
    """The page with every external script and stylesheet inline; :class:`InvalidRequest` naming any left."""
    files = _resources()

    def script(match: re.Match[str]) -> str:
        text = files.get(match.group(1))
        return match.group(0) if text is None else "<script>" + text.replace("</script", "<\\/script") + "</script>"

    def style(match: re.Match[str]) -> str:
        text = files.get(match.group(1))
        return match.group(0) if text is None else "<style>" + text + "</style>"

    out = _STYLE.sub(style, _SCRIPT.sub(script, html))
    left = external_links(out)
    if left:
        raise InvalidRequest("map", ", ".join(left[:3]), "would load files from the internet that mednet cannot "
                             "inline", rule_zh="含有无法内嵌的外部文件，离线时无法显示")
    return out


def configured_tiles(tiles: str | None = None) -> str | None:
    """The tile server to use: ``tiles`` when given, else ``MEDNET_TILES``, else None (background from data)."""
    return tiles or os.environ.get(TILES_ENV) or None


def data_background(fmap: Any, net: CompiledNetwork) -> None:
    """County outlines (convex hull of their official township centres; labelled approximate) under the map."""
    import folium
    from scipy.spatial import ConvexHull, QhullError

    from mednet.places import county_townships

    group = folium.FeatureGroup(name="区县轮廓（乡镇中心连线，近似）", control=True)
    counties = sorted({str(net.G.nodes[i].get("county")) for i in net.ids if net.G.nodes[i].get("county")})
    for county in counties:
        try:
            towns = [t for t in county_townships(county) if t.lat is not None and t.lon is not None]
        except (InvalidRequest, KeyError, ValueError):
            continue
        points = np.array([[t.lat, t.lon] for t in towns], dtype=float)
        if len(points) < 3:
            continue
        try:
            hull = ConvexHull(points)
        except QhullError:
            continue
        ring = points[hull.vertices].tolist()
        folium.Polygon(ring, color="#777777", weight=1, fill=True, fill_color="#f2efe6", fill_opacity=0.6,
                       tooltip=f"{county}（近似轮廓）").add_to(group)
    fmap.add_child(group, index=0)  # drawn first, and defined before a layer control lists it


def add_background(fmap: Any, net: CompiledNetwork, *, tiles: str | None = None) -> None:
    """The configured tile server (:func:`configured_tiles`) as the map's background, else the counties from data."""
    import folium

    server = configured_tiles(tiles)
    if server:
        host = server.split("/")[2] if "//" in server else server
        fmap.add_child(folium.TileLayer(server, attr=f"tiles: {host}", name="底图"), index=0)  # before any control
    else:
        data_background(fmap, net)


def page_html(fmap: Any) -> str:
    """The map's whole page, offline (every script and style inline)."""
    return inline_resources(fmap.get_root().render())


def save_offline(fmap: Any, path: str | os.PathLike[str]) -> None:
    """Write the map's page, offline, to ``path`` (a temporary file of :func:`mednet.files.write_files`)."""
    Path(path).write_text(page_html(fmap), encoding="utf-8")


def base_map(net: CompiledNetwork, *, tiles: str | None = None) -> Any:
    """A folium map over the network: the configured tile server, else the counties drawn from data."""
    import folium

    fmap = folium.Map(location=[float(np.mean(net.lat)), float(np.mean(net.lon))], zoom_start=9, tiles=None,
                      control_scale=True)
    add_background(fmap, net, tiles=tiles)
    fmap.fit_bounds([[float(net.lat.min()), float(net.lon.min())], [float(net.lat.max()), float(net.lon.max())]])
    return fmap


def draw_plan_html(net: CompiledNetwork, *, lat: np.ndarray, lon: np.ndarray, people: np.ndarray,
                   names: tuple[str, ...], covered: np.ndarray | None = None, fixed: tuple[str, ...] = (),
                   new: tuple[str, ...] = (), title: str = "", tiles: str | None = None) -> Any:
    """Demand points shaded by people (red outline: out of reach), the sites kept (black) and opened (green)."""
    import folium

    fmap = base_map(net, tiles=tiles)
    top = float(np.max(people)) if len(people) else 1.0
    dots = folium.FeatureGroup(name="人口")
    for i in range(len(names)):
        share = float(people[i]) / top if top else 0.0
        out = covered is not None and not bool(covered[i])
        folium.CircleMarker([float(lat[i]), float(lon[i])], radius=3 + 9 * share ** 0.5,
                            color="#d62728" if out else "#3b5b92", weight=2 if out else 1, fill=True,
                            fill_color="#3b5b92", fill_opacity=0.25 + 0.6 * share,
                            tooltip=f"{names[i]}：{people[i]:,.0f} 人" + ("（不可达）" if out else "")).add_to(dots)
    dots.add_to(fmap)
    sites = folium.FeatureGroup(name="站点")
    for ids, colour, said in ((fixed, "#000000", "原有"), (new, "#2ca02c", "新增")):
        for node in ids:
            row = net.index[node]
            folium.CircleMarker([float(net.lat[row]), float(net.lon[row])], radius=8, color=colour, weight=3,
                                fill=True, fill_color=colour, fill_opacity=0.8,
                                tooltip=f"{said}：{net.G.nodes[node].get('name', node)}").add_to(sites)
    sites.add_to(fmap)
    if title:
        fmap.get_root().html.add_child(folium.Element(
            '<div style="position:fixed;top:8px;left:60px;z-index:9999;background:white;padding:4px 8px;'
            f'font:14px sans-serif;border-radius:4px">{_escape(title)}</div>'))
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


__all__ = ["TILES_ENV", "add_background", "base_map", "configured_tiles", "data_background", "draw_plan_html",
           "external_links",
           "inline_resources", "page_html", "save_offline"]
