"""The answer of a route by travel cost, rendered: as a :class:`~mednet.routing.cost_answers.ReferralByCost`, or as
its JSON directly.

Both take a :class:`CostAnswer` (the decided query: candidates, the picked
ones, the passed-over groups, the session slots; it writes itself with them,
in the shape of :mod:`mednet.routing.engine`) and put the answer together
from parts made once per institution, specialty and basis, as
:mod:`mednet.routing.render` does for the km route: the model is assembled
(:func:`~mednet.routing.answers.assemble`: no per-field validation), and
:func:`referral_json` writes the same bytes as
``referral(...).model_dump_json()`` from JSON fragments of those parts.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import orjson

from mednet.routing.answers import FIELDS, Hop, Lang, SessionSlot, Step, Trip, assemble, explain_step
from mednet.routing.cost_answers import AlternativeByCost, PassedOverByCost, ReferralByCost
from mednet.routing.policy import DIRECTION_NAMES, STEPS
from mednet.routing.render import NULL, fragment
from mednet.travel.layer import Basis, Cost

if TYPE_CHECKING:
    from mednet.routing.cost_tables import Candidates, CostTables
    from mednet.routing.routing_tables import RoutingTables
    from mednet.routing.start import Start


class CostAnswer:
    """A decided route by travel cost: the query, the candidates within the limits (``picked``: rows of
    ``within``, the destination first), the step that decided, the passed-over groups (reason, count,
    institutions, km, minutes) and the session slots; ``trip``: from a point with distances measured from the
    home, the point's own km and minutes to the destination; ``tables``: the network's on the query's travel
    layer."""

    __slots__ = ("code", "cost", "decided", "lang", "max_km", "max_minutes", "mode", "o", "passed", "picked",
                 "slots", "start", "tables", "trip", "when", "within")

    def __init__(self, tables: CostTables, o: int, code: str, mode: int, start: Start, cost: Cost, max_km: float | None,
                 max_minutes: float | None, within: Candidates, picked: list[int], decided: int,
                 passed: list[tuple], slots: dict[int, SessionSlot], when: dt.datetime | None, lang: Lang) -> None:
        self.tables, self.o, self.code, self.mode, self.start, self.cost = tables, o, code, mode, start, cost
        self.max_km, self.max_minutes, self.within, self.picked, self.decided = max_km, max_minutes, within, picked, \
            decided
        self.passed, self.slots, self.when, self.lang = passed, slots, when, lang
        self.trip: tuple[float, float] | None = None

    def referral(self, rt: RoutingTables) -> ReferralByCost:
        """The answer as a :class:`~mednet.routing.cost_answers.ReferralByCost` (:func:`referral`)."""
        return referral(rt, self)

    def json(self, rt: RoutingTables) -> bytes:
        """The answer as that model's JSON, written directly (:func:`referral_json`)."""
        return referral_json(rt, self)


class _Head:
    """What both renderers say of the destination: its figures and bases, the path, the step and the note."""

    __slots__ = ("dest", "hop", "km", "km_basis", "minutes", "minutes_basis", "same", "speed_kmh", "step",
                 "travel_note", "trip")

    def __init__(self, rt: RoutingTables, tables: CostTables, a: CostAnswer) -> None:
        within, start, refs = a.within, a.start, rt.render.refs
        first = a.picked[0]
        self.dest = dest = within.nodes[first]
        self.km, self.minutes = km, minutes = within.km[first], within.minutes[first]
        self.km_basis, self.minutes_basis = kb, mb = within.bases[first]
        km_kind = tables.layer.bases[kb].kind
        point_id = None if start.point is None else f"{start.point.lat:g},{start.point.lon:g}"
        if start.measured_from == "origin_point":
            from_id = point_id
        else:
            from_id = rt.net.ids[start.nodes[0] if start.measured_from == "home" else a.o]
        to_id = rt.net.ids[dest]
        # Two institutions at one shared proxy point are 0 km apart by the default model: their distance is not
        # known.
        unknown = km == 0.0 and km_kind == "default_model" and refs[dest].location_is_proxy
        self.hop: dict[str, Any] | None = None if from_id == to_id else {
            "from_id": from_id, "to_id": to_id, "kind": "travel", "distance_km": km,
            "basis": "same_proxy_point" if unknown else km_kind}
        self.step: Step = STEPS[a.mode][a.decided]
        self.speed_kmh = round(km / minutes * 60.0, 1) if minutes > 0 else rt.speed_kmh
        self.same = rt.render.same_point(a.o, start, [within.nodes[i] for i in a.picked])
        self.travel_note = _note(tables, a.cost, kb, mb, a.lang, point=start.measured_from == "origin_point")
        self.trip: dict[str, Any] | None = None
        if a.trip is not None:  # from the point by the default model (a point has no row in imported tables)
            trip_km, trip_minutes = a.trip
            self.trip = {"distance_km": trip_km, "minutes": trip_minutes, "path": (
                {"from_id": point_id, "to_id": to_id, "kind": "travel", "distance_km": trip_km,
                 "basis": "default_model"},)}


def referral(rt: RoutingTables, a: CostAnswer) -> ReferralByCost:
    """The answer as a :class:`~mednet.routing.cost_answers.ReferralByCost`, from cached, already-validated
    parts."""
    tables = a.tables
    render, bases, steps, within = rt.render, tables.layer.bases, STEPS[a.mode], a.within
    refs, contacts, slots = render.refs, render.contacts, a.slots
    head = _Head(rt, tables, a)
    alternatives = []
    for i in a.picked[1:]:
        j = within.nodes[i]
        kb, mb = within.bases[i]
        alternatives.append(assemble(AlternativeByCost, {
            "institution": refs[j], "distance_km": within.km[i], "minutes": within.minutes[i],
            "step": steps[within.steps[i]], "session": slots.get(j), "contact": contacts[j], "km_basis": bases[kb],
            "minutes_basis": bases[mb]}))
    groups = [assemble(PassedOverByCost, {
        "reason": reason, "count": count, "institutions": tuple([refs[j] for j in group]),
        "distances_km": tuple(kms), "minutes": tuple(mins)}) for reason, count, group, kms, mins in a.passed]
    path = () if head.hop is None else (assemble(Hop, head.hop),)
    dest, start = head.dest, a.start
    minutes_basis = bases[head.minutes_basis]
    return assemble(ReferralByCost, {
        "region": rt.region, "origin": refs[a.o], "origin_point": start.point, "snap_km": start.snap_km,
        "measured_from": start.measured_from, "specialty": render.specialty_refs[a.code],
        "direction": DIRECTION_NAMES[a.mode], "destination": refs[dest], "distance_km": head.km,
        "minutes": head.minutes, "speed_kmh": head.speed_kmh, "path": path,
        "trip": None if head.trip is None else assemble(Trip, {**head.trip, "path": tuple(
            assemble(Hop, hop) for hop in head.trip["path"])}), "step": head.step,
        "same_proxy_point": tuple([refs[j] for j in head.same]), "session": slots.get(dest),
        "contact": contacts[dest], "alternatives": tuple(alternatives), "passed_over": tuple(groups),
        "max_km": a.max_km, "when": a.when, "lang": a.lang, "cost": a.cost, "max_minutes": a.max_minutes,
        "km_basis": bases[head.km_basis], "minutes_basis": minutes_basis,
        "minutes_from_default_model": minutes_basis.kind == "default_model", "travel_note": head.travel_note,
    })


def referral_json(rt: RoutingTables, a: CostAnswer) -> bytes:
    """The answer as the JSON of its :class:`~mednet.routing.cost_answers.ReferralByCost`, written directly (see
    the module docstring)."""
    tables = a.tables
    render, steps, within, slots = rt.render, STEPS[a.mode], a.within, a.slots
    frag = render.ref_fragments().__getitem__
    basis = tables.basis_json
    contact = render.contact_json
    head = _Head(rt, tables, a)
    dest, start = head.dest, a.start
    session = slots.get(dest)
    alternatives = []
    for i in a.picked[1:]:
        j = within.nodes[i]
        kb, mb = within.bases[i]
        alternatives.append({"institution": frag(j), "distance_km": within.km[i], "minutes": within.minutes[i],
                             "step": steps[within.steps[i]], "session": fragment(slots.get(j)) if slots else NULL,
                             "contact": contact[j], "km_basis": basis[kb], "minutes_basis": basis[mb]})
    refs = render.refs
    return orjson.dumps({
        "region": rt.region, "origin": frag(a.o), "origin_point": fragment(start.point),
        "snap_km": start.snap_km, "measured_from": start.measured_from, "specialty": render.specialty_json[a.code],
        "direction": DIRECTION_NAMES[a.mode], "destination": frag(dest), "distance_km": head.km,
        "minutes": head.minutes, "speed_kmh": head.speed_kmh,
        "path": [] if head.hop is None else [head.hop],
        "trip": NULL if head.trip is None else {**head.trip, "path": list(head.trip["path"])},
        "step": head.step, "same_proxy_point": list(map(frag, head.same)),
        "session": fragment(session), "contact": contact[dest], "alternatives": alternatives,
        "passed_over": [
            {"reason": reason, "count": count, "institutions": list(map(frag, group)), "distances_km": kms,
             "minutes": mins}
            for reason, count, group, kms, mins in a.passed
        ],
        "max_km": a.max_km, "when": fragment(a.when), "lang": a.lang, "cost": a.cost, "max_minutes": a.max_minutes,
        "km_basis": basis[head.km_basis], "minutes_basis": basis[head.minutes_basis],
        "minutes_from_default_model": tables.layer.bases[head.minutes_basis].kind == "default_model",
        "travel_note": head.travel_note,
        "explanation": explain_step(head.step, refs[a.o], refs[dest], render.specialty_refs[a.code], session,
                                    a.max_km, a.lang, max_minutes=a.max_minutes),
    })


def travel_note(cost: Cost, km_basis: Basis, minutes_basis: Basis, lang: Lang, *, point: bool = False) -> str:
    """One line on how the answer was ranked and where its km and minutes come from.

    >>> model = Basis(kind="default_model", detail="great circle × 1.3 at 40 km/h (plain terrain)")
    >>> od = Basis(kind="od_table", source="bureau-od", title="县卫健局 OD 表, 2024-05")
    >>> travel_note("minutes", model, od, "en").split("; ")[2]
    'minutes: OD table (县卫健局 OD 表, 2024-05)'
    """
    t = _NOTE[lang]
    text = t["head"].format(cost=t[f"by_{cost}"]) + t["km"] + _basis_text(km_basis, t) + t["minutes"]
    text += _basis_text(minutes_basis, t)
    return text + (t["point"] if point else "")


def _basis_text(b: Basis, t: dict[str, str]) -> str:
    return t[b.kind].format(title=b.title or b.source or "", detail=b.detail or "")


_NOTE: dict[str, dict[str, str]] = {
    "zh": {
        "head": "按{cost}排序（出行层，自起点直达各候选机构）", "by_km": "公里", "by_minutes": "行程分钟",
        "km": "；公里：", "minutes": "；分钟：", "default_model": "默认模型估算（{detail}）",
        "road_network": "道路网（{title}）", "od_table": "OD 表（{title}）", "same_institution": "同一机构",
        "point": "；自坐标点出发时只用默认模型",
    },
    "en": {
        "head": "ranked by {cost} on the travel layer, directly to each candidate", "by_km": "km",
        "by_minutes": "minutes", "km": "; km: ", "minutes": "; minutes: ",
        "default_model": "default-model estimate ({detail})", "road_network": "road network ({title})",
        "od_table": "OD table ({title})", "same_institution": "same institution",
        "point": "; from a point, the default model only",
    },
}

FIELDS.update({cls: set(cls.model_fields) for cls in (AlternativeByCost, PassedOverByCost, ReferralByCost)})


def _note(tables: CostTables, cost: Cost, km_basis: int, minutes_basis: int, lang: Lang, *, point: bool) -> str:
    """:func:`travel_note` of the layer's bases ``km_basis`` and ``minutes_basis`` (kept in ``tables.notes``)."""
    key = (cost, km_basis, minutes_basis, lang, point)
    found = tables.notes.get(key)
    if found is None:
        bases = tables.layer.bases
        found = tables.notes[key] = travel_note(cost, bases[km_basis], bases[minutes_basis], lang, point=point)
    return found
