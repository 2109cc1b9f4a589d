"""The bureau's view: referral and medical-community indicators from the ledger, the monthly aggregates and
the network.

``definitions`` (every indicator once) · ``periods`` (year, quarter, month in China Standard Time) ·
``places`` (the region's institutions as a table the database joins) · ``ledger_sql`` and ``aggregates_sql``
(facts counted by the database) · ``compute`` (tidy DataFrames) · ``access`` (people within minutes and km
of each specialty) · ``flows`` (observed against modelled flows, bypass, flow matrix) · ``charts`` (SVG drawn
on the server).

    >>> from mednet.indicators import INDICATORS
    >>> INDICATORS["down_share"].label_zh
    '下转占比'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mednet.extras import lazy_names

if TYPE_CHECKING:
    from mednet.indicators.access import access_shares
    from mednet.indicators.compute import compute_indicators, rejection_reasons
    from mednet.indicators.definitions import DIMENSIONS, INDICATORS, NOT_COLLECTED, Indicator, definitions_table
    from mednet.indicators.flows import bypass_table, flow_matrix, flow_table
    from mednet.indicators.periods import Period, parse_period

#: Where each public name lives; imported when first used (the definitions need no database library).
_HOMES = {
    "access": ("access_shares",),
    "compute": ("compute_indicators", "rejection_reasons"),
    "definitions": ("DIMENSIONS", "INDICATORS", "NOT_COLLECTED", "Indicator", "definitions_table"),
    "flows": ("bypass_table", "flow_matrix", "flow_table"),
    "periods": ("Period", "parse_period"),
}
__getattr__ = lazy_names(__name__, {name: f"{__name__}.{module}" for module, names in _HOMES.items()
                                     for name in names})


__all__ = [
    "DIMENSIONS",
    "INDICATORS",
    "NOT_COLLECTED",
    "Indicator",
    "Period",
    "access_shares",
    "bypass_table",
    "compute_indicators",
    "definitions_table",
    "flow_matrix",
    "flow_table",
    "parse_period",
    "rejection_reasons",
]
