"""The map functions under the module that held them before :mod:`mednet.planning.maps` (kept for callers).

    >>> from mednet.maps import draw_coverage_map
    >>> draw_coverage_map.__module__
    'mednet.planning.maps'
"""

from mednet.planning.maps import cjk_font, draw_coverage_html, draw_coverage_map

__all__ = ["cjk_font", "draw_coverage_html", "draw_coverage_map"]
