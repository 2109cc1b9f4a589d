"""Walk-in care: where a patient may arrive without a booked slot — the one rule of the state table's
``arrive`` from ``accepted``.

Arrival normally follows a booking. A patient may come without one where
the destination takes patients without appointments for the care needed:

- ``emergency`` — an emergency (the referral's priority or direction): an
  emergency department never sends a patient away to book;
- ``general_practice`` — a primary-care institution (卫生院, 社区卫生服务中心)
  offering general practice: its GP clinic sees the patient a down-referral
  sends home, whatever follow-up care the referral names (and any patient
  referred to it for general practice);
- ``standing_clinic`` — a standing clinic (常设门诊): the destination offers
  the specialty permanently, not only in scheduled sessions of a visiting
  expert (those are booked by the unit).

>>> from mednet.regions import load_region
>>> quzhou = load_region("quzhou")
>>> walk_in_care(quzhou.institution("kh-huabu"), "rehabilitation", priority="routine", direction="down")
'general_practice'
>>> walk_in_care(quzhou.institution("kh-people"), "general_surgery", priority="routine", direction="up")
'standing_clinic'
>>> walk_in_care(quzhou.institution("kh-huabu"), "cardiology", priority="routine", direction="up") is None
True
"""

from __future__ import annotations

from typing import Literal

from mednet.models import Institution

WalkIn = Literal["emergency", "general_practice", "standing_clinic"]
WALK_IN_ZH: dict[str, str] = {"emergency": "急诊", "general_practice": "基层全科门诊",
                              "standing_clinic": "常设门诊"}


def walk_in_care(inst: Institution | None, specialty: str, *, priority: str, direction: str) -> WalkIn | None:
    """Why a patient may arrive at ``inst`` for ``specialty`` without a booking, or None when a slot is needed."""
    if priority == "emergency" or direction == "emergency":
        return "emergency"
    if inst is None:
        return None
    if inst.tier.is_primary_care and (direction == "down" or specialty == "general_practice") \
            and (gp := inst.capability("general_practice")) is not None and gp.permanent:
        return "general_practice"
    care = inst.capability(specialty)
    if care is not None and care.permanent:
        return "standing_clinic"
    return None


__all__ = ["WALK_IN_ZH", "WalkIn", "walk_in_care"]
