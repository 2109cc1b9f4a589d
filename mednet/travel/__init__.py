"""Travel: km and minutes between institutions, with the basis of each figure.

Two layers: organisational links (in the region file) decide who may refer
to whom; the travel layer says how far and how long. It is built from, in
order of precedence, imported origin–destination tables, a road network
imported from an OpenStreetMap extract, and the explicit default model
(great circle × circuity at a speed by road class and terrain class). The
layer lives beside the region file (``<region>.travel.json``).

    >>> from mednet.travel import load_travel
    >>> load_travel("quzhou").between("华埠", "开化县人民医院").minutes_basis.kind
    'default_model'

For routing and coverage by ``cost="km"|"minutes"``: ``layer.rows_of(net.ids)``
aligns the layer with a compiled network; ``layer.costs(rows, cols)`` gives
km, minutes, ``unreachable`` and basis codes (into ``layer.bases``) for any
arrays of directed pairs; a compiled kernel reads the same figures from the
layer's arrays (``lat``, ``lon``, ``terrain``, ``circuity``,
``unknown_kmh``, and the imported pairs ``pair_key`` = from × n + to,
sorted, with ``pair_km``/``pair_minutes``: NaN falls to the default model,
``inf`` is unreachable). ``catchments.nearest_in`` is the nearest-capable
core over a block of costs.
"""

from mednet.travel.defaults import DefaultModel, default_model
from mednet.travel.layer import (
    Basis,
    TravelFigure,
    TravelLayer,
    check_travel,
    load_travel,
    read_travel,
    save_travel,
    travel_path,
)
from mednet.travel.model import (
    ROAD_CLASSES,
    TERRAINS,
    CountyTerrain,
    ModelChanges,
    ODTable,
    RoadTable,
    Snap,
    SpeedRow,
    TravelFile,
    TravelPair,
)

__all__ = [
    "ROAD_CLASSES",
    "TERRAINS",
    "Basis",
    "CountyTerrain",
    "DefaultModel",
    "ModelChanges",
    "ODTable",
    "RoadTable",
    "Snap",
    "SpeedRow",
    "TravelFigure",
    "TravelFile",
    "TravelLayer",
    "TravelPair",
    "check_travel",
    "default_model",
    "load_travel",
    "read_travel",
    "save_travel",
    "travel_path",
]
