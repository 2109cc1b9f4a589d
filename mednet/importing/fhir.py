"""A region as a FHIR R4 Bundle, and back.

Each institution is an ``Organization`` (type: mednet tier, WS 218
category and the registry's 诊疗科目 no specialty routes; identifiers: mednet id, 统一社会信用代码, licence number;
telecom, address; ``partOf`` its community), with a ``Location`` (position)
and one ``HealthcareService`` per capability (specialty; visiting sessions
as ``availableTime``) plus one for booking channel, hours and 24-hour
emergency. Each community is an ``Organization`` too, and each membership
an ``OrganizationAffiliation`` (community, member, role). Sources are
``DocumentReference`` resources. Every resource is validated by the
``fhir.resources`` models (its R4B package: FHIR 4.3.0, whose Organization,
Location, HealthcareService and OrganizationAffiliation are those of R4).
Where FHIR has no element for a mednet fact (source, inferred, note of each
fact; population; grade; session provider and period), the resource carries
an extension under :data:`BASE`.

Not carried, and rebuilt on import by the import rules: links (travel costs;
neighbour and membership links are recomputed), published rosters, covered
counties, and the region's name, description, road factor, speed and
booking window (defaults on import). See docs/importing.md.

    >>> from mednet.regions import load_region
    >>> bundle = region_to_bundle(load_region("quzhou"))
    >>> bundle["type"], len(bundle["entry"])
    ('collection', 895)
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mednet.errors import RegionDataError
from mednet.models import (
    Capability,
    Community,
    Contact,
    Detail,
    Flag,
    Institution,
    Location,
    Membership,
    Provenance,
    Region,
    Registry,
    Role,
    Session,
    Source,
    Tier,
)
from mednet.regions import rule_zh_of
from mednet.specialties import NATIONAL_SUBJECTS, resolve_specialty

#: A JSON object (a resource, an element).
Json = dict[str, Any]

BASE = "https://mednet.invalid/fhir/StructureDefinition/"
SYSTEM = "urn:mednet:"
WEEKDAY_FHIR = {"mon": "mon", "tue": "tue", "wed": "wed", "thu": "thu", "fri": "fri", "sat": "sat", "sun": "sun"}


def _models() -> dict[str, Any]:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.documentreference import DocumentReference
    from fhir.resources.R4B.healthcareservice import HealthcareService
    from fhir.resources.R4B.location import Location as FhirLocation
    from fhir.resources.R4B.organization import Organization
    from fhir.resources.R4B.organizationaffiliation import OrganizationAffiliation

    return {"Bundle": Bundle, "DocumentReference": DocumentReference, "HealthcareService": HealthcareService,
            "Location": FhirLocation, "Organization": Organization,
            "OrganizationAffiliation": OrganizationAffiliation}


def fhir_id(text: str) -> str:
    """A FHIR id for a mednet id or key (FHIR ids allow letters, digits, '-' and '.').

    >>> fhir_id("t330825_100"), fhir_id("file:a.xlsx")
    ('t330825-100', 'file-a.xlsx')
    """
    return re.sub(r"[^A-Za-z0-9.-]", "-", text)[:64]


# ----------------------------------------------------------------------------- extensions


def _ext(name: str, **value: Any) -> Json:
    return {"url": BASE + name, **value}


def _prov(fact: Provenance | Institution, name: str = "provenance") -> Json:
    parts = [{"url": "source", "valueString": fact.source}, {"url": "inferred", "valueBoolean": fact.inferred}]
    if fact.note:
        parts.append({"url": "note", "valueString": fact.note})
    return {"url": BASE + name, "extension": parts}


def _find(element: Json, name: str) -> list[Json]:
    return [e for e in element.get("extension", ()) if e.get("url") in (BASE + name, name)]


def _value(element: Json, name: str, kind: str = "valueString") -> Any:
    found = _find(element, name)
    return found[0].get(kind) if found else None


def _read_prov(element: Json, name: str = "provenance") -> Json:
    found = _find(element, name)
    if not found:
        raise ValueError(f"no {name} extension")
    inner = found[0]
    return {"source": _value(inner, "source"), "inferred": bool(_value(inner, "inferred", "valueBoolean")),
            "note": _value(inner, "note")}


def _coding(system: str, code: str, display: str | None = None) -> Json:
    coding = {"system": SYSTEM + system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _code(concepts: Iterable[Json], system: str) -> str:
    """The code of the first coding in ``system``; a concept without one is not of mednet's shape."""
    for concept in concepts:
        for coding in concept.get("coding", ()):
            if coding.get("system") == SYSTEM + system:
                return str(coding["code"])
    raise ValueError(f"no {SYSTEM + system} coding")


def _code_or_none(concepts: Iterable[Json], system: str) -> str | None:
    try:
        return _code(concepts, system)
    except ValueError:
        return None


def _ref(kind: str, key: str) -> Json:
    return {"reference": f"{kind}/{fhir_id(key)}"}


# ----------------------------------------------------------------------------- export


def region_to_bundle(region: Region) -> Json:
    """The region as a FHIR Bundle (type ``collection``) as JSON-ready data; every resource validated."""
    home = {m.institution: c.id for c in region.communities for m in c.members if m.role in (Role.LEAD, Role.BRANCH)}
    resources = [_source(key, s) for key, s in region.sources.items()]
    resources += [_community(c) for c in region.communities]
    for inst in region.institutions:
        resources += _institution(inst, home.get(inst.id))
    resources += [_affiliation(c, m) for c in region.communities for m in c.members]
    entries = [{"fullUrl": f"urn:mednet:{r['resourceType']}/{r['id']}", "resource": r} for r in resources]
    bundle = {"resourceType": "Bundle", "identifier": {"system": SYSTEM + "region", "value": region.id},
              "type": "collection", "entry": entries}
    return validate_bundle(bundle).model_dump(mode="json", by_alias=True, exclude_none=True)


def validate_bundle(bundle: Json, *, file: str = "<bundle>") -> Any:
    """The Bundle as fhir.resources models: the Bundle and each resource in it validated as its own type."""
    try:
        return _models()["Bundle"].model_validate(bundle)
    except ValidationError as err:
        first = err.errors()[0]
        raise RegionDataError(file, ".".join(map(str, first["loc"])), first["msg"], rule_zh=rule_zh_of(first)) from err


def _source(key: str, source: Source) -> Json:
    attachment: Json = {"title": source.title}
    if source.url:
        attachment["url"] = source.url
    if source.date:
        attachment["creation"] = source.date.isoformat()
    doc: Json = {"resourceType": "DocumentReference", "id": "src-" + fhir_id(key), "status": "current",
           "identifier": [{"system": SYSTEM + "source", "value": key}], "content": [{"attachment": attachment}]}
    if source.publisher:
        doc["author"] = [{"display": source.publisher}]
    if source.note:
        doc["description"] = source.note
    if source.licence:
        doc["extension"] = [_ext("licence", valueString=source.licence)]
    return doc


def _community(com: Community) -> Json:
    ext = [_ext("source", valueString=com.source)] + [_ext("county", valueString=c) for c in com.counties]
    if com.published:
        ext.append(_ext("published", valueDate=com.published.isoformat()))
    if com.note:
        ext.append(_ext("note", valueString=com.note))
    return {"resourceType": "Organization", "id": "com-" + fhir_id(com.id), "extension": ext,
            "identifier": [{"system": SYSTEM + "community", "value": com.id}], "name": com.name,
            "type": [_coding("community-kind", com.kind, "县域医共体" if com.kind == "county" else "城市医联体")]}


def _institution(inst: Institution, community: str | None) -> list[Json]:
    key = fhir_id(inst.id)
    reg = inst.registry
    identifiers = [{"system": SYSTEM + "institution", "value": inst.id}]
    types = [_coding("tier", inst.tier.value, inst.tier.label_zh)]
    ext = [_prov(inst)]
    if inst.population is not None:
        ext.append(_ext("population", valueInteger=inst.population))
    if reg is not None:
        ext.append(_prov(reg, "registry"))
        if reg.credit_code:
            identifiers.append({"system": SYSTEM + "uscc", "value": reg.credit_code})
        if reg.licence_number:
            identifiers.append({"system": SYSTEM + "licence", "value": reg.licence_number})
        if reg.category:
            types.append(_coding("ws218", reg.category))
        if reg.grade:
            ext.append(_ext("grade", valueString=reg.grade))
        if reg.beds is not None:
            ext.append(_ext("beds", valueInteger=reg.beds))
        types += [_coding("zhenliao-kemu", code, NATIONAL_SUBJECTS.get(code)) for code in reg.other_subjects]
    address: Json = {"district": inst.county}
    if inst.township:
        address["extension"] = [_ext("township", valueString=inst.township)]
    contact = inst.contact or Contact()
    if contact.address:
        address["text"] = contact.address.value
        address.setdefault("extension", []).append(_prov(contact.address))
    org: Json = {"resourceType": "Organization", "id": key, "extension": ext, "identifier": identifiers, "active": True,
           "type": types, "name": inst.name, "address": [address]}
    if inst.aliases:
        org["alias"] = list(inst.aliases)
    if contact.phone:
        org["telecom"] = [{"system": "phone", "value": contact.phone.value, "extension": [_prov(contact.phone)]}]
    if community:
        org["partOf"] = {"reference": f"Organization/com-{fhir_id(community)}"}
    loc = inst.location
    loc_ext = [_prov(loc), _ext("location-kind", valueCode=loc.kind)]
    if loc.converted_from:
        loc_ext.append(_ext("converted-from", valueString=loc.converted_from))
    location = {"resourceType": "Location", "id": "loc-" + key, "extension": loc_ext, "status": "active",
                "name": inst.name, "position": {"latitude": inst.lat, "longitude": inst.lon},
                "managingOrganization": _ref("Organization", inst.id)}
    services = [_service(inst, cap) for cap in inst.capabilities]
    access = _access(inst, contact)
    return [org, location, *services, *([access] if access else [])]


def _service(inst: Institution, cap: Capability) -> Json:
    spec = resolve_specialty(cap.specialty)
    codings: list[Json] = [{"system": SYSTEM + "specialty", "code": spec.code, "display": spec.label_zh}]
    codings += [{"system": SYSTEM + "zhenliao-kemu", "code": c, "display": NATIONAL_SUBJECTS.get(c)}
                for c in spec.national_codes[:1]]
    ext = [_prov(cap)]
    for name, value in (("capability-beds", cap.beds), ("weekly-slots", cap.weekly_slots),
                        ("weekly-sessions", cap.weekly_sessions)):
        if value is not None:
            ext.append(_ext(name, valueInteger=value))
    service: Json = {"resourceType": "HealthcareService", "id": f"hs-{fhir_id(inst.id)}-{fhir_id(spec.code)}",
               "extension": ext, "active": True, "providedBy": _ref("Organization", inst.id),
               "location": [_ref("Location", "loc-" + inst.id)], "name": spec.label_zh,
               "specialty": [{"coding": codings}]}
    if cap.sessions:
        service["availableTime"] = [_available(s) for s in cap.sessions]
    return service


def _available(session: Session) -> Json:
    ext = [_ext("every-weeks", valueInteger=session.every_weeks)]
    if session.part:
        ext.append(_ext("part", valueCode=session.part))
    if session.provider:
        ext.append(_ext("provider", valueReference=_ref("Organization", session.provider)))
    for name, value in (("valid-from", session.valid_from), ("valid-until", session.valid_until)):
        if value:
            ext.append(_ext(name, valueDate=value.isoformat()))
    available: Json = {"extension": ext}
    if session.weekday:
        available["daysOfWeek"] = [WEEKDAY_FHIR[session.weekday]]
    if session.part == "all_day":
        available["allDay"] = True
    return available


def _access(inst: Institution, contact: Contact) -> Json | None:
    if not (contact.booking or contact.hours or contact.emergency_24h):
        return None
    extensions: list[Json] = []
    service: Json = {"resourceType": "HealthcareService", "id": f"hs-{fhir_id(inst.id)}-access", "active": True,
                     "providedBy": _ref("Organization", inst.id), "name": "就诊与预约 (access)",
                     "extension": extensions}
    if contact.booking:
        service["telecom"] = [{"system": "other", "value": contact.booking.value,
                               "extension": [_prov(contact.booking)]}]
    if contact.hours:
        extensions.append({"url": BASE + "hours", "extension": [
            {"url": "value", "valueString": contact.hours.value}, *_prov(contact.hours)["extension"]]})
    if contact.emergency_24h:
        extensions.append({"url": BASE + "emergency-24h", "extension": [
            {"url": "value", "valueBoolean": contact.emergency_24h.value}, *_prov(contact.emergency_24h)["extension"]]})
    return service


def _affiliation(com: Community, member: Membership) -> Json:
    return {"resourceType": "OrganizationAffiliation", "id": f"aff-{fhir_id(com.id)}-{fhir_id(member.institution)}",
            "extension": [_prov(member)], "active": True, "organization": _ref("Organization", "com-" + com.id),
            "participatingOrganization": _ref("Organization", member.institution),
            "code": [_coding("role", member.role.value, member.role.label_zh)]}


def write_bundle(region: Region, path: str | os.PathLike[str]) -> Path:
    """Write the region's Bundle as JSON."""
    path = Path(path)
    path.write_text(json.dumps(region_to_bundle(region), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- import


def read_bundle(path: str | os.PathLike[str], *, region_id: str | None = None) -> Region:
    """A region from a FHIR Bundle file (see :func:`region_from_bundle`)."""
    from mednet.regions import read_json

    raw = read_json(Path(path))
    if not isinstance(raw, dict):
        raise RegionDataError(str(path), "top level", f"a FHIR Bundle is a JSON object, got {type(raw).__name__}",
                              rule_zh=f"FHIR Bundle 须为 JSON 对象，收到的是 {type(raw).__name__}", place_zh="最外层")
    return region_from_bundle(raw, region_id=region_id, file=str(path))


def region_from_bundle(bundle: Json, *, region_id: str | None = None, file: str = "<bundle>") -> Region:
    """A region from a FHIR Bundle made by :func:`region_to_bundle` (or shaped like one).

    Every resource is validated by the fhir.resources models first; links the
    Bundle cannot hold are rebuilt by the import rules.
    """
    validate_bundle(bundle, file=file)
    by_kind: dict[str, list[Json]] = {}
    for entry in bundle.get("entry", ()):
        resource = entry["resource"]
        by_kind.setdefault(resource["resourceType"], []).append(resource)
    try:
        return _region(bundle, by_kind, region_id=region_id)
    except (KeyError, ValueError, TypeError) as err:
        raise RegionDataError(file, "entry", f"not a Bundle of mednet's shape: {err}",
                              rule_zh=f"不是 mednet 格式的 Bundle（{err}）") from err


def _ident(resource: Json, system: str) -> str | None:
    return next((i["value"] for i in resource.get("identifier", ()) if i.get("system") == SYSTEM + system), None)


def _region(bundle: Json, by_kind: dict[str, list[Json]], *, region_id: str | None) -> Region:
    import datetime as dt

    from mednet.importing.build import IMPORT_RULE as rule
    from mednet.importing.build import import_source as rule_source
    from mednet.importing.links import membership_links, neighbour_links

    sources = {}
    for doc in by_kind.get("DocumentReference", ()):
        att = doc["content"][0]["attachment"]
        sources[_ident(doc, "source")] = Source(
            title=att["title"], publisher=(doc.get("author") or [{}])[0].get("display"),
            date=dt.date.fromisoformat(att["creation"][:10]) if att.get("creation") else None, url=att.get("url"),
            licence=_value(doc, "licence"), note=doc.get("description"))
    orgs = by_kind.get("Organization", ())
    community_orgs = [o for o in orgs if _ident(o, "community")]
    ids = {o["id"]: key for o in orgs if (key := _ident(o, "institution") or _ident(o, "community"))}
    locations = {loc["managingOrganization"]["reference"].split("/", 1)[1]: loc for loc in by_kind.get("Location", ())}
    services: dict[str, list[dict]] = {}
    for hs in by_kind.get("HealthcareService", ()):
        services.setdefault(hs["providedBy"]["reference"].split("/", 1)[1], []).append(hs)
    institutions = [_read_institution(o, locations[o["id"]], services.get(o["id"], []), ids)
                    for o in orgs if _ident(o, "institution")]
    members: dict[str, list[Membership]] = {}
    for aff in by_kind.get("OrganizationAffiliation", ()):
        com = ids[aff["organization"]["reference"].split("/", 1)[1]]
        node = ids[aff["participatingOrganization"]["reference"].split("/", 1)[1]]
        members.setdefault(com, []).append(Membership(institution=node, role=Role(_code(aff["code"], "role")),
                                                      **_read_prov(aff)))
    communities = []
    for o in community_orgs:
        key = ids[o["id"]]
        published = _value(o, "published", "valueDate")
        communities.append(Community(
            id=key, name=o["name"], kind=_code(o["type"], "community-kind"),
            counties=tuple(e["valueString"] for e in _find(o, "county")), members=tuple(members.get(key, ())),
            published=dt.date.fromisoformat(published) if published else None, source=_value(o, "source"),
            note=_value(o, "note")))
    road_factor = 1.3
    by_id = {i.id: i for i in institutions}
    links = membership_links(communities, by_id, [], road_factor=road_factor, source=rule, great_circle=True)
    links += neighbour_links(institutions, links, road_factor=road_factor, source=rule, great_circle=True)
    if links:
        sources.setdefault(rule, rule_source(road_factor))
    key = region_id or bundle.get("identifier", {}).get("value") or "fhir"
    return Region(id=key, name=key, road_factor=road_factor, sources=sources, institutions=tuple(institutions),
                  communities=tuple(communities), links=tuple(links))


def _read_institution(org: Json, loc: Json, services: list[Json], ids: dict[str, str]) -> Institution:
    import datetime as dt

    address = org["address"][0]
    registry = None
    if _find(org, "registry"):
        subjects = tuple(str(c["code"]) for t in org["type"] for c in t.get("coding", ())
                         if c.get("system") == SYSTEM + "zhenliao-kemu")
        registry = Registry(category=_code_or_none(org["type"], "ws218"), grade=_value(org, "grade"),
                            credit_code=_ident(org, "uscc"), licence_number=_ident(org, "licence"),
                            beds=_value(org, "beds", "valueInteger"), other_subjects=subjects,
                            **_read_prov(org, "registry"))
    contact: Json = {}
    if org.get("telecom"):
        contact["phone"] = Detail(value=org["telecom"][0]["value"], **_read_prov(org["telecom"][0]))
    if address.get("text"):
        contact["address"] = Detail(value=address["text"], **_read_prov(address))
    capabilities = []
    for hs in services:
        if hs["id"].endswith("-access"):
            if hs.get("telecom"):
                contact["booking"] = Detail(value=hs["telecom"][0]["value"], **_read_prov(hs["telecom"][0]))
            for name, kind, model in (("hours", "valueString", Detail), ("emergency-24h", "valueBoolean", Flag)):
                for found in _find(hs, name):
                    prov = _read_prov({"extension": [{"url": BASE + "p", "extension": found["extension"]}]}, "p")
                    contact[name.replace("-", "_")] = model(value=_value(found, "value", kind), **prov)
            continue
        sessions = []
        for t in hs.get("availableTime", ()):
            provider = _value(t, "provider", "valueReference")
            valid = {n.replace("-", "_"): dt.date.fromisoformat(v) for n in ("valid-from", "valid-until")
                     if (v := _value(t, n, "valueDate"))}
            sessions.append(Session(weekday=(t.get("daysOfWeek") or [None])[0], part=_value(t, "part", "valueCode"),
                                    every_weeks=_value(t, "every-weeks", "valueInteger") or 1,
                                    provider=ids[provider["reference"].split("/", 1)[1]] if provider else None,
                                    **valid))
        capabilities.append(Capability(
            specialty=_code(hs["specialty"], "specialty"), sessions=tuple(sessions),
            beds=_value(hs, "capability-beds", "valueInteger"), weekly_slots=_value(hs, "weekly-slots", "valueInteger"),
            weekly_sessions=_value(hs, "weekly-sessions", "valueInteger"), **_read_prov(hs)))
    township = _value(address, "township")
    return Institution(
        id=ids[org["id"]], name=org["name"], aliases=tuple(org.get("alias", ())),
        tier=Tier(_code(org["type"], "tier")), county=address["district"], township=township,
        lat=loc["position"]["latitude"], lon=loc["position"]["longitude"],
        location=Location(kind=_value(loc, "location-kind", "valueCode"),
                          converted_from=_value(loc, "converted-from"), **_read_prov(loc)),
        capabilities=tuple(capabilities), population=_value(org, "population", "valueInteger"), registry=registry,
        contact=Contact(**contact) if contact else None, **_read_prov(org))


__all__ = ["BASE", "read_bundle", "region_from_bundle", "region_to_bundle", "validate_bundle", "write_bundle"]
