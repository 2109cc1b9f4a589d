"""Why a query has no answer: :class:`~mednet.errors.NoCapableInstitution`, worded for the desk in Chinese and
English (``str()`` speaks the request's ``lang``; ``specialty``, ``origin``, ``reason``, ``limits``, ``nearest``
and ``nearest_km`` stay machine-readable)."""

from __future__ import annotations

import math

from mednet.errors import NoCapableInstitution
from mednet.network import CompiledNetwork
from mednet.routing.answers import SpecialtyRef
from mednet.routing.policy import DOWN, UP


def no_capable(net: CompiledNetwork, region: str, community_names: tuple[str, ...], spec: SpecialtyRef, o: int,
               mode: int, hc: int, limit: float, nearest_beyond: tuple[float, int] | None,
               undated: list[int] | None = None, *, max_minutes: float | None = None,
               nearest_minutes: float | None = None, by_travel: bool = False) -> NoCapableInstitution:
    """No institution offers ``spec`` from origin ``o`` (index) going ``mode`` within ``limit`` km (and
    ``max_minutes``, on the travel layer when ``by_travel``); names the nearest beyond the limits (km, index,
    and its minutes when given) and the sessions whose day is not published, when there are."""
    name = net.G.nodes
    origin = name[net.ids[o]]["name"]
    what = f"{spec.label_zh} ({spec.code})"
    reason = {UP: "higher_tier", DOWN: "home_community"}.get(mode, "elsewhere")
    if mode == UP:
        msg = f"no institution of a higher tier than {origin} offers {what}"
        zh = f"没有比{origin}级别更高的机构提供{spec.label_zh}"
    elif mode == DOWN:
        msg = f"no member of the home community {community_names[hc]} offers {what}"
        zh = f"居住地医共体{community_names[hc]}没有成员提供{spec.label_zh}"
    else:
        msg = f"no institution other than {origin} offers {what} permanently"
        zh = f"除{origin}外没有机构常设{spec.label_zh}"
    nearest = nearest_km = None
    limits = [("max_km", f"{limit:g} km", f"{limit:g} 公里")] if limit != math.inf else []
    limits += [("max_minutes", f"{max_minutes:g} min", f"{max_minutes:g} 分钟")] if max_minutes is not None else []
    if limits:
        msg += " within " + " and ".join(f"{p}={en}" for p, en, _ in limits)
        msg += " (by the travel layer)" if by_travel else ""
        zh += "（限 " + "、".join(z for _, _, z in limits) + "内，" + "、".join(p for p, _, _ in limits)
        zh += "，按出行层）" if by_travel else "）"
        if nearest_beyond is not None:
            nearest_km, j = nearest_beyond
            nearest = name[net.ids[j]]["name"]
            msg += f"; the nearest is {nearest} at {nearest_km:.1f} km"
            zh += f"；最近的是{nearest}，{nearest_km:.1f} 公里"
            if nearest_minutes is not None:
                msg += f", {nearest_minutes:.1f} min"
                zh += f"，{nearest_minutes:.1f} 分钟"
    msg += f" in region {region!r}"
    zh += f"；地区 {region}"
    if undated:
        names = [name[net.ids[j]]["name"] for j in undated]
        msg += f"; {', '.join(names)} holds it in sessions whose day is not published: ask the centre or its " \
               "booking channel"
        zh += f"；{'、'.join(names)}以门诊提供，但出诊日期未公布：请询问该中心或查看预约渠道"
    return NoCapableInstitution(msg, specialty=spec.code, origin=net.ids[o], nearest=nearest, nearest_km=nearest_km,
                                zh=zh, reason=reason, limits=tuple(p for p, _, _ in limits))
