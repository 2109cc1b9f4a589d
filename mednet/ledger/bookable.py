"""Which of a desk's destinations publish bookable care, and whom to ask where one does not.

A desk's destinations are the institutions of a higher tier in its own medical communities and every
institution it has referred a patient to. For each clinical specialty a destination offers, a referral can
be booked when the institution keeps a referral quota (号源, set by an admin) or has dated sessions in the
region data (门诊排班). Anything else publishes no bookable care: at a standing clinic (常设门诊) the patient
may still come without a booking (the referral is closed by an arrival), elsewhere a referral accepted there
can be neither booked nor closed by an arrival. Either way the desk is told whom to ask — the destination's
own contact as the region data gives it, and the admins who set quotas.

>>> from mednet.regions import load_region
>>> quzhou = load_region("quzhou")
>>> care_of(quzhou.institution("kh-people"), "emergency", quota=None).how
'walk_in'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from mednet.models import Contact, Institution, Region
from mednet.specialties import resolve_specialty

How = Literal["quota", "sessions", "walk_in", "none"]
#: How each kind of care is booked, in Chinese.
HOW_ZH: dict[str, str] = {"quota": "转诊号源", "sessions": "门诊排班（按日期预约）", "walk_in": "常设门诊，可直接到诊",
                          "none": "无法预约，也不能直接到诊"}


#: Listing order: no way in first, then walk-in only, then bookable.
ORDER = {"none": 0, "walk_in": 1, "quota": 2, "sessions": 2}


@dataclass(frozen=True)
class DestinationCare:
    """One specialty of one destination: how a referral there is booked (``how``), on what basis, and the
    destination's contact (for whom to ask)."""

    institution: str
    name: str
    specialty: str
    how: How
    basis: str
    contact: Contact | None
    referred: bool


def care_of(inst: Institution, specialty: str, *, quota: Mapping[str, object] | None) -> DestinationCare:
    """How ``inst`` takes referrals for ``specialty`` (a code): its quota row if any, else its capability."""
    cap = inst.capability(specialty)
    how: How = "none"
    basis = "区域数据中该专科既无排定日期的门诊，也未设置转诊号源"
    if quota is not None and int(str(quota["per_day"])) > 0:
        how, basis = "quota", f"每日 {quota['per_day']} 个，提前 {quota['release_days']} 天放号"
    elif cap is not None and any(s.dates_known for s in cap.sessions):
        how, basis = "sessions", f"每周 {len(cap.sessions)} 次门诊"
    elif (cap is not None and cap.permanent) or specialty == "emergency":
        how, basis = "walk_in", "不需预约"
    elif quota is not None:
        basis = "转诊号源已设为每日 0 个（暂停）"
    return DestinationCare(inst.id, inst.name, specialty, how, basis, inst.contact, referred=False)


def destinations_of(region: Region, origin: str, referred: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """The destinations of ``origin``'s desk with the specialties to look at: every clinical specialty of a
    higher-tier member of its communities, and each (institution, specialty) it has referred to."""
    own = region.institution(origin)
    by_id = {i.id: i for i in region.institutions}
    found: dict[str, set[str]] = {}
    for community in region.communities:
        members = [m.institution for m in community.members]
        if origin not in members:
            continue
        for inst_id in members:
            inst = by_id.get(inst_id)
            if inst is not None and inst.tier.rank > own.tier.rank:
                found.setdefault(inst.id, set()).update(
                    c.specialty for c in inst.capabilities if resolve_specialty(c.specialty).kind == "clinical")
    for inst_id, specialty in referred:
        if inst_id in by_id and inst_id != origin:
            found.setdefault(inst_id, set()).add(specialty)
    return found


def destination_care(region: Region, origin: str, referred: Iterable[tuple[str, str]],
                     quotas: Mapping[tuple[str, str], Mapping[str, object]]) -> list[DestinationCare]:
    """Every (destination, specialty) of ``origin``'s desk with how it is booked; those that publish no bookable
    care first, then by destination and specialty. ``quotas`` maps (institution, specialty) to its quota row."""
    referred = list(referred)
    sent = set(referred)
    found = []
    for inst_id, specialties in destinations_of(region, origin, referred).items():
        inst = region.institution(inst_id)
        for code in sorted(specialties):
            care = care_of(inst, code, quota=quotas.get((inst_id, code)))
            found.append(DestinationCare(care.institution, care.name, care.specialty, care.how, care.basis,
                                         care.contact, referred=(inst_id, code) in sent))
    return sorted(found, key=lambda c: (ORDER[c.how], c.name, c.specialty))


__all__ = ["HOW_ZH", "ORDER", "DestinationCare", "How", "care_of", "destination_care", "destinations_of"]
