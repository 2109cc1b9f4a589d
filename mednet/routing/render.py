"""The answer of a route query, rendered: as a :class:`~mednet.routing.answers.Referral`, or as its JSON directly.

Both take the decoded kernel answer (passed-over groups, candidates, path
links, session slots) and put it together from parts made once per
institution, link and specialty. :meth:`Renderer.referral_json` writes the
same bytes as ``referral(...).model_dump_json()`` from JSON fragments of
those parts (pydantic renders each once; orjson writes the rest, numbers in
the same shortest round-trip form), at a fraction of the cost.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
import pydantic_core
from pydantic import BaseModel

from mednet.models import Contact, LinkKind, Tier
from mednet.network import CompiledNetwork
from mednet.routing.answers import (
    FIELDS,
    Alternative,
    Hop,
    InstitutionRef,
    Lang,
    PassedOver,
    Referral,
    SessionSlot,
    SpecialtyRef,
    Step,
    Trip,
    assemble,
    explain_step,
    new,
    set_dict,
    set_extra,
    set_fields_set,
    set_private,
)
from mednet.routing.links import same_proxy_point
from mednet.routing.policy import DIRECTION_NAMES, STEPS
from mednet.specialties import SPECIALTIES

NULL = orjson.Fragment(b"null")


def fragment(value: BaseModel | dt.datetime | None) -> orjson.Fragment:
    """A model or a date-time as pydantic writes it inside a model."""
    if value is None:
        return NULL
    if isinstance(value, BaseModel):
        return orjson.Fragment(value.__pydantic_serializer__.to_json(value))
    return orjson.Fragment(pydantic_core.to_json(value))


class Renderer:
    """Every institution's, link's and specialty's part of an answer, made once; and the two renderers."""

    def __init__(self, net: CompiledNetwork, *, region: str, speed_kmh: float, home: Sequence[int],
                 community_names: tuple[str, ...], link_from: np.ndarray, link_to: np.ndarray,
                 metres: np.ndarray) -> None:
        self.net, self.G, self.region, self.speed_kmh = net, net.G, region, speed_kmh
        self._homes, self._community_names = home, community_names
        self._link_from, self._link_to, self._metres = link_from, link_to, metres
        self._points = list(zip(net.lat.tolist(), net.lon.tolist(), strict=True))
        self._lock = threading.Lock()
        # Every institution's ref, by index, made up front: answers take them by list index (a list lookup is
        # the cheapest per passed-over institution, and there is no "not made yet" check to pay).
        self.refs: list[InstitutionRef] = self._make_refs()
        self.contacts: list[Contact | None] = [self.G.nodes[i].get("contact") for i in net.ids]
        self.contact_json = [NULL if c is None else fragment(c) for c in self.contacts]
        self._proxy = [ref.location_is_proxy for ref in self.refs]
        self._ref_of = self.refs.__getitem__
        self._hops: list[Hop | None] = [None] * len(link_to)
        self._ref_fragments: list[orjson.Fragment] = []  # for referral_json, made on first use
        self._hop_fragments: dict[int, orjson.Fragment] = {}
        self.specialty_refs = {
            sp.code: assemble(SpecialtyRef, {"code": sp.code, "label_zh": sp.label_zh, "label_en": sp.label_en,
                                    "travels": sp.travels})
            for sp in SPECIALTIES
        }
        self.specialty_json = {code: fragment(ref) for code, ref in self.specialty_refs.items()}

    def referral(self, o: int, code: str, mode: int, limit: float, start: Any, passed: list[Any], nodes: list[int],
                 kms: tuple[float, ...], kinds: list[int], edges: list[int], slots: dict[int, SessionSlot],
                 when: dt.datetime | None, *, lang: Lang = "zh") -> Referral:
        """The answer as a :class:`Referral`, from cached, already-validated parts."""
        refs, ref_of, speed, hops, steps = self.refs, self._ref_of, self.speed_kmh, self._hops, STEPS[mode]
        groups = []
        fields = FIELDS[PassedOver]
        for reason, count, group, group_km in passed:  # _assemble, inlined: these loops are hot
            obj = new(PassedOver)
            set_dict(obj, {"reason": reason, "count": count, "institutions": tuple(map(ref_of, group)),
                           "distances_km": group_km})
            set_fields_set(obj, fields)
            set_extra(obj, None)
            set_private(obj, None)
            groups.append(obj)
        alternatives = []
        fields = FIELDS[Alternative]
        for i in range(1, len(nodes)):
            j, km = nodes[i], kms[i]
            alt = new(Alternative)
            set_dict(alt, {"institution": refs[j], "distance_km": km, "minutes": round(km / speed * 60.0, 1),
                           "step": steps[kinds[i]], "session": slots.get(j) if slots else None,
                           "contact": self.contacts[j]})
            set_fields_set(alt, fields)
            set_extra(alt, None)
            set_private(alt, None)
            alternatives.append(alt)
        dest, distance = nodes[0], kms[0]
        path = [hops[e] or self._hop(e) for e in edges]
        if start.point is not None and start.measured_from == "origin_point":
            path.insert(0, self._access_hop(start))
        return assemble(Referral, {
            "region": self.region, "origin": refs[o], "origin_point": start.point, "snap_km": start.snap_km,
            "measured_from": start.measured_from,
            "specialty": self.specialty_refs[code], "direction": DIRECTION_NAMES[mode], "destination": refs[dest],
            "distance_km": distance, "minutes": round(distance / speed * 60.0, 1), "speed_kmh": speed,
            "path": tuple(path), "trip": self._trip(start), "step": steps[kinds[0]],
            "same_proxy_point": tuple(map(ref_of, self.same_point(o, start, nodes))),
            "session": slots.get(dest) if slots else None, "contact": self.contacts[dest],
            "alternatives": tuple(alternatives),
            "passed_over": tuple(groups), "max_km": None if limit == math.inf else limit, "when": when,
            "lang": lang,
        })

    def referral_json(self, o: int, code: str, mode: int, limit: float, start: Any, passed: list[Any],
                      nodes: list[int], kms: tuple[float, ...], kinds: list[int], edges: list[int],
                      slots: dict[int, SessionSlot], when: dt.datetime | None, *, lang: Lang = "zh") -> bytes:
        """The answer as the JSON of its :class:`Referral`, written directly (see the module docstring)."""
        frag = self.ref_fragments().__getitem__
        speed, steps = self.speed_kmh, STEPS[mode]
        dest, distance = nodes[0], kms[0]
        step: Step = steps[kinds[0]]
        session = slots.get(dest) if slots else None
        max_km = None if limit == math.inf else limit
        path = list(map(self._hop_json, edges))
        if start.point is not None and start.measured_from == "origin_point":
            path.insert(0, fragment(self._access_hop(start)))
        return orjson.dumps({
            "region": self.region, "origin": frag(o), "origin_point": fragment(start.point), "snap_km": start.snap_km,
            "measured_from": start.measured_from,
            "specialty": self.specialty_json[code], "direction": DIRECTION_NAMES[mode], "destination": frag(dest),
            "distance_km": distance, "minutes": round(distance / speed * 60.0, 1), "speed_kmh": speed,
            "path": path, "trip": fragment(self._trip(start)), "step": step,
            "same_proxy_point": list(map(frag, self.same_point(o, start, nodes))),
            "session": fragment(session), "contact": self.contact_json[dest],
            "alternatives": [
                {"institution": frag(j), "distance_km": km, "minutes": round(km / speed * 60.0, 1),
                 "step": steps[kind], "session": fragment(slots.get(j)) if slots else NULL,
                 "contact": self.contact_json[j]}
                for j, km, kind in zip(nodes[1:], kms[1:], kinds[1:], strict=True)
            ],
            "passed_over": [
                {"reason": reason, "count": count, "institutions": list(map(frag, group)), "distances_km": group_km}
                for reason, count, group, group_km in passed
            ],
            "max_km": max_km, "when": fragment(when), "lang": lang,
            "explanation": explain_step(step, self.refs[o], self.refs[dest], self.specialty_refs[code], session,
                                        max_km, lang),
        })

    def same_point(self, o: int, start: Any, nodes: list[int]) -> list[int]:
        """The origin and alternatives standing at the destination's proxy point."""
        dest = nodes[0]
        if not self._proxy[dest]:
            return []
        points = self._points
        at = points[dest]
        others = nodes[1:] if start.point is not None else [o, *nodes[1:]]
        return [j for j in dict.fromkeys(others) if j != dest and points[j] == at]

    def _trip(self, start: Any) -> Trip | None:
        """The patient's trip to the destination (from the origin, or from the point by its access leg), when
        distances are measured from the home."""
        if start.trip is None:
            return None
        km, edges, leg = start.trip
        path = tuple(self._hops[e] or self._hop(e) for e in edges)
        if leg is not None:
            path = (self.access_hop(start.point, *leg), *path)
        return assemble(Trip, {"distance_km": km, "minutes": round(km / self.speed_kmh * 60.0, 1), "path": path})

    def _access_hop(self, start: Any) -> Hop:
        """The access leg from the point to the start the path leaves from."""
        first = start.first
        return self.access_hop(start.point, first, float(start.kms[start.nodes.tolist().index(first)]))

    def access_hop(self, point: Any, node: int, km: float) -> Hop:
        """The access leg of ``km`` from the point to the institution ``node``."""
        return assemble(Hop, {"from_id": f"{point.lat:g},{point.lon:g}", "to_id": self.net.ids[node],
                              "kind": "access", "distance_km": km, "basis": "geodesic_x_road_factor"})

    def ref_fragments(self) -> list[orjson.Fragment]:
        """Every institution's reference as JSON, by index (made on first use)."""
        return self._ref_fragments or self._make_ref_fragments()

    def _make_ref_fragments(self) -> list[orjson.Fragment]:
        """Every institution's reference as JSON, rendered by pydantic (on the first JSON answer; 0.1 s for
        the national network)."""
        with self._lock:
            if not self._ref_fragments:
                self._ref_fragments = list(map(fragment, self.refs))
        return self._ref_fragments

    def _hop_json(self, e: int) -> orjson.Fragment:
        """The path link of CSR entry ``e`` as JSON (kept, like the link)."""
        found = self._hop_fragments.get(e)
        if found is None:
            hop = self._hops[e] or self._hop(e)
            found = self._hop_fragments[e] = fragment(hop)
        return found

    def _make_refs(self) -> list[InstitutionRef]:
        """Every institution's :class:`InstitutionRef`, in index order."""
        nodes, community_ids, community_names = self.G.nodes, self.net.community_ids, self._community_names
        tiers = {tier.value: tier for tier in Tier}
        refs = []
        for node_id, c in zip(self.net.ids, self._homes, strict=True):
            attrs = nodes[node_id]
            location = attrs.get("location")
            refs.append(assemble(InstitutionRef, {
                "id": node_id, "name": attrs["name"], "tier": tiers[attrs["tier"]], "county": attrs["county"],
                "community": community_ids[c] if c >= 0 else None,
                "community_name": community_names[c] if c >= 0 else None,
                "location_is_proxy": bool(location.is_proxy) if location is not None else False,
            }))
        return refs

    def _hop(self, e: int) -> Hop:
        """The path link of CSR entry ``e`` (cached)."""
        a, b = self.net.ids[int(self._link_from[e])], self.net.ids[int(self._link_to[e])]
        data = self.G.adj[a][b]
        metres = float(self._metres[e])
        same_point = metres == 0.0 and same_proxy_point(self.G, a, b)
        hop = self._hops[e] = assemble(Hop, {
            "from_id": a, "to_id": b, "kind": LinkKind(data["kind"]), "distance_km": metres / 1000.0,
            "basis": "same_proxy_point" if same_point else data.get("distance_basis", "geodesic_x_road_factor"),
        })
        return hop

