"""Why a query has no answer: :class:`~mednet.errors.NoCapableInstitution`, worded for the desk."""

from __future__ import annotations

import math

from mednet.errors import NoCapableInstitution
from mednet.network import CompiledNetwork
from mednet.routing.answers import SpecialtyRef
from mednet.routing.kernel import DOWN, UP


def no_capable(net: CompiledNetwork, region: str, community_names: tuple[str, ...], spec: SpecialtyRef, o: int,
               mode: int, hc: int, limit: float, nearest_beyond: tuple[float, int] | None,
               undated: list[int] | None = None) -> NoCapableInstitution:
    """No institution offers ``spec`` from origin ``o`` (index) going ``mode`` within ``limit`` km; names
    the nearest beyond the limit (km, index) and the sessions whose day is not published, when there are."""
    name = net.G.nodes
    origin = name[net.ids[o]]["name"]
    what = f"{spec.label_zh} ({spec.code})"
    if mode == UP:
        msg = f"no institution of a higher tier than {origin} offers {what}"
    elif mode == DOWN:
        msg = f"no member of the home community {community_names[hc]} offers {what}"
    else:
        msg = f"no institution other than {origin} offers {what} permanently"
    nearest = nearest_km = None
    if limit != math.inf:
        msg += f" within max_km={limit:g} km"
        if nearest_beyond is not None:
            nearest_km, j = nearest_beyond
            nearest = name[net.ids[j]]["name"]
            msg += f"; the nearest is {nearest} at {nearest_km:.1f} km"
    msg += f" in region {region!r}"
    if undated:
        names = ", ".join(name[net.ids[j]]["name"] for j in undated)
        msg += f"; {names} holds it in sessions whose day is not published: ask the centre or its booking channel"
    return NoCapableInstitution(msg, specialty=spec.code, origin=net.ids[o], nearest=nearest, nearest_km=nearest_km)
